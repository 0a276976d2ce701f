# Benchmark (not a test): virtio-net TCP throughput guest->host and
# host->guest (16 MiB through busybox nc and wget, timed by dd in the
# guest) and request/response latency (ping's average round trip), for a
# tap with lkvm's data path and with vhost-net, RUNS times each in one L2
# boot per variant: medians; user mode through passt (Debian 13's, from
# debian-tools; lkvm runs under a tmpfs root as in net-user, L1 gets a
# default route): the guest's connections to host_ip reach L1's loopback.
# Multiqueue: 2 vCPUs, vhost, one queue pair against two (mq=2). With the
# tools disk (Debian's riscv64 iperf3 in L2) every variant runs iperf3
# -P 2 both ways instead of nc and wget. With a peer kvmtool staged
# (PEER=), its tap and user mode the same way. Around each iperf3 run
# the VMM's busiest threads' shares of an L1 CPU and L1's busy share
# ("CPU g2h-1 over 7.5 s: L1 busy 78%; lkvm-vcpu0 84% vhost-N 19% ..."):
# which side is the bottleneck.
# needs: debian-tools
# machine: aia
# timeout: 3000
RUNS=${BENCH_RUNS:-3}
H=192.168.33.1
G=192.168.33.15
T=$IMAGES/debian-tools
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mkdir -p /tmp/www
dd if=/dev/zero of=/tmp/www/z bs=64k count=256 2>/dev/null
ip link set lo up
httpd -p 8000 -h /tmp/www
# passt needs a default route (else its local mode), and ping sockets for
# the guest's pings to its gateway
ip link add uplink0 type dummy
ip addr add 10.0.2.15/24 dev uplink0
ip link set uplink0 up
ip route add default via 10.0.2.2
echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range

# passt's sandbox cannot pivot_root() out of L1's initramfs root: run the
# VMM in a private mount namespace on a tmpfs root (see net-user.sh)
cat >/tmp/realroot <<'EOF2'
#!/bin/sh
exec unshare -m /bin/sh -c '
set -e
mount --make-rprivate /
mkdir -p /.nr
mount -t tmpfs realroot /.nr
for d in /*; do
	[ "$d" = /.nr ] && continue
	if [ -d "$d" ] && [ ! -L "$d" ]; then
		mkdir "/.nr$d"
		mount --rbind "$d" "/.nr$d"
	else
		cp -a "$d" "/.nr$d"
	fi
done
cd /.nr
mount --move . /
exec chroot . "$@"' realroot "$@"
EOF2
chmod +x /tmp/realroot

mkdir -p /tmp/l1
cp $LKVM /tmp/l1/lkvm
TAP="-n mode=tap,tapif=lkvmb0,host_ip=$H"
# with the tools disk every variant measures with iperf3 (its own buffers,
# as the issue's reference figures); without it busybox nc and wget
K=nc D=
if [ -x $T/run ]; then
	K=iperf D="-d $T/tools.ext4,ro"
	$T/run iperf3 -s -D
fi
cat >/tmp/variants <<EOF2
tap|lkvm|$K|--stats $D $TAP
tap+vhost|lkvm|$K|--stats $D $TAP,vhost=1
EOF2
if [ -x $T/run ]; then
	printf '#!/bin/sh\nexec %s/run passt "$@"\n' $T >/tmp/passt
	chmod +x /tmp/passt
	echo "user|lkvm|$K|--stats $D -n mode=user --passt /tmp/passt" >>/tmp/variants
	echo "user-socket|lkvm|$K|--stats $D -n mode=user,vhost=0 --passt /tmp/passt" >>/tmp/variants
	# the guest's virtio-net without TX NAPI (completions freed at the
	# next transmit, no TX interrupts wanted): what they cost with vhost
	echo "tap+vhost-nonapi|lkvm|iperf|--stats $D $TAP,vhost=1" >>/tmp/variants
	echo "c2-vhost-mq1|lkvm|iperf|--stats -c 2 $D $TAP,vhost=1" >>/tmp/variants
	echo "c2-vhost-mq2|lkvm|iperf|--stats -c 2 $D $TAP,vhost=1,mq=2" >>/tmp/variants
	# guest RAM from huge pages: KVM maps them 2 MiB at a time in stage
	# 2 (4 KiB otherwise: riscv KVM makes blocks of hugetlb pages only)
	echo "tap+vhost-huge|lkvm|iperf|--stats --hugetlb $D $TAP,vhost=1" >>/tmp/variants
fi
# with REF= (lkvm-ref staged), each of lkvm's variants again under it
if [ -x /host/bin/lkvm-ref ]; then
	cp /host/bin/lkvm-ref /tmp/l1/lkvm-ref
	sed 's/^\([^|]*\)|lkvm|/ref-\1|lkvm-ref|/' /tmp/variants >/tmp/variants.ref
	cat /tmp/variants.ref >>/tmp/variants
fi
if [ -x /host/bin/peer ]; then
	cp /host/bin/peer /tmp/l1/peer
	# busybox script (the peer's terminal) needs ptys
	mkdir -p /dev/pts
	grep -q ' /dev/pts ' /proc/mounts || mount -t devpts -o ptmxmode=0666 devpts /dev/pts
	[ -c /dev/ptmx ] || ln -sf pts/ptmx /dev/ptmx
	# kvmtool's own tap set-up (script=none,host_ip=) left the tap down
	# when the guest's first frame came (EIO), and a failed write ends its
	# transmit thread: it gets a tap set up beforehand
	echo "peer-tap|peer|$K|-c 1 --console serial $D -n mode=tap,tapif=lkvmb0,script=none" >>/tmp/variants
	echo "peer-user|peer|$K|-c 1 --console serial $D -n mode=user" >>/tmp/variants
	echo "peer-tap-huge|peer|$K|-c 1 --console serial --hugetlbfs /dev/hugepages $D -n mode=tap,tapif=lkvmb0,script=none" >>/tmp/variants
	# kvmtool's own default: a vCPU per L1 CPU (2)
	echo "peer-tap-c2|peer|$K|-c 2 --console serial $D -n mode=tap,tapif=lkvmb0,script=none" >>/tmp/variants
fi
if [ -n "${BENCH_ONLY:-}" ]; then
	awk -F'|' -v only=",$BENCH_ONLY," 'index(only, "," $1 ",")' /tmp/variants >/tmp/variants.only
	mv /tmp/variants.only /tmp/variants
fi

# one round of the three measurements, typed into the guest's shell
once_nc="sleep 1; dd if=/dev/zero bs=64k count=256 2>/tmp/dd.err | nc $H 5003; sed 's/^/g2h-dd /' /tmp/dd.err; wget -q -O - http://$H:8000/z | dd of=/dev/null bs=64k 2>&1 | sed 's/^/h2g-dd /'; ping -c 10 -i 0.2 $H | sed -n 's/^round-trip/rr-ping/p'"
# iperf3, two streams each way, 5 s each: the receiver's sum
g2h_iperf="/t/run iperf3 -c $H -P 2 -t 5 -f m | sed -n 's/^\[SUM\].*receiver/g2h-sum &/p'"
h2g_iperf="/t/run iperf3 -c $H -P 2 -t 5 -f m -R | sed -n 's/^\[SUM\].*receiver/h2g-sum &/p'"
rr_ping="ping -c 10 -i 0.2 $H | sed -n 's/^round-trip/rr-ping/p'"

# the guest's interrupt counts of its NIC's queues, and its NIC's
# counters, as one line tagged TAG (round 1: before, between and after
# the two directions)
irqs() {
	printf '%s' "awk '/virtio/ { s = 0; for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+\$/) s += \$i; printf \"%s=%d \", \$NF, s } END { print \"\" }' /proc/interrupts | sed 's/^/$1 /'; echo $1-tx \$(cat /sys/class/net/eth0/statistics/tx_packets /sys/class/net/eth0/statistics/tx_bytes) rx \$(cat /sys/class/net/eth0/statistics/rx_packets /sys/class/net/eth0/statistics/rx_bytes)"
}

# snap PID : one line per thread of PID (tid, name, its CPU ticks so far),
# then "@ UPTIME L1-BUSY-TICKS L1-ALL-TICKS" (every L1 CPU's, from
# /proc/stat): two snaps around a measurement give each thread's share of
# one L1 CPU over it, and how busy L1 was as a whole
snap() {
	for t in /proc/$1/task/*; do
		awk -v t="${t##*/}" -v c="$(cat $t/comm 2>/dev/null)" '{ print t, c, $14 + $15 }' $t/stat 2>/dev/null
	done
	awk -v u="$(cut -d' ' -f1 /proc/uptime)" '/^cpu / { b = $2 + $3 + $4 + $7 + $8; a = b + $5 + $6; print "@", u, b, a }' /proc/stat
}
# busy TAG BEFORE AFTER : the busiest 3 threads' shares of an L1 CPU
# between two snaps (USER_HZ ticks), and L1's busy share of all its CPUs,
# as one line
busy() {
	set -- "$1" "$2" "$3" "$(awk '$1 == "@" { print $2, $3, $4 }' "$2")" "$(awk '$1 == "@" { print $2, $3, $4 }' "$3")"
	w=$(echo "$4 $5" | awk '{ printf "%.2f", $4 - $1 }')
	l1=$(echo "$4 $5" | awk '{ printf "%.0f", ($5 - $2) * 100 / ($6 - $3 + 1e-9) }')
	top=$(awk -v w="$w" 'FNR == NR { if ($1 != "@") t0[$1] = $3; next }
		$1 != "@" && ($1 in t0) { printf "%.0f %s\n", ($3 - t0[$1]) / w, $2 }' "$2" "$3" |
		sort -rn | head -n 3 | awk '{ printf " %s %s%%", $2, $1 }')
	echo "$1 over $w s: L1 busy $l1%;$top"
}

# mbit FILE TAG : Mbit/s from each of busybox dd's "N bytes ... copied,
# S seconds" lines tagged TAG
mbit() {
	tr -d '\r' <"$1" | sed -n "s/^$2 \([0-9]*\) bytes.*copied, \([0-9.]*\) seconds.*/\1 \2/p" |
		awk '$2 > 0 { printf "%.1f\n", $1 * 8 / $2 / 1e6 }'
}
# sum FILE TAG : iperf3's Mbits/sec of each line tagged TAG
sum() {
	tr -d '\r' <"$1" | sed -n "s/^$2 .* \([0-9.]*\) Mbits\/sec.*/\1/p"
}

# send LINE: type a line into the guest's shell; the peer's 8250 drops
# what overflows its 64-byte FIFO, so it gets the line 32 bytes at a time
send() {
	if [ $bin = peer ]; then
		s=$1
		while [ -n "$s" ]; do
			printf '%s' "${s:0:32}" >&3
			s=${s:32}
			usleep 100000
		done
		echo >&3
	else
		echo "$1" >&3
	fi
}

# variant NAME BIN KIND OPTS... : one L2 boot, RUNS rounds (a subshell: a
# variant that fails costs only its own figures)
variant() {
	name=$1 bin=$2 kind=$3
	shift 3
	out=/tmp/b.$name
	rm -f /tmp/net.in
	mkfifo /tmp/net.in
	up="ip addr add $G/24 dev eth0; ip link set eth0 up; ping -c 1 -w 20 $H >/dev/null"
	[ $kind = nc ] || up="$up; mkdir -p /t && mount -o ro /dev/vda /t"
	echo "+ $bin run $*"
	case $name in *-huge)
		# the pool for -m 512, only while this variant runs
		echo 260 >/proc/sys/vm/nr_hugepages
		mkdir -p /dev/hugepages
		grep -q ' /dev/hugepages ' /proc/mounts || mount -t hugetlbfs none /dev/hugepages
		;;
	esac
	if [ "${name#peer-tap}" != "$name" ]; then
		tunctl -t lkvmb0 >/dev/null
		ip addr add $H/24 dev lkvmb0
		ip link set lkvmb0 up
	fi
	: >$out # now: wait_for must not see an earlier boot's output
	if [ $bin = peer ]; then
		# kvmtool reads its console only from a terminal: busybox
		# script gives it a pty fed from the fifo
		/tmp/realroot script -q -c "/tmp/l1/peer run -k $KERNEL -i $INITRD -m 512 -p 'quiet l2=shell' $*" /dev/null </tmp/net.in >$out 2>&1 &
	else
		/tmp/realroot /tmp/l1/$bin run -k $KERNEL -i $INITRD -m 512 -p "quiet l2=shell$(case $name in *nonapi*) echo ' virtio_net.napi_tx=0' ;; esac)" "$@" </tmp/net.in >$out 2>&1 &
	fi
	bpid=$!
	echo $bpid >/tmp/v.pid
	exec 3>/tmp/net.in
	wait_for '@@ L2 init' $out 60
	send "$up; echo net-up"
	wait_for '^net-up' $out 60
	# the VMM's process (under script for the peer, under realroot's
	# chroot for both): its threads' CPU around each transfer
	vp=$(pgrep -f "^/tmp/l1/$bin run" | head -n 1)
	r=1
	while [ $r -le $RUNS ]; do
		if [ $kind = nc ]; then
			nc -l -p 5003 >/dev/null &
			ncpid=$!
			sleep 1
			send "$once_nc; echo round-$r-done"
		else
			[ $r = 1 ] && send "$(irqs irq0)"
			snap $vp >/tmp/s0
			send "$g2h_iperf; echo g2h-$r-done"
			wait_for "^g2h-$r-done" $out 180
			snap $vp >/tmp/s1
			echo "BENCH net $name CPU $(busy g2h-$r /tmp/s0 /tmp/s1)"
			[ $r = 1 ] && send "$(irqs irq1)"
			snap $vp >/tmp/s0
			send "$h2g_iperf; echo h2g-$r-done"
			wait_for "^h2g-$r-done" $out 180
			snap $vp >/tmp/s1
			echo "BENCH net $name CPU $(busy h2g-$r /tmp/s0 /tmp/s1)"
			send "$rr_ping; echo round-$r-done"
		fi
		wait_for "^round-$r-done" $out 180
		[ $r = 1 ] && [ $kind != nc ] && send "$(irqs irq2)"
		[ $kind = nc ] && wait $ncpid
		r=$((r + 1))
	done
	# where L1's CPU went in this boot: the VMM (its threads, vhost's
	# worker among them), passt; the iperf3 server is one daemon for
	# every variant: its seconds add up from the first variant on
	cpu() { for p in "$@"; do awk '{ printf "%.1f s ", ($14 + $15) / 100 }' /proc/$p/stat; done; }
	# and per thread (lkvm names its threads: lkvm-vcpu0, lkvm-net0; vhost's
	# worker is vhost-PID), busiest first
	thr=$(for t in /proc/$vp/task/*; do
		awk '{ printf "%.1f", ($14 + $15) / 100 }' $t/stat
		echo " $(cat $t/comm)"
	done | sort -rn | head -n 4 | awk '{ printf "%s %s s, ", $2, $1 }')
	echo "BENCH net $name L1 CPU by thread: ${thr%, }"
	# the guest's interrupts and NIC counters around round 1's two runs
	sleep 2
	tr -d '\r' <$out | grep -E '^irq[012](-tx)? ' | sed "s/^/BENCH net $name guest /"
	echo "BENCH net $name L1 CPU: vmm $(cpu $vp)passt $(cpu $(pgrep -f "/passt[.a-z0-9]* .*--fd"))iperf3 -s so far $(cpu $(pgrep -f "/iperf3 -s"))"
	send "poweroff -f"
	i=0
	while kill -0 $bpid 2>/dev/null && [ $i -lt 600 ]; do
		usleep 100000
		i=$((i + 1))
	done
	kill -0 $bpid 2>/dev/null && { kill -9 $bpid; echo "BENCH net $name: no exit 60 s after poweroff"; }
	wait $bpid
	echo "BENCH net $name exit status: $?"
	exec 3>&-
}

# BENCH_BOOTS=N: N passes over the variants, each a boot of its own per
# pass (A B C A B C ...), so that a drift in the host's speed spreads over
# every variant instead of landing on one; medians over all the runs
BOOTS=${BENCH_BOOTS:-1}
rm -f /tmp/b.*.all
for boot in $(seq 1 $BOOTS); do
	while IFS='|' read -r name bin kind opts; do
		(variant $name $bin $kind $opts) </dev/null >/tmp/v.$name.log 2>&1 ||
			{ echo "BENCH net $name: failed"; tail -n 25 /tmp/v.$name.log; }
		kill -9 $(cat /tmp/v.pid) 2>/dev/null
		sleep 1
		[ "${name#peer-tap}" = "$name" ] || tunctl -d lkvmb0 >/dev/null 2>&1 || true
		echo 0 >/proc/sys/vm/nr_hugepages
		grep '^BENCH' /tmp/v.$name.log
		o=/tmp/b.$name
		tr -d '\r' <$o >>$o.all
		# the whole boot's: the NIC's counters, lkvm's exits and KVM's
		# (in-kernel MMIO exits are ioeventfd kicks and the AIA's)
		tr -d '\r' <$o | grep -E 'stats: (net0|exits|kvm counted)' | sed "s/^/BENCH net $name /"
		if ! grep -qE '^(g2h-sum|g2h-dd) ' $o; then
			tr -d '\r' <$o | tail -n 20
			cp $o /host/results/net-$name.out
		fi
	done </tmp/variants
done
while IFS='|' read -r name bin kind opts; do
	o=/tmp/b.$name.all
	[ -f $o ] || continue
	if [ $kind = nc ]; then
		g2h=$(mbit $o g2h-dd)
		h2g=$(mbit $o h2g-dd)
	else
		g2h=$(sum $o g2h-sum)
		h2g=$(sum $o h2g-sum)
	fi
	rr=$(sed -n 's/^rr-ping min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p' $o)
	echo "BENCH net $name guest->host: $(echo "$g2h" | median) Mbit/s (runs: $(echo $g2h))"
	echo "BENCH net $name host->guest: $(echo "$h2g" | median) Mbit/s (runs: $(echo $h2g))"
	echo "BENCH net $name ping rtt: $(echo "$rr" | median) ms (runs: $(echo $rr))"
done </tmp/variants
