/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's flattened device tree, built with libfdt. */
#ifndef LKVM_FDT_H
#define LKVM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/kvm-caps.h"

#define FDT_MAX_DEVS 32

/* A simple MMIO device with one interrupt through the PLIC. */
struct fdt_dev {
	const char *name; /* node name, e.g. "virtio_mmio" */
	const char *compatible;
	uint64_t base, size;
	unsigned int irq;
};

struct fdt_params {
	unsigned int nr_cpus;
	const struct kvm_caps *caps; /* ISA, extensions, MMU, timebase */
	uint64_t ram_base, ram_size;
	const char *bootargs;
	uint64_t initrd_start, initrd_end; /* both 0: no initrd */
	uint64_t plic_base, plic_size;
	unsigned int plic_ndev;
	uint64_t uart_base, uart_size;
	unsigned int uart_irq;
	uint32_t uart_clock;
	bool stdout_serial; /* stdout-path names the UART */
	struct fdt_dev devs[FDT_MAX_DEVS];
	unsigned int nr_devs;
};

/*
 * Build the device tree into buf (size bytes). Returns the size of the
 * finished blob, or a negative libfdt error (-FDT_ERR_NOSPACE when buf is
 * too small).
 */
int fdt_build(void *buf, size_t size, const struct fdt_params *p);

#endif
