/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lkvm's RISC-V board: where everything sits in guest physical memory, and
 * which wired interrupt source (PLIC or APLIC) each device drives. The
 * board (riscv/kvm-board.c) places devices from these; the device tree is
 * built from what it placed (riscv/board.h).
 */
#ifndef LKVM_RISCV_MEMMAP_H
#define LKVM_RISCV_MEMMAP_H

#include <stdint.h>

/* Test devices, always present: the finisher where QEMU's virt board has
 * its "sifive,test0" (bare-metal programs written for it work unchanged),
 * the pvpanic register on the next page. */
#define MEMMAP_TEST_FINISHER_BASE 0x00100000ULL
#define MEMMAP_TEST_FINISHER_SIZE 0x1000ULL
#define MEMMAP_PVPANIC_BASE 0x00101000ULL
#define MEMMAP_PVPANIC_SIZE 0x1000ULL
#define MEMMAP_PLIC_BASE 0x0c000000ULL
#define MEMMAP_APLIC_BASE 0x0d000000ULL /* in-kernel AIA: APLIC */
#define MEMMAP_APLIC_SIZE 0x4000ULL
#define MEMMAP_UART_BASE 0x10000000ULL
#define MEMMAP_VIRTIO_MMIO_BASE 0x10001000ULL /* then one page per device */
#define MEMMAP_VIRTIO_MMIO_STRIDE 0x1000ULL
#define MEMMAP_IMSIC_BASE 0x28000000ULL /* in-kernel AIA: one page a hart */
#define MEMMAP_IMSIC_STRIDE 0x1000ULL
#define MEMMAP_PCI_ECAM_BASE 0x30000000ULL /* bus 0: 1 MiB */
#define MEMMAP_PCI_MMIO32_BASE 0x40000000ULL
#define MEMMAP_PCI_MMIO32_SIZE 0x40000000ULL
#define MEMMAP_RAM_BASE 0x80000000ULL
/* The 64-bit PCI window: 2 GiB at the first 4 GiB boundary above RAM (a
 * non-prefetchable window of 4 GiB or more makes Linux warn). */
#define MEMMAP_PCI_MMIO64_SIZE 0x80000000ULL
#define MEMMAP_PCI_MMIO64_ALIGN 0x100000000ULL
static inline uint64_t memmap_pci_mmio64_base(uint64_t ram_size)
{
	uint64_t end = MEMMAP_RAM_BASE + ram_size;

	return (end + MEMMAP_PCI_MMIO64_ALIGN - 1) &
	       ~(MEMMAP_PCI_MMIO64_ALIGN - 1);
}

/* Wired interrupt sources (PLIC or APLIC). */
#define IRQ_UART 10
#define IRQ_PCI_INTX_BASE 12 /* INTA..INTD: 12..15, swizzled by slot */
#define IRQ_VIRTIO_BASE 16 /* then one per virtio-mmio device */
#define PLIC_NR_SOURCES 63

/* Virtio devices of one VM, on either transport. */
#define VM_MAX_VIRTIO 32

/* The 8250's input clock, as the device tree tells the guest. */
#define UART_CLOCK 3686400

#endif
