# lkvm info on an AIA L1 with 7 IMSIC guest files: hardware-accelerated AIA.
# machine: aia-hw
# timeout: 60
run out $LKVM info
expect_rc 0
expect_grep '^In-kernel irqchip +aia \(in-kernel APLIC\+IMSIC, mode auto, hwaccel possible' out
expect_grep '^Irqchips +plic \(userspace\), aia \(in-kernel, mode auto, [1-9][0-9]* IDs\)$' out
expect_grep '^Transports +virtio-mmio, virtio-pci \(MSI-X\)$' out
run json $LKVM info --json
expect_rc 0
expect_grep '"aia":\{"available":true,"default_mode":"auto","hwaccel":true,"ids":[1-9][0-9]*,"init":true\}' json
expect_grep '"irqchips":\["plic","aia"\]' json
expect_grep '"transports":\{"virtio-mmio":"wired","virtio-pci":"msix"\}' json
