# Data is sacred: a write the guest saw complete after a flush (sync) is on
# the disk even when lkvm is killed with SIGKILL right after; and the
# guest's sync reached the host: --stats counts the disk's FLUSH requests
# and lkvm's fdatasync calls for them, both above zero.
# machine: virt
# timeout: 120
cp $IMAGES/l2-disk.ext4 /tmp/dur.img
rm -f /tmp/dur.in /tmp/dur.out
mkfifo /tmp/dur.in
$LKVM run -k $KERNEL -p "quiet l2=shell" -d /tmp/dur.img </tmp/dur.in >/tmp/dur.out 2>&1 &
pid=$!
exec 6>/tmp/dur.in
wait_for '@@ L2 init: disk' /tmp/dur.out 60
sleep 1
echo 'echo durable-$((6 * 7)) >/kept.txt; sync; echo synced-$((1 + 1))' >&6
wait_for 'synced-2' /tmp/dur.out 60
kill -9 $pid
wait $pid
exec 6>&-
GSH_BOOT=
guest_sh out 'cat /kept.txt' -d /tmp/dur.img
expect_rc 0
expect_grep '^durable-42' out

guest_sh out 'echo flushed-$((6 * 7)) >/flushed.txt; sync; echo synced' -d /tmp/dur.img --stats
expect_rc 0
expect_grep '^synced' out
# stats: disk vda (PATH): R reads, W writes, F flushes, S syncs, D write-through writes
line=$(tr -d '\r' <out | grep -E 'stats: disk vda \([^)]*dur\.img\): [0-9]+ reads, [0-9]+ writes, [0-9]+ flushes, [0-9]+ syncs, [0-9]+ write-through writes$')
[ -n "$line" ] || fail "no 'stats: disk vda (/tmp/dur.img): ...' line from --stats"
echo "$line"
flushes=$(echo "$line" | sed 's/.* \([0-9]*\) flushes.*/\1/')
syncs=$(echo "$line" | sed 's/.* \([0-9]*\) syncs,.*/\1/')
[ "$flushes" -gt 0 ] || fail "the guest's sync sent no FLUSH lkvm counted"
[ "$syncs" -gt 0 ] || fail "lkvm completed FLUSH without calling fdatasync"
rm -f /tmp/dur.img
