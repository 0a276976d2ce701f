/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The RISC-V Platform-Level Interrupt Controller, modelled in userspace:
 * sources raise and lower their input with plic_set_irq(), harts reach the
 * registers through plic_mmio_ops, and each context's external-interrupt
 * line is reported through struct plic_ops.
 */
#ifndef LKVM_PLIC_H
#define LKVM_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/device.h"

/* Limits from the PLIC specification. */
#define PLIC_MAX_SOURCES 1023u
#define PLIC_MAX_CONTEXTS 15872u
/* Priorities and thresholds are 3 bits wide: 0 (never) to 7. */
#define PLIC_MAX_PRIORITY 7u

/* Register layout (offsets from the region base). */
#define PLIC_PRIORITY_BASE 0x0u
#define PLIC_PENDING_BASE 0x1000u
#define PLIC_ENABLE_BASE 0x2000u
#define PLIC_ENABLE_STRIDE 0x80u
#define PLIC_CONTEXT_BASE 0x200000u
#define PLIC_CONTEXT_STRIDE 0x1000u
#define PLIC_CONTEXT_THRESHOLD 0x0u
#define PLIC_CONTEXT_CLAIM 0x4u

/* The region accepts 32-bit accesses only. */
#define PLIC_MMIO_SIZES MMIO_SIZE(4)

struct plic;

struct plic_ops {
	/* The external-interrupt line of context ctx changed to level (called
	 * only on change, with the PLIC's lock held; must not call back into
	 * the PLIC). */
	void (*set_eip)(void *opaque, unsigned int ctx, bool level);
};

enum plic_trigger {
	PLIC_LEVEL, /* pending follows the input level (the default) */
	PLIC_EDGE, /* a rising edge of the input sets pending once */
};

/*
 * Create a PLIC with sources 1..nr_sources (1..PLIC_MAX_SOURCES; source 0
 * does not exist) and nr_contexts contexts (1..PLIC_MAX_CONTEXTS). All
 * priorities, thresholds, enables and inputs start at 0 and every source is
 * level-triggered. ops (with a non-NULL set_eip) and opaque must outlive the
 * PLIC. On success stores the PLIC in *out and returns 0; otherwise returns
 * -EINVAL (bad argument) or -ENOMEM and leaves *out untouched.
 */
int plic_create(struct plic **out, unsigned int nr_sources,
		unsigned int nr_contexts, const struct plic_ops *ops,
		void *opaque);

/*
 * Free a PLIC from plic_create(). NULL is allowed. No other thread may use
 * it any more; set_eip is not called.
 */
void plic_destroy(struct plic *p);

/*
 * Size in bytes of the MMIO region for nr_contexts contexts:
 * PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * nr_contexts, which is always a
 * multiple of 4 KiB. Returns 0 when nr_contexts is 0 or above
 * PLIC_MAX_CONTEXTS.
 */
uint64_t plic_mmio_size(unsigned int nr_contexts);

/*
 * MMIO handlers; dev is the struct plic *. Register the region with
 * plic_mmio_size() bytes and PLIC_MMIO_SIZES. Any offset and size is safe:
 * unaligned, unimplemented or non-32-bit accesses read 0 and ignore writes.
 * Safe to call from several threads at once.
 */
extern const struct mmio_ops plic_mmio_ops;

/*
 * Set the input level of source irq (non-zero is high). Matches
 * struct irq_line.set, with plic the struct plic *. Source 0 and ids above
 * plic_nr_sources() are ignored. Thread-safe; may call set_eip.
 */
void plic_set_irq(void *plic, unsigned int irq, int level);

/*
 * Make source irq level- or edge-triggered. Meant for machine set-up but
 * thread-safe. Returns 0, or -EINVAL for a bad irq or trigger.
 */
int plic_set_trigger(struct plic *p, unsigned int irq, enum plic_trigger t);

/* The highest source id, as given to plic_create(). */
unsigned int plic_nr_sources(const struct plic *p);

/* The number of contexts, as given to plic_create(). */
unsigned int plic_nr_contexts(const struct plic *p);

#endif
