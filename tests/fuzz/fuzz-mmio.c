// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: MMIO bus registration and dispatch, with invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/mmio.h"
#include "fuzz-input.h"

/*
 * Each op is 12 bytes: kind, len, sizes mask, pad, then an 8-byte value.
 * kind & 3: 0 register [value, value + (len + 1) * 16), 1 read, 2 write,
 * 3 find. Addresses under 2^16 keep registrations close together.
 */
struct fz_dev {
	uint64_t base, size;
	unsigned int sizes;
};

static struct fz_dev devs[MMIO_MAX_REGIONS];

static void check_access(void *dev, uint64_t offset, unsigned int size)
{
	struct fz_dev *d = dev;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		abort();
	if (!(d->sizes & MMIO_SIZE(size)) || offset >= d->size ||
	    size > d->size - offset)
		abort();
}

static uint64_t fz_read(void *dev, uint64_t offset, unsigned int size)
{
	check_access(dev, offset, size);
	return 0x0123456789abcdefULL;
}

static void fz_write(void *dev, uint64_t offset, unsigned int size,
		     uint64_t value)
{
	check_access(dev, offset, size);
	if (size < 8 && value >> (8 * size))
		abort();
}

static const struct mmio_ops fz_ops = {
	.read = fz_read,
	.write = fz_write,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mmio_bus bus;
	unsigned int i, ndev = 0;

	memset(&bus, 0, sizeof(bus));
	for (; size >= 12; data += 12, size -= 12) {
		unsigned int kind = data[0] & 3, len = data[1];
		uint64_t v = fuzz_le64(data + 4);
		const struct mmio_region *r;
		uint8_t buf[256];

		switch (kind) {
		case 0:
			if (ndev == MMIO_MAX_REGIONS)
				break;
			devs[ndev] = (struct fz_dev){ v, (len + 1) * 16ULL,
						      data[2] & 0x1e };
			if (!mmio_register(&bus, v, devs[ndev].size,
					   devs[ndev].sizes, &fz_ops,
					   &devs[ndev], "fz"))
				ndev++;
			break;
		case 1:
		case 2:
			len &= 15;
			memset(buf, 0xee, sizeof(buf));
			if (!mmio_access(&bus, v, buf, len, kind == 2) &&
			    kind == 1) {
				for (i = 0; i < len; i++)
					if (buf[i])
						abort();
			}
			break;
		case 3:
			r = mmio_find(&bus, v);
			if (r && (v < r->base || v - r->base >= r->size))
				abort();
			break;
		}
		if (bus.nr != ndev)
			abort();
		for (i = 1; i < bus.nr; i++)
			if (bus.r[i - 1].base + (bus.r[i - 1].size - 1) >=
			    bus.r[i].base)
				abort();
	}
	return 0;
}
