# Benchmark (not a test): virtio-blk inside L2 on a 256 MiB raw image in
# L1's tmpfs, for each I/O engine x notification path; medians of 3. The
# same tool on a loop device of the image in L1 is the ceiling.
# machine: virt
# timeout: 1500
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
truncate -s 256M /tmp/bench.img
dd if=/dev/zero of=/tmp/bench.img bs=1M count=256 conv=notrunc 2>/dev/null
runs='for i in 1 2 3; do diskbench /dev/vda seqread; diskbench /dev/vda seqwrite; diskbench /dev/vda randread 1; diskbench /dev/vda randread 16; diskbench /dev/vda fsync; done'
report() { # FILE LABEL
	for m in seqread seqwrite randread-qd1 randread-qd16 fsync; do
		v=$(tr -d '\r' <"$1" | sed -n "s/^$m: \([0-9.]*\).*/\1/p" | median)
		unit=$(tr -d '\r' <"$1" | sed -n "s/^$m: [0-9.]* \(.*\)/\1/p" | head -n 1)
		echo "BENCH disk $2 $m: ${v:-?} $unit"
	done
}
for engine in aio threads; do
	for notify in ioeventfd mmio-exit; do
		flag=
		[ $notify = mmio-exit ] && flag=--no-ioeventfd
		GSH_BOOT="-i $INITRD"
		GSH_TIMEOUT=300
		guest_sh /tmp/bench.out "$runs" -m 512 -d /tmp/bench.img --io-engine $engine $flag >/dev/null
		report /tmp/bench.out "$engine+$notify"
	done
done
# ceiling: the same tool in L1 on the image through a loop device
mkdir -p /tmp/x && (cd /tmp/x && zcat $INITRD | cpio -id bin/diskbench 2>/dev/null)
losetup /dev/loop0 /tmp/bench.img
: >/tmp/l1.out
for i in 1 2 3; do
	for m in seqread seqwrite "randread 1" "randread 16" fsync; do
		/tmp/x/bin/diskbench /dev/loop0 $m >>/tmp/l1.out 2>&1
	done
done
losetup -d /dev/loop0
report /tmp/l1.out "L1-loop-ceiling"
rm -f /tmp/bench.img
