// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the kernel Image header and the boot plan, with invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/boot.h"
#include "fuzz-input.h"

/*
 * Input: 8 bytes file size, 8 bytes RAM size, 8 bytes initrd size (all
 * little-endian; small values are scaled so that realistic plans are
 * common), then the head of the kernel file.
 */
/* A value under 2^32 is taken as KiB, so plans in MiB and GiB show up. */
static uint64_t scale(uint64_t v)
{
	return v >> 32 ? v : v << 10;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t base = 0x80000000ULL;
	uint64_t file_size, ram, initrd, end, klen;
	struct kernel_info ki;
	struct boot_plan p;
	char err[256];
	int ret;

	if (size < 24)
		return 0;
	file_size = scale(fuzz_le64(data));
	ram = scale(fuzz_le64(data + 8));
	initrd = scale(fuzz_le64(data + 16));
	data += 24;
	size -= 24;
	/* the head read is never longer than the file */
	if (file_size < size)
		size = (size_t)file_size;

	err[0] = '\0';
	ret = kernel_inspect(data, size, file_size, &ki, err, sizeof(err));
	if (ret) {
		if (ret != -22 || !memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
		return 0;
	}
	if (ki.file_size != file_size || ki.mem_size < ki.file_size)
		abort();
	if (ki.load_off % RISCV_KERNEL_ALIGN)
		abort();

	/* the RAM size from the input, and also the 2 MiB-aligned base */
	ret = boot_plan(base, ram, &ki, initrd, &p, err, sizeof(err));
	if (ret) {
		if (ret != -28 || !memchr(err, '\0', sizeof(err)) ||
		    !strstr(err, "MiB"))
			abort();
		return 0;
	}
	if (__builtin_add_overflow(base, ram, &end))
		abort();
	klen = p.kernel_end - p.kernel_addr;
	if (p.kernel_addr < base || p.kernel_end > end ||
	    p.kernel_end < p.kernel_addr || klen != ki.mem_size ||
	    p.kernel_addr != base + ki.load_off)
		abort();
	if (p.fdt_size != BOOT_FDT_MAX || p.fdt_addr < base ||
	    p.fdt_addr > end - p.fdt_size || p.fdt_addr % 4096)
		abort();
	if (p.initrd_size != initrd)
		abort();
	if (initrd && (p.initrd_addr < base || p.initrd_addr % 4096 ||
		       p.initrd_addr > end - initrd))
		abort();
	if (overlaps(p.kernel_addr, klen, p.fdt_addr, p.fdt_size) ||
	    overlaps(p.kernel_addr, klen, p.initrd_addr, p.initrd_size) ||
	    overlaps(p.initrd_addr, p.initrd_size, p.fdt_addr, p.fdt_size))
		abort();
	return 0;
}
