# Benchmark (not a test): `lkvm sandbox -- COMMAND` from start to exit, in
# L1, for a few commands a test script runs; this lkvm and, when
# tests/bench/sandbox.sh staged it, lkvm built from REF (lkvm-ref),
# round-robin, so that both see the same load on the host; paired ratios
# per round. The root is L1's / (its busybox initramfs: /bin holds about
# 400 links to busybox).
# machine: virt
# timeout: 2400
RUNS=${BENCH_RUNS:-3}
BINS=lkvm
if [ -x /host/bin/lkvm-ref ]; then
	cp /host/bin/lkvm-ref /tmp/l1/ref
	BINS="ref lkvm"
fi
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	ms=$((${up%.*} * 1000 + ${frac#0} * 10))
}

# NAME|COMMAND (run by sh -c in the sandbox, in the working directory)
cat >/tmp/cmds <<'CMDS'
none|true
exec|i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i + 1)); done
lookup|i=0; while [ $i -lt 20 ]; do ls -l /bin >/dev/null; i=$((i + 1)); done
write|dd if=/dev/zero of=big bs=1M count=32 2>/dev/null && sync && echo 3 >/proc/sys/vm/drop_caches && cat big >/dev/null && rm big
CMDS
if [ -n "${BENCH_ONLY:-}" ]; then
	grep -E "^($(echo "$BENCH_ONLY" | tr , '|'))\|" /tmp/cmds >/tmp/cmds.only || true
	mv /tmp/cmds.only /tmp/cmds
fi
mkdir -p /tmp/sbxb
cd /tmp/sbxb
echo "BENCH setup: QEMU TCG -M virt, L1 $(nproc) cpus linux $(uname -r); sandbox: 1 vCPU, 256 MiB; $RUNS runs each of: $BINS"
i=1
while [ $i -le $RUNS ]; do
	while IFS='|' read -r name cmd; do
		for b in $BINS; do
			[ $i -gt 1 ] || : >/tmp/t.$b.$name
			bin=/tmp/l1/$b
			[ $b != lkvm ] || bin=$LKVM
			now_ms
			t0=$ms
			rc=0
			$bin sandbox -k $KERNEL -m 256 -- sh -c "$cmd; echo sandbox-done" \
				>/tmp/out.$b.$name 2>&1 </dev/null || rc=$?
			now_ms
			if [ $rc = 0 ] && grep -q '^sandbox-done' /tmp/out.$b.$name; then
				echo $((ms - t0)) >>/tmp/t.$b.$name
			else
				echo "BENCH $b $name run $i: exit $rc; output kept in /host/results"
				cp /tmp/out.$b.$name /host/results/sandbox-bench.$b.$name.$i
				echo 0 >>/tmp/t.$b.$name
			fi
		done
	done </tmp/cmds
	i=$((i + 1))
done
cd /
rm -rf /tmp/sbxb
while IFS='|' read -r name cmd; do
	for b in $BINS; do
		# a failed run is a 0 (keeping the rounds paired), not a time
		echo "BENCH sandbox $name [$b]: median $(grep -vx 0 /tmp/t.$b.$name | median) ms (runs: $(echo $(cat /tmp/t.$b.$name)))"
	done
	[ -s /tmp/t.ref.$name ] || continue
	r=$(paste /tmp/t.lkvm.$name /tmp/t.ref.$name | awk '$1 > 0 && $2 > 0 { printf "%.2f\n", $1 / $2 }')
	echo "BENCH paired sandbox $name lkvm / ref: median $(echo "$r" | median) (rounds: $(echo $r))"
done </tmp/cmds
