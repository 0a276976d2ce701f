#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Sandbox benchmark: `lkvm sandbox -- COMMAND` timed in L1 from start to
# exit, for commands a test script runs (none: start, boot, power off;
# exec: 100 runs of a program from the 9p root; lookup: 20 ls -l of a
# 400-entry directory of the root; write and read back 32 MiB in the
# working directory). Medians over the rounds. TCG numbers are only
# meaningful as ratios within one run: compare by the paired ratios.
# Usage: sandbox.sh [REF=COMMIT] [RUNS=N] [ONLY=V1,V2]
#   REF   lkvm built from that git commit (a temporary worktree, cross,
#         static) runs alternately with the working tree's, in the same
#         L1 boot: paired ratios of this lkvm over REF's, per round
#   ONLY  commands to time, comma-separated (none,exec,lookup,write)
#   RUNS  rounds (default 3, or $BENCH_RUNS); each round runs every
#         command with every binary once, round-robin
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_args "$@"
bench_stage
bench_run_case sandbox virt
