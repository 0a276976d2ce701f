#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Provision a Debian host with what lkvm's build and tests need.
# Usage: provision.sh [--native-only] [--print]
#   (no option)    Debian 12 (bookworm), x86_64 in practice: everything the
#                  build and all three test layers need: native build deps,
#                  clang for fuzzing, the riscv64 cross toolchain, QEMU 10
#                  and linux-source-6.12 from bookworm-backports, deb-src.
#   --native-only  Debian 12 or 13 (trixie), any architecture: what a native
#                  build, the unit tests and fuzzing need, and what
#                  tests/e2e/demo.sh needs on a riscv64 host with KVM (it
#                  fetches Debian 13's riscv64 kernel and busybox-static
#                  with apt and dpkg-deb, and packs an initramfs with cpio).
#   --print        say what it would add and install, and change nothing.
# Idempotent: a second run only checks. LKVM_OS_RELEASE names the
# os-release file to read instead of /etc/os-release (tests/scripts).
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# apt and dpkg fetch and unpack the 6.1 uapi headers for make unit-uapi61
# (tests/unit/uapi61.sh) and Debian's riscv64 guest for the native demo
# (tests/e2e/debian-guest.sh, with cpio and the archive keyring);
# device-tree-compiler is required by test-fdt, qemu-utils (qemu-img, the
# judge of qcow2 images) by test-qcow2. clang and libclang-rt-dev
# are Debian's default clang (14 in Debian 12, 19 in Debian 13).
NATIVE_PKGS="build-essential pkg-config libfdt-dev zlib1g-dev libaio-dev \
	libseccomp-dev clang libclang-rt-dev device-tree-compiler apt dpkg cpio \
	gzip debian-archive-keyring qemu-utils"
E2E_PKGS="gcc-riscv64-linux-gnu libc6-dev-riscv64-cross flex bison bc \
	libssl-dev libelf-dev e2fsprogs xz-utils dpkg-dev rsync gperf linux-source-6.1"
BPO_PKGS="qemu-system-misc opensbi linux-source-6.12"

want_e2e=1 print=0
for a in "$@"; do
	case $a in
	--native-only) want_e2e=0 ;;
	--print) print=1 ;;
	*)
		sed -n '3,16s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done

os_release=${LKVM_OS_RELEASE:-/etc/os-release}
codename=$(. "$os_release" 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=
case $codename in
bookworm) ;;
trixie)
	if [ "$want_e2e" = 1 ]; then
		echo "provision: the full test environment (QEMU and linux-source-6.12 from bookworm-backports, Debian 12's sources) is set up on Debian 12 only; on Debian 13 run provision.sh --native-only" >&2
		exit 1
	fi
	;;
*)
	echo "provision: Debian 12 (bookworm) or 13 (trixie) needed, not '${codename:-unknown}' ($os_release)" >&2
	exit 1
	;;
esac

# run CMD... : run it, or with --print say it
run() {
	if [ "$print" = 1 ]; then
		echo "+ $*"
	else
		"$@"
	fi
}

# add_source FILE SUITE-LINE... : an apt sources file, unless FILE or an
# equivalent line (grep -E PATTERN) is there already
add_source() {
	local file=$1 pattern=$2
	shift 2
	[ "$print" = 0 ] || { echo "+ add apt source $file if missing: $*"; return 0; }
	[ ! -f "$file" ] || return 0
	! grep -rqsE "$pattern" /etc/apt/sources.list /etc/apt/sources.list.d/ || return 0
	printf '%s\n' "$@" | $SUDO tee "$file" >/dev/null
	changed=1
}

changed=0
if [ "$want_e2e" = 1 ]; then
	add_source /etc/apt/sources.list.d/lkvm-bookworm-backports.sources 'bookworm-backports' \
		"Types: deb" "URIs: http://deb.debian.org/debian" "Suites: bookworm-backports" \
		"Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	add_source /etc/apt/sources.list.d/lkvm-bookworm-src.sources '^(Types:.*deb-src|deb-src)' \
		"Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: bookworm" \
		"Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
fi

# missing PKG... : those not installed (with --print: all of them)
missing() {
	local p out=
	for p in "$@"; do
		[ "$print" = 0 ] && dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			out="$out $p"
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
		need_bpo=" $BPO_PKGS"
	fi
fi
if [ -n "$need$need_bpo" ] || [ "$changed" = 1 ]; then
	run $SUDO apt-get update -q
fi
[ -z "$need" ] || run $SUDO apt-get install -y -q --no-install-recommends $need
[ -z "$need_bpo" ] || run $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports $need_bpo
[ "$print" = 1 ] || echo "provision: host ready (Debian $codename$([ "$want_e2e" = 1 ] || echo ', native only'))"
