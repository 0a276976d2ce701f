# --dump-dtb writes the guest's device tree (checked with dtc on the host
# by the unit tests; here: it is a DTB naming what the guest got).
# machine: virt
# timeout: 90
rm -f $RESULTS/guest.dtb
run out $LKVM run -k $KERNEL -i $INITRD -c 2 -p quiet --dump-dtb $RESULTS/guest.dtb
expect_rc 0
[ -s $RESULTS/guest.dtb ] || fail "no DTB written"
magic=$(od -An -tx1 -N4 $RESULTS/guest.dtb | tr -d ' ')
[ "$magic" = d00dfeed ] || fail "bad DTB magic $magic"
grep -q 'riscv,isa-extensions' $RESULTS/guest.dtb || fail "no riscv,isa-extensions"
grep -q 'cpu@1' $RESULTS/guest.dtb || fail "no cpu@1"
