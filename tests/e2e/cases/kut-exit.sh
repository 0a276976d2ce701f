# Exit statuses a CI can trust (issue 15): a flat test program
# (guests/testexit.c) leaves through SBI SRST, the test finisher
# ("sifive,test0" at 0x100000) with several codes, the pvpanic register
# (a bare-metal write; pvpanic-linux has a Linux guest panic), or never
# (--timeout).
# machine: virt
# timeout: 120

# leave ACTION RC [lkvm options]: run testexit with ACTION=ACTION in its
# environment file; lkvm must exit with RC.
leave() {
	printf 'ACTION=%s\n' "$1" >/tmp/act.env
	want=$2
	shift 2
	run out $LKVM run -k $GUESTS/testexit.bin -m 64 --nodefaults \
		-i /tmp/act.env "$@"
	expect_rc $want
}

leave shutdown 0
leave sysfail 3
expect_grep 'guest reported a system failure \(SBI SRST shutdown\): exiting with status 3' out
leave pass 0
expect_grep '^testexit: finisher 0x5555$' out
leave fail:7 7
expect_grep 'test finisher: 0x73333 \(fail\): exiting with status 7' out
leave fail:1 1
leave fail:0 3
leave fail:300 255
leave reset 2 --no-reboot
expect_grep 'test finisher: 0x7777 \(reset\): exiting with status 2' out
# without --no-reboot a reset reboots in place: the program starts again
leave reset 124 --timeout 3
expect_grep 'test finisher: 0x7777 \(reset\): rebooting' out
[ "$(grep -c '^testexit: finisher 0x7777' out)" -ge 2 ] ||
	fail "the finisher's reset did not boot the program again"
# rc 4 also proves the register read 3 (the guest checks)
leave panic 4
expect_grep 'pvpanic events 0x3' out
expect_grep 'pvpanic: the guest kernel panicked: exiting with status 4' out
leave panic 0 --panic continue
expect_grep 'running on \(--panic continue\)' out
expect_grep '^testexit: running on after the panic$' out
leave hang 124 --timeout 2
expect_grep '^testexit: hanging$' out
expect_grep '--timeout: the guest ran for 2 s: stopping it \(exit status 124\)' out
