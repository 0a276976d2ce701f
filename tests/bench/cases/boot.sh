# Benchmark (not a test): L2 boot time from lkvm start to the guest's init
# marker, RUNS runs per variant (console, with or without "quiet"); lkvm's
# start-up time, memory and exit counts (--stats); the guest's printk
# timeline of one verbose serial boot. When tests/bench/boot.sh was given a
# baseline, its lkvm (lkvm-base) boots alternately with this one, so that
# both see the same load on the host.
# machine: virt
# timeout: 900
RUNS=${BENCH_RUNS:-5}
HUGE=
EXTRA=
BINS=lkvm
E2E_INITRD=$INITRD
INITRD=/tmp/l1/l2-boot.cpio.gz
cp /host/images/l2-boot.cpio.gz $INITRD
if [ -x /host/bin/lkvm-base ]; then
	cp /host/bin/lkvm-base /tmp/l1/lkvm-base
	BINS="lkvm-base lkvm"
fi

# Milliseconds of uptime into $ms, without forking (10 ms resolution).
now_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	ms=$((${up%.*} * 1000 + ${frac#0} * 10))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minimum() { sort -n | head -n 1; }

# boot BIN NAME CONSOLE PARAMS RUN : one timed boot; the console output goes
# to /tmp/out.BIN.NAME.RUN, lkvm's messages to /tmp/err.BIN.NAME.RUN. awk
# stamps the marker line as it arrives (reading the pipe in blocks).
boot() {
	k=$1.$2
	rm -f /tmp/t1 /tmp/ti
	now_ms
	t0=$ms
	/tmp/l1/$1 run -k $KERNEL -i ${BOOT_INITRD:-$INITRD} -m 256 -c 1 --console $3 $HUGE $EXTRA \
		${4:+-p "$4"} --stats 2>/tmp/err.$k.$5 |
		awk 'function now() { getline u <"/proc/uptime"; close("/proc/uptime");
			split(u, a, " "); return a[1] * 1000 }
		/@@ L2 init start/ && !s { s = 1; print now() >"/tmp/ti" }
		/@@ L2 init:/ && !t { t = 1; print now() >"/tmp/t1" } { print }' >/tmp/out.$k.$5
	if [ ! -s /tmp/t1 ]; then
		echo "BENCH $k run $5: no init marker; output kept in /host/results"
		cp /tmp/out.$k.$5 /tmp/err.$k.$5 /host/results/
		return
	fi
	echo $(($(cat /tmp/t1) - t0)) >>/tmp/boot.$k
	[ -s /tmp/ti ] && echo $(($(cat /tmp/ti) - t0)) >>/tmp/init.$k
	sed -n 's/.*start-up: \([0-9.]*\) ms.*/\1/p' /tmp/err.$k.$5 >>/tmp/start.$k
}

# variant NAME CONSOLE PARAMS : RUNS boots per binary, then the summaries.
variant() {
	for b in $BINS; do
		: >/tmp/boot.$b.$1
		: >/tmp/init.$b.$1
		: >/tmp/start.$b.$1
	done
	i=1
	while [ $i -le $RUNS ]; do
		for b in $BINS; do
			boot $b "$1" "$2" "$3" $i
		done
		i=$((i + 1))
	done
	for b in $BINS; do
		k=$b.$1
		[ -s /tmp/init.$k ] &&
			echo "BENCH boot-to-init-start $1 [$b]: median $(median </tmp/init.$k) ms, min $(minimum </tmp/init.$k) ms (runs: $(echo $(cat /tmp/init.$k))): lkvm run to the first line of /init"
		echo "BENCH boot-to-init $1 [$b]: median $(median </tmp/boot.$k) ms, min $(minimum </tmp/boot.$k) ms (runs: $(echo $(cat /tmp/boot.$k))): to the e2e marker"
		echo "BENCH start-up $1 [$b]: median $(median </tmp/start.$k) ms from lkvm run to the first KVM_RUN; $(sed -n 's/.*images: //p' /tmp/err.$k.$RUNS)"
		echo "BENCH memory $1 [$b]: $(sed -n 's/.*stats: ran/ran/p' /tmp/err.$k.$RUNS)"
		echo "BENCH exits $1 [$b] (last run): $(sed -n 's/.*stats: exits/exits/p' /tmp/err.$k.$RUNS)"
		grep -q 'uart register image' /tmp/err.$k.$RUNS &&
			echo "BENCH uart image $1 [$b] (last run): $(sed -n 's/.*stats: uart register image //p' /tmp/err.$k.$RUNS)"
	done
}

echo "BENCH setup: QEMU TCG -M virt, L1 $(nproc) cpus linux $(uname -r); L2: 1 vCPU, 256 MiB, busybox initramfs $(wc -c <$INITRD) bytes; $RUNS runs each of: $BINS"
variant serial serial ""
variant serial-quiet serial quiet
# every UART read exits, as before the register image (for a comparison
# in the same L1 boot; a baseline lkvm may predate the option)
EXTRA=--no-uart-image
ALL_BINS=$BINS
BINS=lkvm
variant serial-no-uart-image serial ""
EXTRA=
BINS=$ALL_BINS
variant hv hv ""
variant hv-quiet hv quiet
# guest RAM from huge pages: KVM maps the guest in 2 MiB blocks
# (a baseline lkvm may predate --hugetlb: this lkvm only)
echo 150 >/proc/sys/vm/nr_hugepages
HUGE=--hugetlb
ALL_BINS=$BINS
BINS=lkvm
variant serial-hugetlb serial ""
variant serial-quiet-hugetlb serial quiet
HUGE=
BINS=$ALL_BINS
echo 0 >/proc/sys/vm/nr_hugepages
# the same with the e2e initramfs: busybox and the disk benchmark tool
BOOT_INITRD=$E2E_INITRD
variant serial-quiet-e2e-initramfs serial quiet
BOOT_INITRD=

# Where a verbose serial boot's guest time goes, by the guest's own clock.
echo "BENCH timeline (guest printk time of the last verbose serial boot):"
tr -d '\r' </tmp/out.lkvm.serial.$RUNS | grep -E 'Linux version|Unpacking initramfs|Freeing initrd|printk: console .*enabled|Serial: 8250|ttyS0 at|Run /init|Freeing unused kernel' |
	sed 's/^/BENCH   /'
cp /tmp/out.lkvm.serial.$RUNS /host/results/boot-serial-console.log
echo "BENCH   lines of console output: $(wc -l </tmp/out.lkvm.serial.$RUNS), bytes: $(wc -c </tmp/out.lkvm.serial.$RUNS)"
echo "BENCH reference (upstream kvmtool; figures from the e2e recipe, NOT measured here): serial 2700-2800 ms, serial with quiet 1700 ms"
