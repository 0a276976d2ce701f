# kvm-unit-tests' runner interface (issue 15), with a flat test program
# shaped like one of its tests (guests/testexit.c): `lkvm --help` has
# kvmtool's heading, the early-failure probe reads kvmtool's line, and the
# test's own command line boots, --params reaching the guest verbatim
# (--nodefaults) and the environment file as the initrd.
# machine: virt
# timeout: 90
run out $LKVM --help
expect_rc 0
expect_grep '^The most commonly used lkvm commands are:' out

printf 'FOO=bar\nQUX=1 2\n' >/tmp/kut.env
# The runner's probe: its command line with the kernel _NO_FILE_4Uhere_.
run out $LKVM run --kernel _NO_FILE_4Uhere_ --cpus 2 --params 'a b c' \
	--nodefaults --network mode=none --loglevel=warning --initrd /tmp/kut.env
expect_rc 1
expect_lines 1 out
expect_grep 'Fatal: Unable to open kernel _NO_FILE_4Uhere_' out

# A test's command line: argv and environment, SRST shutdown exits 0.
run out $LKVM run --kernel $GUESTS/testexit.bin --cpus 2 --params 'a b c' \
	--nodefaults --network mode=none --loglevel=warning --initrd /tmp/kut.env
expect_rc 0
expect_grep '^testexit: argv: \[a b c\]$' out
expect_grep '^testexit: argc: 3$' out
expect_grep '^testexit: env: FOO=bar$' out
expect_grep '^testexit: env: QUX=1 2$' out
expect_grep '^testexit: action shutdown$' out
expect_no_grep '^lkvm: (warning|error)' out

# kvmtool's positional kernel; without --nodefaults lkvm adds its console=.
run out $LKVM run $GUESTS/testexit.bin -m 64 -p 'x y'
expect_rc 0
expect_grep '^testexit: argv: \[console=ttyS0 (earlycon=sbi )?x y\]$' out
expect_grep '^testexit: no initrd$' out

# A -n the runner's syntax does not know: one line.
run out $LKVM run $GUESTS/testexit.bin -n mode=bogus
expect_rc 1
expect_lines 1 out
expect_grep "network: bad value for mode: 'bogus'" out
