# --hugetlb: guest RAM from the huge page pool. With a pool the guest boots
# (and lkvm holds the pages while it runs); without one, or with -m not a
# multiple of the huge page size, one clear line and exit 1.
# machine: virt
# timeout: 90
echo 0 >/proc/sys/vm/nr_hugepages
run out $LKVM run -k $KERNEL -i $INITRD -m 64 --hugetlb
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: cannot allocate 64 MiB of guest RAM from huge pages: .*nr_hugepages' out
echo 40 >/proc/sys/vm/nr_hugepages
run out $LKVM run -k $KERNEL -i $INITRD -m 63 --hugetlb
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: --hugetlb: -m 63 MiB is not a multiple of the huge page size \(2048 KiB\)' out
run out $LKVM run -k $KERNEL -i $INITRD -m 64 --hugetlb -p "l2=poweroff" --stats
expect_rc 0
expect_grep '^@@ L2 init' out
# the pool is back in full once lkvm is gone
expect_grep '^HugePages_Free: +40$' /proc/meminfo
echo 0 >/proc/sys/vm/nr_hugepages
