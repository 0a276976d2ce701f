# SPDX-License-Identifier: GPL-2.0-only
# Helpers for e2e cases; sourced inside L1 before the case itself.
# A case fails when it exits non-zero; these helpers exit 1 with a reason.
LKVM=/tmp/l1/lkvm
IMAGES=/host/images
KERNEL=/tmp/l1/Image
INITRD=/tmp/l1/l2-initramfs.cpio.gz
set -u

fail() {
	echo "FAIL: $*"
	exit 1
}

# run OUT CMD... : run CMD, output (stdout and stderr) to file OUT; sets $rc.
run() {
	out=$1
	shift
	echo "+ $*"
	"$@" >"$out" 2>&1
	rc=$?
	sed 's/^/  | /' "$out"
	echo "  rc=$rc"
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "exit status $rc, expected $1"
}

expect_nonzero_rc() {
	[ "$rc" != 0 ] || fail "exit status 0, expected failure"
}

# expect_grep REGEX FILE : FILE has a line matching REGEX (grep -E).
expect_grep() {
	grep -Eq -- "$1" "$2" || fail "no line matching '$1' in output"
}

expect_no_grep() {
	! grep -Eq -- "$1" "$2" || fail "unexpected line matching '$1'"
}

# expect_lines N FILE : FILE has exactly N lines.
expect_lines() {
	n=$(wc -l <"$2")
	[ "$n" -eq "$1" ] || fail "$n lines of output, expected $1"
}
GUESTS=/host/guests
RESULTS=/host/results

# The kernel of this L1: 6.12 or 6.1.
l1_kernel() {
	echo "${lkvm_l1#*@}"
}

# wait_for REGEX FILE [SECONDS] : wait until FILE has a line matching REGEX.
wait_for() {
	i=0
	while ! grep -Eq -- "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $((${3:-60} * 10)) ] || fail "timed out waiting for '$1'"
		usleep 100000
	done
}
