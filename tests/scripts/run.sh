#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The build, provisioning and demo scripts, tested on this host: each
# tests/scripts/test-*.sh (or those named) runs in a temporary directory
# ($TMPDIR_TEST) and fails by exiting non-zero. Ends with
# "scripts: N passed, N failed".
# Usage: run.sh [NAME...]    NAME: test-native-path, ...
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	for f in "$here"/test-*.sh; do
		tests+=("$(basename "$f" .sh)")
	done
fi
pass=0 failc=0
for t in "${tests[@]}"; do
	tmp=$(mktemp -d /tmp/lkvm-scripts.XXXXXX)
	start=$(date +%s)
	if TMPDIR_TEST=$tmp bash "$here/$t.sh" >"$tmp/out" 2>&1; then
		echo "PASS $t ($(($(date +%s) - start)) s)"
		pass=$((pass + 1))
	else
		echo "FAIL $t: exit status $?"
		sed 's/^/  | /' "$tmp/out" | tail -n 40
		failc=$((failc + 1))
	fi
	rm -rf "$tmp"
done
echo "scripts: $pass passed, $failc failed"
[ "$failc" -eq 0 ]
