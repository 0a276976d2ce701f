#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or find in the cache) a static riscv64 busybox from Debian's busybox
# source package. Prints the binary's path; busybox.links beside it lists
# the applets' paths.
set -euo pipefail
. "$(dirname "$0")/common.sh"

CC=${CROSS}gcc
srcver=$(apt-cache showsrc --only-source busybox 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
[ -n "$srcver" ] || fail "no busybox source package known to apt (run tests/e2e/provision.sh)"
key=$(hash_inputs "$0" "$srcver" "$("$CC" --version | head -n1)")
out=$CACHE/busybox-$key

build() {
	[ -x "$out/busybox" ] && return 0
	local tmp=$out.tmp tree
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "building static riscv64 busybox $srcver"
	(cd "$tmp" && apt-get source -q busybox >apt.log 2>&1) ||
		{ cat "$tmp/apt.log" >&2; fail "apt-get source busybox failed"; }
	tree=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
	local mk=(make -C "$tree" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
	"${mk[@]}" defconfig >"$tmp/build.log" 2>&1
	# Static, and without applets that need what a static glibc lacks.
	sed -i -e 's/^# CONFIG_STATIC is not set/CONFIG_STATIC=y/' \
		-e 's/^CONFIG_TC=y/# CONFIG_TC is not set/' \
		-e 's/^CONFIG_FEATURE_TC_INGRESS=y/# CONFIG_FEATURE_TC_INGRESS is not set/' \
		"$tree/.config"
	{ yes '' || true; } | "${mk[@]}" oldconfig >>"$tmp/build.log" 2>&1
	if ! "${mk[@]}" busybox busybox.links >>"$tmp/build.log" 2>&1; then
		tail -n 30 "$tmp/build.log" >&2
		fail "busybox build failed"
	fi
	mkdir -p "$out.new"
	cp "$tree/busybox" "$tree/busybox.links" "$out.new/"
	rm -rf "$out"
	mv "$out.new" "$out"
	rm -rf "$tmp"
}
with_lock busybox build
echo "$out/busybox"
