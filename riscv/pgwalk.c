// SPDX-License-Identifier: GPL-2.0-only
/* A guest virtual address through the guest's page tables (diagnostics). */
#include <endian.h>
#include <errno.h>

#include "riscv/pgwalk.h"

/* The privileged spec's satp and page table entries (RV64). */
#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV57 10
#define SATP_PPN_MASK ((1ULL << 44) - 1)
#define PTE_V (1ULL << 0)
#define PTE_R (1ULL << 1)
#define PTE_W (1ULL << 2)
#define PTE_X (1ULL << 3)
#define PTE_N (1ULL << 63) /* Svnapot: a 64 KiB naturally aligned page */
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ULL << 44) - 1)
#define PAGE_BITS 12
#define VPN_BITS 9

int riscv_pgwalk(const struct gmem *mem, uint64_t satp, uint64_t va,
		 uint64_t *gpa)
{
	unsigned int mode = satp >> SATP_MODE_SHIFT, levels, top;
	uint64_t table = (satp & SATP_PPN_MASK) << PAGE_BITS;
	int i;

	if (mode == SATP_MODE_BARE) {
		*gpa = va;
		return 0;
	}
	if (mode < SATP_MODE_SV39 || mode > SATP_MODE_SV57)
		return -EINVAL;
	levels = 3 + mode - SATP_MODE_SV39;
	/* canonical: the bits above the top VPN all equal its top bit */
	top = PAGE_BITS + VPN_BITS * levels;
	if ((uint64_t)((int64_t)(va << (64 - top)) >> (64 - top)) != va)
		return -ENOENT;
	for (i = levels - 1; i >= 0; i--) {
		unsigned int shift = PAGE_BITS + VPN_BITS * i;
		uint64_t at =
			table + ((va >> shift) & ((1U << VPN_BITS) - 1)) * 8;
		uint64_t pte, ppn;

		if (gmem_read(mem, at, &pte, sizeof(pte))) {
			*gpa = at;
			return -EFAULT;
		}
		pte = le64toh(pte);
		if (!(pte & PTE_V) || ((pte & PTE_W) && !(pte & PTE_R)))
			return -ENOENT;
		ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
		if (pte & PTE_N) {
			/* only a level-0 leaf with PPN[3:0] 1000 (64 KiB) */
			if (i || !(pte & (PTE_R | PTE_X)) || (ppn & 0xf) != 8)
				return -ENOENT;
			*gpa = ((ppn & ~0xfULL) << PAGE_BITS) | (va & 0xffff);
			return 0;
		}
		if (pte & (PTE_R | PTE_X)) {
			uint64_t low = (1ULL << shift) - 1;

			/* a superpage's low PPN bits must be zero */
			if ((ppn << PAGE_BITS) & low)
				return -ENOENT;
			*gpa = (ppn << PAGE_BITS) | (va & low);
			return 0;
		}
		table = ppn << PAGE_BITS;
	}
	return -ENOENT;
}
