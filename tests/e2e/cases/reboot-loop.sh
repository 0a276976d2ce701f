# Reboot in place (issue 15, item 5): a Linux guest booted from a disk
# counts its boots on it and reboots three times (SBI SRST cold reboot),
# then powers off: lkvm exits 0 with four boots in the log. Before Linux
# 6.16 (6.12, 6.1) each reboot builds the VM again (a new VM fd, memslots,
# vCPUs, irqchip, devices, images); on 7.2 KVM resets the vCPUs and the VM,
# its RAM, vCPUs and in-kernel AIA stay (the devices are made again); lkvm
# says once which. The disk stays open and locked: a second lkvm cannot
# open it meanwhile. lkvm's open fds and threads are the same after every
# reboot (--stats prints them).
# machine: virt aia virt@6.1 virt@7.2 aia@7.2
# timeout: 420
cp $IMAGES/l2-disk.ext4 /tmp/rb.img
$LKVM run -k $KERNEL -d /tmp/rb.img -c 2 -p "quiet l2=reboots" --stats \
	>out 2>&1 &
pid=$!
wait_for '^@@ L2 boot 2' out 240
# the disk stays locked across the reboots
run second $LKVM run -k $KERNEL -d /tmp/rb.img -p "quiet"
expect_rc 1
expect_grep 'rb.img is in use by lkvm' second
wait $pid
rc=$?
tr -d '\r' <out | sed 's/^/  | /'
echo "  rc=$rc"
expect_rc 0
for n in 1 2 3 4; do
	expect_grep "^@@ L2 boot $n\$" out
done
expect_no_grep '^@@ L2 boot 5' out
[ "$(tr -d '\r' <out | grep -c 'guest asked for a reboot: rebooting')" = 3 ] ||
	fail "not three reboots"
# the path, said once
case $(l1_kernel) in
6.1 | 6.12) path='reboot: this KVM cannot reset a vCPU .*: the VM is built again' ;;
*) path='reboot: KVM resets the vCPUs in place \(KVM_CAP_RISCV_MP_STATE_RESET\)' ;;
esac
expect_grep "$path" out
run info $LKVM info
case $(l1_kernel) in
6.1 | 6.12) expect_grep '^Reboot +the VM is built again' info ;;
*) expect_grep '^Reboot +KVM resets the vCPUs, the VM stays' info ;;
esac
[ "$(tr -d '\r' <out | grep -Ec 'reboot: (this KVM cannot|KVM resets)')" = 1 ] ||
	fail "the reboot path not said exactly once"
# nothing leaks from one boot to the next
[ "$(tr -d '\r' <out | grep -c 'reboot [123]: [0-9]* fds open, ')" = 3 ] ||
	fail "no reboot accounting lines"
k=$(tr -d '\r' <out |
	sed -n 's/.*reboot [123]: \([0-9]* fds open, [0-9]* threads\).*/\1/p' |
	sort -u | wc -l)
[ "$k" = 1 ] || fail "fds or threads differ between reboots"
rm -f /tmp/rb.img
