# The seccomp filter: on by default (--stats says so, and a guest with a
# disk and virtio-rng boots and powers off under it), off with
# --no-seccomp; a denied syscall stops lkvm with one line naming it and
# the thread, exit status 159. The denials are made on purpose by the
# test hook LKVM_SECCOMP_SELFTEST=THREAD: socket() on the main thread
# (denied everywhere), close() on another thread (allowed by the process
# filter, denied by that thread's own), e.g. aio, which started before
# the filter and puts its own on when the guest's first read completes.
# machine: virt
# timeout: 150
cp $IMAGES/l2-disk.ext4 /tmp/sc.img

run out $LKVM run -k $KERNEL -i $INITRD -p quiet -c 2 --rng -d /tmp/sc.img --stats
expect_rc 0
expect_grep '^lkvm: seccomp: filter installed \([0-9]+ rules\); per thread: main [0-9]+, vcpu [0-9]+' out
expect_grep '@@ L2 init: initramfs nproc=2 ' out
expect_no_grep 'denied syscall' out

run out $LKVM run -k $KERNEL -i $INITRD -p quiet --no-seccomp --stats
expect_rc 0
expect_grep '^lkvm: seccomp: off \(--no-seccomp\)$' out
expect_no_grep 'filter installed' out
expect_grep '@@ L2 init: initramfs nproc=1 ' out

# selftest THREAD SYSCALL [LKVM-RUN-ARGS...]: lkvm stops with the denial
# of SYSCALL on THREAD, and nothing after it from lkvm.
selftest() {
	thread=$1 sc=$2
	shift 2
	run out env LKVM_SECCOMP_SELFTEST=$thread $LKVM run -k $KERNEL -i $INITRD -p quiet "$@"
	expect_rc 159
	expect_grep "^lkvm: seccomp: denied syscall $sc \([0-9]+\) on thread $thread: stopping$" out
	[ "$(grep -c '^lkvm: seccomp: denied' out)" = 1 ] || fail "more than one denial line"
	# exit(159), not killed by a second SIGSYS in the handler
	expect_no_grep 'Bad system call' out
	expect_no_grep 'was not denied' out
}
selftest main socket
expect_no_grep '@@ L2 init' out
selftest vcpu0 close
selftest vcpu1 close -c 2
selftest io close --rng
selftest input close
selftest console close
selftest aio close -d /tmp/sc.img
selftest blkio close -d /tmp/sc.img --io-engine threads
rm -f /tmp/sc.img
