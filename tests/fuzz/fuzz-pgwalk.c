// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: riscv_pgwalk() over guest-written page tables. The input is
 * satp (8 bytes, little-endian), a virtual address (8) and then the guest's
 * RAM (up to 64 KiB at 0x80000000): the walk ends within five levels,
 * reads only RAM, and an -EFAULT names an entry outside it.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "riscv/pgwalk.h"

#define RAM 0x80000000ULL
#define RAM_SIZE 0x10000U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
	uint64_t satp, va, gpa = 0;
	struct gmem mem;
	size_t n;
	int r;

	if (size < 16)
		return 0;
	memcpy(&satp, data, 8);
	memcpy(&va, data + 8, 8);
	satp = le64toh(satp);
	va = le64toh(va);
	n = size - 16 < RAM_SIZE ? size - 16 : RAM_SIZE;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + 16, n);
	memset(&mem, 0, sizeof(mem));
	if (gmem_add(&mem, RAM, RAM_SIZE, ram))
		abort();
	r = riscv_pgwalk(&mem, satp, va, &gpa);
	if (r != 0 && r != -ENOENT && r != -EFAULT && r != -EINVAL)
		abort();
	if (r == -EFAULT && gmem_valid(&mem, gpa, 8))
		abort();
	/* paging off: the address is its own translation */
	if (!(satp >> 60) && (r || gpa != va))
		abort();
	return 0;
}
