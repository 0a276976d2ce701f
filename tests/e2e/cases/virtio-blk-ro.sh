# A read-only disk refuses writes (the guest sees I/O errors) and the image
# is byte-identical afterwards; three disks at once; a second lkvm on an
# image in use is refused with a clear line.
# machine: virt
# timeout: 150
cp $IMAGES/l2-disk.ext4 /tmp/root.img
before=$(md5sum </tmp/root.img)
GSH_BOOT="-i $INITRD"
# the guest's block layer honours the RO feature, even after blockdev
# --setrw; lkvm's own refusal (VIRTIO_BLK_S_IOERR) is in the unit tests
guest_sh out 'cat /sys/block/vda/ro; dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync; echo dd-rc=$?; blockdev --setrw /dev/vda; dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync; echo dd2-rc=$?' -d /tmp/root.img,ro
expect_rc 0
expect_grep '^1$' out
expect_grep 'dd-rc=1' out
expect_grep 'dd2-rc=1' out
[ "$(md5sum </tmp/root.img)" = "$before" ] || fail "read-only image changed"

truncate -s 8M /tmp/d2.img /tmp/d3.img
guest_sh out 'ls /sys/block | grep vd | tr "\n" " "; echo; dd if=/dev/zero of=/dev/vdc bs=1M count=1 conv=fsync 2>/dev/null; echo vdc-ok' -d /tmp/root.img -d /tmp/d2.img -d /tmp/d3.img
expect_rc 0
expect_grep 'vda vdb vdc' out
expect_grep '^vdc-ok' out

rm -f /tmp/in1 /tmp/out1
mkfifo /tmp/in1
$LKVM run -k $KERNEL -i $INITRD -p "quiet l2=shell" -d /tmp/d2.img </tmp/in1 >/tmp/out1 2>&1 &
first=$!
exec 5>/tmp/in1
wait_for '@@ L2 init' /tmp/out1 60
run out $LKVM run -k $KERNEL -i $INITRD -d /tmp/d2.img
expect_rc 1
expect_lines 1 out
expect_grep 'd2.img is in use by lkvm \(pid [0-9]+\)' out
echo 'poweroff -f' >&5
wait $first
exec 5>&-
rm -f /tmp/root.img /tmp/d2.img /tmp/d3.img
