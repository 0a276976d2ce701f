# Benchmark (not a test): virtio-blk inside L2 on a 256 MiB raw image in
# L1's tmpfs, for each I/O engine x notification path of this lkvm (and
# its defaults without the seccomp filter: what the filter costs), and,
# when tests/bench/disk.sh staged them, lkvm built from REF (lkvm-ref, its
# defaults) and a peer kvmtool (peer, its defaults). RUNS rounds; each
# boots every variant once, in turn, and runs each measurement once in it:
# medians over the rounds, and this lkvm's defaults (aio+ioeventfd) over
# REF and over the peer, round by round (paired ratios, higher: this lkvm
# faster). The same tool on a loop device of the image in L1 is the ceiling.
# machine: virt
# timeout: 3000
RUNS=${BENCH_RUNS:-3}
METRICS="seqread seqwrite randread-qd1 randread-qd16 fsync"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
truncate -s 256M /tmp/bench.img
dd if=/dev/zero of=/tmp/bench.img bs=1M count=256 conv=notrunc 2>/dev/null
once='diskbench /dev/vda seqread; diskbench /dev/vda seqwrite; diskbench /dev/vda randread 1; diskbench /dev/vda randread 16; diskbench /dev/vda fsync'

# NAME|BINARY|OPTIONS|DISK (a REF may predate --io-engine: it runs its
# defaults; kvmtool adds a user-mode NIC unless told not to). DISK: the raw
# image, or qcow2 (this lkvm's defaults): "fresh" an empty qcow2 of the
# same size (the run's seqwrite allocates it all), "alloc" that image
# again in the next boot (allocated), "overlay" an empty qcow2 over the
# raw image. run.sh stages the qcow2 files when the host has qemu-img.
cat >/tmp/variants <<EOF
aio+ioeventfd|lkvm|--io-engine aio|raw
aio+ioeventfd+no-seccomp|lkvm|--io-engine aio --no-seccomp|raw
aio+mmio-exit|lkvm|--io-engine aio --no-ioeventfd|raw
threads+ioeventfd|lkvm|--io-engine threads|raw
threads+mmio-exit|lkvm|--io-engine threads --no-ioeventfd|raw
EOF
if [ -f $IMAGES/bench-fresh.qcow2 ]; then
	for q in fresh alloc overlay; do
		echo "qcow2-$q|lkvm||$q" >>/tmp/variants
	done
	echo "qcow2-pair|lkvm||pair" >>/tmp/variants
fi
echo "raw-pair|lkvm||pair" >>/tmp/variants
if [ -x /host/bin/lkvm-ref ]; then
	cp /host/bin/lkvm-ref /tmp/l1/ref
	echo "ref|ref||raw" >>/tmp/variants
fi
if [ -x /host/bin/peer ]; then
	cp /host/bin/peer /tmp/l1/peer
	echo "peer|peer|--console serial -n mode=none|raw" >>/tmp/variants
fi
# ONLY=V1,V2 (disk.sh): just those variants
if [ -n "${BENCH_ONLY:-}" ]; then
	awk -F'|' -v only=",$BENCH_ONLY," 'index(only, "," $1 ",")' /tmp/variants >/tmp/variants.only
	mv /tmp/variants.only /tmp/variants
fi

# disk_for DISK : the image file for a variant's disk (see above)
disk_for() {
	case $1 in
	fresh) cp $IMAGES/bench-fresh.qcow2 /tmp/bench-q.qcow2 ;;
	overlay) cp $IMAGES/bench-ov.qcow2 /tmp/bench-ov.qcow2 ;;
	esac
	case $1 in
	fresh | alloc) echo /tmp/bench-q.qcow2 ;;
	overlay) echo /tmp/bench-ov.qcow2 ;;
	*) echo /tmp/bench.img ;;
	esac
}

# value FILE METRIC : the number FILE has for METRIC, or 0
value() {
	v=$(tr -d '\r' <"$1" | sed -n "s/^$2: \([0-9.]*\).*/\1/p" | head -n 1)
	echo "${v:-0}"
}

# bench NAME BINARY OPTIONS... : one boot of BINARY with the image as its
# disk, each measurement once; the values appended to /tmp/m.NAME.METRIC
bench() {
	name=$1
	keep=$LKVM
	LKVM=/tmp/l1/$2
	img=$(disk_for $3)
	shift 3
	GSH_BOOT="-i $INITRD"
	GSH_TIMEOUT=300
	# in a subshell: a guest that never powers off costs its round only
	(guest_sh /tmp/bench.out "$once" -m 512 -d $img "$@") >/tmp/gsh.log 2>&1 ||
		{ echo "BENCH disk $name round $round: $(grep '^FAIL' /tmp/gsh.log)"; cp /tmp/gsh.log /host/results/disk-$name.r$round.gsh; }
	LKVM=$keep
	case $name in qcow2-alloc | qcow2-overlay) rm -f $img ;; esac
	for m in $METRICS; do
		value /tmp/bench.out $m >>/tmp/m.$name.$m
	done
	if tr -d '\r' </tmp/bench.out | grep -qE '^fsync: [0-9]'; then
		echo "round $round $name: $(for m in $METRICS; do printf '%s %s, ' $m $(tail -n 1 /tmp/m.$name.$m); done)"
	else
		echo "BENCH disk $name round $round: no results"
		cp /tmp/bench.out /host/results/disk-$name.r$round.out
	fi
}

unit() {
	case $1 in seq*) echo MB/s ;; randread*) echo IOPS ;; fsync) echo writes/s ;; esac
}

echo "BENCH setup: L1 $(nproc) cpus linux $(uname -r); L2 512 MiB, 1 vCPU; $RUNS rounds of: $(cut -d'|' -f1 /tmp/variants | tr '\n' ' ')"
round=1
while [ $round -le $RUNS ]; do
	while IFS='|' read -r name bin opts disk; do
		[ "$disk" != pair ] || continue
		[ $round -gt 1 ] || for m in $METRICS; do : >/tmp/m.$name.$m; done
		bench $name $bin $disk $opts
	done </tmp/variants
	round=$((round + 1))
done
while IFS='|' read -r name bin opts disk; do
	[ "$disk" != pair ] || continue
	for m in $METRICS; do
		echo "BENCH disk $name $m: $(median </tmp/m.$name.$m) $(unit $m) (rounds: $(echo $(cat /tmp/m.$name.$m)))"
	done
done </tmp/variants
# qcow2 over raw, both this lkvm's defaults (higher: qcow2 faster)
for q in qcow2-fresh qcow2-alloc qcow2-overlay; do
	[ -s /tmp/m.$q.fsync ] || continue
	for m in $METRICS; do
		r=$(paste /tmp/m.$q.$m /tmp/m.aio+ioeventfd.$m |
			awk '$1 > 0 && $2 > 0 { printf "%.2f\n", $1 / $2 }')
		echo "BENCH paired disk $q / raw $m: median $(echo "$r" | median) (rounds: $(echo $r))"
	done
done
for other in ref peer; do
	[ -s /tmp/m.$other.fsync ] || continue
	for m in $METRICS; do
		r=$(paste /tmp/m.aio+ioeventfd.$m /tmp/m.$other.$m |
			awk '$1 > 0 && $2 > 0 { printf "%.2f\n", $1 / $2 }')
		echo "BENCH paired disk lkvm / $other $m: median $(echo "$r" | median) (rounds: $(echo $r))"
	done
done

# qcow2 over raw in one boot (qcow2-pair): the boot-to-boot noise of the
# rows above cancels out. One guest, two disks of the same size: vda the
# raw image, vdb a qcow2 that the guest first writes through (allocated);
# then RUNS repetitions of each measurement on vda and right after on vdb.
# raw-pair is the same with a raw vdb: the control (what the second disk's
# place alone makes of the ratio; 1.00 when there is no bias).
pair_boot() {
	name=$1
	second=$2
	pair='dd if=/dev/urandom of=/dev/vdb bs=1M count=256 oflag=direct 2>/dev/null; i=0; while [ $i -lt '$RUNS' ]; do for m in seqread seqwrite "randread 1" "randread 16" fsync; do for d in vda vdb; do echo "== $d"; diskbench /dev/$d $m; done; done; i=$((i + 1)); done'
	GSH_BOOT="-i $INITRD"
	GSH_TIMEOUT=$((120 + 40 * RUNS))
	(guest_sh /tmp/pair.out "$pair" -m 512 -d /tmp/bench.img -d $second) >/tmp/gsh.log 2>&1 ||
		{ echo "BENCH disk $name: $(grep '^FAIL' /tmp/gsh.log)"; cp /tmp/gsh.log /host/results/disk-$name.gsh; }
	rm -f $second
	# "== vda" then "METRIC: VALUE ...": METRIC DISK VALUE per line
	tr -d '\r' </tmp/pair.out | awk '/^== vd[ab]$/ { d = $2; next }
		d && /^[a-z0-9-]+: [0-9.]+/ { sub(":", "", $1); print $1, d, $2; d = "" }' >/tmp/pair.tab
	for m in $METRICS; do
		awk -v m=$m '$1 == m && $2 == "vda" { print $3 }' /tmp/pair.tab >/tmp/pair.a
		awk -v m=$m '$1 == m && $2 == "vdb" { print $3 }' /tmp/pair.tab >/tmp/pair.b
		r=$(paste /tmp/pair.b /tmp/pair.a | awk '$1 > 0 && $2 > 0 { printf "%.2f\n", $1 / $2 }')
		echo "BENCH paired disk $name vdb / raw vda, one boot, $m: median $(echo "$r" | median) (vda: $(echo $(cat /tmp/pair.a)); vdb: $(echo $(cat /tmp/pair.b)))"
	done
}
if grep -q '^qcow2-pair|' /tmp/variants; then
	cp $IMAGES/bench-fresh.qcow2 /tmp/bench-q.qcow2
	pair_boot qcow2-pair /tmp/bench-q.qcow2
fi
if grep -q '^raw-pair|' /tmp/variants; then
	truncate -s 256M /tmp/bench-2.img
	pair_boot raw-pair /tmp/bench-2.img
fi

# ceiling: the same tool in L1 on the image through a loop device
mkdir -p /tmp/x && (cd /tmp/x && zcat $INITRD | cpio -id bin/diskbench 2>/dev/null)
losetup /dev/loop0 /tmp/bench.img
: >/tmp/l1.out
i=1
while [ $i -le $RUNS ]; do
	for m in seqread seqwrite "randread 1" "randread 16" fsync; do
		/tmp/x/bin/diskbench /dev/loop0 $m >>/tmp/l1.out 2>&1
	done
	i=$((i + 1))
done
losetup -d /dev/loop0
for m in $METRICS; do
	echo "BENCH disk L1-loop-ceiling $m: $(tr -d '\r' </tmp/l1.out | sed -n "s/^$m: \([0-9.]*\).*/\1/p" | median) $(unit $m)"
done
rm -f /tmp/bench.img
