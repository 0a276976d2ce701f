# lkvm info's errors: no device, no permission, bad options; lkvm's own
# help and version.
# machine: virt
# timeout: 60
run out $LKVM info --dev /nonexistent/kvm
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: /nonexistent/kvm: not available: the kernel has no KVM' out

run out su nobody -s /bin/sh -c "$LKVM info"
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: /dev/kvm: permission denied' out

run out $LKVM info --bogus
expect_rc 1
expect_lines 1 out
expect_grep "unknown option '--bogus'" out

run out $LKVM info extra
expect_rc 1
expect_grep "unexpected argument 'extra'" out

run out $LKVM frobnicate
expect_rc 1
expect_lines 1 out
expect_grep "unknown command 'frobnicate'" out

run out $LKVM version
expect_rc 0
expect_grep '^lkvm version ' out

run out $LKVM help info
expect_rc 0
expect_grep '[-]-json' out
