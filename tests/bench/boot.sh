#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot benchmark: in one L1 boot (QEMU TCG, -M virt), 5 L2 boots per variant
# (serial and hv consoles, each with and without "quiet") timed from lkvm
# start to the guest's init marker; lkvm's start-up time (exec to first
# KVM_RUN), peak RSS minus guest RAM, the exit counts of one boot and the
# guest's printk timeline. Numbers from TCG are only meaningful as ratios
# within one run; the kvmtool figures printed are the recipe's, for reference.
# Usage: boot.sh [GIT-REF]   with a ref, lkvm built from it boots
#                            alternately with the working tree's, in the
#                            same L1 boot: a before/after comparison.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$top/.build/e2e
rm -f "$work/bin/lkvm-base"
if [ -n "${1:-}" ]; then
	src=$top/.build/bench-base
	rm -rf "$src"
	mkdir -p "$src" "$work/bin"
	git -C "$top" archive "$1" | tar -x -C "$src"
	make -s -C "$src" CROSS_COMPILE=riscv64-linux-gnu- STATIC=1 >/dev/null
	cp "$src/lkvm" "$work/bin/lkvm-base"
fi
LKVM_E2E_CASES=$top/tests/bench/cases "$top/tests/e2e/run.sh" boot >/dev/null 2>&1 || true
res=$work/results/boot@virt@6.12.log
grep '^BENCH' "$res" || { tail -n 30 "$res"; exit 1; }
