#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Third-party builds are an explicit step: with an empty cache, a cross
# `make` builds nothing and stops with one line saying to run `make deps`;
# `make deps`'s look-up mode (build-deps.sh --find) finds nothing either.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
fail() { echo "FAIL: $*"; exit 1; }
empty=$TMPDIR_TEST/cache
mkdir -p "$empty"
rc=0
# (a fresh make, not a sub-make of make check: no "Entering directory")
LKVM_CACHE=$empty env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
	make --no-print-directory -n CROSS_COMPILE=riscv64-linux-gnu- STATIC=1 \
	OUT="$TMPDIR_TEST/lkvm" >"$TMPDIR_TEST/make.out" 2>&1 || rc=$?
cat "$TMPDIR_TEST/make.out"
[ "$rc" != 0 ] || fail "a cross make with no deps exited 0"
[ "$(wc -l <"$TMPDIR_TEST/make.out")" = 1 ] || fail "not one line"
grep -q "run 'make deps" "$TMPDIR_TEST/make.out" || fail "the line does not say to run make deps"
# nothing was built into the cache
[ -z "$(ls -A "$empty" | grep -v '^\.lock')" ] || fail "the cache got: $(ls -A "$empty")"
! LKVM_CACHE=$empty tests/e2e/build-deps.sh --find 2>/dev/null || fail "--find found deps in an empty cache"
[ -z "$(ls -A "$empty" | grep -v '^\.lock')" ] || fail "--find built: $(ls -A "$empty")"
echo "ok"
