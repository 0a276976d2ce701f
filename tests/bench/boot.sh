#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot benchmark: in one L1 boot (QEMU TCG, -M virt), RUNS L2 boots per
# variant (serial and hv consoles, each with and without "quiet"), each
# timed from the VMM's start to the guest's init marker; lkvm's start-up
# time (exec to first KVM_RUN), peak RSS minus guest RAM, the exit counts
# of one boot and the guest's printk timeline, from a busybox-only
# initramfs (and one variant with the e2e initramfs, which also holds the
# disk benchmark tool). Numbers from TCG are only meaningful as ratios
# within one run: compare by the paired ratios (same round, same load).
# Usage: boot.sh [REF=COMMIT] [PEER=PATH] [RUNS=N]
#   REF   lkvm built from that git commit (a temporary worktree, cross,
#         static) boots alternately with the working tree's, in the same
#         L1 boot: a before/after comparison, paired ratios per round
#   PEER  a static riscv64 kvmtool binary (kvmtool's command line, e.g.
#         /work/shared/peer/kvmtool-riscv64-static) boots the console
#         variants alternately too, paired ratios against it
#   RUNS  rounds (default 5, or $BENCH_RUNS); each round boots every
#         variant of every binary once, round-robin
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_args "$@"
bench_stage
# The boot variants use the e2e L2 initramfs without the disk benchmark's
# static binary (556 KB) and mmap-check: busybox and /init only, like the
# recipe's guest.
images=$("$top/tests/e2e/build-images.sh")
lean=$top/.build/bench-initramfs
rm -rf "$lean"
mkdir -p "$lean" "$work/images"
(cd "$lean" && gzip -dc "$images/l2-initramfs.cpio.gz" | cpio -id --quiet)
rm "$lean/bin/diskbench" "$lean/bin/mmap-check"
# Its /init also says when it starts, with a shell builtin: "boots to its
# init" is that line; the e2e marker comes after three mounts and four
# commands, each a fork and exec that nested TCG makes slow.
sed -i '1a echo "@@ L2 init start"' "$lean/init"
(cd "$lean" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet) |
	gzip -9 >"$work/images/l2-boot.cpio.gz"
bench_run_case boot virt
