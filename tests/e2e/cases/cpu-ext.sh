# ISA and SBI control per vCPU (issue 15, item 3): on QEMU's rv64 L1 CPU
# (it has zicbom and zicboz, which 6.12's KVM lets userspace turn off; the
# -cpu max L1 has more but boots an L2 Linux too slowly under TCG to be a
# test here), --disable-EXT takes EXT out of the L2 guest's
# /proc/cpuinfo on every hart, --cpu-type min keeps rv64imafdc and what KVM
# cannot turn off, --custom-m*id reach the guest, an extension KVM cannot
# turn off is one error line, and `lkvm info` lists those it can.
# --disable-sbi-EXT is seen by a bare-metal guest's SBI probe. On 6.1
# (no SBI_EXT or m*id registers) those options fail with one line, and
# zicboz (which 6.1's KVM does not offer) is a warning.
# (Linux 7.2 adds zicbop, which KVM cannot turn off: zicbo[mz] below)
# machine: virt virt@6.1
# timeout: 300

# cpuinfo OUT [lkvm options] : boot L2 with l2=cpuinfo, 2 vCPUs
cpuinfo() {
	o=$1
	shift
	run $o $LKVM run -k $KERNEL -i $INITRD -c 2 -p "l2=cpuinfo" \
		--timeout $((150 * E2E_SLOW)) "$@"
}

if [ "$(l1_kernel)" = 6.1 ]; then
	run info $LKVM info
	expect_rc 0
	expect_grep '^  can be turned off   (.* )?d f( |$)' info
	run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64 --disable-sbi-dbcn
	expect_rc 1
	expect_lines 1 out
	expect_grep 'disable-sbi-dbcn: this KVM has no SBI extension registers \(Linux 6.4\+\): it cannot hide dbcn' out
	run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64 --custom-mvendorid 1
	expect_rc 1
	expect_lines 1 out
	expect_grep 'custom-mvendorid: this KVM cannot set mvendorid' out
	run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64 --disable-zicboz
	expect_rc 0
	expect_grep 'disable-zicboz: the guest does not have zicboz on this host: nothing to turn off' out
	exit 0
fi

run info $LKVM info
expect_rc 0
expect_grep '^  can be turned off   d f ' info
# (what the guest has without options: lkvm info's ISA line)
expect_grep '^ISA +rv64imafdc_.*zicbom_(zicbop_)?zicboz' info
run json $LKVM info --json
expect_grep '"isa_can_disable":\[[^]]*"zicboz"' json
expect_grep '"isa_can_disable":\[[^]]*"zicbom"' json
expect_grep '"sbi_can_disable":\[[^]]*"hsm"' json

cpuinfo out --disable-zicboz --disable-zicbom --dump-dtb /tmp/cpu-ext.dtb
expect_rc 0
# both harts, the isa and hart isa lines
[ "$(tr -d '\r' <out | grep -Ec '^@@ cpuinfo: (hart )?isa')" -ge 2 ] ||
	fail "no isa lines"
expect_no_grep '^@@ cpuinfo: (hart )?isa.*zicbo[mz]' out
expect_grep '^@@ cpuinfo: isa[[:space:]]*: rv64imafdc_.*sstc' out
# the device tree said the same
tr '\0' '\n' </tmp/cpu-ext.dtb | grep -Eq 'zicbo[mz]' && fail "zicbom/z in the DT"
tr '\0' '\n' </tmp/cpu-ext.dtb | grep -q cbom-block-size &&
	fail "cbom-block-size in the DT"
tr '\0' '\n' </tmp/cpu-ext.dtb | grep -q zihintpause ||
	fail "zihintpause not in the DT"

# (not a real vendor's id: Linux applies a vendor's errata by it)
run out $LKVM run -k $KERNEL -i $INITRD -p "l2=cpuinfo" --cpu-type min \
	--custom-mvendorid 0x123 --custom-marchid 0x42 --custom-mimpid 7 \
	--timeout $((150 * E2E_SLOW))
expect_rc 0
expect_grep '^@@ cpuinfo: mvendorid[[:space:]]*: 0x123' out
expect_grep '^@@ cpuinfo: marchid[[:space:]]*: 0x42' out
expect_grep '^@@ cpuinfo: mimpid[[:space:]]*: 0x7' out
expect_no_grep '^@@ cpuinfo: (hart )?isa.*zicbo[mz]' out
# what KVM cannot turn off stays, and the guest is told so
expect_grep '^@@ cpuinfo: isa[[:space:]]*: rv64imafdc_.*sstc' out

run out $LKVM run -k $KERNEL -i $INITRD --disable-sstc
expect_rc 1
expect_lines 1 out
expect_grep 'disable-sstc: this KVM cannot turn sstc off \(Invalid argument\); `lkvm info` lists those it can' out
run out $LKVM run -k $KERNEL -i $INITRD --disable-zfoo
expect_rc 1
expect_lines 1 out
expect_grep "disable-zfoo: lkvm knows no ISA extension 'zfoo'" out
run out $LKVM run -k $KERNEL -i $INITRD --disable-sbi-foo
expect_rc 1
expect_lines 1 out

# the SBI side, through a bare-metal guest's BASE probe_extension
run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64
expect_rc 0
expect_grep '^sbi-probe: DBCN present' out
expect_grep '^sbi-probe: probe hsm -> 1' out
expect_grep '^sbi-probe: probe srst -> 1' out
run out $LKVM run -k $GUESTS/sbi-probe.bin -m 64 --disable-sbi-dbcn \
	--disable-sbi-hsm --disable-sbi-srst
# SRST gone: the guest powers off through the legacy call instead
expect_rc 0
expect_grep '^sbi-probe: DBCN absent' out
expect_grep '^sbi-probe: probe hsm -> 0' out
expect_grep '^sbi-probe: probe srst -> 0' out
expect_grep '^sbi-probe: probe time -> 1' out
expect_grep '^sbi-probe: PASSED' out
