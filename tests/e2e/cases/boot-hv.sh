# Boot with --console hv: the kernel's console is hvc0 (SBI DBCN on 6.12,
# the legacy putchar on 6.1) and earlycon=sbi prints the early log.
# machine: virt virt@6.1
# timeout: 90
run out $LKVM run -k $KERNEL -i $INITRD -m 256 --console hv -p earlycon=sbi
expect_rc 0
expect_grep '@@ L2 init: initramfs nproc=1 ' out
expect_grep 'bootconsole \[sbi0\] enabled' out
expect_grep 'Kernel command line: console=hvc0 earlycon=sbi' out
expect_grep 'console \[hvc0\] enabled' out
