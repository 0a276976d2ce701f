# Bad input from the user: one clear line and a non-zero exit each.
# machine: virt
# timeout: 60
run out $LKVM run -k /nonexistent/Image
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: Fatal: Unable to open kernel /nonexistent/Image: No such file or directory$' out

run out $LKVM run -k /tmp
expect_rc 1
expect_lines 1 out
expect_grep '^lkvm: error: kernel /tmp is not a regular file$' out

run out $LKVM run
expect_rc 1
expect_lines 1 out
expect_grep 'no kernel given' out

run out $LKVM run -k $KERNEL -m 1
expect_rc 1
expect_lines 1 out
expect_grep '[-]-mem: 1 is out of range 16-' out

run out $LKVM run -k $KERNEL -m 64G
expect_rc 1
expect_lines 1 out
expect_grep "^lkvm: error: -m 65536 MiB is more than this host's memory" out

run out $LKVM run -k $KERNEL -m 16 -i $INITRD
expect_rc 1
expect_lines 1 out
expect_grep 'does not fit: it needs [0-9]+ MiB of the 16 MiB of guest RAM' out

run out $LKVM run -k $KERNEL --irqchip bogus
expect_rc 1
expect_lines 1 out
expect_grep "'bogus' is not one of: plic, aia, auto" out

# An Image whose header is broken (text_offset not 2 MiB aligned).
cp $KERNEL /tmp/bad.Image
printf '\001' | dd of=/tmp/bad.Image bs=1 seek=8 conv=notrunc 2>/dev/null
run out $LKVM run -k /tmp/bad.Image
expect_rc 1
expect_lines 1 out
expect_grep 'text_offset 0x200001 is not a multiple of 2 MiB' out
rm -f /tmp/bad.Image
