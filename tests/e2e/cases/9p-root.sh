# A 9p root: the L2 initramfs unpacked into a directory boots with
# -d DIR (kvmtool's spelling) and --9p DIR,/dev/root, and writes to its
# root; `lkvm sandbox` runs a command with L1's / as the guest's root and
# exits with its status, the current directory shared read-write.
# machine: virt
# timeout: 240
rm -rf /tmp/root9p
mkdir -p /tmp/root9p
(cd /tmp/root9p && zcat $INITRD | cpio -id 2>/dev/null)
ln -sf /init /tmp/root9p/sbin/init
GSH_BOOT=
guest_sh out 'cat /proc/cmdline; echo root-write >/rootfile; cat /rootfile; mmap-check /mmapfile' -d /tmp/root9p
expect_rc 0
expect_grep 'root=/dev/root rootfstype=9p rootflags=trans=virtio.*cache=mmap' out
expect_grep '^root-write' out
[ "$(cat /tmp/root9p/rootfile)" = root-write ] || fail "the guest's write is not in the root directory"
# a shared writable mapping (cache=none would refuse it), its bytes on L1
expect_grep '^mmap-shared ok' out
[ "$(od -An -tu1 -N4 /tmp/root9p/mmapfile | tr -s ' ')" = " 7 38 69 100" ] ||
	fail "the guest's shared mapping's bytes are not in the root directory"
[ "$(stat -c %s /tmp/root9p/mmapfile)" = 8192 ] || fail "the mapped file is not 8192 bytes on L1"
run out $LKVM run -k $KERNEL --9p /tmp/root9p,/dev/root,ro -p 'quiet'
expect_rc 0
expect_grep '@@ L2 init' out
mkdir -p /tmp/sbx
cp /tmp/root9p/bin/mmap-check /tmp/sbx/
rm -rf /tmp/root9p

# sandbox: the command's exit status, its output, the working directory
cd /tmp/sbx
run out $LKVM sandbox -k $KERNEL -- sh -c 'exit 7'
expect_rc 7
run out $LKVM sandbox -k $KERNEL -- sh -c 'echo "in-sandbox $(pwd)"; echo written >out.txt; touch /tmp/t && echo tmp-ok; echo x >/etc/x || echo etc-ro'
expect_rc 0
expect_grep '^in-sandbox /tmp/sbx' out
expect_grep '^tmp-ok' out
expect_grep '^etc-ro' out
[ "$(cat /tmp/sbx/out.txt)" = written ] || fail "the sandbox's write is not in the working directory"
ls /tmp/lkvm-sandbox-* 2>/dev/null && fail "the sandbox left its directory behind"
# the root is cache=loose (read-only), the working directory cache=mmap:
# a shared writable mapping there, its bytes on L1 after the exit
run out $LKVM sandbox -k $KERNEL -- sh -c 'cat /proc/cmdline; ./mmap-check m.bin'
expect_rc 0
expect_grep 'rootflags=trans=virtio.*cache=loose' out
expect_grep '^mmap-shared ok' out
[ "$(od -An -tu1 -N4 /tmp/sbx/m.bin | tr -s ' ')" = " 7 38 69 100" ] ||
	fail "the sandbox's shared mapping's bytes are not in the working directory"
run out $LKVM sandbox -k $KERNEL -- /bin/false
expect_rc 1
run out $LKVM sandbox -k $KERNEL
expect_rc 1
expect_grep 'sandbox: no command' out
cd /
rm -rf /tmp/sbx
