/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's flattened device tree, built with libfdt. */
#ifndef LKVM_FDT_H
#define LKVM_FDT_H

#include <stddef.h>

struct board;

/*
 * Build the device tree of board b into buf (size bytes): /chosen, memory,
 * the harts, and under /soc a node for each device in the order the board
 * placed it (see riscv/board.h). Returns the size of the finished blob, or
 * a negative libfdt error (-FDT_ERR_NOSPACE when buf is too small).
 */
int fdt_build(void *buf, size_t size, const struct board *b);

#endif
