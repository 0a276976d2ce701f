#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Provision a Debian 12 (bookworm) host with everything the build and all three
# test layers need: native build deps, the riscv64 cross toolchain, clang for
# fuzzing, QEMU 10 and linux-source-6.12 from bookworm-backports, deb-src.
# Idempotent: a second run only checks.
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# apt and dpkg fetch and unpack the 6.1 uapi headers for make unit-uapi61
# (tests/unit/uapi61.sh); device-tree-compiler is required by test-fdt.
NATIVE_PKGS="build-essential pkg-config libfdt-dev libaio-dev \
	libseccomp-dev clang libclang-rt-14-dev device-tree-compiler apt dpkg"
E2E_PKGS="gcc-riscv64-linux-gnu libc6-dev-riscv64-cross flex bison bc \
	libssl-dev libelf-dev cpio e2fsprogs xz-utils dpkg-dev rsync gperf linux-source-6.1"
BPO_PKGS="qemu-system-misc opensbi linux-source-6.12"

want_e2e=1
[ "${1:-}" = "--native-only" ] && want_e2e=0

bpo=/etc/apt/sources.list.d/lkvm-bookworm-backports.sources
src=/etc/apt/sources.list.d/lkvm-bookworm-src.sources
changed=0
if [ "$want_e2e" = 1 ] && [ ! -f "$bpo" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	$SUDO tee "$bpo" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	changed=1
fi
if [ "$want_e2e" = 1 ] && [ ! -f "$src" ] && ! grep -rqsE '^(Types:.*deb-src|deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	$SUDO tee "$src" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	changed=1
fi

missing() {
	local p out=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || out="$out $p"
	done
	echo "$out"
}

export DEBIAN_FRONTEND=noninteractive
need=$(missing $NATIVE_PKGS)
[ "$want_e2e" = 1 ] && need="$need$(missing $E2E_PKGS)"
need_bpo=
if [ "$want_e2e" = 1 ]; then
	need_bpo=$(missing $BPO_PKGS)
	# QEMU 7.2 from bookworm is too old: it must be the backports build.
	if [ -z "$need_bpo" ] && ! qemu-system-riscv64 --version | grep -qE 'version (9|1[0-9])\.'; then
		need_bpo="$BPO_PKGS"
	fi
fi
if [ -n "$need$need_bpo" ] || [ "$changed" = 1 ]; then
	$SUDO apt-get update -q
fi
[ -n "$need" ] && $SUDO apt-get install -y -q --no-install-recommends $need
[ -n "$need_bpo" ] && $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports $need_bpo
echo "provision: host ready"
