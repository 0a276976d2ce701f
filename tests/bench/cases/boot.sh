# Benchmark (not a test): L2 boot time from the VMM's start to the guest's
# init marker, RUNS runs per variant (console, with or without "quiet",
# UART register image, huge pages); lkvm's start-up time, memory and exit
# counts (--stats, with KVM's own counters); the guest's printk timeline of
# one verbose serial boot. The boots go round-robin over the variants and
# binaries: this lkvm, and when tests/bench/boot.sh staged them, lkvm built
# from REF (lkvm-ref) and a peer kvmtool (peer, its own command line), so
# that all see the same load on the host; paired ratios per round.
# machine: virt
# timeout: 1800
RUNS=${BENCH_RUNS:-5}
# BINS: lkvm binaries (lkvm's options); ALL: with the peer, for the
# variants whose options every VMM has.
BINS=lkvm
E2E_INITRD=$INITRD
INITRD=/tmp/l1/l2-boot.cpio.gz
cp /host/images/l2-boot.cpio.gz $INITRD
if [ -x /host/bin/lkvm-ref ]; then
	cp /host/bin/lkvm-ref /tmp/l1/ref
	BINS="ref lkvm"
fi
ALL=$BINS
if [ -x /host/bin/peer ]; then
	cp /host/bin/peer /tmp/l1/peer
	ALL="$BINS peer"
fi

# Milliseconds of uptime into $ms, without forking (10 ms resolution).
now_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	ms=$((${up%.*} * 1000 + ${frac#0} * 10))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
minimum() { sort -n | head -n 1; }

# boot BIN NAME CONSOLE PARAMS OPTIONS INITRD RUN : one timed boot; the
# console output goes to /tmp/out.BIN.NAME.RUN, lkvm's messages to
# /tmp/err.BIN.NAME.RUN. awk stamps the marker lines as they arrive
# (reading the pipe in blocks).
boot() {
	k=$1.$2
	rm -f /tmp/t1 /tmp/ti
	# kvmtool adds a user-mode NIC unless told not to; --stats is lkvm's
	vmm_opts="--stats"
	[ $1 != peer ] || vmm_opts="-n mode=none"
	now_ms
	t0=$ms
	/tmp/l1/$1 run -k $KERNEL -i $6 -m 256 -c 1 --console $3 $5 \
		${4:+-p "$4"} $vmm_opts </dev/null 2>/tmp/err.$k.$7 |
		awk 'function now() { getline u <"/proc/uptime"; close("/proc/uptime");
			split(u, a, " "); return a[1] * 1000 }
		/@@ L2 init start/ && !s { s = 1; print now() >"/tmp/ti" }
		/@@ L2 init:/ && !t { t = 1; print now() >"/tmp/t1" } { print }' >/tmp/out.$k.$7
	if [ ! -s /tmp/t1 ]; then
		echo "BENCH $k run $7: no init marker; output kept in /host/results"
		cp /tmp/out.$k.$7 /tmp/err.$k.$7 /host/results/
		# a 0 keeps the rounds of the paired ratios in step
		echo 0 >>/tmp/boot.$k
		[ $6 != $INITRD ] || echo 0 >>/tmp/init.$k
		return
	fi
	echo $(($(cat /tmp/t1) - t0)) >>/tmp/boot.$k
	[ -s /tmp/ti ] && echo $(($(cat /tmp/ti) - t0)) >>/tmp/init.$k
	sed -n 's/.*start-up: \([0-9.]*\) ms.*/\1/p' /tmp/err.$k.$7 >>/tmp/start.$k
}

# The variants: NAME|CONSOLE|PARAMS|OPTIONS|INITRD|BINARIES. Newer options
# run with this lkvm only (REF may predate them), lkvm's own options with
# no peer. serial-every-exit
# turns off all three console shortcuts (register image, coalesced THR,
# earlycon=sbi; "none" names no earlycon driver): every 8250 access then
# exits to lkvm, as in a VMM whose 8250 has none of them (kvmtool's).
cat >/tmp/variants <<VARIANTS
serial|serial|||$INITRD|$ALL
serial-quiet|serial|quiet||$INITRD|$ALL
serial-no-uart-image|serial||--no-uart-image|$INITRD|lkvm
serial-every-exit|serial|console=ttyS0 earlycon=none|--no-uart-image --no-coalesced-mmio|$INITRD|lkvm
hv|hv|||$INITRD|$ALL
hv-quiet|hv|quiet||$INITRD|$ALL
serial-hugetlb|serial||--hugetlb|$INITRD|lkvm
serial-quiet-hugetlb|serial|quiet|--hugetlb|$INITRD|lkvm
serial-quiet-e2e-initramfs|serial|quiet||$E2E_INITRD|$ALL
VARIANTS

summary() {
	k=$2.$1
	[ -s /tmp/init.$k ] &&
		echo "BENCH boot-to-init-start $1 [$2]: median $(median </tmp/init.$k) ms, min $(minimum </tmp/init.$k) ms (runs: $(echo $(cat /tmp/init.$k))): VMM start to the first line of /init"
	echo "BENCH boot-to-init $1 [$2]: median $(median </tmp/boot.$k) ms, min $(minimum </tmp/boot.$k) ms (runs: $(echo $(cat /tmp/boot.$k))): to the e2e marker"
	[ $2 != peer ] || return 0
	echo "BENCH start-up $1 [$2]: median $(median </tmp/start.$k) ms from lkvm run to the first KVM_RUN; $(sed -n 's/.*images: //p' /tmp/err.$k.$RUNS)"
	echo "BENCH memory $1 [$2]: $(sed -n 's/.*stats: ran/ran/p' /tmp/err.$k.$RUNS)"
	echo "BENCH exits $1 [$2] (last run): $(sed -n 's/.*stats: exits/exits/p' /tmp/err.$k.$RUNS)"
	grep -q 'stats: kvm counted' /tmp/err.$k.$RUNS &&
		echo "BENCH kvm exits $1 [$2] (last run): $(sed -n 's/.*stats: kvm counted //p' /tmp/err.$k.$RUNS)"
	grep -q 'uart register image' /tmp/err.$k.$RUNS &&
		echo "BENCH uart image $1 [$2] (last run): $(sed -n 's/.*stats: uart register image //p' /tmp/err.$k.$RUNS)"
}

echo "BENCH setup: QEMU TCG -M virt, L1 $(nproc) cpus linux $(uname -r); L2: 1 vCPU, 256 MiB, busybox initramfs $(wc -c <$INITRD) bytes; $RUNS runs each of: $ALL"
echo "BENCH order: round-robin, one boot of each variant and binary per round, so that the host's slow spells hit all alike"
# guest RAM from huge pages for the --hugetlb variants: KVM maps the guest
# in 2 MiB blocks (150 pages: enough for one 256 MiB guest at a time)
echo 150 >/proc/sys/vm/nr_hugepages
i=1
while [ $i -le $RUNS ]; do
	while IFS='|' read -r name con params opts initrd bins; do
		for b in $bins; do
			[ $i -gt 1 ] || : >/tmp/boot.$b.$name
			[ $i -gt 1 ] || : >/tmp/init.$b.$name
			[ $i -gt 1 ] || : >/tmp/start.$b.$name
			boot $b "$name" "$con" "$params" "$opts" "$initrd" $i
		done
	done </tmp/variants
	i=$((i + 1))
done
echo 0 >/proc/sys/vm/nr_hugepages
while IFS='|' read -r name con params opts initrd bins; do
	for b in $bins; do
		summary "$name" $b
	done
done </tmp/variants

# paired KEY-A KEY-B: A's time over B's, round by round (both booted in
# the same round), to the first line of /init (to the e2e marker where
# /init does not say when it starts); the median of the ratios. A boot
# without its marker counts as 0, and its round is left out.
paired() {
	t=init
	[ -s /tmp/init.$1 ] && [ -s /tmp/init.$2 ] || t=boot
	[ -s /tmp/$t.$1 ] && [ -s /tmp/$t.$2 ] || return 0
	r=$(paste /tmp/$t.$1 /tmp/$t.$2 | awk '$1 > 0 && $2 > 0 { printf "%.2f\n", $1 / $2 }')
	echo "BENCH paired $1 / $2 (to $t): median $(echo "$r" | median) (rounds: $(echo $r))"
}
paired lkvm.serial lkvm.serial-no-uart-image
paired lkvm.serial lkvm.serial-every-exit
paired lkvm.serial-quiet-hugetlb lkvm.serial-quiet
paired lkvm.serial lkvm.hv
for other in ref peer; do
	for v in serial serial-quiet hv hv-quiet serial-quiet-e2e-initramfs; do
		paired lkvm.$v $other.$v
	done
done

# Where a verbose serial boot's guest time goes, by the guest's own clock.
echo "BENCH timeline (guest printk time of the last verbose serial boot):"
tr -d '\r' </tmp/out.lkvm.serial.$RUNS | grep -E 'Linux version|Unpacking initramfs|Freeing initrd|printk: console .*enabled|Serial: 8250|ttyS0 at|Run /init|Freeing unused kernel' |
	sed 's/^/BENCH   /'
cp /tmp/out.lkvm.serial.$RUNS /host/results/boot-serial-console.log
echo "BENCH   lines of console output: $(wc -l </tmp/out.lkvm.serial.$RUNS), bytes: $(wc -c </tmp/out.lkvm.serial.$RUNS)"
echo "BENCH reference (upstream kvmtool; figures from the e2e recipe, NOT measured here): serial 2700-2800 ms, serial with quiet 1700 ms"
