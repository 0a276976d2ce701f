#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# virtio-9p benchmark: sequential 64 MiB reads and writes through a 9p
# share against virtio-blk over a file on the same L1 file system, and a
# 10,000-entry shared directory in L2 (readdir, ls, ls -l), for each 9p
# cache mode (none, loose, mmap: a boot each, the disk measured in the
# same boot); medians of 3 rounds. BENCH_RUNS=N rounds, BENCH_ONLY=none,loose
# picks modes (add nols to leave out ls and ls -l, which take more than 20
# minutes under cache=none). TCG numbers are only meaningful as ratios
# within one boot.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
LKVM_E2E_CASES=$top/tests/bench/cases "$top/tests/e2e/run.sh" 9p-bench >/dev/null 2>&1 || true
res=$top/.build/e2e/results/9p-bench@virt@6.12.log
grep '^BENCH' "$res" || { tail -n 30 "$res"; exit 1; }
