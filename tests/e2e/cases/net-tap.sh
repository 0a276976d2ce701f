# virtio-net over a tap with static addresses, lkvm's data path and
# vhost-net's (its interrupts as irqfds under the in-kernel AIA, over both
# transports, relayed by lkvm under the userspace PLIC; lkvm gives the host side
# host_ip itself, as kvmtool does without a script): ping both ways, a TCP
# transfer each way compared by checksum on both sides, two NICs at once,
# a poweroff in the middle of a transfer (exit 0 within seconds), and the
# errors: an unknown -n key and a missing /dev/net/tun, one line, exit 1.
# machine: virt aia
# timeout: 400
H=192.168.33.1
G=192.168.33.15

# L1's side of the transfers: 1 MiB of random data served over HTTP, and a
# listener for what the guest sends.
mkdir -p /tmp/www
dd if=/dev/urandom of=/tmp/www/blob bs=64k count=16 2>/dev/null
blob_md5=$(md5sum </tmp/www/blob | cut -d' ' -f1)
echo "host blob md5 $blob_md5"

# net_boot OUT LKVM-ARGS... : boot L2 with a shell on a fifo (fd 3).
net_boot() {
	out=$1
	shift
	rm -f /tmp/net.in
	mkfifo /tmp/net.in
	echo "+ lkvm run $*"
	: >"$out" # now: wait_for must not see an earlier boot's output
	$LKVM run -k $KERNEL -i $INITRD -p "quiet l2=shell" "$@" \
		</tmp/net.in >"$out" 2>&1 &
	npid=$!
	exec 3>/tmp/net.in
	wait_for '@@ L2 init' "$out" 60
	sleep 1
}

# net_end SECONDS : the guest was told to power off: wait for lkvm
# (bounded), status in $rc.
net_end() {
	i=0
	while kill -0 $npid 2>/dev/null && [ $i -lt $(($1 * 10 * E2E_SLOW)) ]; do
		usleep 100000
		i=$((i + 1))
	done
	if kill -0 $npid 2>/dev/null; then
		kill -9 $npid
		tr -d '\r' <"$out" | tail -n 30 | sed 's/^/  | /'
		fail "lkvm still ran $(($1 * E2E_SLOW)) s after the guest's poweroff"
	fi
	wait $npid
	rc=$?
	exec 3>&-
	tr -d '\r' <"$out" | sed 's/^/  | /' | tail -n 25
	echo "  rc=$rc"
}

httpd -p 8000 -h /tmp/www

# one_nic TAG -n-SUFFIX [LKVM-ARGS] : ping both ways, TCP both ways,
# checksums compared.
one_nic() {
	o=/tmp/net-$1.out
	echo "== one NIC ($1): ping both ways, TCP both ways"
	net_boot $o -n mode=tap,tapif=lkvmt0,host_ip=$H$2 --stats ${3:-}
	echo "ip addr add $G/24 dev eth0; ip link set eth0 up; cat /sys/class/net/eth0/address; echo queues \$(ls /sys/class/net/eth0/queues); ping -c 2 -w 20 $H && echo guest-ping-ok; echo net-up" >&3
	wait_for '^net-up' $o 60
	ip addr show lkvmt0 | grep -q "inet $H/24" || fail "lkvm did not give lkvmt0 $H/24"
	ping -c 2 -w 20 $G >/tmp/ping.out 2>&1 || { cat /tmp/ping.out; fail "L1 cannot ping the guest"; }
	echo "host-ping-ok"
	rm -f /tmp/fromguest
	nc -l -p 5002 >/tmp/fromguest &
	ncpid=$!
	sleep 1
	echo "wget -q -O - http://$H:8000/blob | md5sum | sed 's/^/h2g-md5 /'; dd if=/dev/urandom of=/tmp/g bs=64k count=16 2>/dev/null; md5sum /tmp/g | sed 's/^/g-md5 /'; nc $H 5002 </tmp/g; echo sent-done" >&3
	wait_for '^sent-done' $o 120
	wait $ncpid
	echo "poweroff -f" >&3
	net_end 30
	expect_rc 0
	expect_grep '^guest-ping-ok' $o
	expect_grep "^h2g-md5 $blob_md5" $o
	g_md5=$(tr -d '\r' <$o | sed -n 's/^g-md5 \([0-9a-f]*\).*/\1/p')
	r_md5=$(md5sum </tmp/fromguest | cut -d' ' -f1)
	echo "guest sent md5 $g_md5, L1 received $(wc -c </tmp/fromguest) bytes md5 $r_md5"
	[ -n "$g_md5" ] && [ "$g_md5" = "$r_md5" ] || fail "$1: guest to host transfer differs"
	# the default MAC: locally administered, stable for the VM's name
	expect_grep '^02:4c:' $o
}

one_nic tap ""
expect_grep 'stats: net0 \(tap lkvmt0\): rx [1-9]' /tmp/net-tap.out
# vhost-net: the kernel moves the frames; lkvm counts none of them
one_nic vhost ",vhost=1"
expect_grep 'stats: net0 \(tap lkvmt0\): rx 0 frames' /tmp/net-vhost.out
# its interrupts: under the in-kernel AIA, KVM injects them from vhost's
# signals (irqfds: the MSI-X vectors, or the wired line under virtio-mmio,
# which the guest's acknowledge lowers) and lkvm relays none; under the
# userspace PLIC lkvm relays every one
if grep -q 'machine: irqchip aia' /tmp/net-vhost.out; then
	expect_grep 'stats: net0 vhost: 0 interrupts relayed, 2 of 2 rings on an irqfd' /tmp/net-vhost.out
	one_nic vhost-mmio ",vhost=1" "--virtio-transport mmio"
	expect_grep 'virtio over mmio' /tmp/net-vhost-mmio.out
	expect_grep 'stats: net0 vhost: 0 interrupts relayed, 2 of 2 rings on an irqfd' /tmp/net-vhost-mmio.out
	# multiqueue: two pairs on two vCPUs, a vhost-net each, both in use
	one_nic vhost-mq ",vhost=1,mq=2" "-c 2"
	expect_grep '^queues rx-0 rx-1 tx-0 tx-1' /tmp/net-vhost-mq.out
	expect_grep 'stats: net0 vhost: 0 interrupts relayed, 4 of 4 rings on an irqfd; 2 of 2 queue pairs in use' /tmp/net-vhost-mq.out
else
	expect_grep 'stats: net0 vhost: [1-9][0-9]* interrupts relayed, 0 of 2 rings' /tmp/net-vhost.out
fi

echo "== two NICs: each on its own tap and subnet"
net_boot /tmp/net2.out -n mode=tap,tapif=lkvmt1,host_ip=192.168.34.1 \
	-n mode=tap,tapif=lkvmt2,host_ip=192.168.35.1,guest_mac=02:00:00:00:00:35
echo "ip addr add 192.168.34.15/24 dev eth0; ip link set eth0 up; ip addr add 192.168.35.15/24 dev eth1; ip link set eth1 up; cat /sys/class/net/eth1/address; ping -c 1 -w 20 192.168.34.1 && echo nic0-ok; ping -c 1 -w 20 192.168.35.1 && echo nic1-ok; poweroff -f" >&3
net_end 60
expect_rc 0
expect_grep '^nic0-ok' /tmp/net2.out
expect_grep '^nic1-ok' /tmp/net2.out
expect_grep '^02:00:00:00:00:35' /tmp/net2.out

echo "== poweroff during a transfer: exit 0 within seconds"
dd if=/dev/urandom of=/tmp/www/big bs=1M count=16 2>/dev/null
net_boot /tmp/net3.out -n mode=tap,tapif=lkvmt3,host_ip=$H
echo "ip addr add $G/24 dev eth0; ip link set eth0 up; (wget -q -O /dev/null http://$H:8000/big &); sleep 2; poweroff -f" >&3
net_end 20
expect_rc 0

# SIGTERM during a vhost transfer: lkvm joins its vCPUs before anything of
# the guest's goes, so KVM never fails a vCPU's exit. (A SIGKILL can make
# L1's KVM log "VCPU exit error -14": a vCPU faulting a guest page in while
# the process dies gets EFAULT, not EINTR, from riscv KVM's G-stage fault
# path; that is the kernel's, and only a forced kill reaches it.)
echo "== SIGTERM during a vhost transfer: exit 143, no vCPU exit error"
ve0=$(dmesg | grep -c 'VCPU exit error')
net_boot /tmp/net4.out -n mode=tap,tapif=lkvmt4,host_ip=$H,vhost=1 -c 2
echo "ip addr add $G/24 dev eth0; ip link set eth0 up; while :; do wget -q -O /dev/null http://$H:8000/big; done & sleep 3; echo looping" >&3
wait_for '^looping' /tmp/net4.out 60
stop_within $npid 10
exec 3>&-
[ $rc = 143 ] || fail "SIGTERM: exit status $rc, not 143"
ve1=$(dmesg | grep -c 'VCPU exit error')
[ $ve1 = $ve0 ] || { dmesg | tail -n 20; fail "L1's KVM logged a vCPU exit error during lkvm's teardown"; }

echo "== errors: one line, exit 1"
run /tmp/err1.out $LKVM run -k $KERNEL -n mode=tap,colour=blue
expect_rc 1
expect_lines 1 /tmp/err1.out
expect_grep "unknown key 'colour'" /tmp/err1.out
mv /dev/net/tun /dev/net/tun.away
run /tmp/err2.out $LKVM run -k $KERNEL -i $INITRD -n mode=tap
mv /dev/net/tun.away /dev/net/tun
expect_rc 1
expect_lines 1 /tmp/err2.out
expect_grep 'no /dev/net/tun' /tmp/err2.out
run /tmp/err3.out $LKVM run -k $KERNEL -n mode=none,vhost=1
expect_rc 1
expect_lines 1 /tmp/err3.out
expect_grep 'vhost=1 needs mode=tap' /tmp/err3.out
