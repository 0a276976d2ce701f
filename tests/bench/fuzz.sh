#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Longer fuzzing runs than `make check` does: every target (or those named)
# for SECONDS each (default 300), from the seed corpora. Prints each
# target's executions and coverage; reproducers of any crash are saved in
# .build/fuzz/artifacts. Usage: tests/bench/fuzz.sh [SECONDS] [NAME...]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-300}
shift || true
make -s -C "$top" fuzz-build
bins=()
if [ $# -eq 0 ]; then
	bins=("$top"/.build/fuzz/fuzz-*)
else
	for n in "$@"; do bins+=("$top/.build/fuzz/fuzz-$n"); done
fi
exec "$top/tests/fuzz/run.sh" "$secs" "${bins[@]}"
