#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch (or find in the cache) the test tools that come from Debian 13's
# riscv64 packages rather than from busybox: passt (user-mode networking),
# iperf3, stress-ng, dbench and qemu-img, with every library they need,
# unpacked into one tree. Nothing is installed: apt-get download and
# dpkg-deb -x, through the Debian 13 apt configuration of common.sh.
# The entry holds:
#   root/       the unpacked tree, with `run` at its top
#   run         run PROG [ARG...]: /usr/bin/PROG (or sbin) of the tree, under
#               the tree's own glibc (its ld.so and --library-path), so it
#               works on L1's and L2's busybox roots alike
#   tools.ext4  an ext4 image of root/, to attach to an L2 guest as a disk
# A case asks for it with "# needs: debian-tools"; L1 then finds it in
# /host/images/debian-tools. Prints the entry's directory.
set -euo pipefail
. "$(dirname "$0")/common.sh"

PKGS=(passt iperf3 stress-ng dbench qemu-utils)

# Everything the tools depend on, recursively, as "name=version" lines.
mapfile -t pkgs < <(deb13 apt-cache depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${PKGS[@]}" |
	grep '^[a-z0-9]' | LC_ALL=C sort -u)
[ ${#pkgs[@]} -gt 0 ] || fail "Debian 13 lists give no dependencies for ${PKGS[*]}"
versions=$(deb13 apt-cache show --no-all-versions "${pkgs[@]}" |
	sed -n 's/^Package: //p; s/^Version: //p' | paste -d= - -)
key=$(hash_inputs "$0" "$versions")
out=$CACHE/debian-tools-$key

write_run() {
	cat >"$1" <<'EOF'
#!/bin/sh
# run PROG [ARG...] : PROG from this Debian tree, under the tree's own glibc
d=$(cd "$(dirname "$0")" && pwd)
r=$d
[ -d "$d/root/usr" ] && r=$d/root
p=${1:?usage: run PROG [ARG...]}
shift
for b in usr/bin usr/sbin bin sbin; do
	[ -f "$r/$b/$p" ] || continue
	exec "$r/usr/lib/riscv64-linux-gnu/ld-linux-riscv64-lp64d.so.1" \
		--library-path "$r/usr/lib/riscv64-linux-gnu:$r/lib/riscv64-linux-gnu:$r/usr/lib" \
		"$r/$b/$p" "$@"
done
echo "run: no $p in $r" >&2
exit 127
EOF
	chmod 0755 "$1"
}

build() {
	[ -f "$out/.done" ] && return 0
	local tmp=$out.tmp p
	rm -rf "$tmp"
	mkdir -p "$tmp/debs" "$tmp/root"
	log "fetching ${PKGS[*]} and ${#pkgs[@]} packages they need (Debian 13, riscv64)"
	(cd "$tmp/debs" && deb13 apt-get -q download $versions >"$tmp/apt.log" 2>&1) ||
		{ cat "$tmp/apt.log" >&2; fail "apt-get download of the Debian tools failed"; }
	for p in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$p" "$tmp/root"
	done
	[ -f "$tmp/root/usr/lib/riscv64-linux-gnu/ld-linux-riscv64-lp64d.so.1" ] ||
		fail "the Debian tools tree has no riscv64 ld.so where run expects it"
	write_run "$tmp/root/run"
	write_run "$tmp/run"
	mkfs.ext4 -q -F -L tools -d "$tmp/root" "$tmp/tools.ext4" \
		$(($(du -sm "$tmp/root" | cut -f1) * 5 / 4 + 64))M >/dev/null
	echo "$versions" >"$tmp/versions"
	rm -rf "$tmp/debs" "$tmp/apt.log" "$out"
	mv "$tmp" "$out"
	touch "$out/.done"
}
with_lock debian-tools build
echo "$out"
