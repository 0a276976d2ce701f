# A bare-metal guest (flat binary) makes SBI calls lkvm must refuse per the
# spec (experimental, vendor, DBCN with bad buffers) and goes on to power
# off: lkvm keeps serving and exits 0.
# machine: virt virt@6.1
# timeout: 60
run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64
expect_rc 0
expect_grep '^sbi-probe: experimental 0x08000000 -> -2 ok' out
expect_grep '^sbi-probe: vendor 0x09000000 -> -2 ok' out
expect_grep '^sbi-probe: PASSED' out
expect_no_grep 'WRONG' out
case $(l1_kernel) in
6.1) expect_grep '^sbi-probe: DBCN absent' out ;;
*)
	expect_grep '^sbi-probe: DBCN present' out
	expect_grep '^sbi-probe: hello through DBCN' out
	expect_grep '^sbi-probe: DBCN write outside RAM -> -3 ok' out
	;;
esac
# The refusals were logged, rate-limited, on stderr.
expect_grep 'sbi: extension 0x8000000 function 0 not supported' out
