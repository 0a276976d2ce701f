# virtio over PCI and MMIO with the in-kernel AIA: the guest boots from a
# virtio-blk disk with --irqchip aia and auto (both pick AIA here) and plic,
# over both transports; with PCI under AIA the disk's queue interrupt is an
# MSI (IMSIC) and no PLIC exists; with 4 vCPUs and several devices the
# interrupts land on more than one hart.
# machine: aia aia-hw
# timeout: 300
cp $IMAGES/l2-disk.ext4 /tmp/root.img
show='cat /proc/interrupts; ls /sys/bus/pci/devices | cat; ls /sys/bus/virtio/devices | cat; head -c 512 /dev/vda | wc -c'
for tr in pci mmio; do
	for chip in aia auto plic; do
		echo "== --virtio-transport $tr --irqchip $chip"
		GSH_BOOT=
		guest_sh out "$show" -d /tmp/root.img --virtio-transport $tr --irqchip $chip
		expect_rc 0
		expect_grep '^@@ L2 init: disk ' out
		expect_grep '^virtio0' out
		expect_grep '^512$' out
		case $chip in
		plic)
			expect_grep '[^A]PLIC' out
			expect_no_grep 'IMSIC|APLIC' out ;;
		*)
			expect_no_grep '[^A]PLIC' out
			expect_grep 'APLIC|IMSIC' out ;;
		esac
		if [ $tr = pci ]; then
			expect_grep '^0000:00:00\.0' out
			case $chip in
			plic) expect_grep 'PLIC.*virtio0' out ;;
			*) expect_grep 'PCI-MSIX?-0000:00:00\.0.*virtio0-(req|config)' out ;;
			esac
		else
			expect_no_grep '^0000:00:' out
		fi
	done
done

# --irqchip aia with PCI, 4 vCPUs, two disks and rng (initramfs boot):
# MSI vectors on several harts, and every device works. The IMSIC files
# are KVM's emulated ones (--aia-mode emul): with hardware guest files
# (aia-hw's default mode) SMP L2 guests stall now and then, and upstream
# kvmtool's do too in the same L1 (tests/bench/aia-stall.sh PEER=...; the
# counts are in the commit that added this note). It is L1's KVM (Linux
# 6.12): a vCPU that sleeps in WFI looks for its guest file's HGEIP bit,
# and arms HGEIE, on the L1 hart its thread is on now, not on the hart that
# holds its guest file, so once the thread has moved it sleeps with an
# MSI or IPI pending. Upstream fixes: 4cec89db80ba ("RISC-V: KVM: Move
# HGEI[E|P] CSR access to IMSIC virtualization") and 873f10cf8e4d
# ("RISC-V: KVM: Read HGEIP CSR on the correct cpu"); with an L1 kernel
# that has both, this pin can go.
cp /tmp/root.img /tmp/d2.img
# vdb's data differs from vda's: each disk's reads are checked
dd if=/dev/urandom of=/tmp/d2.img bs=64k count=16 conv=notrunc 2>/dev/null
sum_a=$(md5sum </tmp/root.img | cut -d' ' -f1)
sum_b=$(md5sum </tmp/d2.img | cut -d' ' -f1)
unset GSH_BOOT
guest_sh out 'cat /proc/interrupts; nproc; head -c 8 /dev/hwrng | wc -c; for d in vda vdb; do echo "$d-sum $(md5sum </dev/$d)"; done; cat /proc/interrupts' \
	-c 4 -d /tmp/root.img,ro -d /tmp/d2.img,ro --rng --irqchip aia --aia-mode emul --stats
expect_grep 'machine: irqchip aia \(in-kernel, mode emul\), virtio over pci \(MSI-X\)' out
expect_rc 0
expect_grep '^4$' out
expect_grep '^8$' out
expect_grep "^vda-sum $sum_a " out
expect_grep "^vdb-sum $sum_b " out
# columns CPU0..CPU3: a virtio MSI row whose count is non-zero on a CPU
# other than 0, or rows on different CPUs
if ! tr -d '\r' <out | awk '/PCI-MSI/ && /virtio/ {
	for (c = 2; c <= 5; c++) if ($c > 0) used[c] = 1
} END { n = 0; for (c in used) n++; print "harts-with-msi:", n; exit n < 2 }'; then
	fail "virtio MSIs did not reach more than one hart"
fi

# Without IMSIC guest files (the aia machine) hardware mode is refused
# with one line; with them (aia-hw) it runs.
run out $LKVM run -k $KERNEL -i $INITRD -p l2=poweroff --aia-mode hwaccel
if [ "${lkvm_l1%@*}" = aia ]; then
	expect_rc 1
	expect_lines 1 out
	expect_grep '^lkvm: error: --irqchip auto: .*AIA set MODE=hwaccel' out
else
	expect_rc 0
	expect_grep '^@@ L2 init' out
fi
rm -f /tmp/root.img /tmp/d2.img
