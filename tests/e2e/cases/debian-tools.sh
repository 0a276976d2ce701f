# The Debian 13 riscv64 test tools (debian-tools.sh) run on L1's busybox
# root through their own glibc, and on L2's from the tools.ext4 disk: the
# staging the networking, 9p and qcow2 cases rely on.
# machine: virt
# timeout: 200
# needs: debian-tools
T=$IMAGES/debian-tools
run out sh -c "$T/run passt --version; echo passt-rc=\$?; $T/run iperf3 --version; $T/run stress-ng --version; $T/run qemu-img --version; $T/run dbench --help 2>&1 | head -n 3; $T/run no-such-tool"
# (passt exits without flushing its --version line into a pipe)
expect_grep '^passt-rc=0$' out
expect_grep '^iperf 3\.' out
expect_grep '^stress-ng, version ' out
expect_grep '^qemu-img version ' out
expect_grep 'dbench version ' out
expect_grep '^run: no no-such-tool in ' out
guest_sh out 'mkdir -p /mnt/t && mount -o ro /dev/vda /mnt/t && /mnt/t/run iperf3 --version; /mnt/t/run stress-ng --version' \
	-d $T/tools.ext4,ro
expect_rc 0
expect_grep '^iperf 3\.' out
expect_grep '^stress-ng, version ' out
