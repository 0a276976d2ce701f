# lkvm info on an AIA L1 without guest files: in-kernel AIA, emulated mode.
# machine: aia
# timeout: 60
run out $LKVM info
expect_rc 0
expect_grep '^In-kernel irqchip +aia \(in-kernel APLIC\+IMSIC, mode emul' out
expect_grep '^Irqchips +plic aia$' out
expect_grep '^ISA extensions +.*ssaia' out
run json $LKVM info --json
expect_rc 0
expect_grep '"aia":\{"available":true,"default_mode":"emul","hwaccel":false,"ids":[1-9][0-9]*\}' json
expect_grep '"irqchip":true' json
