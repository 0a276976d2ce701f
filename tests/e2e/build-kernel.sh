#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or find in the cache) the riscv64 kernel Image used as L1 and L2:
# Debian's linux-source-VERSION, defconfig plus kernel.config, built in.
# Usage: build-kernel.sh [6.12|6.1]   Prints the Image's path.
set -euo pipefail
. "$(dirname "$0")/common.sh"

ver=${1:-6.12}
frag=$E2E_DIR/kernel.config
key=$(hash_inputs "$ver" "$(deb_version "linux-source-$ver")" "$frag" \
	"$0" "$("${CROSS}gcc" --version | head -n1)")
out=$CACHE/kernel-$ver-$key

build() {
	[ -f "$out/Image" ] && return 0
	local src obj
	src=$(kernel_src "$ver")
	obj=$out.tmp
	rm -rf "$obj"
	mkdir -p "$obj"
	log "building linux $ver Image (cache miss, about 5 minutes on 2 cores)"
	local mk=(make -C "$src" O="$obj" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS")
	"${mk[@]}" defconfig >"$obj/build.log" 2>&1
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$frag" >>"$obj/build.log" 2>&1
	"${mk[@]}" olddefconfig >>"$obj/build.log" 2>&1
	grep -q '^CONFIG_KVM=y' "$obj/.config" || fail "kernel $ver config lacks CONFIG_KVM=y"
	if ! "${mk[@]}" Image >>"$obj/build.log" 2>&1; then
		tail -n 40 "$obj/build.log" >&2
		fail "kernel $ver build failed (log: $obj/build.log)"
	fi
	mkdir -p "$out"
	cp "$obj/arch/riscv/boot/Image" "$obj/.config" "$out/"
	rm -rf "$obj"
}
with_lock "kernel-$ver" build
echo "$out/Image"
