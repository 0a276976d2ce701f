# kvm_aia_setup() against the real KVM: 1 to 8 vCPUs reach INIT, wired
# sources move with KVM_IRQ_LINE, and the refusals are the documented ones;
# kvm_aia_reset() (a reboot that keeps the VM) clears the APLIC and lowers
# its lines.
# machine: aia aia-hw
# timeout: 60
run out /host/bin/aia-check
expect_rc 0
expect_grep '^ok +8 vCPUs: set-up 0 \(\) mode (emul|auto) ids [1-9][0-9]* srcs 63 hart_bits 3$' out
expect_grep '^ok +misaligned IMSIC base: -22 \(AIA set-up: IMSIC base 0x28001000 is not 0x2000-aligned' out
expect_grep '^ok +reset: 0: domaincfg 0x0 sourcecfg 0x0 target 0x0 ie 0x0 ip 0x0 input 0x0$' out
expect_grep '^aia-check: 0 failed$' out
