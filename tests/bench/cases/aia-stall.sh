# Investigation (not a test): do SMP L2 guests stall with KVM's hardware
# IMSIC guest files (aia-hw: QEMU -M virt,aia=aplic-imsic,aia-guests=7),
# and with which VMM? RUNS rounds; each boots every variant once, in turn:
# lkvm with 2 and 4 vCPUs in KVM's default AIA mode (auto: hardware files
# here) and with --aia-mode emul, and, when tests/bench/aia-stall.sh was
# given PEER=path, that other VMM (kvmtool's command line) with 2 and 4
# vCPUs in its default (the same KVM default mode). Every boot runs the
# same initramfs /init (interrupts steered to each hart in turn) with a
# virtio-blk disk and virtio-rng, under a timeout. A boot that times out
# is a stall: what L1 can see of it is saved in /host/results/aia-stall/.
# machine: aia-hw
# timeout: 9000
RUNS=${BENCH_RUNS:-10}
TMO=600
IDLE=60
DEADLINE=8400
[ -f /host/aia-stall.env ] && . /host/aia-stall.env
EV=/host/results/aia-stall
mkdir -p $EV
cp /host/images/l2-stall.cpio.gz /tmp/l1/stall.cpio.gz
INITRD=/tmp/l1/stall.cpio.gz
cp $IMAGES/l2-disk.ext4 /tmp/stall.img
PEER=
if [ -x /host/bin/peer ]; then
	cp /host/bin/peer /tmp/l1/peer
	PEER=/tmp/l1/peer
fi

# NAME|COMMAND (the kernel command line is added to each)
cat >/tmp/variants <<EOF
lkvm-c2-auto|$LKVM run -k $KERNEL -i $INITRD -m 256 -c 2 -d /tmp/stall.img,ro --rng --stats
lkvm-c2-emul|$LKVM run -k $KERNEL -i $INITRD -m 256 -c 2 -d /tmp/stall.img,ro --rng --stats --aia-mode emul
lkvm-c4-auto|$LKVM run -k $KERNEL -i $INITRD -m 256 -c 4 -d /tmp/stall.img,ro --rng --stats
lkvm-c4-emul|$LKVM run -k $KERNEL -i $INITRD -m 256 -c 4 -d /tmp/stall.img,ro --rng --stats --aia-mode emul
lkvm-c4-auto-pin0|taskset -c 0 $LKVM run -k $KERNEL -i $INITRD -m 256 -c 4 -d /tmp/stall.img,ro --rng --stats
EOF
[ -n "$PEER" ] && cat >>/tmp/variants <<EOF
peer-c2-auto|$PEER run -k $KERNEL -i $INITRD -m 256 -c 2 --console serial -n mode=none -d /tmp/stall.img,ro --rng
peer-c4-auto|$PEER run -k $KERNEL -i $INITRD -m 256 -c 4 --console serial -n mode=none -d /tmp/stall.img,ro --rng
peer-c4-auto-pin0|taskset -c 0 $PEER run -k $KERNEL -i $INITRD -m 256 -c 4 --console serial -n mode=none -d /tmp/stall.img,ro --rng
EOF
[ -n "${VARIANTS:-}" ] && grep -E "^($VARIANTS)\|" /tmp/variants >/tmp/v2 &&
	mv /tmp/v2 /tmp/variants

# threads PID : per thread of PID: tid, name, state, utime, stime (ticks),
# the CPU it last ran on, guest time (ticks), where it sleeps
threads() {
	for t in /proc/$1/task/*; do
		s=$(sed 's/.*) //' $t/stat 2>/dev/null) || continue
		set -- $s
		st=$1 ut=${12} sy=${13}
		shift 36
		echo "  tid ${t##*/} $(cat $t/comm 2>/dev/null) state $st utime $ut stime $sy cpu $1 guest $5 wchan $(cat $t/wchan 2>/dev/null)"
	done
}

# irq_delta A B : the L1 interrupt rows whose counts changed from A to B
irq_delta() {
	awk 'NR == FNR { a[$1] = $0; next }
	$1 in a { split(a[$1], o); d = ""; ch = 0
		for (i = 2; i <= 3; i++) { x = $i - o[i]; d = d " " x; if (x) ch = 1 }
		if (ch) { r = $0; sub(/^ *[^ ]+ +[0-9]+ +[0-9]+ */, "", r)
			print "  " $1 d "  " r } }' "$1" "$2"
}

# evidence NAME PID : what L1 sees of a stalled guest, before it is stopped
evidence() {
	f=$EV/$1.r$round
	cat /proc/interrupts >/tmp/irq0
	{
		echo "== $1 round $round: stalled ($why); L1 load $(cat /proc/loadavg)"
		echo "== threads of $2 (ticks of $(getconf CLK_TCK 2>/dev/null || echo 100) Hz), t0"
		threads $2 | tee /tmp/th0
	} >$f
	sleep 5
	cat /proc/interrupts >/tmp/irq1
	threads $2 >/tmp/th1
	# a vCPU thread: one that has run the guest or sleeps in KVM
	asleep=$(awk 'NR == FNR { t[$2] = $7 + $9; next }
		$13 > 0 || /kvm_vcpu_block/ { n++; if ($7 + $9 == t[$2] && /kvm_vcpu_block/) z++ }
		END { printf "%d of %d vCPU threads asleep in WFI (kvm_vcpu_block) with no CPU time for 5 s", z, n }' /tmp/th0 /tmp/th1)
	{
		echo "== threads, t0 + 5 s"
		cat /tmp/th1
		echo "== $asleep"
		echo "== L1 interrupts that moved in those 5 s (delta CPU0 CPU1)"
		irq_delta /tmp/irq0 /tmp/irq1
		echo "== kernel stacks"
		for t in /proc/$2/task/*; do
			echo "-- ${t##*/} $(cat $t/comm 2>/dev/null)"
			cat $t/stack 2>/dev/null
		done
		echo "== L1 /proc/interrupts at t0"
		cat /tmp/irq0
	} >>$f
	# kvmtool prints its vCPUs' registers on SIGQUIT
	case $1 in peer*) kill -QUIT $2; sleep 5 ;; esac
	[ -d /proc/$2 ] || echo "== $1: exited by itself while being looked at" >>$f
	# lkvm prints its --stats counters when it stops on SIGTERM
	kill -TERM $2
	i=0
	while kill -0 $2 2>/dev/null && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	kill -9 $2 2>/dev/null
	wait $2 2>/dev/null
	cp /tmp/stall.out $EV/$1.r$round.console
	{
		echo "== last markers and console tail"
		tr -d '\r' </tmp/stall.out | grep '@@' | tail -n 3
		tr -d '\r' </tmp/stall.out | tail -n 40
	} >>$f
}

# boot NAME COMMAND... : one boot; ok, stall or fail is appended to
# /tmp/res.NAME, a line about it to the case output. A stall: the guest
# printed nothing for IDLE s (by L1's clock) or ran longer than TMO s
# (under TCG a slow boot still prints a line every few seconds).
boot() {
	name=$1
	shift
	t0=$(cut -d. -f1 /proc/uptime)
	"$@" -p "quiet l2=stall" </dev/null >/tmp/stall.out 2>&1 &
	pid=$!
	size=0
	seen=$t0
	while kill -0 $pid 2>/dev/null; do
		sleep 1
		now=$(cut -d. -f1 /proc/uptime)
		s=$(wc -c </tmp/stall.out)
		[ "$s" = $size ] || seen=$now
		size=$s
		[ $((now - seen)) -lt $IDLE ] && [ $((now - t0)) -lt $TMO ] ||
			break
	done
	if kill -0 $pid 2>/dev/null; then
		last=$(tr -d '\r' </tmp/stall.out | grep '@@' | tail -n 1)
		why="silent $((now - seen)) s"
		evidence $name $pid
		why="$why; $asleep"
		r=stall
	else
		wait $pid
		rc=$?
		r=fail
		why=
		[ $rc = 0 ] && tr -d '\r' </tmp/stall.out | grep -q '^@@ L2 done' && r=ok
		last=$(tr -d '\r' </tmp/stall.out | grep '@@' | tail -n 1)
		if [ $r = fail ]; then
			cp /tmp/stall.out $EV/$name.r$round.console
			why="rc=$rc"
		fi
	fi
	echo $r >>/tmp/res.$name
	echo "round $round $name: $r${why:+ ($why)} after $(($(cut -d. -f1 /proc/uptime) - t0)) s; last marker: ${last:-none}; last line: $(tr -d '\r' </tmp/stall.out | grep -v '^lkvm:' | tail -n 1 | cut -c1-100)"
	[ $round = 1 ] && [ $r = ok ] && cp /tmp/stall.out $EV/$name.ok.console
}

echo "BENCH setup: L1 $(nproc) cpus linux $(uname -r), $(dmesg | grep -o 'AIA available.*' | head -n 1); $RUNS rounds; a boot silent for $IDLE s or running $TMO s counts as stalled; variants: $(cut -d'|' -f1 /tmp/variants | tr '\n' ' ')"
start=$(cut -d. -f1 /proc/uptime)
round=1
while [ $round -le $RUNS ]; do
	if [ $(($(cut -d. -f1 /proc/uptime) - start)) -gt $DEADLINE ]; then
		echo "BENCH stopped before round $round: deadline of $DEADLINE s"
		break
	fi
	while IFS='|' read -r name cmd; do
		[ $round -gt 1 ] || : >/tmp/res.$name
		boot $name $cmd
	done </tmp/variants
	round=$((round + 1))
done
while IFS='|' read -r name cmd; do
	echo "BENCH $name: $(grep -c '^ok' /tmp/res.$name) ok, $(grep -c '^stall' /tmp/res.$name) stalled, $(grep -c '^fail' /tmp/res.$name) failed, of $(wc -l </tmp/res.$name) ($(echo $(cat /tmp/res.$name)))"
done </tmp/variants
rm -f /tmp/stall.img
