#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build everything and boot a demo guest. On a riscv64 host with KVM, lkvm
# runs directly; elsewhere QEMU boots an L1 riscv64 Linux with KVM and lkvm
# runs inside it. Installs what it needs from Debian first (sudo if not root).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
if [ "$(uname -m)" = riscv64 ] && [ -e /dev/kvm ]; then
	bash tests/e2e/provision.sh --native-only
	make
	exec ./lkvm info
fi
bash tests/e2e/provision.sh
exec tests/e2e/run.sh --demo
