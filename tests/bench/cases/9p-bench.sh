# Benchmark (not a test): virtio-9p against virtio-blk on the same L1 file
# system (L1's /tmp): 64 MiB sequential reads and writes (dd, 1 MiB
# blocks; the 9p mount with cache=none and msize 512 KiB, the disk with
# O_DIRECT, so neither is served from L2's page cache), and listing a
# 10,000-entry shared directory (ls, and ls -l: getattr of each). Medians
# of 3 rounds, and each round's --stats lines for the 9p share and the disk
# (requests by kind and size, time serving, the 9p thread's wakeup delay).
# machine: virt
# timeout: 1500
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rm -rf /tmp/b9p
mkdir -p /tmp/b9p/many
dd if=/dev/urandom of=/tmp/b9p/big bs=1M count=64 2>/dev/null
(cd /tmp/b9p/many && seq 1 10000 | sed 's/^/entry-/' | xargs touch)
cp /tmp/b9p/big /tmp/bench.img
truncate -s 128M /tmp/bench.img
# t LABEL CMD: the seconds CMD took, from /proc/uptime
T='t() { l=$1; shift; a=$(cut -d" " -f1 /proc/uptime); "$@"; b=$(cut -d" " -f1 /proc/uptime); echo "$l: $(echo "$a $b" | awk "{ print \$2 - \$1 }") s"; }'
MNT='mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 b9p /mnt'
runs="$T; $MNT; t seqread-9p dd if=/mnt/big of=/dev/null bs=1M; t seqread-blk dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct; t seqwrite-9p dd if=/dev/zero of=/mnt/out bs=1M count=64 conv=fsync; t seqwrite-blk dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct conv=fsync; t ls-10000 sh -c 'ls /mnt/many | wc -l'; t ls-l-10000 sh -c 'ls -l /mnt/many | wc -l'; rm /mnt/out"
: >/tmp/b9p.all
for round in 1 2 3; do
	GSH_BOOT="-i $INITRD"
	GSH_TIMEOUT=600
	guest_sh /tmp/b9p.out "$runs" -m 512 -d /tmp/bench.img --9p /tmp/b9p,b9p --stats >/dev/null
	tr -d '\r' </tmp/b9p.out >>/tmp/b9p.all
	# what the device saw: request counts and sizes, the time it spent
	# serving them and waking up (the rest of a round is the guest's)
	tr -d '\r' </tmp/b9p.out | sed -nE "s/.*(stats: (9p|disk) .*)/BENCH 9p round $round \1/p"
	grep -E '^(10000|10001)$' /tmp/b9p.out >/dev/null || echo "BENCH 9p round $round: the listing did not count 10000 entries"
done
for m in seqread-9p seqread-blk seqwrite-9p seqwrite-blk ls-10000 ls-l-10000; do
	v=$(sed -n "s/^$m: \([0-9.]*\) s/\1/p" /tmp/b9p.all | median)
	echo "BENCH 9p $m: ${v:-?} s (rounds: $(echo $(sed -n "s/^$m: \([0-9.]*\) s/\1/p" /tmp/b9p.all)))"
done
for m in seqread seqwrite; do
	a=$(sed -n "s/^$m-9p: \([0-9.]*\) s/\1/p" /tmp/b9p.all | median)
	b=$(sed -n "s/^$m-blk: \([0-9.]*\) s/\1/p" /tmp/b9p.all | median)
	echo "BENCH 9p $m: 9p $(awk "BEGIN { printf \"%.1f\", 64 / $a }") MB/s, blk $(awk "BEGIN { printf \"%.1f\", 64 / $b }") MB/s, 9p/blk time $(awk "BEGIN { printf \"%.2f\", $a / $b }")"
done
rm -rf /tmp/b9p /tmp/bench.img
