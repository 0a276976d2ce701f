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
# (guest consoles end lines with \r\n: the \r is ignored)
expect_grep() {
	tr -d '\r' <"$2" | grep -Eq -- "$1" || fail "no line matching '$1' in output"
}

expect_no_grep() {
	! tr -d '\r' <"$2" | grep -Eq -- "$1" || fail "unexpected line matching '$1'"
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
		if [ $i -gt $((${3:-60} * 10)) ]; then
			tr -d '\r' <"$2" | tail -n 30 | sed 's/^/  | /'
			fail "timed out waiting for '$1'"
		fi
		usleep 100000
	done
}

# guest_sh OUT "COMMANDS" LKVM-RUN-ARGS... : boot L2 (l2=shell; from the
# initramfs unless GSH_BOOT says otherwise, e.g. GSH_BOOT= with a -d root)
# with the extra lkvm run arguments, type COMMANDS into its console once
# it is up, then "poweroff -f"; output to OUT, exit status in $rc.
guest_sh() {
	out=$1
	cmds=$2
	shift 2
	rm -f /tmp/gsh.in
	mkfifo /tmp/gsh.in
	echo "+ lkvm run $* <<< $cmds"
	$LKVM run -k $KERNEL ${GSH_BOOT--i $INITRD} -p "quiet l2=shell" "$@" \
		</tmp/gsh.in >"$out" 2>&1 &
	gpid=$!
	exec 4>/tmp/gsh.in
	wait_for '@@ L2 init' "$out" 60
	sleep 1
	echo "$cmds; poweroff -f" >&4
	# bounded: a guest that never powers off fails the case with its log
	i=0
	while kill -0 $gpid 2>/dev/null && [ $i -lt $((${GSH_TIMEOUT:-60} * 10)) ]; do
		usleep 100000
		i=$((i + 1))
	done
	if kill -0 $gpid 2>/dev/null; then
		kill -9 $gpid
		tr -d '\r' <"$out" | tail -n 30 | sed 's/^/  | /'
		fail "the guest did not power off within ${GSH_TIMEOUT:-60} s"
	fi
	wait $gpid
	rc=$?
	exec 4>&-
	tr -d '\r' <"$out" | sed 's/^/  | /' | tail -n 30
	echo "  rc=$rc"
}
