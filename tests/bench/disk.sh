#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Disk benchmark: virtio-blk in L2 (sequential 1 MiB O_DIRECT read/write,
# 4 KiB random reads at queue depth 1 and 16, 4 KiB write+fdatasync), for
# libaio vs worker threads and ioeventfd vs MMIO-exit notification, medians
# of 3, plus the same on the image in L1 as the ceiling. TCG numbers are
# only meaningful as ratios within one run.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
LKVM_E2E_CASES=$top/tests/bench/cases "$top/tests/e2e/run.sh" disk >/dev/null 2>&1 || true
res=$top/.build/e2e/results/disk@virt@6.12.log
grep '^BENCH' "$res" || { tail -n 30 "$res"; exit 1; }
