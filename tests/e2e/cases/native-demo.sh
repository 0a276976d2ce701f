# The native demo's guest, booted the way tests/e2e/demo.sh boots it on a
# riscv64 Debian 13 host with KVM: demo-run.sh with this lkvm, Debian 13's
# own riscv64 kernel (linux-image-riscv64, an EFI-stub Image) and an
# initramfs of Debian's busybox-static (tests/e2e/debian-guest.sh fetches
# both on the host; L1 has no apt). lkvm info, then the guest on 2 vCPUs
# to its init and power-off.
# machine: virt
# timeout: 300
# needs: debian-guest
mkdir -p /tmp/debian
cp $IMAGES/debian/Image $IMAGES/debian/initramfs.cpio.gz /tmp/debian/
echo "debian guest: $(cat $IMAGES/debian/versions)"
run out env LKVM=$LKVM KERNEL=/tmp/debian/Image INITRD=/tmp/debian/initramfs.cpio.gz \
	WHERE="as demo.sh runs it natively" sh /host/demo.sh
expect_rc 0
expect_grep '^=== lkvm info, as demo.sh runs it natively' out
expect_grep '^KVM API version +12$' out
expect_grep '@@ L2 init: debian13-busybox nproc=2 ' out
expect_grep '=== lkvm exited with status 0 ' out
