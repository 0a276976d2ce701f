// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/pgwalk.c, against page tables in fake guest RAM. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "riscv/pgwalk.h"
#include "unit.h"

#define RAM 0x80000000ULL
#define RAM_SIZE 0x10000ULL
#define V 1ULL
#define R 2ULL
#define W 4ULL
#define X 8ULL

static struct gmem mem;
static uint8_t *ram;

static void setup(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	gmem_add(&mem, RAM, RAM_SIZE, ram);
}

/* the entry index of va at level i, and an entry written there */
static unsigned int vpn(uint64_t va, int i)
{
	return (va >> (12 + 9 * i)) & 0x1ff;
}

static void put(uint64_t table, unsigned int idx, uint64_t pa, uint64_t bits)
{
	uint64_t pte = htole64((pa >> 12) << 10 | bits);

	memcpy(ram + (table - RAM) + idx * 8, &pte, 8);
}

static uint64_t satp(unsigned int mode, uint64_t root)
{
	return (uint64_t)mode << 60 | root >> 12;
}

static void test_bare_and_modes(void)
{
	uint64_t gpa = 0;

	setup();
	CHECK_EQ(riscv_pgwalk(&mem, 0, 0x80201234, &gpa), 0);
	CHECK_EQ(gpa, 0x80201234);
	/* Sv32's mode, the reserved ones, Sv64 (11): not known */
	CHECK_EQ(riscv_pgwalk(&mem, 1ULL << 60, 0x1000, &gpa), -EINVAL);
	CHECK_EQ(riscv_pgwalk(&mem, 7ULL << 60, 0x1000, &gpa), -EINVAL);
	CHECK_EQ(riscv_pgwalk(&mem, 11ULL << 60, 0x1000, &gpa), -EINVAL);
	free(ram);
}

static void test_sv39(void)
{
	const uint64_t va = 0xffffffff80070392ULL;
	const uint64_t l2 = RAM, l1 = RAM + 0x1000, l0 = RAM + 0x2000;
	uint64_t gpa = 0;

	setup();
	put(l2, vpn(va, 2), l1, V);
	put(l1, vpn(va, 1), l0, V);
	put(l0, vpn(va, 0), RAM + 0x5000, V | R | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), 0);
	CHECK_EQ(gpa, RAM + 0x5392);
	/* a leaf outside RAM is reported as such, not refused */
	put(l0, vpn(va, 0), 0x40000000, V | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), 0);
	CHECK_EQ(gpa, 0x40000392);
	/* invalid, and W without R (reserved) */
	put(l0, vpn(va, 0), RAM + 0x5000, R | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	put(l0, vpn(va, 0), RAM + 0x5000, V | W);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	/* a 2 MiB superpage at level 1, and a misaligned one */
	put(l1, vpn(va, 1), 0x80200000, V | R | W | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), 0);
	CHECK_EQ(gpa, 0x80200000 + (va & 0x1fffff));
	put(l1, vpn(va, 1), 0x80201000, V | R | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	/* Svnapot: a 64 KiB page (PPN[3:0] 1000), a reserved encoding, and
	 * N on a superpage */
	put(l1, vpn(va, 1), l0, V);
	put(l0, vpn(va, 0), 0x80008000, V | R | X | 1ULL << 63);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), 0);
	CHECK_EQ(gpa, 0x80000000 + (va & 0xffff));
	put(l0, vpn(va, 0), 0x80004000, V | R | X | 1ULL << 63);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	put(l1, vpn(va, 1), 0x80200000, V | R | X | 1ULL << 63);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	/* a table outside RAM: the entry's address comes back */
	put(l2, vpn(va, 2), 0x1000, V);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -EFAULT);
	CHECK_EQ(gpa, 0x1000 + vpn(va, 1) * 8);
	/* a table that points at itself ends after three levels */
	put(l2, vpn(va, 2), l2, V);
	put(l2, vpn(va, 1), l2, V);
	put(l2, vpn(va, 0), l2, V);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), va, &gpa), -ENOENT);
	/* the root itself outside RAM; a non-canonical address */
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, 0xfffff000), va, &gpa), -EFAULT);
	CHECK_EQ(riscv_pgwalk(&mem, satp(8, l2), 0x0000008000000000ULL, &gpa),
		 -ENOENT);
	free(ram);
}

static void test_sv48_sv57(void)
{
	const uint64_t va48 = 0xffff800012345678ULL,
		       va57 = 0xff00001234567abcULL;
	const uint64_t t[5] = { RAM + 0x1000, RAM + 0x2000, RAM + 0x3000,
				RAM + 0x4000, RAM + 0x5000 };
	uint64_t gpa = 0;
	int i;

	setup();
	/* Sv48: four levels, t[3] the root */
	for (i = 3; i > 0; i--)
		put(t[i], vpn(va48, i), t[i - 1], V);
	put(t[0], vpn(va48, 0), RAM + 0x8000, V | R);
	CHECK_EQ(riscv_pgwalk(&mem, satp(9, t[3]), va48, &gpa), 0);
	CHECK_EQ(gpa, RAM + 0x8678);
	/* not canonical for Sv48 (bit 47 clear, bits above set) */
	CHECK_EQ(riscv_pgwalk(&mem, satp(9, t[3]), 0xffff000012345678ULL, &gpa),
		 -ENOENT);
	/* Sv57: five levels, a 1 GiB leaf at level 2 */
	memset(ram, 0, RAM_SIZE);
	put(t[4], vpn(va57, 4), t[3], V);
	put(t[3], vpn(va57, 3), t[2], V);
	put(t[2], vpn(va57, 2), 0xc0000000, V | X);
	CHECK_EQ(riscv_pgwalk(&mem, satp(10, t[4]), va57, &gpa), 0);
	CHECK_EQ(gpa, 0xc0000000 + (va57 & 0x3fffffff));
	free(ram);
}

UNIT_SUITE(pgwalk, UNIT_TEST(test_bare_and_modes), UNIT_TEST(test_sv39),
	   UNIT_TEST(test_sv48_sv57));
