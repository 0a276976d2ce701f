#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The native path of the README's promise, as far as a host that is not a
# riscv64 Debian 13 machine can run it: tests/e2e/demo.sh --print under a
# fake `uname -m` (riscv64) and a fake /etc/os-release (Debian 13) must
# provision with --native-only, build natively, fetch Debian's guest and
# boot it with ./lkvm, and run no QEMU; every package it would install
# must exist for riscv64 in Debian 13's package lists; provision.sh must
# refuse the full test environment there in one line; the real host's
# path must name packages its apt knows; and debian-guest.sh, run here the
# same way as there, must give a RISC-V Image and an initramfs whose /init
# is l2-init.sh over Debian's busybox. (The e2e case native-demo boots
# that guest with lkvm in L1.)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. tests/e2e/common.sh
t=$TMPDIR_TEST
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$t/bin"
cat >"$t/bin/uname" <<'UNAME'
#!/bin/sh
[ "$1" = -m ] && { echo riscv64; exit 0; }
exec /bin/uname "$@"
UNAME
chmod +x "$t/bin/uname"
printf 'ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n' >"$t/os-release"

# packages LOG : the packages of the `apt-get install` lines in LOG
packages() {
	sed -n 's/^+ .*apt-get install -y -q --no-install-recommends \(-t [^ ]* \)\{0,1\}//p' "$1" | tr ' ' '\n' | sed '/^$/d' | sort -u
}

# no_candidate TOOL PKG... : those of PKG that TOOL (apt-cache or a
# function running it) has no candidate version for
no_candidate() {
	local tool=$1
	shift
	{ "$tool" policy "$@" 2>/dev/null || true; } | awk -v want="$*" '
		/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
		/^  Candidate: [^(]/ { ok[p] = 1 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }'
}
deb13_cache() { deb13 apt-cache "$@"; }

echo "== demo.sh --print as on a riscv64 Debian 13 host"
PATH=$t/bin:$PATH LKVM_OS_RELEASE=$t/os-release bash tests/e2e/demo.sh --print >"$t/native.log"
cat "$t/native.log"
grep -qx '+ bash tests/e2e/provision.sh --native-only' "$t/native.log" || fail "no provision.sh --native-only"
grep -qE '^\+ make( -j[0-9]+)?$' "$t/native.log" || fail "no native make (without CROSS_COMPILE)"
grep -qx '+ guest=$(tests/e2e/debian-guest.sh)' "$t/native.log" || fail "no debian-guest.sh"
grep -qE '^\+ env LKVM=\./lkvm KERNEL=\$guest/Image INITRD=\$guest/initramfs\.cpio\.gz .* sh tests/e2e/demo-run\.sh$' "$t/native.log" ||
	fail "does not boot Debian's guest with ./lkvm"
# (qemu-utils is qemu-img, for qcow2's unit tests: not an emulator)
! grep -qE 'qemu-system|qemu-riscv|run\.sh --demo|CROSS_COMPILE|bookworm' "$t/native.log" || fail "the native path names QEMU, a cross build or bookworm"

echo "== its packages, in Debian 13's riscv64 lists"
packages "$t/native.log" >"$t/native.pkgs"
[ -s "$t/native.pkgs" ] || fail "no apt-get install line"
for p in build-essential libfdt-dev libaio-dev libseccomp-dev clang cpio; do
	grep -qx "$p" "$t/native.pkgs" || fail "the native package list lacks $p"
done
bad=$(no_candidate deb13_cache $(cat "$t/native.pkgs"))
[ -z "$bad" ] || fail "not in Debian 13 riscv64: $bad"
echo "all $(wc -l <"$t/native.pkgs") resolve: $(echo $(cat "$t/native.pkgs"))"

echo "== provision.sh (full) on Debian 13: one line, non-zero"
rc=0
LKVM_OS_RELEASE=$t/os-release bash tests/e2e/provision.sh --print >"$t/full13.log" 2>&1 || rc=$?
cat "$t/full13.log"
[ "$rc" != 0 ] && [ "$(wc -l <"$t/full13.log")" = 1 ] && grep -q -- '--native-only' "$t/full13.log" ||
	fail "provision.sh on Debian 13 without --native-only did not refuse in one line"

if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
	echo "== demo.sh --print on this host (Debian 12, $(uname -m)): its packages in this host's apt"
	bash tests/e2e/demo.sh --print >"$t/host.log"
	grep -qx '+ tests/e2e/run.sh --demo' "$t/host.log" || fail "the host path does not run the L1 demo"
	packages "$t/host.log" >"$t/host.pkgs"
	grep -qx qemu-system-misc "$t/host.pkgs" || fail "the host path lacks qemu-system-misc"
	bad=$(no_candidate apt-cache $(cat "$t/host.pkgs"))
	[ -z "$bad" ] || fail "not known to this host's apt: $bad"
fi

echo "== debian-guest.sh"
g=$(tests/e2e/debian-guest.sh)
cat "$g/versions"
[ "$(od -An -c -j 56 -N 3 "$g/Image" | tr -d ' ')" = RSC ] || fail "$g/Image is no RISC-V Image"
mkdir -p "$t/initramfs"
(cd "$t/initramfs" && gzip -dc "$g/initramfs.cpio.gz" | cpio -id --quiet)
file "$t/initramfs/bin/busybox" | grep -q 'RISC-V.*statically linked' || fail "no static riscv64 busybox"
[ "$(readlink "$t/initramfs/bin/sh")" = busybox ] || fail "no /bin/sh"
grep -q '^/bin/busybox --install -s' "$t/initramfs/init" || fail "/init does not install the applets"
tail -n +3 "$t/initramfs/init" | cmp -s - <(tail -n +2 tests/e2e/l2-init.sh) || fail "/init is not l2-init.sh"
echo "ok"
