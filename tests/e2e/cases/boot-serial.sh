# Boot L2 Linux to its init on the 8250 console, then power off (exit 0).
# machine: virt virt@6.1
# timeout: 90
run out $LKVM run -k $KERNEL -i $INITRD -m 256 -c 1 -p "earlycon=sbi"
expect_rc 0
expect_grep '@@ L2 init: initramfs nproc=1 ' out
expect_grep 'ttyS0 at MMIO 0x10000000' out
