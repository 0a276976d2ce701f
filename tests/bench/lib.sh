# SPDX-License-Identifier: GPL-2.0-only
# Host-side helpers of the benchmarks that compare this lkvm with others in
# one L1 boot (boot.sh, disk.sh): REF=<git commit> builds that commit's lkvm
# in a temporary worktree (cross, static, against this tree's `make deps`)
# and stages it as bin/lkvm-ref; PEER=PATH stages a kvmtool binary (its
# command line) as bin/peer. The benchmark case in L1 runs whichever it
# finds alternately with bin/lkvm and prints paired ratios. Sourced, not run.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=${LKVM_E2E_WORK:-$top/.build/e2e}
BENCH_REF='' BENCH_PEER='' BENCH_RUNS=${BENCH_RUNS:-} BENCH_ONLY=${BENCH_ONLY:-} BENCH_BOOTS=${BENCH_BOOTS:-}

# bench_usage : the script's header comment (lines 3 up to `set`), exit 2.
bench_usage() {
	sed -n '3,/^set /{/^set /d;s/^# \{0,1\}//p}' "$0" >&2
	exit 2
}

# bench_args ARG... : REF=COMMIT, PEER=PATH, RUNS=N (sets BENCH_RUNS, the
# rounds), ONLY=V1,V2 (sets BENCH_ONLY: run only those variants, where the
# case has several), BOOTS=N (sets BENCH_BOOTS: passes over the variants,
# where the case takes it); a bare word is taken as REF (the older usage).
bench_args() {
	local a
	for a in "$@"; do
		case $a in
		REF=*) BENCH_REF=${a#REF=} ;;
		PEER=*) BENCH_PEER=${a#PEER=} ;;
		RUNS=*) BENCH_RUNS=${a#RUNS=} ;;
		ONLY=*) BENCH_ONLY=${a#ONLY=} ;;
		BOOTS=*) BENCH_BOOTS=${a#BOOTS=} ;;
		-h | --help | *=*) bench_usage ;;
		*) BENCH_REF=$a ;;
		esac
	done
	[ -z "$BENCH_PEER" ] || [ -f "$BENCH_PEER" ] ||
		{ echo "bench: no file $BENCH_PEER (PEER=)" >&2; exit 1; }
	[ -z "$BENCH_RUNS" ] || [ "$BENCH_RUNS" -ge 1 ] 2>/dev/null ||
		{ echo "bench: RUNS=$BENCH_RUNS is not a count" >&2; exit 1; }
	[ -z "$BENCH_BOOTS" ] || [ "$BENCH_BOOTS" -ge 1 ] 2>/dev/null ||
		{ echo "bench: BOOTS=$BENCH_BOOTS is not a count" >&2; exit 1; }
	export BENCH_RUNS BENCH_ONLY BENCH_BOOTS
}

# bench_stage : build and stage what bench_args named; the staged binaries
# are removed again by bench_unstage (an EXIT trap), so that the e2e cases
# never see them.
bench_stage() {
	trap bench_unstage EXIT
	mkdir -p "$work/bin"
	bench_unstage
	[ -z "$BENCH_REF" ] || bench_build_ref "$BENCH_REF"
	[ -z "$BENCH_PEER" ] || install -m 0755 "$BENCH_PEER" "$work/bin/peer"
	if [ -n "$BENCH_REF" ]; then
		echo "BENCH ref: $BENCH_REF = $(git -C "$top" rev-parse --short "$BENCH_REF^{commit}") ($(git -C "$top" log -1 --format=%s "$BENCH_REF" | cut -c1-60))"
	fi
	[ -z "$BENCH_PEER" ] || echo "BENCH peer: $BENCH_PEER ($(wc -c <"$BENCH_PEER") bytes)"
	echo "BENCH this lkvm: $(git -C "$top" describe --tags --always --dirty)"
}

bench_unstage() {
	rm -f "$work/bin/lkvm-ref" "$work/bin/peer"
}

# bench_build_ref COMMIT : COMMIT's static riscv64 lkvm as bin/lkvm-ref,
# built in a temporary git worktree (so its `lkvm version` is right).
bench_build_ref() {
	local ref=$1 tmp deps rc=0
	git -C "$top" rev-parse --verify -q "$ref^{commit}" >/dev/null ||
		{ echo "bench: REF=$ref is no commit" >&2; exit 1; }
	deps=$("$top/tests/e2e/build-deps.sh")
	tmp=$(mktemp -d /tmp/lkvm-bench-ref.XXXXXX)
	git -C "$top" worktree add -q --detach "$tmp/src" "$ref"
	echo "bench: building lkvm at $ref (cross, static) in $tmp/src" >&2
	nice make -s -C "$tmp/src" -j2 CROSS_COMPILE=riscv64-linux-gnu- STATIC=1 \
		DEPS="$deps" >"$tmp/build.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] && cp "$tmp/src/lkvm" "$work/bin/lkvm-ref"
	git -C "$top" worktree remove --force "$tmp/src"
	[ "$rc" = 0 ] || { tail -n 20 "$tmp/build.log" >&2; rm -rf "$tmp"; exit 1; }
	rm -rf "$tmp"
}

# bench_run_case CASE MACHINE : run tests/bench/cases/CASE.sh on the L1
# MACHINE (6.12), whichever machines the case's header names, with the
# host's load before and after, and print its BENCH lines (the tail of its
# log, exit 1, when it printed none).
bench_run_case() {
	local res=$work/results/$1@$2@6.12.log log=$work/bench-$1.log
	echo "BENCH host load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
	LKVM_E2E_CASES=$top/tests/bench/cases "$top/tests/e2e/run.sh" "$1@$2" >"$log" 2>&1 || true
	echo "BENCH host load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	grep '^BENCH' "$res" 2>/dev/null || { tail -n 30 "$res" "$log"; exit 1; }
}
