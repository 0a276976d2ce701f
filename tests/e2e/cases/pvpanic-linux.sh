# A Linux guest that panics (echo c > /proc/sysrq-trigger; the L2 kernel
# has PVPANIC_MMIO and MAGIC_SYSRQ) is told apart from every other end: its
# pvpanic driver writes PANICKED to lkvm's "qemu,pvpanic-mmio" register and
# lkvm says so in one line and exits 4; with --panic continue it says so
# and keeps running until --timeout (124).
# machine: virt
# timeout: 240
run out $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=panic"
expect_rc 4
expect_grep '^@@ L2 panicking' out
expect_grep 'Kernel panic - not syncing: sysrq triggered crash' out
expect_grep 'pvpanic: the guest kernel panicked: exiting with status 4' out
[ "$(grep -c 'pvpanic:' out)" = 1 ] || fail "more than one pvpanic line"

t=$((40 * E2E_SLOW))
run out $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=panic" --panic continue \
	--timeout $t
expect_rc 124
expect_grep 'Kernel panic - not syncing: sysrq triggered crash' out
expect_grep 'pvpanic: the guest kernel panicked: running on \(--panic continue\)' out
expect_grep "timeout: the guest ran for $t s: stopping it \(exit status 124\)" out
