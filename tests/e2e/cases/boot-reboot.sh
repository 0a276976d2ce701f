# The guest's reboot request makes lkvm exit with status 2 (documented in
# `lkvm run --help`); its poweroff with 0.
# machine: virt
# timeout: 90
run out $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=reboot"
expect_rc 2
expect_grep '@@ L2 init' out
expect_grep 'guest asked for a reboot' out
run help $LKVM run --help
expect_grep '^Exit status: 0 guest powered off' help
expect_grep "1 lkvm's error, 2 guest asked to reboot" help
