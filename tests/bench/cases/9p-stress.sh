# Fidelity, not speed: real file-system exercisers in L2 on a 9p share of
# L1's /tmp: stress-ng's filesystem class, every stressor in turn for a
# few seconds with --verify, and dbench (2 clients). The Debian riscv64
# tools come from the debian-tools disk (tools.ext4, attached read-only).
# The case passes when both ran to the end; the per-stressor results
# (passed, failed, skipped, with the failures' lines) are printed as
# STRESS lines for the report. fsize again alone, bounded by operations
# rather than time (FSIZE-BY-OPS): 9p has no fallocate, and stress-ng's
# emulation of it writes nothing once the run's time is up, so the last
# round of a timed run reports "fallocate unexpectedly succeeded".
# BENCH_ONLY=MODE mounts the share with cache=MODE (none, the mount's
# default, unless given; lkvm's own mounts use mmap, the sandbox's root
# loose). Run: LKVM_E2E_CASES=tests/bench/cases tests/e2e/run.sh 9p-stress
# machine: virt
# needs: debian-tools
# timeout: 3000
T=$IMAGES/debian-tools
[ -f $T/tools.ext4 ] || fail "no debian-tools staged in $T"
rm -rf /tmp/st
mkdir -p /tmp/st
CACHE=${BENCH_ONLY:-none}
MNT="mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=$CACHE st /mnt"
echo "STRESS cache=$CACHE"
SECS=${STRESS_SECS:-2}
GSH_TIMEOUT=2400
GSH_BOOT="-i $INITRD"
guest_sh out "set -o pipefail; mkdir -p /tools && mount -o ro /dev/vda /tools && $MNT && echo mounted; cd /mnt && /tools/run stress-ng --class filesystem --sequential 1 --timeout $SECS --verify --temp-path /mnt --oom-avoid 2>&1 | sed 's/^/SN /'; echo stress-ng-rc=\$?; /tools/run stress-ng --fsize 1 --fsize-ops 3 --timeout 120 --temp-path /mnt 2>&1 | sed 's/^/SF /'; /tools/run dbench -c /tools/usr/share/dbench/client.txt -D /mnt -t 10 2 2>&1 | tail -n 25 | sed 's/^/DB /'; echo dbench-done; cd /; umount /mnt" \
	-m 512 -d $T/tools.ext4,ro --9p /tmp/st,st
expect_grep '^mounted' out
expect_grep 'stress-ng-rc=' out
expect_grep '^dbench-done' out
tr -d '\r' <out | grep -E '^SN .*(passed|failed|skipped|untrustworthy):' | sed 's/^SN .*\] */STRESS /'
tr -d '\r' <out | grep -E '^SN .*(fail|FAIL|error|verif)' | grep -v ' passed:' | sed 's/^SN /STRESS-LINE /' | head -n 60
tr -d '\r' <out | grep -E '^SF .*(passed|failed|fail:)' | sed 's/^SF .*\] */FSIZE-BY-OPS /'
tr -d '\r' <out | grep -E '^DB .*(Throughput|Operation|NTCreateX|WriteX|ReadX|Flush|Unlink|ERROR|error|failed)' | sed 's/^DB /DBENCH /'
rm -rf /tmp/st
