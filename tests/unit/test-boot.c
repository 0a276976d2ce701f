// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/boot.c: the Image header and the RAM boot plan. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/boot.h"
#include "lkvm/compiler.h"
#include "lkvm/vm.h"
#include "riscv/memmap.h"
#include "unit.h"

#define MiB (1ULL << 20)

static void put_le(uint8_t *p, unsigned int n, uint64_t v)
{
	while (n--) {
		*p++ = (uint8_t)v;
		v >>= 8;
	}
}

/* A 64-byte Linux RISC-V Image header. */
static void make_header(uint8_t *h, uint64_t text_offset, uint64_t image_size,
			uint64_t flags, uint32_t version)
{
	memset(h, 0, RISCV_IMAGE_HEADER_SIZE);
	put_le(h + 8, 8, text_offset);
	put_le(h + 16, 8, image_size);
	put_le(h + 24, 8, flags);
	put_le(h + 32, 4, version);
	memcpy(h + 0x30, RISCV_IMAGE_MAGIC, 8);
	memcpy(h + 0x38, RISCV_IMAGE_MAGIC2, 4);
}

static void test_image_valid(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128] = "";

	make_header(h, 0x200000, 20 * MiB, 0, 0x00020000);
	REQUIRE(CHECK_EQ(
		kernel_inspect(h, sizeof(h), 15 * MiB, &ki, err, sizeof(err)),
		0));
	CHECK(ki.is_image);
	CHECK_EQ(ki.load_off, 0x200000);
	CHECK_EQ(ki.file_size, 15 * MiB);
	CHECK_EQ(ki.mem_size, 20 * MiB);
	CHECK_EQ(ki.version, 0x00020000);

	/* only the old magic, or only the new one, is enough */
	memset(h + 0x38, 0, 4);
	CHECK_EQ(kernel_inspect(h, sizeof(h), 15 * MiB, &ki, err, sizeof(err)),
		 0);
	CHECK(ki.is_image);
	make_header(h, 0x400000, 20 * MiB, 0, 0x00020000);
	memset(h + 0x30, 0, 8);
	CHECK_EQ(kernel_inspect(h, sizeof(h), 15 * MiB, &ki, err, sizeof(err)),
		 0);
	CHECK(ki.is_image);
	CHECK_EQ(ki.load_off, 0x400000);
}

static void test_image_truncated_is_flat(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128];

	make_header(h, 0x400000, 20 * MiB, 0, 0);
	CHECK_EQ(kernel_inspect(h, 63, 63, &ki, err, sizeof(err)), 0);
	CHECK(!ki.is_image);
	CHECK_EQ(ki.load_off, RISCV_FLAT_OFFSET);
	CHECK_EQ(ki.mem_size, 63);
	CHECK_EQ(kernel_inspect(h, 0, 0, &ki, err, sizeof(err)), 0);
	CHECK(!ki.is_image);
	CHECK_EQ(ki.mem_size, 0);
	/* a whole header read, but a file claimed shorter than it */
	CHECK_EQ(kernel_inspect(h, sizeof(h), 10, &ki, err, sizeof(err)), 0);
	CHECK(!ki.is_image);
}

static void test_image_wrong_magic_is_flat(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128];

	make_header(h, 0x400000, 20 * MiB, 1, 0);
	h[0x30] = 'X';
	h[0x38] = 'X';
	CHECK_EQ(kernel_inspect(h, sizeof(h), 4096, &ki, err, sizeof(err)), 0);
	CHECK(!ki.is_image);
	CHECK_EQ(ki.load_off, 2 * MiB);
	CHECK_EQ(ki.file_size, 4096);
	CHECK_EQ(ki.mem_size, 4096);
}

static void test_image_big_endian(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128] = "";

	make_header(h, 0x200000, 20 * MiB, 1, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "big-endian") != NULL);
}

static void test_image_text_offset(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128] = "";

	make_header(h, 0x1000, 20 * MiB, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "text_offset") != NULL);
	make_header(h, 0x200001, 20 * MiB, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	/* a 2 MiB multiple far beyond any RAM */
	make_header(h, UINT64_MAX & ~(RISCV_KERNEL_ALIGN - 1), 20 * MiB, 0, 0);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	/* 0 is allowed */
	make_header(h, 0, 20 * MiB, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)), 0);
	CHECK_EQ(ki.load_off, 0);
}

static void test_image_size_absurd(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128] = "";

	/* smaller than the file */
	make_header(h, 0x200000, MiB, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), 2 * MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "image_size") != NULL);
	/* more than 1 TiB */
	make_header(h, 0x200000, (1ULL << 40) + 1, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	make_header(h, 0x200000, UINT64_MAX, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)),
		 -EINVAL);
	/* exactly the file size is fine */
	make_header(h, 0x200000, MiB, 0, 0x00020000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), MiB, &ki, err, sizeof(err)), 0);
	CHECK_EQ(ki.mem_size, MiB);
}

static void test_image_size_zero(void)
{
	uint8_t h[RISCV_IMAGE_HEADER_SIZE];
	struct kernel_info ki;
	char err[128] = "";

	/* headers before 0.2 may leave image_size 0: use the file size */
	make_header(h, 0x200000, 0, 0, 0x00010000);
	CHECK_EQ(kernel_inspect(h, sizeof(h), 3 * MiB, &ki, err, sizeof(err)),
		 0);
	CHECK(ki.is_image);
	CHECK_EQ(ki.mem_size, 3 * MiB);
	CHECK_EQ(ki.version, 0x00010000);
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void test_plan_ram_sizes(void)
{
	static const uint64_t sizes_mib[] = { 19,   20,	  24,	32,   64,
					      100,  128,  256,	512,  768,
					      1024, 2048, 4096, 16384 };
	struct kernel_info ki = { .is_image = true,
				  .load_off = 0x200000,
				  .file_size = 15 * MiB,
				  .mem_size = 15 * MiB };
	struct boot_plan p;
	char err[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes_mib); i++) {
		uint64_t ram = sizes_mib[i] * MiB, end = MEMMAP_RAM_BASE + ram;
		uint64_t klen;

		if (!CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, ram, &ki, MiB, &p, err,
					sizeof(err)),
			      0)) {
			fprintf(stderr, "    ram %llu MiB: %s\n",
				(unsigned long long)sizes_mib[i], err);
			continue;
		}
		klen = p.kernel_end - p.kernel_addr;
		CHECK_EQ(p.kernel_addr, MEMMAP_RAM_BASE + 0x200000);
		CHECK_EQ(klen, 15 * MiB);
		CHECK_EQ(p.initrd_size, MiB);
		CHECK_EQ(p.fdt_size, BOOT_FDT_MAX);
		CHECK_EQ(p.fdt_addr, end - BOOT_FDT_MAX);
		CHECK(p.kernel_addr >= MEMMAP_RAM_BASE && p.kernel_end <= end);
		CHECK(p.initrd_addr >= MEMMAP_RAM_BASE &&
		      p.initrd_addr + p.initrd_size <= end);
		CHECK(p.fdt_addr >= MEMMAP_RAM_BASE &&
		      p.fdt_addr + p.fdt_size <= end);
		CHECK(!overlap(p.kernel_addr, klen, p.initrd_addr,
			       p.initrd_size));
		CHECK(!overlap(p.kernel_addr, klen, p.fdt_addr, p.fdt_size));
		CHECK(!overlap(p.initrd_addr, p.initrd_size, p.fdt_addr,
			       p.fdt_size));
		CHECK_EQ(p.kernel_addr % RISCV_KERNEL_ALIGN, 0);
		CHECK_EQ(p.initrd_addr % 4096, 0);
		CHECK_EQ(p.fdt_addr % 4096, 0);
	}
}

static void test_plan_no_initrd(void)
{
	struct kernel_info ki = { .load_off = 2 * MiB, .mem_size = 4096 };
	struct boot_plan p;
	char err[128];

	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 16 * MiB, &ki, 0, &p, err,
			   sizeof(err)),
		 0);
	CHECK_EQ(p.initrd_addr, 0);
	CHECK_EQ(p.initrd_size, 0);
	CHECK_EQ(p.fdt_addr, MEMMAP_RAM_BASE + 16 * MiB - BOOT_FDT_MAX);
}

static void test_plan_too_small(void)
{
	struct kernel_info ki = { .is_image = true,
				  .load_off = 0x200000,
				  .file_size = 15 * MiB,
				  .mem_size = 15 * MiB };
	struct boot_plan p;
	char err[128] = "";

	/* 2 + 15 MiB of kernel leave no room in 16 MiB */
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 16 * MiB, &ki, MiB, &p, err,
			   sizeof(err)),
		 -ENOSPC);
	CHECK(strstr(err, "MiB") != NULL);
	/* the kernel fits, the initrd does not */
	err[0] = '\0';
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 17 * MiB + 2 * BOOT_FDT_MAX, &ki,
			   MiB, &p, err, sizeof(err)),
		 -ENOSPC);
	CHECK(strstr(err, "initrd") != NULL);
	CHECK(strstr(err, "MiB") != NULL);
	/* not even room for the FDT */
	err[0] = '\0';
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 4096, &ki, 0, &p, err, sizeof(err)),
		 -ENOSPC);
	CHECK(strstr(err, "MiB") != NULL);
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 0, &ki, 0, &p, err, sizeof(err)),
		 -ENOSPC);
}

static void test_plan_overflow(void)
{
	struct kernel_info ki = { .load_off = 0x200000,
				  .mem_size = UINT64_MAX };
	struct boot_plan p;
	char err[128] = "";

	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 1ULL << 30, &ki, 0, &p, err,
			   sizeof(err)),
		 -ENOSPC);
	CHECK(strstr(err, "MiB") != NULL);
	ki.mem_size = UINT64_MAX - BOOT_FDT_MAX - 0x200000 + 1;
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 1ULL << 30, &ki, 0, &p, err,
			   sizeof(err)),
		 -ENOSPC);
	ki.load_off = UINT64_MAX & ~(RISCV_KERNEL_ALIGN - 1);
	ki.mem_size = 4096;
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 1ULL << 30, &ki, 0, &p, err,
			   sizeof(err)),
		 -ENOSPC);
	/* an initrd of absurd size */
	ki.load_off = 0x200000;
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 1ULL << 30, &ki, UINT64_MAX, &p,
			   err, sizeof(err)),
		 -ENOSPC);
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, 1ULL << 30, &ki, UINT64_MAX - 4096,
			   &p, err, sizeof(err)),
		 -ENOSPC);
	/* RAM that wraps the address space */
	CHECK_EQ(boot_plan(MEMMAP_RAM_BASE, UINT64_MAX & ~0xfffULL, &ki, 0, &p,
			   err, sizeof(err)),
		 -ENOSPC);
}

UNIT_SUITE(boot, UNIT_TEST(test_image_valid),
	   UNIT_TEST(test_image_truncated_is_flat),
	   UNIT_TEST(test_image_wrong_magic_is_flat),
	   UNIT_TEST(test_image_big_endian), UNIT_TEST(test_image_text_offset),
	   UNIT_TEST(test_image_size_absurd), UNIT_TEST(test_image_size_zero),
	   UNIT_TEST(test_plan_ram_sizes), UNIT_TEST(test_plan_no_initrd),
	   UNIT_TEST(test_plan_too_small), UNIT_TEST(test_plan_overflow));
