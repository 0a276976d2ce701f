#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the L1 initramfs: mount the host's staging dir over 9p and run the
# cases named in lkvm_cases= (from the kernel command line) one at a time,
# each under its own timeout. Results go to /host/results; the host reads
# them after QEMU exits. lkvm_demo=1 runs the demo instead.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none host0 /host; then
	echo "@@ L1: cannot mount the host share"
	poweroff -f
fi
echo "@@ L1 up: $(nproc) cpus, linux $(uname -r)"
[ -e /dev/kvm ] && echo "@@ L1 has /dev/kvm" || echo "@@ L1 has no /dev/kvm"
echo "root:x:0:0:root:/:/bin/sh" >/etc/passwd
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >>/etc/passwd
echo "root:x:0:" >/etc/group
echo "nogroup:x:65534:" >>/etc/group

# lkvm and the L2 images in tmpfs: reading them over 9p for every L2 boot
# would cost seconds under TCG.
mkdir -p /tmp/l1
cp /host/bin/lkvm /host/images/Image /host/images/l2-initramfs.cpio.gz /tmp/l1/

if [ -n "$lkvm_demo" ]; then
	sh /host/demo.sh
	poweroff -f
fi

# How slow this L1 runs compared with an idle 2-core host: a fixed CPU
# loop against its time there (centiseconds, from /proc/uptime). Every
# case's timeout and the helpers' waits are scaled by it (E2E_SLOW), so a
# busy host is slow, not red. lkvm_slow=N on the command line forces it.
uptime_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}
calibrate() {
	t0=$(uptime_cs)
	awk 'BEGIN { for (i = 0; i < 200000; i++) s += i % 7 }'
	t1=$(uptime_cs)
	echo $((t1 - t0))
}
ref_cs=200
took=$(calibrate)
E2E_SLOW=$(((took + ref_cs - 1) / ref_cs))
[ "$E2E_SLOW" -ge 1 ] || E2E_SLOW=1
[ "$E2E_SLOW" -le 8 ] || E2E_SLOW=8
[ -z "$lkvm_slow" ] || E2E_SLOW=$lkvm_slow
export E2E_SLOW
echo "@@ L1 slowness: calibration loop ${took}0 ms (idle host: ${ref_cs}0 ms): timeouts x$E2E_SLOW"

# run_case NAME SECONDS : the case in its own session and process group,
# so that on a timeout, and after it ends, nothing it started (lkvm in the
# background above all) outlives it. Sets rc (124: timed out).
run_case() {
	(cd /tmp && exec setsid sh /host/case-wrapper.sh "$1" \
		>"/host/results/$1@$lkvm_l1.log" 2>&1) &
	cpid=$!
	deadline=$(($(uptime_cs) + $2 * 100))
	timed_out=0
	while kill -0 $cpid 2>/dev/null; do
		if [ "$(uptime_cs)" -gt $deadline ]; then
			echo "@@ case $1 timed out after $2 s: stopping it"
			timed_out=1
			kill -TERM -$cpid 2>/dev/null
			sleep 2
			kill -KILL -$cpid 2>/dev/null
			break
		fi
		usleep 100000
	done
	wait $cpid
	rc=$?
	[ $timed_out = 0 ] || rc=124
	kill -KILL -$cpid 2>/dev/null
}

for c in $(echo "$lkvm_cases" | tr ',' ' '); do
	t=$(sed -n 's/^# timeout: *//p' "/host/cases/$c.sh" | head -n 1)
	t=$((${t:-60} * E2E_SLOW))
	echo "@@ case $c start (timeout ${t}s)"
	run_case "$c" "$t"
	echo "$rc" >"/host/results/$c@$lkvm_l1.rc"
	echo "@@ case $c rc=$rc"
done
echo "@@ all cases done"
sync
poweroff -f
