# SPDX-License-Identifier: GPL-2.0-only
# The demo, run inside L1 by `tests/e2e/demo.sh`.
echo
echo "=== lkvm info, inside an L1 riscv64 Linux with KVM (under QEMU) ==="
/tmp/l1/lkvm info
echo
echo "=== lkvm run: an L2 Linux guest, 2 vCPUs, 8250 console ==="
/tmp/l1/lkvm run -k /tmp/l1/Image -i /tmp/l1/l2-initramfs.cpio.gz -c 2 \
	-p "earlycon=sbi quiet"
echo "=== lkvm exited with status $? (0: the guest powered off) ==="
