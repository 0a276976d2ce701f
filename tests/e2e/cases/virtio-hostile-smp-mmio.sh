# A hostile 2-hart bare-metal guest (guests/hostile-smp.c) over virtio-mmio,
# with ioeventfd and without: QueueSel flipped out of range while the other
# hart enables queues; resets racing the doorbell; one head re-posted
# without end (lkvm never has more chains in flight than the queue size:
# the excess sets DEVICE_NEEDS_RESET; the rng keeps being served); a GET_ID
# flood while the rng must keep being served in time. Each time lkvm
# exits 0 at the guest's poweroff, both devices serve again after a reset,
# and lkvm's VmRSS stays bounded; with the attack running for ever,
# SIGTERM stops lkvm within a second (143).
# machine: virt
# timeout: 600
hsmp_all mmio
