// SPDX-License-Identifier: GPL-2.0-only
/* The MMIO bus: region registration and access dispatch. */
#include <errno.h>
#include <string.h>

#include "lkvm/mmio.h"

int mmio_register(struct mmio_bus *bus, uint64_t base, uint64_t size,
		  unsigned int sizes, const struct mmio_ops *ops, void *dev,
		  const char *name)
{
	uint64_t last;
	unsigned int i, pos = 0;

	if (!size || __builtin_add_overflow(base, size - 1, &last))
		return -EINVAL;
	if (bus->nr >= MMIO_MAX_REGIONS)
		return -ENOSPC;
	for (i = 0; i < bus->nr; i++) {
		const struct mmio_region *r = &bus->r[i];

		if (base <= r->base + (r->size - 1) && r->base <= last)
			return -EINVAL;
		if (r->base < base)
			pos = i + 1;
	}
	memmove(&bus->r[pos + 1], &bus->r[pos],
		(bus->nr - pos) * sizeof(bus->r[0]));
	bus->r[pos] = (struct mmio_region){ base, size, sizes, ops, dev, name };
	bus->nr++;
	return 0;
}

const struct mmio_region *mmio_find(const struct mmio_bus *bus, uint64_t gpa)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct mmio_region *r = &bus->r[mid];

		if (gpa < r->base)
			hi = mid;
		else if (gpa - r->base >= r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static uint64_t le_load(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_store(uint8_t *p, unsigned int len, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

bool mmio_access(const struct mmio_bus *bus, uint64_t gpa, uint8_t *data,
		 unsigned int len, bool is_write)
{
	const struct mmio_region *r = mmio_find(bus, gpa);
	uint64_t off;

	/* MMIO_SIZE(len) is only defined for the four sizes a bus has */
	if ((len != 1 && len != 2 && len != 4 && len != 8) || !r ||
	    !(r->sizes & MMIO_SIZE(len)) || len > r->size - (gpa - r->base)) {
		if (!is_write)
			memset(data, 0, len);
		return false;
	}
	off = gpa - r->base;
	if (is_write)
		r->ops->write(r->dev, off, len, le_load(data, len));
	else
		le_store(data, len, r->ops->read(r->dev, off, len));
	return true;
}
