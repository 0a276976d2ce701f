# A hostile bare-metal guest drives the virtio-rng queue over virtio-mmio
# with a descriptor loop, a buffer outside RAM and out-of-range indexes:
# each time the device sets DEVICE_NEEDS_RESET and serves again after a
# reset; lkvm stays up and exits 0 at the guest's shutdown.
# machine: virt
# timeout: 60
for notify in ioeventfd mmio-exit; do
	flag=
	[ $notify = mmio-exit ] && flag=--no-ioeventfd
	run out $LKVM run -k $GUESTS/virtio-hostile.bin -m 64 --rng $flag \
		--virtio-transport mmio
	expect_rc 0
	expect_grep '^virtio-hostile: PASSED' out
	expect_no_grep 'WRONG' out
	expect_grep 'virtio-rng' out
done
