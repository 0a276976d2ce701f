#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build (or find in the cache) the guest images from the static busybox:
# the L2 initramfs, a small L2 ext4 disk image, and the L1 initramfs.
# Prints the directory holding l2-initramfs.cpio.gz, l2-disk.ext4 and
# l1-initramfs.cpio.gz.
set -euo pipefail
. "$(dirname "$0")/common.sh"

busybox=$("$E2E_DIR/build-busybox.sh")
bench=$TOP_DIR/tests/bench/guest/diskbench.c
mmapc=$TOP_DIR/tests/e2e/tools/mmap-check.c
key=$(hash_inputs "$0" "$busybox" "$E2E_DIR/l1-init.sh" "$E2E_DIR/l2-init.sh" "$bench" "$mmapc")
out=$CACHE/images-$key

# rootfs DIR INIT KIND : a busybox root with INIT as /init.
rootfs() {
	local dir=$1 a
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,mnt,host}
	cp "$busybox" "$dir/bin/busybox"
	while read -r a; do
		[ -e "$dir$a" ] || ln -s /bin/busybox "$dir$a"
	done <"$(dirname "$busybox")/busybox.links"
	install -m 0755 "$2" "$dir/init"
	echo "$3" >"$dir/etc/l2-kind"
}

cpio_gz() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet) | gzip -9 >"$2"
}

build() {
	[ -f "$out/.done" ] && return 0
	tmp=$out.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "building guest images"
	rootfs "$tmp/l2" "$E2E_DIR/l2-init.sh" initramfs
	"${CROSS}gcc" -O2 -static -Wall -Wextra -Werror -o "$tmp/l2/bin/diskbench" "$bench" -lpthread
	"${CROSS}gcc" -O2 -static -Wall -Wextra -Werror -o "$tmp/l2/bin/mmap-check" "$mmapc"
	cpio_gz "$tmp/l2" "$tmp/l2-initramfs.cpio.gz"
	rootfs "$tmp/l2disk" "$E2E_DIR/l2-init.sh" disk
	# booted from the disk, the kernel runs /sbin/init
	rm -f "$tmp/l2disk/sbin/init"
	install -m 0755 "$E2E_DIR/l2-init.sh" "$tmp/l2disk/sbin/init"
	mkfs.ext4 -q -F -L l2root -d "$tmp/l2disk" "$tmp/l2-disk.ext4" 64M >/dev/null
	rootfs "$tmp/l1" "$E2E_DIR/l1-init.sh" l1
	cpio_gz "$tmp/l1" "$tmp/l1-initramfs.cpio.gz"
	mkdir -p "$out.new"
	mv "$tmp"/*.cpio.gz "$tmp/l2-disk.ext4" "$out.new/"
	rm -rf "$out" "$tmp"
	mv "$out.new" "$out"
	touch "$out/.done"
}
with_lock images build
echo "$out"
