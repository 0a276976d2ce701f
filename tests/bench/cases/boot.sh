# Benchmark (not a test): L2 boot time from lkvm start to the guest's init
# marker, 5 runs per console; lkvm's start-up time and memory (--stats).
# machine: virt
# timeout: 400
# /proc/uptime has 10 ms resolution: enough for boots of seconds.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for con in serial hv; do
	: >/tmp/boot.$con
	: >/tmp/start.$con
	for i in 1 2 3 4 5; do
		t0=$(now_ms)
		$LKVM run -k $KERNEL -i $INITRD -m 256 -c 1 --console $con \
			-p quiet --stats 2>/tmp/err.$con.$i | while read -r line; do
			case $line in
			*"@@ L2 init"*) now_ms >/tmp/t1 ;;
			esac
		done
		echo $(($(cat /tmp/t1) - t0)) >>/tmp/boot.$con
		sed -n 's/.*start-up: \([0-9.]*\) ms.*/\1/p' /tmp/err.$con.$i >>/tmp/start.$con
		grep 'stats:' /tmp/err.$con.$i >/tmp/stats.$con || cat /tmp/err.$con.$i
	done
	echo "BENCH boot-to-init $con: median $(median </tmp/boot.$con) ms (runs: $(echo $(cat /tmp/boot.$con)))"
	echo "BENCH start-up $con: median $(median </tmp/start.$con) ms from lkvm run to the first KVM_RUN"
	echo "BENCH memory $con: $(sed 's/.*stats: //' /tmp/stats.$con)"
done
