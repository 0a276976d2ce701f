#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build everything and boot a demo guest; installs what it needs from
# Debian first (sudo if not root).
# - On a riscv64 Debian 13 host with KVM: provision.sh --native-only, a
#   native `make`, Debian 13's own riscv64 kernel and busybox-static as the
#   guest (tests/e2e/debian-guest.sh: fetched, not built, into the cache),
#   and lkvm boots it directly (demo-run.sh).
# - Elsewhere (Debian 12, x86_64): QEMU boots an L1 riscv64 Linux with
#   KVM and lkvm runs inside it (tests/e2e/run.sh --demo).
# Usage: demo.sh [--print]   --print: the commands it would run on this
#                            host, with provision.sh's package list; runs
#                            nothing else (tests/scripts check it).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
print=0
[ "${1:-}" != --print ] || print=1

# run CMD... : run it, or with --print say it
run() {
	if [ "$print" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

if [ "$(uname -m)" = riscv64 ]; then
	# Debian builds KVM as a module
	[ -e /dev/kvm ] || [ "$print" = 1 ] || modprobe kvm 2>/dev/null || true
	if [ ! -e /dev/kvm ] && [ "$print" = 0 ]; then
		echo "demo: no /dev/kvm: this riscv64 host has no KVM (a CPU with the H extension and a kernel with CONFIG_KVM are needed)" >&2
		exit 1
	fi
	if [ "$print" = 1 ]; then
		echo "+ bash tests/e2e/provision.sh --native-only"
		bash tests/e2e/provision.sh --native-only --print
	else
		bash tests/e2e/provision.sh --native-only
	fi
	run make -j"$(nproc)"
	if [ "$print" = 1 ]; then
		echo "+ guest=\$(tests/e2e/debian-guest.sh)"
		guest='$guest'
	else
		guest=$(tests/e2e/debian-guest.sh)
	fi
	run env LKVM=./lkvm KERNEL="$guest/Image" INITRD="$guest/initramfs.cpio.gz" \
		WHERE="natively on this riscv64 host" sh tests/e2e/demo-run.sh
	exit 0
fi
if [ "$print" = 1 ]; then
	echo "+ bash tests/e2e/provision.sh"
	bash tests/e2e/provision.sh --print
else
	bash tests/e2e/provision.sh
fi
run tests/e2e/run.sh --demo
