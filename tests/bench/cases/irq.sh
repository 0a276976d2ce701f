# Benchmark (not a test): virtio-blk in L2 over each transport x irqchip
# ({mmio, pci} x {plic, aia}) on an AIA host with IMSIC guest files, and
# what --irqchip auto picks. randread-qd1 (4 KiB reads, one at a time) is
# completions per second, so it measures the interrupt delivery path;
# medians of 3 rounds, the variants round-robin in each.
# machine: aia-hw
# timeout: 1500
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
truncate -s 128M /tmp/bench.img
dd if=/dev/zero of=/tmp/bench.img bs=1M count=128 conv=notrunc 2>/dev/null
runs='diskbench /dev/vda randread 1; diskbench /dev/vda randread 16; diskbench /dev/vda seqread; cat /proc/interrupts'
variants='mmio+plic mmio+aia pci+plic pci+aia'
report() { # FILE LABEL
	for m in randread-qd1 randread-qd16 seqread; do
		v=$(tr -d '\r' <"$1" | sed -n "s/^$m: \([0-9.]*\).*/\1/p" | median)
		unit=$(tr -d '\r' <"$1" | sed -n "s/^$m: [0-9.]* \(.*\)/\1/p" | head -n 1)
		echo "BENCH irq $2 $m: ${v:-?} $unit (rounds: $(echo $(tr -d '\r' <"$1" | sed -n "s/^$m: \([0-9.]*\).*/\1/p")))"
	done
	irq=$(tr -d '\r' <"$1" | grep -E 'virtio0' | sed 's/^ *[0-9]*: *[0-9]* *//' | head -n 2 | tr -s ' ' | paste -sd ';')
	echo "BENCH irq $2 interrupt: $irq"
}
# Three rounds, each booting every variant once, round-robin: the host's
# speed drifts over tens of seconds, and a fixed order would favour some.
for v in $variants; do : >/tmp/bench.$v.all; done
for round in 1 2 3; do
	for v in $variants; do
		GSH_BOOT="-i $INITRD"
		GSH_TIMEOUT=300
		guest_sh /tmp/bench.out "$runs" -m 512 -d /tmp/bench.img \
			--virtio-transport ${v%+*} --irqchip ${v#*+} >/dev/null
		cat /tmp/bench.out >>/tmp/bench.$v.all
	done
done
for v in $variants; do
	report /tmp/bench.$v.all "$v"
done
# qd1 completion rate of each variant over mmio+plic's, round by round
qd1() { tr -d '\r' <"/tmp/bench.$1.all" | sed -n 's/^randread-qd1: \([0-9.]*\).*/\1/p' >"/tmp/qd1.$1"; }
qd1 mmio+plic
for v in mmio+aia pci+plic pci+aia; do
	qd1 $v
	r=$(paste /tmp/qd1.$v /tmp/qd1.mmio+plic | awk '$2 > 0 { printf "%.2f\n", $1 / $2 }')
	echo "BENCH irq paired $v / mmio+plic randread-qd1: median $(echo "$r" | median) (rounds: $(echo $r))"
done
# the default: what auto and the default transport give
guest_sh /tmp/bench.out 'cat /proc/interrupts' -m 512 -d /tmp/bench.img --stats >/dev/null
chip=plic
tr -d '\r' </tmp/bench.out | grep -q 'IMSIC\|APLIC' && chip=aia
tr=mmio
tr -d '\r' </tmp/bench.out | grep -q 'PCI-MSI' && tr=pci
echo "BENCH irq default (--irqchip auto, default transport) picks: $tr+$chip"
tr -d '\r' </tmp/bench.out | grep 'lkvm: machine' | sed 's/^/BENCH irq /'
rm -f /tmp/bench.img
