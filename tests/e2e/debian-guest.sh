#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch (or find in the cache) the native demo's guest, from Debian 13's
# riscv64 packages, with no kernel or busybox build: the kernel Image of
# linux-image-riscv64 (Debian's own riscv64 kernel: an uncompressed Image
# with an EFI stub, its 8250, virtio-pci and AIA/PLIC drivers built in),
# and an initramfs of busybox-static with tests/e2e/l2-init.sh as /init.
# On a riscv64 Debian 13 host tests/e2e/demo.sh boots them with lkvm; on
# any host the e2e case native-demo boots them in L1. Needs apt, dpkg-deb,
# cpio and gzip; installs nothing (apt-get download, dpkg-deb -x).
# Prints the directory holding Image and initramfs.cpio.gz.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# candidate PKG : the version apt would take, from the Debian 13 lists
candidate() {
	deb13 apt-cache policy "$1" | sed -n 's/^ *Candidate: //p'
}

# linux-image-riscv64 is a metapackage: the kernel is in what it depends on
kpkg=$(deb13 apt-cache depends linux-image-riscv64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
[ -n "$kpkg" ] || fail "Debian 13 has no linux-image-riscv64 for riscv64"
kver=$(candidate "$kpkg")
bver=$(candidate busybox-static)
[ -n "$kver" ] && [ -n "$bver" ] || fail "no candidate for $kpkg or busybox-static"
key=$(hash_inputs "$0" "$kpkg" "$kver" "$bver" "$E2E_DIR/l2-init.sh")
out=$CACHE/debian-guest-$key

# fetch_deb PKG=VER DIR : apt-get download into DIR, unpacked into DIR/root
fetch_deb() {
	(cd "$2" && deb13 apt-get -q download "$1" >>apt.log 2>&1) ||
		{ cat "$2/apt.log" >&2; fail "apt-get download $1 failed"; }
	dpkg-deb -x "$(ls "$2"/"${1%%=*}"_*.deb)" "$2/root"
}

build() {
	[ -f "$out/.done" ] && return 0
	local tmp=$out.tmp img
	rm -rf "$tmp"
	mkdir -p "$tmp/root" "$tmp/rootfs"
	log "fetching $kpkg $kver and busybox-static $bver (Debian 13, riscv64)"
	fetch_deb "$kpkg=$kver" "$tmp"
	fetch_deb "busybox-static=$bver" "$tmp"
	img=$(ls "$tmp"/root/boot/vmlinu[xz]-* | head -n 1)
	# a RISC-V Linux Image says "RSC\x05" at offset 56
	[ "$(od -An -c -j 56 -N 3 "$img" | tr -d ' ')" = RSC ] ||
		fail "$img is not a RISC-V Linux Image"
	# The initramfs: busybox links its applets at start, then l2-init.sh.
	local r=$tmp/rootfs
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp}
	cp "$tmp/root/usr/bin/busybox" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	sed '1a /bin/busybox --install -s 2>/dev/null' "$E2E_DIR/l2-init.sh" >"$r/init"
	chmod 0755 "$r/init"
	echo "debian13-busybox" >"$r/etc/l2-kind"
	mkdir -p "$out.new"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet) |
		gzip -9 >"$out.new/initramfs.cpio.gz"
	cp "$img" "$out.new/Image"
	echo "$kpkg $kver, busybox-static $bver" >"$out.new/versions"
	rm -rf "$out" "$tmp"
	mv "$out.new" "$out"
	touch "$out/.done"
}
with_lock debian-guest build
echo "$out"
