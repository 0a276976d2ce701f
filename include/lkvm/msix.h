/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An MSI-X table and pending-bit array (PCI Local Bus 3.0, 6.8.2) for a
 * device model: per-vector address/data/mask, the function mask and enable
 * bits of the capability, and delivery that honours them. Delivery itself
 * (an irqfd write, a test fake) is the owner's, behind struct msix_ops.
 */
#ifndef LKVM_MSIX_H
#define LKVM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16

struct msix_ops {
	/*
	 * Vector vec is live (enabled, unmasked) with this address and data,
	 * or stopped being live (live false). Called on every change of a
	 * live vector's message, under the table lock, so that the owner's
	 * routing always matches what the next fire() delivers.
	 */
	void (*route)(void *opaque, unsigned int vec, uint64_t addr,
		      uint32_t data, bool live);
	/* Deliver vector vec's message (it is live). Must not block long. */
	void (*fire)(void *opaque, unsigned int vec);
};

struct msix {
	const struct msix_ops *ops;
	void *opaque;
	unsigned int nr; /* vectors, 1..MSIX_MAX_VECTORS */
	struct msix_entry {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} table[MSIX_MAX_VECTORS];
	uint64_t pba;
	bool enabled, fmask; /* capability Message Control bits */
	bool live[MSIX_MAX_VECTORS]; /* last state told to ops->route */
	pthread_mutex_t lock;
};

/* nr vectors, all masked, disabled. Returns 0, -EINVAL for nr outside
 * 1..MSIX_MAX_VECTORS, or the lock's -errno. */
int msix_init(struct msix *x, unsigned int nr, const struct msix_ops *ops,
	      void *opaque);
void msix_destroy(struct msix *x);
/* Back to the reset state (all masked, nothing pending, disabled). */
void msix_reset(struct msix *x);

/* Table size in bytes, and the PBA's (whole qwords). */
static inline unsigned int msix_table_size(const struct msix *x)
{
	return x->nr * MSIX_ENTRY_SIZE;
}
static inline unsigned int msix_pba_size(const struct msix *x)
{
	return (x->nr + 63) / 64 * 8;
}

/*
 * Guest accesses to the table and the PBA, off relative to each. Aligned
 * 4- and 8-byte accesses are served; anything else reads 0 and is ignored.
 * The PBA is read-only.
 */
uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int size);
void msix_table_write(struct msix *x, uint64_t off, unsigned int size,
		      uint64_t value);
uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int size);

/* The capability's Message Control bits changed. */
void msix_set_control(struct msix *x, bool enabled, bool fmask);

/* True when MSI-X is enabled: the device must not use INTx then. */
bool msix_enabled(struct msix *x);

/*
 * The device wants vector vec delivered. Returns false when MSI-X is
 * disabled (the caller falls back to INTx); otherwise true: the message is
 * fired, or left pending while masked (delivered when unmasked), or
 * dropped when vec is out of range (NO_VECTOR: no interrupt).
 */
bool msix_notify(struct msix *x, unsigned int vec);

#endif
