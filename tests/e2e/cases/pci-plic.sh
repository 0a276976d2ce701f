# Without an in-kernel AIA (the PLIC machine; 6.1 has no AIA at all):
# --irqchip auto (the default) silently uses the userspace PLIC, virtio
# works over PCI (INTx through the PLIC, the default transport) and MMIO,
# and --irqchip aia is refused with one clear line, the disk untouched.
# machine: virt virt@6.1
# timeout: 200
cp $IMAGES/l2-disk.ext4 /tmp/root.img
show='cat /proc/interrupts; ls /sys/bus/pci/devices | cat; ls /sys/bus/virtio/devices | cat; head -c 512 /dev/vda | wc -c'
for tr in pci mmio; do
	for chip in auto plic; do
		echo "== --virtio-transport $tr --irqchip $chip"
		GSH_BOOT=
		guest_sh out "$show" -d /tmp/root.img --virtio-transport $tr --irqchip $chip --rng
		expect_rc 0
		expect_grep '^@@ L2 init: disk ' out
		expect_grep '^virtio1' out
		expect_grep '^512$' out
		expect_grep 'PLIC.*virtio0' out
		expect_no_grep 'APLIC|IMSIC|MSI' out
		if [ $tr = pci ]; then
			expect_grep '^0000:00:00\.0' out
			expect_grep '^0000:00:01\.0' out
		else
			expect_no_grep '^0000:00:' out
		fi
	done
done
sum0=$(md5sum </tmp/root.img)
run out $LKVM run -k $KERNEL -d /tmp/root.img --irqchip aia
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: --irqchip aia: .*AIA' out
[ "$(md5sum </tmp/root.img)" = "$sum0" ] || fail "the disk image changed"
rm -f /tmp/root.img
