#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Network benchmark: virtio-net TCP throughput both ways and ping latency
# in L2, for a tap with lkvm's data path and with vhost-net (vhost=1),
# user mode through passt (passt's vhost-user, the default, and lkvm's
# data path over passt's socket with vhost=0), and multiqueue (2 vCPUs, vhost, mq=1 against
# mq=2, iperf3 -P 2), medians of RUNS in one L1 boot (AIA machine, linux
# 6.12). TCG numbers are only meaningful as ratios within one run.
# Usage: net.sh [RUNS=N] [BOOTS=N] [REF=COMMIT] [PEER=PATH] [ONLY=V1,V2]
#               [MACHINE=aia|aia-hw]
#   RUNS  measurements per variant and L2 boot (default 3, or $BENCH_RUNS)
#   BOOTS passes over the variants, an L2 boot each (default 1): A B A B,
#         the medians over every boot's runs
#   REF   another commit's lkvm: each lkvm variant again as ref-NAME
#   PEER  a static riscv64 kvmtool: its tap and user mode as two more
#         variants (peer-tap, peer-user; 1 vCPU, as lkvm's default)
#   ONLY  just these variants (tap, tap+vhost, user, user-socket,
#         tap+vhost-nonapi, c2-vhost-mq1, c2-vhost-mq2, tap+vhost-huge,
#         ref-..., peer-tap, peer-user, peer-tap-huge, peer-tap-c2)
#   MACHINE the L1: aia (default; KVM emulates the guests' IMSIC files)
#         or aia-hw (IMSIC guest files: MSIs reach a running vCPU without
#         an exit; SMP guests there may stall, see tests/bench/aia-stall.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
machine=aia args=()
for a in "$@"; do
	case $a in
	MACHINE=aia | MACHINE=aia-hw) machine=${a#MACHINE=} ;;
	MACHINE=*) echo "bench: $a: the machine is aia or aia-hw" >&2; exit 1 ;;
	*) args+=("$a") ;;
	esac
done
bench_args ${args[@]+"${args[@]}"}
bench_stage
bench_run_case net $machine
