# Benchmark (not a test): virtio-net TCP throughput guest->host and
# host->guest (16 MiB through busybox nc and wget, timed by dd in the
# guest) and request/response latency (ping's average round trip), for a
# tap with lkvm's data path and with vhost-net, RUNS times each in one L2
# boot per variant: medians; and user mode through passt (Debian 13's,
# from debian-tools): the guest's connections to host_ip reach L1's
# loopback.
# needs: debian-tools
# machine: aia
# timeout: 3000
RUNS=${BENCH_RUNS:-3}
H=192.168.33.1
G=192.168.33.15
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mkdir -p /tmp/www
dd if=/dev/zero of=/tmp/www/z bs=64k count=256 2>/dev/null
ip link set lo up
httpd -p 8000 -h /tmp/www

cat >/tmp/variants <<EOF2
tap|-n mode=tap,tapif=lkvmb0,host_ip=$H
tap+vhost|-n mode=tap,tapif=lkvmb0,host_ip=$H,vhost=1
EOF2
if [ -x $IMAGES/debian-tools/run ]; then
	printf '#!/bin/sh\nexec %s/debian-tools/run passt "$@"\n' $IMAGES >/tmp/passt
	chmod +x /tmp/passt
	echo "user|-n mode=user --passt /tmp/passt" >>/tmp/variants
fi

# one round of the three measurements, typed into the guest's shell
once="sleep 1; dd if=/dev/zero bs=64k count=256 2>/tmp/dd.err | nc $H 5003; sed 's/^/g2h-dd /' /tmp/dd.err; wget -q -O - http://$H:8000/z | dd of=/dev/null bs=64k 2>&1 | sed 's/^/h2g-dd /'; ping -c 10 -i 0.2 $H | sed -n 's/^round-trip/rr-ping/p'"

# mbit FILE TAG : Mbit/s from each of busybox dd's "N bytes ... copied,
# S seconds" lines tagged TAG
mbit() {
	tr -d '\r' <"$1" | sed -n "s/^$2 \([0-9]*\) bytes.*copied, \([0-9.]*\) seconds.*/\1 \2/p" |
		awk '$2 > 0 { printf "%.1f\n", $1 * 8 / $2 / 1e6 }'
}

while IFS='|' read -r name opts; do
	rm -f /tmp/net.in
	mkfifo /tmp/net.in
	$LKVM run -k $KERNEL -i $INITRD -m 512 -p "quiet l2=shell" $opts </tmp/net.in >/tmp/b.$name 2>&1 &
	bpid=$!
	exec 3>/tmp/net.in
	wait_for '@@ L2 init' /tmp/b.$name 60
	echo "ip addr add $G/24 dev eth0; ip link set eth0 up; ping -c 1 -w 20 $H >/dev/null; echo net-up" >&3
	wait_for '^net-up' /tmp/b.$name 60
	r=1
	while [ $r -le $RUNS ]; do
		nc -l -p 5003 >/dev/null &
		ncpid=$!
		sleep 1
		echo "$once; echo round-$r-done" >&3
		wait_for "^round-$r-done" /tmp/b.$name 600
		wait $ncpid
		r=$((r + 1))
	done
	echo "poweroff -f" >&3
	wait $bpid
	exec 3>&-
	g2h=$(mbit /tmp/b.$name g2h-dd)
	h2g=$(mbit /tmp/b.$name h2g-dd)
	rr=$(tr -d '\r' </tmp/b.$name | sed -n 's/^rr-ping min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p')
	echo "BENCH net $name guest->host: $(echo "$g2h" | median) Mbit/s (runs: $(echo $g2h))"
	echo "BENCH net $name host->guest: $(echo "$h2g" | median) Mbit/s (runs: $(echo $h2g))"
	echo "BENCH net $name ping rtt: $(echo "$rr" | median) ms (runs: $(echo $rr))"
	[ -n "$g2h" ] || { tr -d '\r' </tmp/b.$name | tail -n 20; cp /tmp/b.$name /host/results/net-$name.out; }
done </tmp/variants
