# Benchmark (not a test): virtio-blk in L2 over each transport x irqchip
# ({mmio, pci} x {plic, aia}) on an AIA host with IMSIC guest files, and
# what --irqchip auto picks. randread-qd1 (4 KiB reads, one at a time) is
# completions per second, so it measures the interrupt delivery path;
# medians of 3.
# machine: aia-hw
# timeout: 1500
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
truncate -s 128M /tmp/bench.img
dd if=/dev/zero of=/tmp/bench.img bs=1M count=128 conv=notrunc 2>/dev/null
runs='for i in 1 2 3; do diskbench /dev/vda randread 1; diskbench /dev/vda randread 16; diskbench /dev/vda seqread; done; cat /proc/interrupts'
report() { # FILE LABEL
	for m in randread-qd1 randread-qd16 seqread; do
		v=$(tr -d '\r' <"$1" | sed -n "s/^$m: \([0-9.]*\).*/\1/p" | median)
		unit=$(tr -d '\r' <"$1" | sed -n "s/^$m: [0-9.]* \(.*\)/\1/p" | head -n 1)
		echo "BENCH irq $2 $m: ${v:-?} $unit"
	done
	irq=$(tr -d '\r' <"$1" | grep -E 'virtio0' | sed 's/^ *[0-9]*: *[0-9]* *//' | head -n 2 | tr -s ' ' | paste -sd ';')
	echo "BENCH irq $2 interrupt: $irq"
}
for tr in mmio pci; do
	for chip in plic aia; do
		GSH_BOOT="-i $INITRD"
		GSH_TIMEOUT=300
		guest_sh /tmp/bench.out "$runs" -m 512 -d /tmp/bench.img \
			--virtio-transport $tr --irqchip $chip >/dev/null
		report /tmp/bench.out "$tr+$chip"
	done
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
