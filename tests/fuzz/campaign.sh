#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A fuzzing campaign (a benchmark, not part of make check): every fuzz target
# (or those named) for N executions (default 10,000,000), one after another,
# from a copy of its seed corpus in tests/fuzz/corpus/NAME. Prints a table:
# executions, executions per second, wall time, coverage (libFuzzer's cov:
# edges and ft: features at the end) and the outcome: ok, crash, hang
# (an input ran over 10 s), leak or oom. Reproducers are saved in
# .build/fuzz/artifacts, logs in .build/fuzz/campaign/NAME.log.
# Usage: tests/fuzz/campaign.sh [-runs=N] [NAME...]; exit 1 if any failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=10000000
if [ $# -gt 0 ] && [[ $1 == -runs=* ]]; then
	runs=${1#-runs=}
	shift
fi
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "campaign: -runs=N needs a positive number, not '$runs'" >&2; exit 2; }
make -s -C "$top" fuzz-build || exit 1
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for b in "$top"/.build/fuzz/fuzz-*; do
		[ -x "$b" ] && names+=("$(basename "$b" | sed 's/^fuzz-//')")
	done
fi
logs=$top/.build/fuzz/campaign
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$logs"

# outcome LOG STATUS: what a run ended in.
outcome() {
	if [ "$2" -eq 0 ]; then echo ok
	elif grep -q 'ERROR: libFuzzer: timeout' "$1"; then echo hang
	elif grep -q 'ERROR: LeakSanitizer' "$1"; then echo leak
	elif grep -qE 'ERROR: libFuzzer: out-of-memory|malloc\(.*\) exceeds' "$1"; then echo oom
	else echo crash
	fi
}

# stat LOG NAME: a libFuzzer -print_final_stats value, or -.
stat() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n1 | grep . || echo -
}

# last_cov LOG KEY: the last cov: or ft: figure of a status line, or -.
last_cov() {
	grep -oE "^#[0-9]+.* $2: [0-9]+" "$1" | tail -n1 | sed "s/.* $2: //" | grep . || echo -
}

failed=0
printf '%-10s %12s %10s %8s %7s %7s  %s\n' target execs exec/s secs cov ft outcome
for name in "${names[@]}"; do
	bin=$top/.build/fuzz/fuzz-$name
	if [ ! -x "$bin" ]; then
		printf '%-10s %s\n' "$name" "no such target (.build/fuzz/fuzz-$name)"
		failed=1
		continue
	fi
	corpus=$scratch/$name
	mkdir -p "$corpus"
	[ -d "$top/tests/fuzz/corpus/$name" ] && cp -r "$top/tests/fuzz/corpus/$name/." "$corpus/"
	log=$logs/$name.log
	t0=$(date +%s.%N)
	"$bin" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$scratch/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	res=$(outcome "$log" "$rc")
	if [ "$res" != ok ]; then
		failed=1
		for a in "$scratch/$name"-*; do
			[ -f "$a" ] || continue
			mkdir -p "$top/.build/fuzz/artifacts"
			cp "$a" "$top/.build/fuzz/artifacts/"
			res="$res: .build/fuzz/artifacts/$(basename "$a")"
		done
	fi
	execs=$(stat "$log" number_of_executed_units)
	# over the whole run, corpus loading included; libFuzzer's own
	# average_exec_per_sec rounds the time to whole seconds
	rate=$(awk -v n="$execs" -v s="$secs" 'BEGIN { if (n ~ /^[0-9]+$/ && s > 0) printf "%d", n / s; else print "-" }')
	printf '%-10s %12s %10s %8.1f %7s %7s  %s\n' "$name" "$execs" "$rate" \
		"$secs" "$(last_cov "$log" cov)" "$(last_cov "$log" ft)" "$res"
done
exit $failed
