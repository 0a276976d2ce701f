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

for c in $(echo "$lkvm_cases" | tr ',' ' '); do
	t=$(sed -n 's/^# timeout: *//p' "/host/cases/$c.sh" | head -n 1)
	echo "@@ case $c start (timeout ${t:-60}s)"
	id="$c@$lkvm_l1"
	(cd /tmp && timeout "${t:-60}" sh /host/case-wrapper.sh "$c" \
		>"/host/results/$id.log" 2>&1)
	rc=$?
	echo "$rc" >"/host/results/$id.rc"
	echo "@@ case $c rc=$rc"
done
echo "@@ all cases done"
sync
poweroff -f
