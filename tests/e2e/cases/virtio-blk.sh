# lkvm run -k Image -d rootfs.ext4: the guest boots from the disk (root=
# /dev/vda rw added by lkvm); a file written and synced is there on the
# next boot; the disk's serial is its file name.
# machine: virt virt@6.1
# timeout: 150
cp $IMAGES/l2-disk.ext4 /tmp/root.img
GSH_BOOT=
guest_sh out 'cat /proc/cmdline; mount | grep " / "; cat /sys/block/vda/serial; echo; echo persisted-$((40 + 2)) >/data.txt; sync; echo written' -d /tmp/root.img
expect_rc 0
expect_grep '^@@ L2 init: disk ' out
expect_grep 'root=/dev/vda rw' out
expect_grep '^/dev/root on / type ext4 \(rw' out
expect_grep '^root.img' out
expect_grep '^written' out
guest_sh out 'cat /data.txt' -d /tmp/root.img
expect_rc 0
expect_grep '^persisted-42' out
rm -f /tmp/root.img
