# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the e2e build scripts: the cache location, content hashes
# and a lock so that two builds never fill the same cache entry at once.
# Sourced, not run.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$E2E_DIR/../.." && pwd)
CACHE=${LKVM_CACHE:-$HOME/.cache/lkvm}
CROSS=${CROSS:-riscv64-linux-gnu-}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$CACHE"

log() { echo "e2e: $*" >&2; }
fail() { echo "e2e: error: $*" >&2; exit 1; }

# hash_inputs WORD... : a short hash of the words and of the content of any
# word that names a file, so a cache entry changes when any input does.
hash_inputs() {
	local w
	for w in "$@"; do
		if [ -f "$w" ]; then
			printf 'file %s\n' "$(basename "$w")"
			cat "$w"
		else
			printf 'word %s\n' "$w"
		fi
	done | sha256sum | cut -c1-16
}

# deb_version PKG : the version of a Debian package the tests use: the
# installed one, or, for a kernel source the host does not install (Debian
# 13's backports, BPO13_PKGS below), the one there, as VERSION.sha256-HASH
# (the first 16 digits of the .deb's SHA256 in the signed index).
deb_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) || v=
	if [ -z "$v" ] && bpo13_has "$1"; then
		bpo13_version "$1"
		return
	fi
	[ -n "$v" ] || fail "package $1 is not installed (run tests/e2e/provision.sh)"
	echo "$v"
}

# with_lock NAME CMD... : run CMD holding an exclusive lock on the cache entry.
with_lock() {
	local name=$1
	shift
	(
		flock 9
		"$@"
	) 9>"$CACHE/.lock-$name"
}

# kernel_src VERSION : extract Debian's linux-source-VERSION once into the
# cache and print the tree's path.
kernel_src() {
	local ver=$1 pkgver dir
	pkgver=$(deb_version "linux-source-$ver")
	dir=$CACHE/src/linux-source-$ver-$pkgver
	if [ ! -f "$dir/.extracted" ]; then
		log "extracting linux-source-$ver ($pkgver)"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		if [ -f "/usr/src/linux-source-$ver.tar.xz" ]; then
			tar -xJf "/usr/src/linux-source-$ver.tar.xz" -C "$dir.tmp" --strip-components=1
		else
			bpo13_kernel_src "$ver" "$pkgver" "$dir.tmp"
		fi
		touch "$dir.tmp/.extracted"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# prune_stale PREFIX KEEP : remove cache entries PREFIX-* other than KEEP,
# including leftovers of interrupted builds (*.tmp, *.new).
prune_stale() {
	local d
	for d in "$CACHE/$1"-*; do
		[ -e "$d" ] && [ "$d" != "$2" ] && rm -rf "$d"
	done
	return 0
}

# Debian 13 ("trixie") riscv64 packages, through an apt configuration of
# their own in the cache, whatever the host's release and architecture: the
# native demo's guest comes from there (debian-guest.sh), and the host
# test of the native path checks package names against these lists. The
# suite is trixie, or stable where the mirror is mid-sync for trixie as long
# as stable is still trixie. LKVM_DEBIAN_MIRROR names another mirror.
DEB13=$CACHE/apt-debian13-riscv64
DEB13_MIRROR=${LKVM_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# apt_opts DIR : apt options for a configuration of its own in DIR
# (sources.list, lists, cache; nothing installed, riscv64 packages).
apt_opts() {
	printf '%s\n' -o "Dir::Etc::sourcelist=$1/sources.list" \
		-o Dir::Etc::sourceparts=- -o "Dir::Etc::preferencesparts=$1/prefs.d" \
		-o "Dir::State::Lists=$1/lists" -o Dir::State::status=/dev/null \
		-o "Dir::Cache=$1/cache" -o APT::Architecture=riscv64 \
		-o APT::Architectures::=riscv64 -o Acquire::Languages=none \
		-o APT::Sandbox::User=root
}

deb13_opts() { apt_opts "$DEB13"; }

# deb13_update : fetch the package lists when they are missing or a day old.
deb13_update() {
	local suite opts
	[ -n "$(find "$DEB13/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ] &&
		return 0
	mapfile -t opts < <(deb13_opts)
	mkdir -p "$DEB13"/{lists/partial,cache/archives/partial,prefs.d}
	for suite in trixie stable; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEB13_MIRROR $suite main" \
			>"$DEB13/sources.list"
		rm -f "$DEB13"/lists/*_dists_*
		apt-get "${opts[@]}" -q update >"$DEB13/update.log" 2>&1 &&
			grep -qs '^Codename: trixie' "$DEB13"/lists/*_InRelease && return 0
	done
	cat "$DEB13/update.log" >&2
	fail "cannot fetch Debian 13 riscv64 package lists from $DEB13_MIRROR"
}

# deb13 apt-get|apt-cache ARG... : that tool on the Debian 13 riscv64 lists.
deb13() {
	local tool=$1 opts
	shift
	with_lock deb13 deb13_update
	mapfile -t opts < <(deb13_opts)
	"$tool" "${opts[@]}" "$@"
}

# Newer kernel sources than Debian 12 has (linux-source-7.2: Linux 6.16+
# KVM, with the vCPU reset a reboot uses) come from Debian 13's
# stable-backports (Architecture: all), through one more apt configuration
# of their own: the suite name trixie-backports fails on this mirror as
# trixie does. Nothing is installed: apt-get download checks the .deb
# against the SHA256 of the index the signed InRelease vouches for, and
# kernel_src unpacks the tarball straight from it.
BPO13=$CACHE/apt-debian13-backports
BPO13_PKGS="linux-source-7.2"

bpo13_has() { case " $BPO13_PKGS " in *" $1 "*) return 0 ;; esac; return 1; }

# bpo13_update : the package lists, fetched when missing or a day old.
bpo13_update() {
	local opts
	[ -n "$(find "$BPO13/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ] &&
		return 0
	mapfile -t opts < <(apt_opts "$BPO13")
	mkdir -p "$BPO13"/{lists/partial,cache/archives/partial,prefs.d}
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEB13_MIRROR stable-backports main" \
		>"$BPO13/sources.list"
	rm -f "$BPO13"/lists/*_dists_*
	apt-get "${opts[@]}" -q update >"$BPO13/update.log" 2>&1 ||
		{ cat "$BPO13/update.log" >&2; fail "cannot fetch Debian's stable-backports package lists from $DEB13_MIRROR"; }
}

# bpo13 apt-get|apt-cache ARG... : that tool on the stable-backports lists.
bpo13() {
	local tool=$1 opts
	shift
	with_lock bpo13 bpo13_update
	mapfile -t opts < <(apt_opts "$BPO13")
	"$tool" "${opts[@]}" "$@"
}

# bpo13_field PKG FIELD : FIELD of PKG's candidate in stable-backports.
bpo13_field() {
	bpo13 apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

# bpo13_version PKG : VERSION.sha256-HASH of PKG's candidate there.
bpo13_version() {
	local v h
	v=$(bpo13_field "$1" Version)
	h=$(bpo13_field "$1" SHA256)
	[ -n "$v" ] && [ ${#h} = 64 ] || fail "Debian's stable-backports has no $1"
	echo "$v.sha256-${h:0:16}"
}

# bpo13_kernel_src VER PKGVER DIR : linux-source-VER at PKGVER (from
# bpo13_version) downloaded, checked and its tree unpacked into DIR.
bpo13_kernel_src() {
	local pkg=linux-source-$1 v=${2%.sha256-*} h=${2##*.sha256-} tmp deb
	tmp=$(mktemp -d "$CACHE/src/.bpo13.XXXXXX")
	log "downloading $pkg $v from Debian's stable-backports (about 165 MB)"
	(cd "$tmp" && bpo13 apt-get -q download "$pkg=$v" >apt.log 2>&1) ||
		{ cat "$tmp/apt.log" >&2; rm -rf "$tmp"; fail "apt-get download $pkg=$v failed"; }
	deb=$(echo "$tmp"/*.deb)
	[ -f "$deb" ] && [ "$(sha256sum "$deb" | cut -c1-16)" = "$h" ] ||
		{ rm -rf "$tmp"; fail "$pkg $v: the .deb is not the one the index names"; }
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
		tar -xJ -C "$3" --strip-components=1 ||
		{ rm -rf "$tmp"; fail "cannot unpack $pkg $v"; }
	rm -rf "$tmp"
}
