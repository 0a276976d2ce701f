# ISA and SBI control per vCPU (issue 15, item 3): on an L1 CPU with many
# extensions (-cpu max), --disable-EXT takes EXT out of the L2 guest's
# /proc/cpuinfo on every hart, --cpu-type min keeps rv64imafdc and what KVM
# cannot turn off, --custom-m*id reach the guest, an extension KVM cannot
# turn off is one error line, and `lkvm info` lists those it can.
# --disable-sbi-EXT is seen by a bare-metal guest's SBI probe. On 6.1
# (no SBI_EXT or m*id registers) those options fail with one line.
# machine: max
# timeout: 300

# cpuinfo OUT [lkvm options] : boot L2 with l2=cpuinfo, 2 vCPUs
cpuinfo() {
	o=$1
	shift
	run $o $LKVM run -k $KERNEL -i $INITRD -c 2 -p "quiet l2=cpuinfo" "$@"
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
run json $LKVM info --json
expect_grep '"isa_can_disable":\[[^]]*"zicboz"' json
expect_grep '"isa_can_disable":\[[^]]*"svpbmt"' json
expect_grep '"sbi_can_disable":\[[^]]*"hsm"' json

# (what the guest has without options: lkvm info's ISA line above)
expect_grep '^ISA +rv64imafdcv_.*zicboz.*svpbmt' info

cpuinfo out --disable-zicboz --disable-svpbmt --disable-v \
	--custom-mvendorid 0x5b7 --custom-marchid 0x42 --custom-mimpid 7 \
	--dump-dtb /tmp/cpu-ext.dtb
expect_rc 0
# both harts, the isa and hart isa lines
[ "$(tr -d '\r' <out | grep -Ec '^@@ cpuinfo: (hart )?isa')" -ge 2 ] ||
	fail "no isa lines"
expect_no_grep '^@@ cpuinfo: (hart )?isa.*(zicboz|svpbmt)' out
expect_grep '^@@ cpuinfo: isa[[:space:]]*: rv64imafdc_' out
expect_grep '^@@ cpuinfo: mvendorid[[:space:]]*: 0x5b7' out
expect_grep '^@@ cpuinfo: marchid[[:space:]]*: 0x42' out
expect_grep '^@@ cpuinfo: mimpid[[:space:]]*: 0x7' out
# the device tree said the same
tr '\0' '\n' </tmp/cpu-ext.dtb | grep -q zicboz && fail "zicboz in the DT"
tr '\0' '\n' </tmp/cpu-ext.dtb | grep -q zicbom || fail "zicbom not in the DT"

run out $LKVM run -k $KERNEL -i $INITRD -p "quiet l2=cpuinfo" --cpu-type min
expect_rc 0
expect_no_grep '^@@ cpuinfo: (hart )?isa.*(zicboz|svpbmt|zicbom)' out
expect_grep '^@@ cpuinfo: isa[[:space:]]*: rv64imafdc_' out
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
