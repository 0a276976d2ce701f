#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Transport x irqchip benchmark: virtio-blk in L2 over virtio-mmio and
# virtio-pci with the userspace PLIC and the in-kernel AIA, in one L1 boot
# of the AIA machine with IMSIC guest files (QEMU -M virt,aia=aplic-imsic,
# aia-guests=7): 4 KiB random reads at queue depth 1 (completions per
# second: the interrupt path) and 16, 1 MiB sequential reads, medians of
# 3; and which combination the defaults pick. TCG numbers are only
# meaningful as ratios within one run.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
LKVM_E2E_CASES=$top/tests/bench/cases "$top/tests/e2e/run.sh" irq >/dev/null 2>&1 || true
res=$top/.build/e2e/results/irq@aia-hw@6.12.log
grep '^BENCH' "$res" || { tail -n 30 "$res"; exit 1; }
