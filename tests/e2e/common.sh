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

# deb_version PKG : the installed version of a Debian package.
deb_version() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || fail "package $1 is not installed (run tests/e2e/provision.sh)"
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
		tar -xJf "/usr/src/linux-source-$ver.tar.xz" -C "$dir.tmp" --strip-components=1
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

deb13_opts() {
	printf '%s\n' -o "Dir::Etc::sourcelist=$DEB13/sources.list" \
		-o Dir::Etc::sourceparts=- -o "Dir::Etc::preferencesparts=$DEB13/prefs.d" \
		-o "Dir::State::Lists=$DEB13/lists" -o Dir::State::status=/dev/null \
		-o "Dir::Cache=$DEB13/cache" -o APT::Architecture=riscv64 \
		-o APT::Architectures::=riscv64 -o Acquire::Languages=none \
		-o APT::Sandbox::User=root
}

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
