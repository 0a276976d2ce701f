# lkvm info on a PLIC-only L1 (-M virt): KVM, ISA extensions, no AIA.
# machine: virt virt@6.1
# timeout: 60
run out $LKVM info
expect_rc 0
expect_grep '^KVM API version +12$' out
expect_grep '^vCPUs +max [1-9][0-9]*, recommended [1-9]' out
expect_grep '^ISA +rv64imafdc' out
expect_grep '^ISA extensions +.*(zicbom|sstc|zihintpause)' out
expect_grep '^Timebase frequency +[1-9][0-9]* Hz$' out
case $(l1_kernel) in
6.1) # no SBI_EXT registers (6.4+), no satp_mode (6.3+)
	expect_grep '^SBI extensions +fixed by this KVM' out
	expect_grep '^MMU +not reported$' out
	;;
*)
	expect_grep '^SBI extensions +.*hsm' out
	expect_grep '^MMU +sv(39|48|57)$' out
	;;
esac
expect_grep '^In-kernel irqchip +none \(lkvm emulates a PLIC\)$' out
expect_grep '^Irqchips +plic \(userspace\)$' out
expect_grep '^Transports +virtio-mmio, virtio-pci \(INTx\)$' out
case $lkvm_l1 in
*@6.1) expect_grep '^KVM_GET_REG_LIST +no$' out ;; # 6.6+
*) expect_grep '^KVM_GET_REG_LIST +yes \([1-9][0-9]* registers\)' out ;;
esac
# The ISA string KVM reports matches what L1 itself runs on.
isa=$(sed -n 's/^ISA  *//p' out)
# (single letters: L1's own minus h, which KVM never gives a guest)
l1=$(sed -n 's/^isa[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
l1=$(echo "${l1%%_*}" | tr -d h)
echo "lkvm info: ${isa%%_*}, L1 /proc/cpuinfo without h: $l1"
[ "${isa%%_*}" = "$l1" ] || fail "ISA $isa does not match /proc/cpuinfo"

run json $LKVM info --json
expect_rc 0
expect_lines 1 json
expect_grep '^\{"api_version":12,' json
expect_grep '"isa":"rv64imafdc[^"]*"' json
expect_grep '"aia":\{"available":false\}' json
expect_grep '"irqchips":\["plic"\]' json
expect_grep '"transports":\{"virtio-mmio":"wired","virtio-pci":"intx"\}' json
expect_grep '\}$' json
