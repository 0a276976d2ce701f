# A guest's reboot (SBI SRST) boots it again in place (issue 15, item 5);
# with --no-reboot lkvm exits with status 2 instead (documented in `lkvm
# run --help`); its poweroff with 0.
# machine: virt
# timeout: 120
run out $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=reboot" --no-reboot
expect_rc 2
expect_grep '@@ L2 init' out
expect_grep 'guest asked for a reboot: exiting with status 2 \(--no-reboot\)' out
run help $LKVM run --help
expect_grep '^Exit status: 0 guest powered off' help
expect_grep "1 lkvm's error, 2 guest asked to reboot \\(SBI SRST or the finisher's" help
expect_grep '--no-reboot +a guest.s reboot \(SBI SRST\) exits 2' help
