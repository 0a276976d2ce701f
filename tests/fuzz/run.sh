#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run each fuzz target for a bounded time, starting from its seed corpus in
# tests/fuzz/corpus/NAME (never modified: new inputs go to a scratch dir).
# Usage: run.sh SECONDS TARGET...   Ends with "fuzz: N passed, N failed".
set -uo pipefail
secs=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
pass=0 failc=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz-//')
	seeds=$top/tests/fuzz/corpus/$name
	mkdir -p "$scratch/$name"
	echo "  FUZZ    $name for ${secs}s"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$scratch/" "$scratch/$name" "$seeds" \
		>"$scratch/$name.log" 2>&1; then
		pass=$((pass + 1))
		grep -E '^#[0-9]+.*DONE' "$scratch/$name.log" | tail -n1 | sed 's/^/          /'
	else
		failc=$((failc + 1))
		tail -n 40 "$scratch/$name.log"
		for a in "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-*; do
			[ -f "$a" ] || continue
			mkdir -p "$top/.build/fuzz/artifacts"
			cp "$a" "$top/.build/fuzz/artifacts/"
			echo "fuzz: $name: reproducer saved as .build/fuzz/artifacts/$(basename "$a")"
		done
	fi
done
echo "fuzz: $pass passed, $failc failed"
[ "$failc" -eq 0 ]
