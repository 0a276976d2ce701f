# Benchmark (not a test): L2 boot time from lkvm start to the guest's init
# marker, 5 runs per variant (console, with or without "quiet"); lkvm's
# start-up time, memory and exit counts (--stats); the guest's printk
# timeline of one verbose serial boot.
# machine: virt
# timeout: 500
RUNS=${BENCH_RUNS:-5}

# Milliseconds of uptime into $ms, without forking (10 ms resolution).
now_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	ms=$((${up%.*} * 1000 + ${frac#0} * 10))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# boot NAME CONSOLE PARAMS RUN : one timed boot; the console output goes to
# /tmp/out.NAME.RUN, lkvm's messages to /tmp/err.NAME.RUN. awk stamps the
# marker line as it arrives (reading the pipe in blocks, unlike sh's read).
boot() {
	now_ms
	t0=$ms
	$LKVM run -k $KERNEL -i $INITRD -m 256 -c 1 --console $2 ${3:+-p "$3"} \
		--stats 2>/tmp/err.$1.$4 |
		awk '/@@ L2 init/ && !t { getline u <"/proc/uptime"; split(u, a, " ");
			t = a[1] * 1000; print t >"/tmp/t1" } { print }' >/tmp/out.$1.$4
	echo $(($(cat /tmp/t1) - t0)) >>/tmp/boot.$1
	sed -n 's/.*start-up: \([0-9.]*\) ms.*/\1/p' /tmp/err.$1.$4 >>/tmp/start.$1
}

# variant NAME CONSOLE PARAMS : RUNS boots, then their summary.
variant() {
	: >/tmp/boot.$1
	: >/tmp/start.$1
	i=1
	while [ $i -le $RUNS ]; do
		rm -f /tmp/t1
		boot "$1" "$2" "$3" $i
		i=$((i + 1))
	done
	echo "BENCH boot-to-init $1: median $(median </tmp/boot.$1) ms (runs: $(echo $(cat /tmp/boot.$1)))"
	echo "BENCH start-up $1: median $(median </tmp/start.$1) ms from lkvm run to the first KVM_RUN"
	echo "BENCH memory $1: $(sed -n 's/.*stats: ran/ran/p' /tmp/err.$1.$RUNS)"
	echo "BENCH exits $1 (last run): $(sed -n 's/.*stats: exits/exits/p' /tmp/err.$1.$RUNS)"
}

echo "BENCH setup: QEMU TCG -M virt, L1 $(nproc) cpus linux $(uname -r); L2: 1 vCPU, 256 MiB, initramfs $(wc -c <$INITRD) bytes"
variant serial serial ""
variant serial-quiet serial quiet
variant hv hv ""
variant hv-quiet hv quiet

# Where a verbose serial boot's guest time goes, by the guest's own clock.
echo "BENCH timeline (guest printk time of the last verbose serial boot):"
tr -d '\r' </tmp/out.serial.$RUNS | grep -E '^\[ *0\.0+\]|Unpacking initramfs|Freeing initrd|printk: console .*enabled|Serial: 8250|ttyS0 at|Run /init|Freeing unused kernel' |
	sed 's/^/BENCH   /'
echo "BENCH   lines of console output: $(wc -l </tmp/out.serial.$RUNS), bytes: $(wc -c </tmp/out.serial.$RUNS)"
echo "BENCH reference (upstream kvmtool, from tests' e2e recipe, NOT measured here): serial 2700-2800 ms, serial with quiet 1700 ms"
