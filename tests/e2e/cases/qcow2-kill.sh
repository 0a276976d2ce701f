# Crash consistency of qcow2 under SIGKILL: a guest (guests/blk-writer.c)
# writes 64 KiB slots of a fresh qcow2 disk (512-byte clusters and 64-bit
# refcounts, so that its refcount table must grow past 2 MiB), each write
# followed by a FLUSH, and says "synced I end" once the FLUSH completed;
# L1 kills lkvm with SIGKILL at a random moment, 24 times. Each next run
# first reads every slot back: whatever was reported synced must be there
# (or a later write: what lkvm had not yet printed dies with it; the one
# write in flight may be torn). The image after
# each kill goes to results/ for qemu-img check on the host (run.sh); at
# the end a clean run rewrites every slot, and the host compares the image
# with the expected content (qemu-img compare against the .expect.raw).
# machine: virt
# timeout: 900
[ -f $IMAGES/kill.qcow2 ] || fail "no qcow2 images staged: qemu-img (qemu-utils) is missing on the host"
NB=64
KILLS=24
W=/tmp/qk
rm -rf $W
mkdir -p $W
cp $IMAGES/kill.qcow2 $W/k.qcow2
# exp.P: the write last reported synced in slot P; none, or any (unknown)
p=0
while [ $p -lt $NB ]; do
	echo none >$W/exp.$p
	p=$((p + 1))
done
# the writer's lkvm command line; bootargs from=I (first write), n=N
WRITER="$LKVM run -k $GUESTS/blk-writer.bin -m 64 --virtio-transport mmio -d $W/k.qcow2"
# check OUT: the slots OUT read back against exp.*: a slot holds the write
# last reported synced there, or a later one (the console output of the
# last writes before a kill may be lost with lkvm, the writes are not);
# one slot at most is torn (the write in flight). What was read becomes
# the expectation: after the kill, the file is the truth.
check() {
	tr -d '\r' <$1 | sed -n 's/^blk-writer: v \([0-9]*\) \([a-z0-9]*\) end$/\1 \2/p' >$W/got
	[ "$(wc -l <$W/got)" = $NB ] || fail "$(wc -l <$W/got) slots read back, expected $NB"
	torn=0
	while read -r p got; do
		e=$(cat $W/exp.$p)
		case $got in
		torn) [ "$e" = any ] || torn=$((torn + 1))
		      [ $torn -le 1 ] || fail "slot $p is torn too (only the write in flight may be)"
		      got=any ;;
		zero) [ "$e" = none ] || fail "slot $p reads as zeroes, but write $e was reported synced"
		      got=none ;;
		*) case $e in
		   none | any) ;;
		   *) [ "$got" -ge "$e" ] || fail "slot $p holds write $got, but write $e was reported synced" ;;
		   esac ;;
		esac
		echo $got >$W/exp.$p
	done <$W/got
}
# note OUT: record the writes OUT reports synced; $n of them
note() {
	n=0
	for i in $(tr -d '\r' <$1 | sed -n 's/^blk-writer: synced \([0-9]*\) end$/\1/p'); do
		echo $i >$W/exp.$((i * 37 % NB))
		next=$((i + 1))
		n=$((n + 1))
	done
}
next=0
k=0
total=0
while [ $k -lt $KILLS ]; do
	$WRITER -p "nb=$NB from=$next n=0" >$W/out 2>&1 &
	pid=$!
	wait_for '^blk-writer: verified' $W/out 60
	check $W/out
	# kill after 0.02 to 0.8 s of writing (the first kills while the
	# slots are still being allocated)
	read -r r _ </proc/uptime
	usleep $(((1${r#*.} * 7919 + k * 104729) % 780000 + 20000))
	kill -9 $pid
	wait $pid
	before=$next
	note $W/out
	total=$((total + n))
	echo "kill $k: $n writes reported synced (from write $before on)"
	cp $W/k.qcow2 /host/results/qcow2-kill-$k.judge.qcow2
	k=$((k + 1))
done
[ $total -ge $KILLS ] || fail "only $total writes were synced in $KILLS runs"
# the last run: read back, then rewrite every slot and power off
$WRITER -p "nb=$NB from=$next n=$NB" >out 2>&1
rc=$?
tail -n 3 out
expect_rc 0
check out
note out
synced=$(tr -d '\r' <out | grep -c '^blk-writer: synced [0-9]* end$')
[ "$synced" = $NB ] || fail "the last run synced $synced writes, expected $NB"
echo "$total writes synced over $KILLS kills, then $NB in a clean run"
# the expected content, for qemu-img compare on the host
dots=$(printf '%45s' '' | tr ' ' .)
rm -f $W/expect.raw
p=0
while [ $p -lt $NB ]; do
	yes "$(printf 'p=%04d i=%08d %s' $p $(cat $W/exp.$p) $dots)" | head -c 65536 >>$W/expect.raw
	p=$((p + 1))
done
cp $W/k.qcow2 /host/results/qcow2-kill-final.judge.qcow2
cp $W/expect.raw /host/results/qcow2-kill-final.expect.raw
rm -rf $W
