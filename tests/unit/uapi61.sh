#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch (or find in the cache) Debian 12's stock Linux 6.1 uapi headers, the
# linux-libc-dev 6.1.x .deb, extracted under ${LKVM_CACHE:-~/.cache/lkvm}.
# Prints the include directory; the Makefile's unit-uapi61 target compiles
# the unit tests with -isystem DIR -isystem DIR/<multiarch> so that they
# build against 6.1 even where the host's headers are newer.
set -euo pipefail
. "$(dirname "$0")/../e2e/common.sh"

# The newest 6.1.x apt knows (bookworm or bookworm-security).
ver=$(apt-cache madison linux-libc-dev 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
	grep -E '^6\.1\.' | sort -V | tail -n1 || true)
[ -n "$ver" ] || fail "apt knows no linux-libc-dev 6.1.x (a Debian 12 apt source is needed)"
arch=$(dpkg --print-architecture)
key=$(hash_inputs "$0" "$ver" "$arch")
out=$CACHE/uapi-6.1-$key

fetch() {
	[ -f "$out/.done" ] && return 0
	local tmp=$out.tmp deb
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "fetching linux-libc-dev $ver ($arch) for the 6.1 uapi build"
	(cd "$tmp" && apt-get download -q "linux-libc-dev=$ver" >apt.log 2>&1) ||
		{ cat "$tmp/apt.log" >&2; fail "apt-get download linux-libc-dev=$ver failed"; }
	deb=$(find "$tmp" -maxdepth 1 -name 'linux-libc-dev_*.deb' | head -n1)
	[ -n "$deb" ] || fail "apt-get download left no .deb in $tmp"
	dpkg-deb -x "$deb" "$tmp/root"
	[ -f "$tmp/root/usr/include/linux/kvm.h" ] || fail "$deb holds no usr/include/linux"
	rm -rf "$out"
	mv "$tmp/root" "$out"
	touch "$out/.done"
	rm -rf "$tmp"
	prune_stale uapi-6.1 "$out"
}
with_lock uapi-6.1 fetch
echo "$out/usr/include"
