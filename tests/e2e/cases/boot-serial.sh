# Boot L2 Linux to its init on the 8250 console, then power off (exit 0);
# without -p, lkvm adds earlycon=sbi where the guest has the SBI debug
# console (6.7+), so the early log goes out a line per SBI call and the
# 8250 does not print it all again when it starts.
# machine: virt virt@6.1
# timeout: 90
run out $LKVM run -k $KERNEL -i $INITRD -m 256 -c 1 -p "earlycon=sbi"
expect_rc 0
expect_grep '@@ L2 init: initramfs nproc=1 ' out
expect_grep 'ttyS0 at MMIO 0x10000000' out
run out $LKVM run -k $KERNEL -i $INITRD -m 256 --stats
expect_rc 0
expect_grep '@@ L2 init: initramfs nproc=1 ' out
expect_grep 'ttyS0 at MMIO 0x10000000' out
expect_grep 'Linux version' out
case $(l1_kernel) in
6.1)
	expect_grep 'Kernel command line: console=ttyS0$' out
	expect_no_grep 'bootconsole' out
	;;
*)
	expect_grep 'Kernel command line: console=ttyS0 earlycon=sbi$' out
	expect_grep 'bootconsole \[sbi0\] enabled' out
	expect_grep 'bootconsole \[sbi0\] disabled' out
	# the early log once, not again through the 8250
	[ "$(grep -c 'Linux version' out)" = 1 ] || fail "the early log came twice"
	;;
esac
