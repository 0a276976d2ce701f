# --console virtio: a virtio-console device is the guest's console (hvc1,
# the SBI console being hvc0); output and input both go through it. Over
# PCI, the default, its interrupt is INTA of slot 0: PLIC source 12.
# machine: virt virt@6.1
# timeout: 90
guest_sh out 'cat /proc/consoles; grep virtio /proc/interrupts; echo answer-$((6 * 7))' --console virtio
expect_rc 0
expect_grep '^hvc1 .*\(E' out
expect_grep 'PLIC +12 .* virtio0' out
expect_grep '^answer-42' out
