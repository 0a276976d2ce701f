// SPDX-License-Identifier: GPL-2.0-only
/* The Linux RISC-V Image header and the guest RAM boot plan. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lkvm/boot.h"

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static bool has_image_magic(const uint8_t *h, size_t len)
{
	if (len < RISCV_IMAGE_HEADER_SIZE)
		return false;
	return !memcmp(h + 0x38, RISCV_IMAGE_MAGIC2, 4) ||
	       !memcmp(h + 0x30, RISCV_IMAGE_MAGIC, 8);
}

int kernel_inspect(const uint8_t *head, size_t len, uint64_t file_size,
		   struct kernel_info *ki, char *err, size_t errlen)
{
	uint64_t text_offset, image_size, flags;

	memset(ki, 0, sizeof(*ki));
	ki->file_size = file_size;
	if (!has_image_magic(head, len) ||
	    file_size < RISCV_IMAGE_HEADER_SIZE) {
		ki->load_off = RISCV_FLAT_OFFSET;
		ki->mem_size = file_size;
		return 0;
	}
	ki->is_image = true;
	text_offset = get_le(head + 8, 8);
	image_size = get_le(head + 16, 8);
	flags = get_le(head + 24, 8);
	ki->version = (uint32_t)get_le(head + 32, 4);
	if (flags & 1) {
		snprintf(err, errlen, "big-endian Image (flags 0x%llx)",
			 (unsigned long long)flags);
		return -EINVAL;
	}
	if (text_offset % RISCV_KERNEL_ALIGN || text_offset > (1ULL << 40)) {
		snprintf(err, errlen,
			 "Image text_offset 0x%llx is not a multiple of 2 MiB",
			 (unsigned long long)text_offset);
		return -EINVAL;
	}
	if (!image_size)
		image_size = file_size; /* headers before 0.2 may leave it 0 */
	if (image_size < file_size || image_size > (1ULL << 40)) {
		snprintf(
			err, errlen,
			"Image image_size 0x%llx is impossible for a %llu-byte file",
			(unsigned long long)image_size,
			(unsigned long long)file_size);
		return -EINVAL;
	}
	ki->load_off = text_offset;
	ki->mem_size = image_size;
	return 0;
}

#define PAGE 0x1000ULL
#define MIB(x) ((unsigned long long)((x) >> 20))

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static int no_room(char *err, size_t errlen, const char *what, uint64_t need,
		   uint64_t ram)
{
	snprintf(
		err, errlen,
		"%s does not fit: it needs %llu MiB of the %llu MiB of guest RAM (raise -m)",
		what, MIB(need + (1 << 20) - 1), MIB(ram));
	return -ENOSPC;
}

int boot_plan(uint64_t ram_base, uint64_t ram_size,
	      const struct kernel_info *ki, uint64_t initrd_size,
	      struct boot_plan *plan, char *err, size_t errlen)
{
	uint64_t kend, need, top, ram_end;

	memset(plan, 0, sizeof(*plan));
	/* RAM must not wrap the address space: every address below is
	 * computed as ram_base plus an offset below ram_size */
	if (ram_base % RISCV_KERNEL_ALIGN || ram_size < BOOT_FDT_MAX ||
	    ram_size % PAGE ||
	    __builtin_add_overflow(ram_base, ram_size, &ram_end))
		return no_room(err, errlen, "the FDT", BOOT_FDT_MAX, ram_size);
	/* kernel occupies [load_off, load_off + mem_size) of RAM */
	if (__builtin_add_overflow(ki->load_off, ki->mem_size, &kend) ||
	    __builtin_add_overflow(kend, BOOT_FDT_MAX, &need) ||
	    need > ram_size)
		return no_room(err, errlen, "the kernel",
			       ki->load_off + ki->mem_size + BOOT_FDT_MAX,
			       ram_size);
	plan->kernel_addr = ram_base + ki->load_off;
	plan->kernel_end = ram_base + kend;
	plan->fdt_size = BOOT_FDT_MAX;
	plan->fdt_addr = ram_base + ram_size - BOOT_FDT_MAX;
	top = plan->fdt_addr;
	if (initrd_size) {
		if (initrd_size > top - plan->kernel_end ||
		    align_down(top - initrd_size, PAGE) < plan->kernel_end)
			return no_room(err, errlen, "kernel plus initrd",
				       need + initrd_size + PAGE, ram_size);
		plan->initrd_addr = align_down(top - initrd_size, PAGE);
		plan->initrd_size = initrd_size;
	}
	return 0;
}
