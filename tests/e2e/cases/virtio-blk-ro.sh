# A read-only disk refuses writes (the guest sees I/O errors; the kernel is
# told root=/dev/vda ro) and the image is byte-identical afterwards, also
# for a bare-metal driver that ignores the RO feature and writes anyway
# (lkvm answers VIRTIO_BLK_S_IOERR, over mmio and pci); three disks at
# once, the third written and read back; a second lkvm on an image in use
# is refused with a clear line.
# machine: virt
# timeout: 150
cp $IMAGES/l2-disk.ext4 /tmp/root.img
before=$(md5sum </tmp/root.img)
GSH_BOOT="-i $INITRD"
# the guest's block layer honours the RO feature, even after blockdev
# --setrw: lkvm's own refusal is reached by the bare-metal guest below
guest_sh out 'cat /proc/cmdline; cat /sys/block/vda/ro; dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync; echo dd-rc=$?; blockdev --setrw /dev/vda; dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync; echo dd2-rc=$?' -d /tmp/root.img,ro
expect_rc 0
expect_grep '^1$' out
# the kernel is told to mount its root read-only too
expect_grep 'root=/dev/vda ro' out
expect_grep 'dd-rc=1' out
expect_grep 'dd2-rc=1' out
[ "$(md5sum </tmp/root.img)" = "$before" ] || fail "read-only image changed"

# lkvm itself refuses: a driver that ignores VIRTIO_BLK_F_RO
dd if=/dev/urandom of=/tmp/ro.img bs=64k count=16 2>/dev/null
rosum=$(md5sum </tmp/ro.img)
for tr in mmio pci; do
	run out $LKVM run -k $GUESTS/hostile-smp.bin -m 64 -d /tmp/ro.img,ro \
		--virtio-transport $tr -p "hostile=rowrite tr=$tr"
	expect_rc 0
	expect_grep "^hostile-smp: transport virtio-$tr" out
	expect_grep '^hostile-smp: rowrite: write status 1$' out
	expect_no_grep 'WRONG' out
	expect_grep '^hostile-smp: PASSED' out
	[ "$(md5sum </tmp/ro.img)" = "$rosum" ] || fail "read-only image changed ($tr)"
done
rm -f /tmp/ro.img

truncate -s 8M /tmp/d2.img /tmp/d3.img
dd if=/dev/urandom of=/tmp/pattern bs=64k count=16 2>/dev/null
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
cp /tmp/pattern /tmp/d2.img
GSH_BOOT="-i $INITRD"
# the guest writes the first MiB of vdb to vdc and reads it back
guest_sh out 'ls /sys/block | grep vd | tr "\n" " "; echo; dd if=/dev/vdb of=/dev/vdc bs=1M count=1 conv=fsync 2>/dev/null && echo vdc-written; echo 3 >/proc/sys/vm/drop_caches; echo "vdc-sum $(head -c 1048576 /dev/vdc | md5sum)"' -d /tmp/root.img -d /tmp/d2.img -d /tmp/d3.img
expect_rc 0
expect_grep 'vda vdb vdc' out
expect_grep '^vdc-written' out
expect_grep "^vdc-sum $want " out
[ "$(head -c 1048576 /tmp/d3.img | md5sum | cut -d' ' -f1)" = "$want" ] ||
	fail "the data written to vdc is not in its image"
rm -f /tmp/pattern

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
