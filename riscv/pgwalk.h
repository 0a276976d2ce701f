/* SPDX-License-Identifier: GPL-2.0-only */
/* A guest virtual address through the guest's own page tables. */
#ifndef LKVM_RISCV_PGWALK_H
#define LKVM_RISCV_PGWALK_H

#include <stdint.h>

#include "lkvm/guest-mem.h"

/*
 * Translate va the way the guest's MMU would under satp (Bare, Sv39, Sv48
 * or Sv57, with Svnapot's 64 KiB pages; the privilege and permission bits
 * are not checked): for the diagnosis of a guest that faulted, not for
 * emulation. Each page table entry is read once from guest memory. Returns 0 with *gpa set; -ENOENT
 * when the tables do not map va (an invalid or reserved entry, no leaf, a
 * misaligned superpage, or va not canonical); -EFAULT when a table entry
 * lies outside RAM (*gpa is then that entry's address); -EINVAL for a
 * satp mode this does not know.
 */
int riscv_pgwalk(const struct gmem *mem, uint64_t satp, uint64_t va,
		 uint64_t *gpa);

#endif
