# Host input reaches the guest's shell through the 8250 (RX FIFO and its
# interrupt through the PLIC) and through the SBI console (hvc0), with
# stdin a plain pipe (no tty): the guest runs what it reads and powers off.
# machine: virt virt@6.1
# timeout: 120
for con in serial hv; do
	rm -f /tmp/in /tmp/out.$con
	mkfifo /tmp/in
	$LKVM run -k $KERNEL -i $INITRD --console $con -p "quiet l2=shell" \
		</tmp/in >/tmp/out.$con 2>&1 &
	pid=$!
	exec 3>/tmp/in
	wait_for '@@ L2 init' /tmp/out.$con 60
	sleep 1
	echo 'echo answer-$((6 * 7)); poweroff -f' >&3
	wait $pid
	rc=$?
	exec 3>&-
	echo "--- $con console, rc=$rc"
	tr -d '\r' </tmp/out.$con | tail -n 5
	[ $rc = 0 ] || fail "$con: exit status $rc"
	grep -q '^answer-42' /tmp/out.$con || fail "$con: the guest did not run the input"
done
