/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest's flattened device tree, built with libfdt. */
#ifndef LKVM_FDT_H
#define LKVM_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/kvm-caps.h"

#define FDT_MAX_DEVS 32

/* A simple MMIO device with one wired interrupt (PLIC or APLIC). */
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
	/* The wired-interrupt controller: the PLIC, or with aia true the
	 * in-kernel APLIC (MSI mode) and one IMSIC S-file per hart. */
	bool aia;
	uint64_t plic_base, plic_size;
	unsigned int plic_ndev;
	uint64_t aplic_base, aplic_size;
	unsigned int aplic_nsrc; /* wired sources 1..aplic_nsrc */
	uint64_t imsic_base, imsic_stride; /* hart i's file: base + i*stride */
	unsigned int imsic_nids; /* MSI IDs per file (riscv,num-ids) */
	/* A pci-host-ecam-generic bridge for bus 0 when pci is true; INTx of
	 * slot s pin p goes to wired source pci_intx_base + (s + p - 1) % 4;
	 * msi-parent names the IMSIC when aia is true. */
	bool pci;
	uint64_t pci_ecam_base, pci_ecam_size;
	uint64_t pci_mmio32_base, pci_mmio32_size;
	uint64_t pci_mmio64_base, pci_mmio64_size;
	unsigned int pci_intx_base;
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
