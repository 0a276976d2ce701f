# Boot with 2 and 4 vCPUs: the guest sees nproc equal to -c and its ISA
# matches what `lkvm info` reports. --stats reads KVM's counters of every
# vCPU at the end while the others still sit in KVM_RUN.
# machine: virt virt@6.1
# timeout: 150
for n in 2 4; do
	run out $LKVM run -k $KERNEL -i $INITRD -m 256 -c $n -p quiet --stats
	expect_rc 0
	expect_grep "^@@ L2 init: initramfs nproc=$n " out
	expect_grep 'stats: kvm counted [1-9][0-9]* guest exits' out
done
run info $LKVM info
# Compare the extension sets (the order may differ). The guest kernel may
# add extensions implied by others (zca from c, zicsr from i, ...), which an
# older KVM does not list.
want=$(sed -n 's/^ISA  *\(rv.*\)/\1/p' info | tr _ '\n' | sort)
got=$(sed -n 's/.*@@ L2 init: .* isa=\([^ \r]*\).*/\1/p' out | tr -d '\r' | tr _ '\n' | sort)
echo "lkvm info: $(echo $want)"
echo "guest:     $(echo $got)"
[ -n "$got" ] || fail "no ISA from the guest"
for e in $want; do
	echo "$got" | grep -qx "$e" || fail "guest lacks $e that lkvm info reports"
done
for e in $got; do
	echo "$want" | grep -qx "$e" && continue
	case $e in
	zca | zcb | zcd | zcf | zicsr | zifencei | zicntr | zihpm) ;;
	*) fail "guest has $e that lkvm info does not report" ;;
	esac
done
