/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The interface between device models and the VM: MMIO regions and
 * interrupt lines. Device models include this, never <linux/kvm.h>, so that
 * they build and are unit-tested on any host.
 */
#ifndef LKVM_DEVICE_H
#define LKVM_DEVICE_H

#include <stdint.h>

/*
 * A device's MMIO region. offset is relative to the region's base; size is
 * 1, 2, 4 or 8 and is always one the region declared in its access-size
 * mask (the bus rejects others). Values are in host order; the bus converts
 * from the guest's little-endian bytes. Handlers must accept any offset
 * within the region, including unaligned and unimplemented ones (reads of
 * those return 0, writes are ignored), and must never abort on guest input.
 */
struct mmio_ops {
	uint64_t (*read)(void *dev, uint64_t offset, unsigned int size);
	void (*write)(void *dev, uint64_t offset, unsigned int size,
		      uint64_t value);
};

/* Bits for an access-size mask: MMIO_SIZE(4) allows 32-bit accesses. */
#define MMIO_SIZE(n) (1u << (n))

/*
 * An interrupt line from a device to an interrupt controller input. Set the
 * level with irq_line_set(); edge-style users raise then lower it.
 */
struct irq_line {
	void (*set)(void *ctrl, unsigned int irq, int level);
	void *ctrl;
	unsigned int irq;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set)
		l->set(l->ctrl, l->irq, level);
}

#endif
