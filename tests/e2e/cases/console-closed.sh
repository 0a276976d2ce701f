# lkvm's stdout goes away mid-boot: a pipe whose reader exits after the
# first lines (writes then fail with EPIPE, and SIGPIPE unless ignored),
# or a closed descriptor. The guest keeps running and powers off normally:
# lkvm exits 0, and its console output never blocks the guest.
# machine: virt
# timeout: 150
rm -f /tmp/cc.pipe
mkfifo /tmp/cc.pipe
head -n 3 </tmp/cc.pipe >/tmp/cc.first &
hpid=$!
echo "+ lkvm run ... >pipe whose reader exits after 3 lines"
t0=$(now_cs)
$LKVM run -k $KERNEL -i $INITRD -c 2 -p "console=ttyS0 l2=poweroff" \
	>/tmp/cc.pipe 2>/tmp/cc.err
rc=$?
wait $hpid
echo "  rc=$rc after $(($(now_cs) - t0))0 ms"
sed 's/^/  stdout | /' /tmp/cc.first
sed 's/^/  stderr | /' /tmp/cc.err | tail -n 5
expect_lines 3 /tmp/cc.first
expect_rc 0

echo "+ lkvm run ... 1>&- (stdout closed)"
$LKVM run -k $KERNEL -i $INITRD -c 2 -p "console=ttyS0 l2=poweroff" \
	--stats 1>&- 2>/tmp/cc.err
rc=$?
sed 's/^/  stderr | /' /tmp/cc.err | tail -n 5
expect_rc 0
# it ran the guest to its end: --stats reports at exit
expect_grep 'stats: ran ' /tmp/cc.err
rm -f /tmp/cc.pipe /tmp/cc.first /tmp/cc.err
