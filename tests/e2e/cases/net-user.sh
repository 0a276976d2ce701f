# User-mode networking through passt (Debian 13's riscv64 package): a DHCP
# lease from passt (busybox udhcpc in the guest), a name resolved through
# passt's DNS forwarding (L1's resolver is on its loopback, as
# systemd-resolved's is: passt hands the guest its gateway address as DNS
# server and forwards queries there to the host's 127.0.0.1, where busybox
# dnsd answers a name nothing else knows), a TCP connection from the
# guest to a service on L1's loopback through host_ip, a hostfwd connection
# from L1 into the guest, then passt killed during an endless stream from
# L1's loopback: link down, lkvm alive, poweroff exits 0. All of it twice:
# with vhost=0, through lkvm's own data path (passt's socket framing), and
# as by default, where passt's vhost-user serves the rings in guest RAM
# (here a memfd of huge pages, --hugetlb) itself; that run also reboots
# the guest first (a DHCP exchange before it, everything after) and once
# more after passt is gone (it boots on, link down). And passt missing:
# one line naming the package, exit 1; a passt without vhost-user: lkvm
# names it and exits 1.
# needs: debian-tools
# machine: virt aia
# timeout: 600
H=192.168.33.1
cat >/tmp/passt <<'EOF'
#!/bin/sh
exec /host/images/debian-tools/run passt "$@"
EOF
chmod +x /tmp/passt
/tmp/passt --version >/dev/null 2>&1 || fail "passt does not run in L1"

# L1's root is the initramfs (rootfs), and passt's sandbox pivot_root()s into
# an empty tmpfs: the kernel refuses that with EINVAL when the current root
# is rootfs, which has no parent mount ("Failed to pivot_root() into empty
# tmpfs: Invalid argument", passt exits). A chroot is no way out: a chrooted
# process may not create the user namespace passt needs (EPERM). So, as an
# initramfs's switch_root does: in a private mount namespace, a tmpfs moved
# onto / with L1's tree bound into it, and lkvm (and passt, its child) run
# with that as root. busybox unshare and chroot exec: $! stays lkvm's pid.
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

mkdir -p /tmp/www
dd if=/dev/urandom of=/tmp/www/blob bs=64k count=16 2>/dev/null
blob_md5=$(md5sum </tmp/www/blob | cut -d' ' -f1)
ip link set lo up
# passt takes its template from an interface with a default route; L1 has
# none, and without one passt runs in its "local mode" (link-local addresses,
# ignoring --address/--gateway). A real host has one: so does L1, a dummy.
ip link add uplink0 type dummy
ip addr add 10.0.2.15/24 dev uplink0
ip link set uplink0 up
ip route add default via 10.0.2.2
# its own port: net-tap, which may run after it in this L1, serves 8000
httpd -p 127.0.0.1:8010 -h /tmp/www
# L1's resolver on its loopback; passt reads resolv.conf at its start
echo "lkvm-dns-test.example 10.9.8.7" >/tmp/dnsd.conf
busybox dnsd -c /tmp/dnsd.conf -i 127.0.0.1 -p 53 &
echo "nameserver 127.0.0.1" >/etc/resolv.conf

# wait_boots N: the guest in $o has started N times (reboot -f)
wait_boots() {
	i=0
	while [ "$(grep -c '@@ L2 init' $o)" -lt $1 ]; do
		i=$((i + 1))
		[ $i -gt $((90 * 10 * E2E_SLOW)) ] && fail "no boot $1 after reboot -f"
		usleep 100000
	done
	sleep 1
}

user_boot() {
	rm -f /tmp/net.in
	mkfifo /tmp/net.in
	o=/tmp/user$2.out
	: >$o # now: wait_for must not see an earlier boot's output
	echo "+ lkvm run ${4:-} -n mode=user,hostfwd=tcp:2222:7777$1 --passt /tmp/passt"
	/tmp/realroot $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=shell" --stats ${4:-} \
		-n mode=user,hostfwd=tcp:2222:7777$1 --passt /tmp/passt \
		</tmp/net.in >$o 2>&1 &
	npid=$!
	exec 3>/tmp/net.in
	wait_for '@@ L2 init' $o 60
	sleep 1
	if [ "${3:-}" = reboot ]; then
		# traffic, then a reboot: the rings go back to lkvm and to passt
		# again, guest RAM is cleared (MADV_REMOVE on the shared memfd)
		echo "ip link set eth0 up; udhcpc -i eth0 -n -q -t 20 -s /bin/true && echo pre-reboot-dhcp; reboot -f" >&3
		wait_boots 2
	fi
	# udhcpc's script: the lease's address and default route
	echo 'printf "#!/bin/sh\n[ \"\$1\" = bound ] || exit 0\nifconfig \$interface \$ip netmask \$subnet\nroute add default gw \$router\necho dhcp-dns \$dns\nfor s in \$dns; do echo nameserver \$s; done >/etc/resolv.conf\n" >/tmp/dh; chmod +x /tmp/dh' >&3
	# the MTU before any DHCP (this script does not apply DHCP's): the one
	# lkvm offers for passt (VIRTIO_NET_F_MTU)
	echo "sed 's/^/link-mtu /' /sys/class/net/eth0/mtu; ip link set eth0 up; udhcpc -i eth0 -s /tmp/dh -n -q -t 20 && echo dhcp-ok; ip -4 addr show eth0 | sed -n 's/.*inet /lease /p'" >&3
	wait_for '^lease ' $o 40
	echo "nslookup -type=a lkvm-dns-test.example | sed 's/^/dns-answer /'; echo dns-done" >&3
	wait_for '^dns-done' $o 60
	echo "wget -q -O - http://$H:8010/blob | md5sum | sed 's/^/loop-md5 /'; (nc -l -p 7777 >/tmp/fwd; echo fwd-closed) & echo listening" >&3
	wait_for '^loop-md5' $o 60
	wait_for '^listening' $o 60
	sleep 2
	echo hello-through-passt | nc -w 10 127.0.0.1 2222 || echo "nc to 2222 failed"
	wait_for 'fwd-closed' $o 60
	echo 'cat /tmp/fwd; cat /sys/class/net/eth0/carrier | sed "s/^/carrier-before /"' >&3
	wait_for '^carrier-before' $o 30

	# passt goes away mid-transfer: the guest sees the link go down, lkvm runs on
	# an endless stream from L1's loopback: still flowing when passt is killed
	nc -l -p $((8000 + $2)) </dev/zero >/dev/null 2>&1 &
	sleep 1
	echo "(nc $H $((8000 + $2)) | wc -c | sed 's/^/stream-got /') & sleep 5; echo transfer-running" >&3
	wait_for '^transfer-running' $o 60
	tr -d '\r' <$o | grep -q '^stream-got' && fail "the stream ended before passt was killed: not mid-transfer"
	pkill -f 'passt --foreground' || fail "no passt process to kill"
	wait_for 'went away: link down' $o 30
	sleep 2
	kill -0 $npid || fail "lkvm died with passt"
	if [ "${3:-}" = reboot ]; then
		# a reboot with passt gone boots on, its link down
		echo 'cat /sys/class/net/eth0/carrier | sed "s/^/carrier-after /"; reboot -f' >&3
		wait_boots 3
		echo 'ip link set eth0 up; sleep 1; cat /sys/class/net/eth0/carrier | sed "s/^/carrier-rebooted /"; poweroff -f' >&3
	else
		echo 'cat /sys/class/net/eth0/carrier | sed "s/^/carrier-after /"; poweroff -f' >&3
	fi
	i=0
	while kill -0 $npid 2>/dev/null && [ $i -lt $((30 * 10 * E2E_SLOW)) ]; do
		usleep 100000
		i=$((i + 1))
	done
	kill -0 $npid 2>/dev/null && { kill -9 $npid; fail "lkvm did not exit after poweroff"; }
	wait $npid
	rc=$?
	exec 3>&-
	tr -d '\r' <$o | sed 's/^/  | /' | tail -n 40
	expect_rc 0
	expect_grep '^link-mtu 65520$' $o
	expect_grep '^dhcp-ok' $o
	expect_grep '^lease 192\.168\.33\.15/24' $o
	expect_grep '^dhcp-dns 192\.168\.33\.1$' $o
	expect_grep '^dns-answer .*10\.9\.8\.7' $o
	expect_grep "^loop-md5 $blob_md5" $o
	expect_grep '^hello-through-passt' $o
	expect_grep '^carrier-before 1' $o
	expect_grep '^carrier-after 0' $o
	# DRIVER_OK and the reset went without a complaint
	expect_no_grep 'cannot attach|cannot start|cannot change' $o
}

echo "== vhost=0: lkvm's data path, passt's socket framing"
user_boot ",vhost=0" 1
expect_grep 'stats: net0 \(passt \(pid [0-9]+\)\): rx [1-9]' $o
echo "== the default: passt's vhost-user serves the rings in guest RAM"
# guest RAM a memfd of huge pages (--hugetlb), which passt maps too
echo 64 >/proc/sys/vm/nr_hugepages
user_boot "" 2 reboot "-m 128 --hugetlb"
expect_grep '^HugePages_Free: +64$' /proc/meminfo
echo 0 >/proc/sys/vm/nr_hugepages
expect_grep '^pre-reboot-dhcp' $o
expect_grep '^carrier-rebooted 0' $o
# the frames never passed through lkvm; passt signalled the interrupts
expect_grep 'stats: net0 \(passt vhost-user \(pid [0-9]+\)\): rx 0 frames' $o
# passt's interrupts: irqfds under the in-kernel AIA, relayed by lkvm
# under the userspace PLIC
if grep -q 'machine: irqchip aia' $o; then
	expect_grep 'stats: net0 vhost: 0 interrupts relayed, 2 of 2 rings on an irqfd' $o
else
	expect_grep 'stats: net0 vhost: [1-9][0-9]* interrupts relayed, 0 of 2 rings' $o
fi

echo "== passt missing: one line, exit 1"
run /tmp/err.out $LKVM run -k $KERNEL -n mode=user --passt /nonexistent/passt
expect_rc 1
expect_lines 1 /tmp/err.out
expect_grep "Debian package 'passt'" /tmp/err.out

echo "== a passt without vhost-user: lkvm says so and exits 1"
printf '#!/bin/sh\necho "passt: unrecognized option --vhost-user" >&2\nexit 1\n' >/tmp/oldpasst
chmod +x /tmp/oldpasst
run /tmp/err2.out $LKVM run -k $KERNEL -n mode=user --passt /tmp/oldpasst
expect_rc 1
expect_grep "passt \(pid [0-9]+\) exited instead of answering vhost-user .*vhost=0" /tmp/err2.out
