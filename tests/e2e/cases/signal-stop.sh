# SIGTERM and SIGINT stop a running guest: every thread is torn down and
# lkvm exits with 128 + the signal number.
# machine: virt
# timeout: 90
for sig in TERM INT; do
	rm -f /tmp/in /tmp/out
	mkfifo /tmp/in
	$LKVM run -k $KERNEL -i $INITRD -c 2 -p "quiet l2=shell" </tmp/in >/tmp/out 2>&1 &
	pid=$!
	exec 3>/tmp/in
	wait_for '@@ L2 init' /tmp/out 60
	kill -$sig $pid
	wait $pid
	rc=$?
	exec 3>&-
	tail -n 2 /tmp/out
	case $sig in TERM) n=15 ;; INT) n=2 ;; esac
	echo "SIG$sig: rc=$rc"
	[ $rc = $((128 + n)) ] || fail "SIG$sig: exit status $rc, expected $((128 + n))"
	grep -q "lkvm: signal $n: stopping the VM" /tmp/out || fail "no stop message for SIG$sig"
done
