# Benchmark (not a test): virtio-9p against virtio-blk on the same L1 file
# system (L1's /tmp): 64 MiB sequential reads and writes (dd, 1 MiB
# blocks; the disk with O_DIRECT, so it is not served from L2's page
# cache, and again buffered after dropping L2's caches, as 9p's cache=loose
# and cache=mmap go through the page cache too (blkbuf); the 9p file is
# new to the guest at each mount), and a
# 10,000-entry shared directory: readdir alone (a shell glob), ls, and
# ls -l (a lookup and getattr of each). Each 9p cache mode (mount option
# cache=, msize 512 KiB) gets a boot of its own per round, with the disk
# measured in the same boot, so that each boot's --stats (requests by
# kind and size, time serving, the 9p thread's wakeup delay) belong to
# one mode. Medians of BENCH_RUNS rounds (3); BENCH_ONLY=none,loose picks
# modes (none,loose,mmap; with nols: no ls, ls -l). With cache=none, 2048 page-sized reads one at
# a time through each device give their round trips. Each boot first
# reads through both devices untimed (see WARM); BENCH_HUGE=1 gives the
# guest its RAM from huge pages.
# machine: virt
# timeout: 3000
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
RUNS=${BENCH_RUNS:-3}
# BENCH_HUGE=1: guest RAM from L1's huge page pool (--hugetlb), so that
# neither L1 nor KVM's stage 2 takes a fault per 4 KiB page the guest
# touches first (L1's kernel has no transparent huge pages)
HUGE=
if [ -n "${BENCH_HUGE:-}" ]; then
	echo 260 >/proc/sys/vm/nr_hugepages
	HUGE=--hugetlb
	echo "BENCH 9p guest RAM from huge pages: $(grep HugePages_Total /proc/meminfo)"
fi
MODES=$(echo "${BENCH_ONLY:-none,loose,mmap}" | tr ',' ' ')
rm -rf /tmp/b9p
mkdir -p /tmp/b9p/many
dd if=/dev/urandom of=/tmp/b9p/big bs=1M count=64 2>/dev/null
(cd /tmp/b9p/many && seq 1 10000 | sed 's/^/entry-/' | xargs touch)
cp /tmp/b9p/big /tmp/bench.img
truncate -s 128M /tmp/bench.img
# t LABEL CMD: the seconds CMD took, from /proc/uptime
T='t() { l=$1; shift; a=$(cut -d" " -f1 /proc/uptime); "$@"; b=$(cut -d" " -f1 /proc/uptime); echo "$l: $(echo "$a $b" | awk "{ print \$2 - \$1 }") s"; }; d() { sync; echo 3 >/proc/sys/vm/drop_caches; }'
: >/tmp/b9p.all
# ls and ls -l (a lookup each; more than 20 minutes under cache=none):
# BENCH_ONLY=...,nols leaves them out
NOLS=
case ",${BENCH_ONLY:-}," in *,nols,*) NOLS=1 ;; esac
MODES=$(echo "$MODES" | tr ' ' '\n' | grep -vx nols | tr '\n' ' ')
[ -n "$(echo $MODES)" ] || MODES="none loose mmap"
for round in $(seq 1 $RUNS); do
	for mode in $MODES; do
		MNT="mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=$mode b9p /mnt"
		# one request at a time, a page each: the round trip of each
		# device (cache=none sends a Tread per page)
		rtt=""
		if [ $mode = none ]; then
			rtt="t rtt4k-9p dd if=/mnt/big of=/dev/null bs=4k count=2048; t rtt4k-blk dd if=/dev/vda of=/dev/null bs=4k count=2048 iflag=direct; "
		fi
		LS="t ls-10000-$mode sh -c 'ls /mnt/many | wc -l'; t ls-l-10000-$mode sh -c 'ls -l /mnt/many | wc -l';"
		[ -z "$NOLS" ] || LS=
		# warm-up, untimed: the guest's first touch of a page costs a
		# stage-2 fault in L1's KVM (4 KiB pages without --hugetlb),
		# which in a fresh boot would be charged to whichever device
		# fills new pages first; reading through both, then dropping
		# the caches, leaves 128 MiB of mapped free pages, and the
		# caches are dropped again before each measurement (D), so that
		# each fills pages already touched, as in a guest that has run a
		# while (cache=loose keeps the read's 64 MiB cached: without D
		# its write filled fresh pages, 4.9x the disk through the page
		# cache, median of 3; with D 1.28x, one round)
		# (D is a function in the guest's shell: the line typed into it
		# must stay under its tty's 4096-byte limit, or the shell is
		# left waiting for the rest of a quoted word)
		# The disk first, 9p last, each followed by a drop. With the
		# disk read last, a cache=mmap boot's first timed 9p read was
		# the slow one (a probe, 4 KiB pages, one boot per order: 2.12,
		# then 1.16 and 0.91 s; with 9p last 0.93 0.76 1.3 s, in one L1
		# boot; two runs of this bench, in two L1 boots: median 2.14 s,
		# then 1.07 s). Likely fresh pages again: a block
		# device's page cache is GFP_USER (block/bdev.c), a file's
		# movable, so the two fill different pageblocks.
		D=d
		WARM="dd if=/dev/vda of=/dev/null bs=1M count=64 2>/dev/null; $D; dd if=/mnt/big of=/dev/null bs=1M 2>/dev/null; $D"
		[ $mode = none ] && WARM="dd if=/dev/vda of=/dev/null bs=1M count=128 2>/dev/null; $D"
		runs="$T; $MNT; $WARM; ${rtt}t seqread-9p-$mode dd if=/mnt/big of=/dev/null bs=1M; $D; t seqread-blk-$mode dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct; t seqwrite-9p-$mode dd if=/dev/zero of=/mnt/out bs=1M count=64 conv=fsync; $D; t seqwrite-blk-$mode dd if=/dev/zero of=/dev/vda bs=1M count=64 oflag=direct conv=fsync; $D; t seqread-blkbuf-$mode dd if=/dev/vda of=/dev/null bs=1M count=64; $D; t seqwrite-blkbuf-$mode dd if=/dev/zero of=/dev/vda bs=1M count=64 conv=fsync; t readdir-10000-$mode sh -c 'set -- /mnt/many/*; echo \$#'; $LS echo listings-done; rm /mnt/out; umount /mnt"
		GSH_BOOT="-i $INITRD"
		GSH_TIMEOUT=1200
		# its output's tail only in the log (a guest that hangs fails the
		# case with it)
		guest_sh /tmp/b9p.out "$runs" -m 512 $HUGE -d /tmp/bench.img --9p /tmp/b9p,b9p --stats | tail -n 3
		tr -d '\r' </tmp/b9p.out >>/tmp/b9p.all
		# what the device saw: request counts and sizes, the time it
		# spent serving them and waking up (the rest is the guest's)
		tr -d '\r' </tmp/b9p.out | sed -nE "s/.*(stats: (9p|disk) .*)/BENCH 9p round $round cache=$mode \1/p"
		# and each timing as it comes, for a run cut short
		tr -d '\r' </tmp/b9p.out | sed -nE "s/^([a-z0-9-]+: [0-9.]+ s)$/BENCH 9p round $round cache=$mode \1/p"
		n=$(tr -d '\r' </tmp/b9p.out | grep -cE '^1000[01]$' || true)
		[ "$n" = 3 ] || [ -n "$NOLS" ] || {
			echo "BENCH 9p round $round cache=$mode: $n of 3 listings counted 10000 entries:"
			tr -d '\r' </tmp/b9p.out | sed -n '/^readdir-10000/,/^listings-done/p' | grep -v '^ls' | head -n 12 | sed 's/^/BENCH 9p   | /'
		}
	done
done
val() { sed -n "s/^$1: \([0-9.]*\) s/\1/p" /tmp/b9p.all; }
for m in rtt4k-9p rtt4k-blk; do
	v=$(val $m | median)
	[ -z "$v" ] || echo "BENCH 9p $m: 2048 reads of 4 KiB, one at a time: $v s, $(awk "BEGIN { printf \"%.2f\", $v * 1000 / 2048 }") ms each (rounds: $(echo $(val $m)))"
done
for mode in $MODES; do
	for m in seqread-9p seqread-blk seqread-blkbuf seqwrite-9p seqwrite-blk seqwrite-blkbuf readdir-10000 ls-10000 ls-l-10000; do
		v=$(val $m-$mode | median)
		echo "BENCH 9p cache=$mode $m: ${v:-?} s (rounds: $(echo $(val $m-$mode)))"
	done
	for m in seqread seqwrite; do
		a=$(val $m-9p-$mode | median)
		b=$(val $m-blk-$mode | median)
		if [ -z "$a" ] || [ -z "$b" ]; then continue; fi
		c=$(val $m-blkbuf-$mode | median)
		echo "BENCH 9p cache=$mode $m: 9p $(awk "BEGIN { printf \"%.1f\", 64 / $a }") MB/s, blk $(awk "BEGIN { printf \"%.1f\", 64 / $b }") MB/s, 9p/blk time $(awk "BEGIN { printf \"%.2f\", $a / $b }")"
		[ -z "$c" ] || echo "BENCH 9p cache=$mode $m: 9p $(awk "BEGIN { printf \"%.1f\", 64 / $a }") MB/s, blk through the page cache $(awk "BEGIN { printf \"%.1f\", 64 / $c }") MB/s, 9p/blk time $(awk "BEGIN { printf \"%.2f\", $a / $c }")"
	done
done
rm -rf /tmp/b9p /tmp/bench.img
