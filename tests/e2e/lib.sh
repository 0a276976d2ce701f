# SPDX-License-Identifier: GPL-2.0-only
# Helpers for e2e cases; sourced inside L1 before the case itself.
# A case fails when it exits non-zero; these helpers exit 1 with a reason.
LKVM=/tmp/l1/lkvm
IMAGES=/host/images
KERNEL=/tmp/l1/Image
INITRD=/tmp/l1/l2-initramfs.cpio.gz
# E2E_SLOW: how much slower than an idle host this L1 runs (l1-init.sh);
# the waits below are scaled by it.
E2E_SLOW=${E2E_SLOW:-1}
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
	[ -f "$2" ] || fail "no file $2 to search for '$1'"
	tr -d '\r' <"$2" | grep -Eq -- "$1" || fail "no line matching '$1' in output"
}

# expect_no_grep REGEX FILE : FILE exists and has no line matching REGEX.
expect_no_grep() {
	[ -f "$2" ] || fail "no file $2 to search for '$1'"
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

# wait_for REGEX FILE [SECONDS] : wait until FILE has a line matching REGEX
# (SECONDS, default 60, scaled by E2E_SLOW).
wait_for() {
	i=0
	while ! grep -Eq -- "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $((${3:-60} * 10 * E2E_SLOW)) ]; then
			tr -d '\r' <"$2" | tail -n 30 | sed 's/^/  | /'
			fail "timed out waiting for '$1' ($((${3:-60} * E2E_SLOW)) s)"
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
	# emptied here, not by the background job's redirection: that one may
	# come after wait_for has read the last guest's '@@ L2 init' from it
	: >"$out"
	$LKVM run -k $KERNEL ${GSH_BOOT--i $INITRD} -p "quiet l2=shell" "$@" \
		</tmp/gsh.in >"$out" 2>&1 &
	gpid=$!
	exec 4>/tmp/gsh.in
	wait_for '@@ L2 init' "$out" 60
	sleep 1
	echo "$cmds; poweroff -f" >&4
	# bounded: a guest that never powers off fails the case with its log
	i=0
	while kill -0 $gpid 2>/dev/null && [ $i -lt $((${GSH_TIMEOUT:-60} * 10 * E2E_SLOW)) ]; do
		usleep 100000
		i=$((i + 1))
	done
	if kill -0 $gpid 2>/dev/null; then
		kill -9 $gpid
		tr -d '\r' <"$out" | tail -n 30 | sed 's/^/  | /'
		fail "the guest did not power off within $((${GSH_TIMEOUT:-60} * E2E_SLOW)) s"
	fi
	wait $gpid
	rc=$?
	exec 4>&-
	tr -d '\r' <"$out" | sed 's/^/  | /' | tail -n 30
	echo "  rc=$rc"
}

# kill_guests : SIGKILL every lkvm in this shell's process group (the guests
# a case started and left running); case-wrapper.sh calls it on exit.
kill_guests() {
	_pg=$(cut -d' ' -f5 /proc/$$/stat)
	for _st in /proc/[0-9]*/stat; do
		{ read -r _p _c _ _ _g _ <"$_st"; } 2>/dev/null || continue
		[ "$_c" = "(lkvm)" ] && [ "$_g" = "$_pg" ] && kill -9 "$_p" 2>/dev/null
	done
	return 0
}

# now_cs : L1's uptime in centiseconds.
now_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}

# rss_kb PID : the resident set of PID in KiB (0 once it is gone).
rss_kb() {
	_r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$1/status 2>/dev/null)
	echo "${_r:-0}"
}

# stop_within PID SECONDS : SIGTERM PID and wait; fail unless it is gone
# within SECONDS (scaled by E2E_SLOW). Sets $rc to its exit status and
# $stop_cs to how long it took, in centiseconds.
stop_within() {
	t0=$(now_cs)
	kill -TERM "$1"
	while kill -0 "$1" 2>/dev/null; do
		if [ $(($(now_cs) - t0)) -gt $(($2 * 100 * E2E_SLOW)) ]; then
			kill -9 "$1"
			wait "$1"
			fail "lkvm still ran $(($2 * E2E_SLOW)) s after SIGTERM"
		fi
		usleep 10000
	done
	stop_cs=$(($(now_cs) - t0))
	wait "$1"
	rc=$?
	echo "  stopped by SIGTERM in ${stop_cs}0 ms, rc=$rc"
}

# run_rss OUT SECONDS CMD... : run CMD (lkvm) in the background, output to
# OUT, sampling its VmRSS every 0.2 s; kill it if it still runs after
# SECONDS (scaled by E2E_SLOW) and fail. Sets $rc and $rss_max (KiB).
run_rss() {
	out=$1
	lim=$2
	shift 2
	echo "+ $*"
	"$@" >"$out" 2>&1 &
	rpid=$!
	rss_max=0
	t0=$(now_cs)
	while kill -0 $rpid 2>/dev/null; do
		r=$(rss_kb $rpid)
		[ "$r" -le "$rss_max" ] || rss_max=$r
		if [ $(($(now_cs) - t0)) -gt $((lim * 100 * E2E_SLOW)) ]; then
			kill -9 $rpid
			wait $rpid
			tr -d '\r' <"$out" | tail -n 30 | sed 's/^/  | /'
			fail "still running after $((lim * E2E_SLOW)) s (VmRSS peak $rss_max KiB)"
		fi
		usleep 200000
	done
	wait $rpid
	rc=$?
	tr -d '\r' <"$out" | sed 's/^/  | /' | tail -n 40
	echo "  rc=$rc, VmRSS peak $rss_max KiB"
}

# expect_rss_below KIB : the last run_rss's peak VmRSS stayed below KIB.
expect_rss_below() {
	[ "$rss_max" -lt "$1" ] || fail "lkvm's VmRSS reached $rss_max KiB, the bound is $1 KiB"
}

# The bare-metal hostile SMP guest (guests/hostile-smp.c) over transport
# TR (mmio or pci); see cases/virtio-hostile-smp-*.sh. lkvm gets 64 MiB of
# guest RAM: its resident set must stay below that plus 32 MiB.
HSMP_RSS_MAX=$(((64 + 32) * 1024))

# hsmp_run TR MODE NOTIFY [BOOTARGS] : one scenario to its end.
hsmp_run() {
	flag=
	[ "$3" = mmio-exit ] && flag=--no-ioeventfd
	echo "== $2 over $1, $3"
	run_rss /tmp/hsmp.out 120 $LKVM run -k $GUESTS/hostile-smp.bin -m 64 -c 2 \
		-d /tmp/hsmp.img --rng --virtio-transport $1 $flag \
		-p "hostile=$2 tr=$1 ${4:-}"
	expect_rc 0
	expect_grep '^hostile-smp: transport virtio-'"$1" /tmp/hsmp.out
	expect_no_grep 'WRONG' /tmp/hsmp.out
	expect_grep '^hostile-smp: PASSED' /tmp/hsmp.out
	expect_rss_below $HSMP_RSS_MAX
}

# hsmp_term TR MODE : the scenario without end; SIGTERM stops lkvm within
# a second (exit status 143) and its resident set stayed bounded.
hsmp_term() {
	echo "== $2 over $1 without end, then SIGTERM"
	$LKVM run -k $GUESTS/hostile-smp.bin -m 64 -c 2 -d /tmp/hsmp.img --rng \
		--virtio-transport $1 -p "hostile=$2 tr=$1 forever" \
		>/tmp/hsmp.out 2>&1 &
	tpid=$!
	wait_for "^hostile-smp: $2: attack running" /tmp/hsmp.out 30
	rss_max=0
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		r=$(rss_kb $tpid)
		[ "$r" -le "$rss_max" ] || rss_max=$r
		usleep 200000
	done
	kill -0 $tpid 2>/dev/null || fail "lkvm exited during the attack"
	echo "  VmRSS peak $rss_max KiB"
	stop_within $tpid 1
	tr -d '\r' </tmp/hsmp.out | tail -n 10 | sed 's/^/  | /'
	expect_rc 143
	expect_rss_below $HSMP_RSS_MAX
}

# hsmp_all TR : every scenario, with ioeventfd and without, then the
# SIGTERM runs; each in a subshell so that one failure does not hide the
# others; fails at the end naming the scenarios that failed.
hsmp_all() {
	truncate -s 8M /tmp/hsmp.img
	bad=
	for mode in qsel reset repost flood; do
		for notify in ioeventfd mmio-exit; do
			(trap kill_guests EXIT; hsmp_run $1 $mode $notify) ||
				bad="$bad $mode/$notify"
		done
	done
	for mode in repost flood; do
		(trap kill_guests EXIT; hsmp_term $1 $mode) || bad="$bad $mode/sigterm"
	done
	rm -f /tmp/hsmp.img /tmp/hsmp.out
	[ -z "$bad" ] || fail "scenarios that failed over $1:$bad"
}
