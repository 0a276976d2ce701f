# --rng: a virtio-rng device over virtio-mmio; the guest reads /dev/hwrng.
# machine: virt virt@6.1
# timeout: 90
guest_sh out 'cat /sys/class/misc/hw_random/rng_current; dd if=/dev/hwrng bs=256 count=4 2>/dev/null | wc -c; echo rng-done' --rng
expect_rc 0
expect_grep '^virtio_rng' out
expect_grep '^1024' out
expect_grep '^rng-done' out
