# virtio-9p: a shared directory mounted in L2 over both transports; files
# written on either side are read on the other (a 4 MiB one by checksum);
# ,ro refuses writes with EROFS and the directory is unchanged; the
# guest's escapes (symlinks to / and out of the share, absolute symlinks,
# `..` chains) reach only the guest's own namespace, never L1's files
# outside the share.
# machine: virt
# timeout: 240
rm -rf /tmp/share /tmp/outside
mkdir -p /tmp/share/sub /tmp/outside
echo SECRET-OUTSIDE >/tmp/outside/secret
echo from-host >/tmp/share/hostfile
dd if=/dev/urandom of=/tmp/share/big bs=64k count=64 2>/dev/null
bigsum=$(md5sum </tmp/share/big | cut -d' ' -f1)
ln -s / /tmp/share/esc
ln -s .. /tmp/share/sub/up
ln -s /tmp/outside/secret /tmp/share/abs
MNT='mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000'
for tr in pci mmio; do
	rm -f /tmp/share/guestfile /tmp/share/copy
	guest_sh out "$MNT host /mnt && echo mounted; cat /mnt/hostfile; echo from-guest-$tr >/mnt/guestfile; echo big \$(md5sum </mnt/big); cp /mnt/big /mnt/copy; ls /mnt/esc/ | tr '\n' ' '; echo; cat /mnt/abs; cat /mnt/sub/up/../../tmp/outside/secret; cat /mnt/esc/tmp/outside/secret; cat /mnt/../../../tmp/outside/secret; echo via-up \$(cat /mnt/sub/up/sub/up/hostfile); mkdir /mnt/d && rmdir /mnt/d && echo dir-ok; ln -s x /mnt/l && readlink /mnt/l && rm /mnt/l; umount /mnt && echo unmounted" \
		--9p /tmp/share,host --virtio-transport $tr
	expect_rc 0
	expect_grep '^mounted' out
	expect_grep '^from-host' out
	expect_grep "^big $bigsum" out
	expect_grep '^dir-ok' out
	expect_grep '^x$' out
	expect_grep '^unmounted' out
	expect_no_grep 'SECRET-OUTSIDE' out
	# sub/up/sub/up/ is the share again (the guest resolves the symlinks)
	expect_grep '^via-up from-host' out
	[ "$(cat /tmp/share/guestfile)" = "from-guest-$tr" ] || fail "the guest's file is not in the share ($tr)"
	[ "$(md5sum </tmp/share/copy | cut -d' ' -f1)" = "$bigsum" ] || fail "the guest's copy differs ($tr)"
done
ls /tmp/outside | grep -qv secret && fail "something appeared outside the share"

# read-only: every write refused with EROFS, the share unchanged
before=$(ls -lR /tmp/share | md5sum)
guest_sh out "$MNT host /mnt && echo mounted; cat /mnt/hostfile; echo x >/mnt/new; echo x >>/mnt/hostfile; mkdir /mnt/d; rm /mnt/hostfile; touch /mnt/big; echo done" \
	--9p /tmp/share,host,ro
expect_rc 0
expect_grep '^from-host' out
expect_grep 'Read-only file system' out
expect_no_grep 'No such file' out
expect_grep '^done' out
[ "$(ls -lR /tmp/share | md5sum)" = "$before" ] || fail "the read-only share changed"
[ -e /tmp/share/new ] && fail "a file was created through ,ro"

# the default tag is kvmtool's, and a bad share is one line
guest_sh out "$MNT kvm_9p /mnt && cat /mnt/hostfile" --9p /tmp/share
expect_grep '^from-host' out
run out $LKVM run -k $KERNEL --9p /nonexistent,x
expect_rc 1
expect_lines 1 out
expect_grep 'is not a directory' out
rm -rf /tmp/share /tmp/outside
