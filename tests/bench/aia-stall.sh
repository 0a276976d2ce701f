#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Investigation (not a test, not in make check): do SMP L2 guests stall on
# an L1 whose KVM uses hardware IMSIC guest interrupt files (QEMU -M
# virt,aia=aplic-imsic,aia-guests=7), and is it lkvm's doing? In one L1
# boot, RUNS rounds of lkvm with 2 and 4 vCPUs, KVM's default AIA mode
# (auto: hardware files) and --aia-mode emul, and optionally another VMM
# as a control, booting the same guest; counts of powered off / stalled
# per variant, and per stall what L1 saw (.build/e2e/results/aia-stall/).
# Usage: aia-stall.sh [PEER=PATH] [RUNS=N] [IDLE=S] [TMO=S] [VARIANTS=A|B...]
#   PEER     a static riscv64 kvmtool binary (its command line); it is
#            copied into the staging dir for this run only
#   RUNS     rounds (default 10); a boot counts as stalled when its guest
#            prints nothing for IDLE s (default 60) or runs TMO s (600);
#            VARIANTS a subset of the variant names (grep -E)
#   QEMU_EXTRA=ARGS (environment) extra arguments for the L1 QEMU, e.g.
#            "-accel tcg,thread=single"
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$top/.build/e2e
peer='' runs=10 tmo=600 idle=60 variants=''
for a in "$@"; do
	case $a in
	PEER=*) peer=${a#PEER=} ;;
	RUNS=*) runs=${a#RUNS=} ;;
	TMO=*) tmo=${a#TMO=} ;;
	IDLE=*) idle=${a#IDLE=} ;;
	VARIANTS=*) variants=${a#VARIANTS=} ;;
	*)
		sed -n '3,16s/^# \{0,1\}//p' "$0"
		exit 2
		;;
	esac
done
[ -z "$peer" ] || [ -f "$peer" ] || { echo "aia-stall: no file $peer" >&2; exit 1; }

# The e2e L2 initramfs with this investigation's /init.
images=$("$top/tests/e2e/build-images.sh")
root=$top/.build/aia-stall-initramfs
rm -rf "$root"
mkdir -p "$root" "$work/images" "$work/bin"
(cd "$root" && gzip -dc "$images/l2-initramfs.cpio.gz" | cpio -id --quiet)
install -m 0755 "$top/tests/bench/guest/aia-stall-init.sh" "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet) |
	gzip -9 >"$work/images/l2-stall.cpio.gz"

rm -f "$work/bin/peer"
[ -z "$peer" ] || install -m 0755 "$peer" "$work/bin/peer"
printf 'TMO=%s\nIDLE=%s\nVARIANTS=%q\nDEADLINE=%s\n' "$tmo" "$idle" "$variants" "${DEADLINE:-8400}" >"$work/aia-stall.env"
echo "aia-stall: host load before $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
BENCH_RUNS=$runs LKVM_E2E_QEMU_ARGS=${QEMU_EXTRA:-} LKVM_E2E_CASES=$top/tests/bench/cases \
	"$top/tests/e2e/run.sh" aia-stall >"$work/aia-stall.run.log" 2>&1 || true
rm -f "$work/bin/peer" "$work/aia-stall.env"
echo "aia-stall: host load after $(cut -d' ' -f1-3 /proc/loadavg)"
res=$work/results/aia-stall@aia-hw@6.12.log
[ -f "$res" ] || { tail -n 30 "$work/aia-stall.run.log"; exit 1; }
grep -E '^(round|BENCH)' "$res"
echo "aia-stall: evidence of each stall in $work/results/aia-stall/"
