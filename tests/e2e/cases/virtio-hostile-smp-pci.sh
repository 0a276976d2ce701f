# The hostile 2-hart bare-metal guest of virtio-hostile-smp-mmio over
# virtio-pci: it enumerates the ECAM, assigns the BARs in the 32-bit
# window and drives the devices through the modern capabilities (QueueSel
# flipped between 0 and 0xffff). Same scenarios and assertions, with
# ioeventfd and without.
# machine: virt
# timeout: 600
hsmp_all pci
