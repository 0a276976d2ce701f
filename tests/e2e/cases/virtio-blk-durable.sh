# Data is sacred: a write the guest saw complete after a flush (sync) is on
# the disk even when lkvm is killed with SIGKILL right after.
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
rm -f /tmp/dur.img
