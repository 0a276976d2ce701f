# SPDX-License-Identifier: GPL-2.0-only
# The demo's lkvm part: lkvm info, then a Linux guest on 2 vCPUs and the
# 8250 console until it powers off; exits with lkvm's status. Inside L1
# (tests/e2e/demo.sh elsewhere than on riscv64) it runs as /host/demo.sh
# with the defaults below; on a riscv64 host with KVM demo.sh runs it with
# LKVM, KERNEL and INITRD naming the native lkvm and Debian's guest
# (tests/e2e/debian-guest.sh), and so does the e2e case native-demo.
LKVM=${LKVM:-/tmp/l1/lkvm}
KERNEL=${KERNEL:-/tmp/l1/Image}
INITRD=${INITRD:-/tmp/l1/l2-initramfs.cpio.gz}
WHERE=${WHERE:-inside an L1 riscv64 Linux with KVM (under QEMU)}
echo
echo "=== lkvm info, $WHERE ==="
"$LKVM" info
echo
echo "=== lkvm run: a Linux guest ($KERNEL), 2 vCPUs, 8250 console ==="
"$LKVM" run -k "$KERNEL" -i "$INITRD" -c 2 -p "earlycon=sbi quiet"
rc=$?
echo "=== lkvm exited with status $rc (0: the guest powered off) ==="
exit $rc
