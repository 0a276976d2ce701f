# lkvm info on an AIA L1 without guest files: in-kernel AIA, emulated mode.
# machine: aia
# timeout: 60
run out $LKVM info
expect_rc 0
expect_grep '^In-kernel irqchip +aia \(in-kernel APLIC\+IMSIC, mode emul' out
expect_grep '^Irqchips +plic \(userspace\), aia \(in-kernel, mode emul, [1-9][0-9]* IDs\)$' out
expect_grep '^Transports +virtio-mmio, virtio-pci \(MSI-X\)$' out
expect_grep '^ISA extensions +.*ssaia' out
run json $LKVM info --json
expect_rc 0
expect_grep '"irqchips":\["plic","aia"\]' json
expect_grep '"aia":\{"available":true,"default_mode":"emul","hwaccel":false,"ids":[1-9][0-9]*,"init":true\}' json
expect_grep '"transports":\{"virtio-mmio":"wired","virtio-pci":"msix"\}' json
expect_grep '"irqchip":true' json
