# SPDX-License-Identifier: GPL-2.0-only
# The demo, run inside L1 by `tests/e2e/demo.sh`.
echo
echo "=== lkvm info, inside an L1 riscv64 Linux with KVM (under QEMU) ==="
/tmp/l1/lkvm info
echo "=== demo done ==="
