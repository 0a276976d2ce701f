/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MMIO bus: guest-physical regions served by device models. Regions
 * are registered during machine set-up, before any vCPU runs; dispatch
 * then takes no lock (each device guards its own state).
 */
#ifndef LKVM_MMIO_H
#define LKVM_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/device.h"

#define MMIO_MAX_REGIONS 64

struct mmio_region {
	uint64_t base, size;
	unsigned int sizes; /* MMIO_SIZE() mask of allowed access sizes */
	const struct mmio_ops *ops;
	void *dev;
	const char *name;
};

struct mmio_bus {
	struct mmio_region r[MMIO_MAX_REGIONS]; /* sorted by base */
	unsigned int nr;
};

/*
 * Register [base, base+size) for dev. Returns 0, or -EINVAL when the range
 * is empty, wraps, or overlaps a registered one, -ENOSPC when full.
 */
int mmio_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		  unsigned int sizes, const struct mmio_ops *ops, void *dev,
		  const char *name);

/* The region holding gpa, or NULL. */
const struct mmio_region *mmio_find(const struct mmio_bus *bus, uint64_t gpa);

/*
 * Perform a guest access of len bytes at gpa; data holds the guest's
 * little-endian bytes (written for reads). Returns true when a device
 * handled it; false for an unmapped address, an access crossing the end of
 * its region, or a size the region does not allow (reads then return
 * zeros).
 */
bool mmio_access(const struct mmio_bus *bus, uint64_t gpa, uint8_t *data,
		 unsigned int len, bool is_write);

#endif
