# -d overlay.qcow2: the guest boots from a qcow2 overlay (made by qemu-img
# on the host) whose backing file is a compressed qcow2 of the L2 disk,
# named relative to the overlay; what it writes lands in the overlay
# (clusters allocated, copy-on-write from compressed clusters), survives
# the next boot, and leaves the base byte-identical; ,ro refuses writes.
# The same over a raw base (an overlay on the L2 disk itself): the raw file
# stays byte-identical. Afterwards the host judges the overlays with
# qemu-img check (run.sh).
# machine: virt
# timeout: 300
[ -f $IMAGES/l2-overlay.qcow2 ] || fail "no qcow2 images staged: qemu-img (qemu-utils) is missing on the host"
mkdir -p /tmp/q
cp $IMAGES/l2-base.qcow2 $IMAGES/l2-overlay.qcow2 /tmp/q/
base=$(md5sum </tmp/q/l2-base.qcow2)
GSH_BOOT=
guest_sh out 'cat /proc/cmdline; mount | grep " / "; dd if=/dev/urandom of=/big.bin bs=64k count=64 2>/dev/null; md5sum /big.bin >/big.md5; echo persisted-$((40 + 2)) >/data.txt; sync; echo written' -d /tmp/q/l2-overlay.qcow2
expect_rc 0
expect_grep '^@@ L2 init: disk ' out
expect_grep '^/dev/root on / type ext4 \(rw' out
expect_grep '^written' out
guest_sh out 'cat /data.txt; md5sum -c /big.md5' -d /tmp/q/l2-overlay.qcow2
expect_rc 0
expect_grep '^persisted-42' out
expect_grep '^/big.bin: OK' out
[ "$(md5sum </tmp/q/l2-base.qcow2)" = "$base" ] || fail "the backing file changed"
# read-only (from the initramfs: the journal the last boot left needs
# replaying, which a read-only root cannot do): what was written reads
# back, a write fails, and the overlay does not change
over=$(md5sum </tmp/q/l2-overlay.qcow2)
GSH_BOOT="-i $INITRD"
guest_sh out 'mkdir -p /mnt; mount -o ro,noload /dev/vda /mnt && cat /mnt/data.txt; dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync; echo dd-rc=$?' -d /tmp/q/l2-overlay.qcow2,ro
expect_rc 0
expect_grep '^persisted-42' out
expect_grep 'dd-rc=1' out
[ "$(md5sum </tmp/q/l2-overlay.qcow2)" = "$over" ] || fail "a read-only overlay changed"
cp /tmp/q/l2-base.qcow2 /host/results/l2-base.qcow2
cp /tmp/q/l2-overlay.qcow2 /host/results/qcow2-overlay.judge.qcow2
rm -rf /tmp/q
# over a raw base
mkdir -p /tmp/r
cp $IMAGES/l2-disk.ext4 $IMAGES/raw-overlay.qcow2 /tmp/r/
base=$(md5sum </tmp/r/l2-disk.ext4)
GSH_BOOT=
guest_sh out 'dd if=/dev/urandom of=/r.bin bs=64k count=32 2>/dev/null; md5sum /r.bin >/r.md5; sync; echo written' -d /tmp/r/raw-overlay.qcow2
expect_rc 0
expect_grep '^written' out
guest_sh out 'md5sum -c /r.md5' -d /tmp/r/raw-overlay.qcow2
expect_rc 0
expect_grep '^/r.bin: OK' out
[ "$(md5sum </tmp/r/l2-disk.ext4)" = "$base" ] || fail "the raw backing file changed"
# run.sh gives results/ the (unchanged) raw base to judge it against
cp /tmp/r/raw-overlay.qcow2 /host/results/qcow2-raw-overlay.judge.qcow2
rm -rf /tmp/r
