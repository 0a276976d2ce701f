#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Disk benchmark: virtio-blk in L2 (sequential 1 MiB O_DIRECT read/write,
# 4 KiB random reads at queue depth 1 and 16, 4 KiB write+fdatasync), for
# libaio vs worker threads and ioeventfd vs MMIO-exit notification, medians
# over the rounds, plus the same on the image in L1 as the ceiling; qcow2
# rows (fresh, allocated, overlay over raw) with ratios over raw. TCG
# numbers are only meaningful as ratios within one run: compare by the
# paired ratios (same round, same load).
# Usage: disk.sh [REF=COMMIT] [PEER=PATH] [RUNS=N] [ONLY=V1,V2]
#   REF   lkvm built from that git commit (a temporary worktree, cross,
#         static) runs alternately with the working tree's, in the same L1
#         boot: paired ratios of this lkvm's defaults over REF's, per round
#   PEER  a static riscv64 kvmtool binary (kvmtool's command line, e.g.
#         /work/shared/peer/kvmtool-riscv64-static) runs alternately too:
#         paired ratios against it
#   ONLY  variants to run, comma-separated (e.g. aio+ioeventfd,ref)
#   RUNS  rounds (default 3, or $BENCH_RUNS); each round boots every
#         variant once and runs each measurement once in it
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_args "$@"
bench_stage
bench_run_case disk virt
