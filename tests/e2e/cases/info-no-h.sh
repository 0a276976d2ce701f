# lkvm info on a CPU without the H extension: one clear line, exit 1.
# machine: no-h
# timeout: 60
[ ! -e /dev/kvm ] || fail "L1 without H has /dev/kvm"
run out $LKVM info
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: /dev/kvm: not available: this CPU has no hypervisor \(H\) extension' out
run out $LKVM info --json
expect_rc 1
expect_lines 1 out
