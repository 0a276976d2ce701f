#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end tests: QEMU (TCG, riscv64 with H) boots an L1 Linux with KVM,
# and lkvm runs inside it. Cases are tests/e2e/cases/NAME.sh; their header
# names the L1s it runs on ("# machine: virt aia aia-hw no-h max", each
# optionally @KERNEL: virt@6.1; 6.12 by default), a timeout, and inputs it
# needs beyond the usual ("# needs: debian-guest": Debian 13's riscv64
# kernel and a busybox-static initramfs in /host/images/debian;
# "debian-tools": passt, iperf3, stress-ng, dbench and qemu-img in
# /host/images/debian-tools, see debian-tools.sh). Cases sharing an L1 run in
# one L1 boot. lkvm, the cases and the images reach L1
# through 9p (-virtfs), so changing a case or lkvm needs no repacking.
# Usage: run.sh [CASE...]    Ends with "e2e: N passed, N failed".
#        A CASE may name its L1: CASE@MACHINE[@KERNEL] (6.12 by default,
#        e.g. boot-serial@virt@7.2) runs it there only, whatever its
#        header lists. Kernels: 6.12, 6.1, and 7.2 (Debian 13's backports,
#        fetched by common.sh; Linux 6.16+ KVM with the vCPU reset).
#        LKVM_E2E_QEMU_ARGS=...  extra arguments for every L1 QEMU
#                            (investigations, e.g. -accel tcg,thread=single)
#        run.sh --demo      Boots L1 and runs demo-run.sh there, on stdio.
set -euo pipefail
. "$(dirname "$0")/common.sh"

work=${LKVM_E2E_WORK:-$TOP_DIR/.build/e2e}
# Benchmarks reuse this runner with their own cases.
cases_dir=${LKVM_E2E_CASES:-$E2E_DIR/cases}
demo=0
if [ "${1:-}" = --demo ]; then
	demo=1
	shift
fi
cases=()
declare -A only_l1
for c in "$@"; do
	n=${c%%@*}
	if [ "$n" != "$c" ]; then
		l=${c#*@}
		[ "$l" != "${l#*@}" ] || l=$l@6.12
		only_l1[$n]="${only_l1[$n]:-}${only_l1[$n]:+ }$l"
	fi
	[[ " ${cases[*]} " == *" $n "* ]] || cases+=("$n")
done
if [ ${#cases[@]} -eq 0 ] && [ "$demo" = 0 ]; then
	for f in "$cases_dir"/*.sh; do
		cases+=("$(basename "$f" .sh)")
	done
fi
for c in "${cases[@]}"; do
	[ -f "$cases_dir/$c.sh" ] || fail "no case '$c' in tests/e2e/cases"
done

header() { sed -n "s/^# $2: *//p" "$cases_dir/$1.sh" | head -n 1; }

# case_l1s CASE : the L1s (MACHINE@KERNEL) CASE runs on: those named with
# it on the command line, else its header's (6.12 where none is named).
case_l1s() {
	local mk
	if [ -n "${only_l1[$1]:-}" ]; then
		echo "${only_l1[$1]}"
		return
	fi
	for mk in $(header "$1" machine); do
		[ "$mk" != "${mk%@*}" ] || mk=$mk@6.12
		echo "$mk"
	done
}

machine_args() {
	case $1 in
	virt) echo "-M virt -cpu rv64" ;;
	aia) echo "-M virt,aia=aplic-imsic -cpu rv64" ;;
	aia-hw) echo "-M virt,aia=aplic-imsic,aia-guests=7 -cpu rv64" ;;
	no-h) echo "-M virt -cpu rv64,h=false" ;;
	max) echo "-M virt -cpu max" ;;
	*) fail "unknown machine '$1'" ;;
	esac
}

qemu-system-riscv64 --version | grep -qE 'version (9|[1-9][0-9])\.' ||
	fail "qemu-system-riscv64 9 or newer needed (run tests/e2e/provision.sh)"

# Inputs, each cached by content.
images=$("$E2E_DIR/build-images.sh")
declare -A kernels
for c in "${cases[@]}"; do
	ms=$(case_l1s "$c")
	[ -n "$ms" ] || fail "case $c has no '# machine:' line"
	for mk in $ms; do
		machine_args "${mk%@*}" >/dev/null
		k=${mk#*@}
		[ -n "${kernels[$k]:-}" ] || kernels[$k]=$("$E2E_DIR/build-kernel.sh" "$k")
	done
done
l2_image=${kernels[6.12]:-$("$E2E_DIR/build-kernel.sh" 6.12)}
debian_guest=
debian_tools=
for c in "${cases[@]}"; do
	for n in $(header "$c" needs); do
		case $n in
		debian-guest) [ -n "$debian_guest" ] || debian_guest=$("$E2E_DIR/debian-guest.sh") ;;
		debian-tools) [ -n "$debian_tools" ] || debian_tools=$("$E2E_DIR/debian-tools.sh") ;;
		*) fail "case $c needs '$n', which run.sh does not know" ;;
		esac
	done
done
deps=$("$E2E_DIR/build-deps.sh")
log "cross-building lkvm"
make -s -C "$TOP_DIR" CROSS_COMPILE="$CROSS" STATIC=1 DEPS="$deps" \
	OUT=.build/riscv64-static/lkvm >/dev/null
# Drop cache entries that these inputs no longer use.
prune_stale images "$images"
prune_stale busybox "$(dirname "$("$E2E_DIR/build-busybox.sh")")"
prune_stale "deps-${CROSS%-}" "$deps"
for k in "${!kernels[@]}"; do
	prune_stale "kernel-$k" "$(dirname "${kernels[$k]}")"
done
[ -z "$debian_guest" ] || prune_stale debian-guest "$debian_guest"
[ -z "$debian_tools" ] || prune_stale debian-tools "$debian_tools"

# The staging dir L1 sees as /host.
rm -rf "$work/results"
mkdir -p "$work"/{bin,images,cases,results}
cp "$TOP_DIR/.build/riscv64-static/lkvm" "$work/bin/lkvm"
# Helpers that drive single lkvm modules against L1's KVM.
"${CROSS}gcc" -O2 -static -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I"$TOP_DIR/include" -I"$TOP_DIR" -isystem "$deps/include" \
	-o "$work/bin/aia-check" "$E2E_DIR/tools/aia-check.c" "$TOP_DIR/riscv/kvm-aia.c"
cp "$E2E_DIR"/lib.sh "$E2E_DIR"/case-wrapper.sh "$work/"
cp "$E2E_DIR"/demo-run.sh "$work/demo.sh"
"$E2E_DIR/guests/build.sh" "$work/guests"
rm -f "$work"/cases/*.sh
cp "$cases_dir"/*.sh "$work/cases/"
for f in l2-initramfs.cpio.gz l2-disk.ext4; do
	cmp -s "$images/$f" "$work/images/$f" 2>/dev/null || cp "$images/$f" "$work/images/$f"
done
cmp -s "$l2_image" "$work/images/Image" 2>/dev/null || cp "$l2_image" "$work/images/Image"
# qcow2 images of the L2 disk, made by QEMU's own tool (the qcow2 case): a
# compressed v3 base and an empty overlay on it, named relative to it
rm -f "$work"/images/*.qcow2
if command -v qemu-img >/dev/null; then
	qemu-img convert -q -c -O qcow2 "$images/l2-disk.ext4" "$work/images/l2-base.qcow2"
	(cd "$work/images" && qemu-img create -q -f qcow2 -b l2-base.qcow2 -F qcow2 l2-overlay.qcow2)
	# an overlay over the raw L2 disk (qcow2), an empty disk (qcow2-kill)
	(cd "$work/images" && qemu-img create -q -f qcow2 -b l2-disk.ext4 -F raw raw-overlay.qcow2)
	qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=64 "$work/images/kill.qcow2" 4M
	# the disk benchmark's qcow2 rows (tests/bench/cases/disk.sh)
	qemu-img create -q -f qcow2 "$work/images/bench-fresh.qcow2" 256M
	(cd "$work/images" && qemu-img create -q -f qcow2 -b bench.img -F raw -u bench-ov.qcow2 256M)
fi
if [ -n "$debian_guest" ]; then
	mkdir -p "$work/images/debian"
	for f in Image initramfs.cpio.gz versions; do
		cmp -s "$debian_guest/$f" "$work/images/debian/$f" 2>/dev/null ||
			cp "$debian_guest/$f" "$work/images/debian/$f"
	done
fi
# The Debian tools tree (a few hundred MB): copied again only when it changed.
if [ -n "$debian_tools" ] &&
	! cmp -s "$debian_tools/versions" "$work/images/debian-tools/versions" 2>/dev/null; then
	rm -rf "$work/images/debian-tools"
	rm -rf "$work/images/debian-tools.tmp"
	mkdir "$work/images/debian-tools.tmp"
	cp -a "$debian_tools/." "$work/images/debian-tools.tmp/"
	mv "$work/images/debian-tools.tmp" "$work/images/debian-tools"
fi

if [ "$demo" = 1 ]; then
	log "booting L1 (QEMU riscv64, KVM) to run the demo; it powers off by itself"
	exec qemu-system-riscv64 $(machine_args virt) -smp 2 -m 2G \
		-display none -monitor none -serial stdio -no-reboot \
		-kernel "$l2_image" -initrd "$images/l1-initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet lkvm_demo=1" \
		-virtfs "local,path=$work,mount_tag=host0,security_model=none"
fi

# Group the cases by L1 (machine@kernel), in order of first appearance. A
# case whose header lists several L1s ("# machine: virt virt@6.1") runs in
# each of them, as CASE@MACHINE@KERNEL.
declare -A group_cases
groups=()
for c in "${cases[@]}"; do
	for mk in $(case_l1s "$c"); do
		m=${mk%@*}
		k=${mk#*@}
		g="$m@$k"
		[ -n "${group_cases[$g]:-}" ] || groups+=("$g")
		group_cases[$g]="${group_cases[$g]:-}${group_cases[$g]:+,}$c"
	done
done

# watch_l1 PID LOG : wait for the L1 QEMU PID. L1 enforces each case's
# timeout itself, scaled by how slow it finds the host, and says so on its
# console ("@@ case NAME start (timeout Ns)"); QEMU is killed only when L1
# stops making progress: no new "@@" line for that long plus a margin (or
# for 300 s outside a case: booting, copying the images).
watch_l1() {
	local pid=$1 l1log=$2 seen=0 n deadline line t
	deadline=$(($(date +%s) + 300))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$(grep -ac '@@ ' "$l1log" 2>/dev/null) || n=0
		if [ "$n" != "$seen" ]; then
			seen=$n
			line=$(grep -a '@@ ' "$l1log" | tail -n 1 | tr -d '\r')
			t=300
			if [[ $line =~ @@\ case\ .*\ start\ \(timeout\ ([0-9]+)s\) ]]; then
				t=$((BASH_REMATCH[1] + 60))
			fi
			deadline=$(($(date +%s) + t))
		fi
		if [ "$(date +%s)" -gt "$deadline" ]; then
			log "L1 made no progress for too long: stopping QEMU"
			kill "$pid" 2>/dev/null
			sleep 2
			kill -9 "$pid" 2>/dev/null
			break
		fi
	done
	wait "$pid" || true
}

pass=0 failc=0
for g in "${groups[@]}"; do
	m=${g%@*} k=${g#*@}
	list=${group_cases[$g]}
	l1log=$work/results/l1-$m-$k.log
	log "L1 $m (linux $k): ${list//,/ }"
	start=$(date +%s)
	rm -f "$l1log"
	# shellcheck disable=SC2046
	qemu-system-riscv64 $(machine_args "$m") ${LKVM_E2E_QEMU_ARGS:-} \
		-smp 2 -m 2G \
		-display none -monitor none -serial "file:$l1log" -no-reboot \
		-kernel "${kernels[$k]}" -initrd "$images/l1-initramfs.cpio.gz" \
		-append "console=ttyS0 earlycon=sbi panic=-1 lkvm_cases=$list lkvm_l1=$m@$k${LKVM_E2E_SLOW:+ lkvm_slow=$LKVM_E2E_SLOW}${BENCH_RUNS:+ BENCH_RUNS=$BENCH_RUNS}${BENCH_ONLY:+ BENCH_ONLY=$BENCH_ONLY}${BENCH_HUGE:+ BENCH_HUGE=$BENCH_HUGE}${BENCH_BOOTS:+ BENCH_BOOTS=$BENCH_BOOTS}" \
		-virtfs "local,path=$work,mount_tag=host0,security_model=none" \
		</dev/null >"$work/results/qemu-$m-$k.out" 2>&1 &
	watch_l1 $! "$l1log"
	log "L1 $m (linux $k) done in $(($(date +%s) - start)) s"
	for c in ${list//,/ }; do
		id="$c@$m@$k"
		rc=$(cat "$work/results/$id.rc" 2>/dev/null || echo none)
		if [ "$rc" = 0 ]; then
			echo "PASS $id"
			pass=$((pass + 1))
			continue
		fi
		failc=$((failc + 1))
		case $rc in
		none) why="did not finish (L1 hung or crashed)" ;;
		124 | 143 | 137) why="timed out" ;;
		*) why="exit status $rc" ;;
		esac
		echo "FAIL $id: $why"
		echo "---- $id: tail of the case output (lkvm and L2 console) ----"
		tail -n 40 "$work/results/$id.log" 2>/dev/null || echo "(no output)"
		echo "---- $id: tail of the L1 console ($l1log) ----"
		tail -n 25 "$l1log" 2>/dev/null || echo "(no output)"
		cat "$work/results/qemu-$m-$k.out" 2>/dev/null | tail -n 5
		echo "----"
	done
done
# A case that leaves qcow2 images in results/ (NAME.judge.qcow2) has them
# judged here by qemu-img check: no corruption, no leaks beyond what QEMU
# itself accepts (exit 0 or 3, "leaked clusters"); and by qemu-img compare
# when it also leaves the expected content (NAME.expect.raw).
# (overlays on the raw L2 disk name it relative to themselves)
ln -sfn ../images/l2-disk.ext4 "$work/results/l2-disk.ext4"
for q in "$work"/results/*.judge.qcow2; do
	[ -e "$q" ] || continue
	name=$(basename "$q" .judge.qcow2)
	id=qemu-img-check:$name
	rc=0
	out=$(cd "$work/results" && qemu-img check "$(basename "$q")" 2>&1) || rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
		pass=$((pass + 1))
		echo "PASS $id"
	else
		failc=$((failc + 1))
		echo "FAIL $id: qemu-img check exit $rc"
		echo "$out" | tail -n 20
	fi
	[ -e "$work/results/$name.expect.raw" ] || continue
	id=qemu-img-compare:$name
	if out=$(cd "$work/results" && qemu-img compare -f qcow2 -F raw "$name.judge.qcow2" "$name.expect.raw" 2>&1); then
		pass=$((pass + 1))
		echo "PASS $id"
	else
		failc=$((failc + 1))
		echo "FAIL $id: $out"
	fi
done
echo "e2e: $pass passed, $failc failed"
[ "$failc" -eq 0 ]
