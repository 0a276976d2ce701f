# A misbehaving bare-metal guest: unmapped MMIO, unimplemented access sizes
# and offsets, the seed CSR (with -cpu max the L1 has Zkr, so KVM may
# leave it to lkvm, which answers with an illegal-instruction trap).
# lkvm logs each (rate-limited), keeps serving, and exits 0 at shutdown.
# Its UART polling gets the register image; every register change shows
# at once.
# machine: virt max
# timeout: 60
run out $LKVM run -k $GUESTS/misbehave.bin -m 64 --stats
expect_rc 0
# its LSR polling got the UART's register image (and every change took it
# away again: the checks above)
expect_grep 'uart register image mapped [1-9][0-9]* times' out
expect_grep '^misbehave: PASSED' out
expect_no_grep 'WRONG' out
expect_grep 'read of 4 bytes at 0x20000000: no device' out
# A guest that jumps where it has no memory (a flat image of one
# instruction, jalr x0, 0(x0): to address 0, paging off): KVM 6.12 gives
# up on the fetch; lkvm says so in one line, with where the guest's satp
# puts the address, and exits 1.
printf '\147\000\000\000' >/tmp/jump0.flat
run jump $LKVM run -k /tmp/jump0.flat -m 64
expect_rc 1
expect_lines 1 jump
expect_grep '^lkvm: error: vcpu0: the guest crashed: it fetched an instruction at 0x0, where it has no memory \(KVM_RUN: Operation not supported\); satp 0x0 \(paging off\): guest-physical 0x0, outside RAM$' jump
# KVM hands the seed CSR to lkvm only when the guest has Zkr (KVM answers
# an illegal instruction itself otherwise): then lkvm logs it, once, and
# the guest saw the illegal-instruction trap (checked by the guest).
run info $LKVM info
if grep -q '^ISA extensions.*zkr' info; then
	echo "(Zkr offered: the seed CSR must reach lkvm)"
	expect_grep '^lkvm: warning: vcpu0: CSR 0x15 not emulated: illegal instruction$' out
else
	echo "(no Zkr: the seed CSR must not reach lkvm)"
	expect_no_grep 'CSR 0x15' out
fi
