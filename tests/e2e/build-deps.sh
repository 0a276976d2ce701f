#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or find in the cache) what a static riscv64 lkvm links against:
# the Linux 6.12 uapi headers (headers_install from Debian's linux-source-6.12),
# libfdt (from that kernel tree's scripts/dtc/libfdt), and zlib, libaio and
# libseccomp as static libraries from Debian's source packages (zlib for
# qcow2's compressed clusters).
# `make deps` runs it; a cross `make` only looks (--find).
# Usage: build-deps.sh [--find] [CROSS_PREFIX]
#   Prints the prefix (include/, lib/). With --find, builds nothing: exits 1
#   unless the prefix for these inputs is already built.
set -euo pipefail
. "$(dirname "$0")/common.sh"

find_only=0
if [ "${1:-}" = --find ]; then
	find_only=1
	shift
fi
CROSS=${1:-$CROSS}
CC=${CROSS}gcc
AR=${CROSS}ar
command -v "$CC" >/dev/null || fail "$CC not found (run tests/e2e/provision.sh)"
kver=6.12
key=$(hash_inputs "$0" "$kver" "$(deb_version "linux-source-$kver")" \
	"$("$CC" --version | head -n1)" \
	"$(apt-cache showsrc --only-source zlib libaio libseccomp 2>/dev/null | grep '^Version:' | sort)" \
	"$("$CC" -dumpmachine)")
out=$CACHE/deps-$("$CC" -dumpmachine)-$key

# src_pkg NAME DIR : unpack Debian's source package NAME into DIR, print the tree.
src_pkg() {
	local name=$1 dir=$2
	mkdir -p "$dir"
	(cd "$dir" && apt-get source -q "$name" >"$dir/apt.log" 2>&1) ||
		{ cat "$dir/apt.log" >&2; fail "apt-get source $name failed (is a deb-src line configured? run tests/e2e/provision.sh)"; }
	find "$dir" -mindepth 1 -maxdepth 1 -type d | head -n 1
}

build_headers() {
	local src=$1 tmp=$2
	make -s -C "$src" O="$tmp/hdr-obj" ARCH=riscv INSTALL_HDR_PATH="$tmp/prefix" headers_install
}

build_libfdt() {
	local src=$1/scripts/dtc/libfdt tmp=$2 f objs=()
	mkdir -p "$tmp/fdt"
	for f in fdt fdt_ro fdt_wip fdt_sw fdt_rw fdt_strerror fdt_empty_tree fdt_addresses fdt_overlay; do
		"$CC" -O2 -fno-strict-aliasing -I"$src" -c "$src/$f.c" -o "$tmp/fdt/$f.o"
		objs+=("$tmp/fdt/$f.o")
	done
	"$AR" rcs "$tmp/prefix/lib/libfdt.a" "${objs[@]}"
	cp "$src/libfdt.h" "$src/fdt.h" "$src/libfdt_env.h" "$tmp/prefix/include/"
}

build_zlib() {
	local tmp=$1 tree
	tree=$(src_pkg zlib "$tmp/zlib")
	(cd "$tree" && CC=$CC AR=$AR CFLAGS="-O2" ./configure --static --prefix="$tmp/prefix" >/dev/null &&
		make -s -j"$JOBS" libz.a >/dev/null && make -s install >/dev/null) ||
		fail "zlib cross build failed"
}

build_libaio() {
	local tmp=$1 tree
	tree=$(src_pkg libaio "$tmp/aio")
	make -s -C "$tree/src" CC="$CC" AR="$AR" libaio.a >/dev/null || fail "libaio cross build failed"
	cp "$tree/src/libaio.a" "$tmp/prefix/lib/"
	cp "$tree/src/libaio.h" "$tmp/prefix/include/"
}

# libseccomp: Debian's patch updates its syscall table, which gperf turns
# into the lookup code at build time.
build_libseccomp() {
	local tmp=$1 tree
	command -v gperf >/dev/null || fail "gperf not found (run tests/e2e/provision.sh)"
	tree=$(src_pkg libseccomp "$tmp/seccomp")
	mkdir -p "$tmp/seccomp/build"
	(cd "$tmp/seccomp/build" &&
		"$tree/configure" --host="${CROSS%-}" CC="$CC" AR="$AR" CFLAGS="-O2" \
			--enable-static --disable-shared --disable-python \
			--prefix="$tmp/prefix" >configure.log 2>&1 &&
		make -s -j"$JOBS" -C src >make.log 2>&1 &&
		make -s -C src install >/dev/null 2>&1 &&
		make -s -C include install >/dev/null 2>&1) ||
		{ tail -n 20 "$tmp/seccomp/build/"*.log >&2; fail "libseccomp cross build failed"; }
	rm -f "$tmp/prefix/lib/libseccomp.la"
}

build() {
	[ -f "$out/.done" ] && return 0
	local src tmp=$out.tmp
	src=$(kernel_src "$kver")
	log "building riscv64 dependencies into $out"
	rm -rf "$tmp"
	mkdir -p "$tmp/prefix/lib" "$tmp/prefix/include"
	build_headers "$src" "$tmp"
	build_libfdt "$src" "$tmp"
	build_zlib "$tmp"
	build_libaio "$tmp"
	build_libseccomp "$tmp"
	rm -rf "$out"
	mv "$tmp/prefix" "$out"
	rm -rf "$tmp"
	touch "$out/.done"
}
if [ "$find_only" = 1 ]; then
	[ -f "$out/.done" ] || fail "no riscv64 dependencies in $out: run 'make deps'"
else
	with_lock "deps" build
fi
echo "$out"
