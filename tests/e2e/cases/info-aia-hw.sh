# lkvm info on an AIA L1 with 7 IMSIC guest files: hardware-accelerated AIA.
# machine: aia-hw
# timeout: 60
run out $LKVM info
expect_rc 0
expect_grep '^In-kernel irqchip +aia \(in-kernel APLIC\+IMSIC, mode auto, hwaccel possible' out
run json $LKVM info --json
expect_rc 0
expect_grep '"aia":\{"available":true,"default_mode":"auto","hwaccel":true,' json
