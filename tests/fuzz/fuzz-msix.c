// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the MSI-X table, PBA and control bits, with invariants. */
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/msix.h"
#include "fuzz-input.h"

#define NR 5

/*
 * What the owner has been told. Invariants: a vector is fired only while
 * the owner believes it live; a route that goes live or dead changes the
 * state (no duplicate "dead"), and routes name real vectors.
 */
struct owner {
	bool live[NR];
};

static void own_route(void *opaque, unsigned int vec, uint64_t addr,
		      uint32_t data, bool live)
{
	struct owner *o = opaque;

	(void)addr, (void)data;
	if (vec >= NR || (!live && !o->live[vec]))
		abort();
	o->live[vec] = live;
}

static void own_fire(void *opaque, unsigned int vec)
{
	struct owner *o = opaque;

	if (vec >= NR || !o->live[vec])
		abort();
}

static const struct msix_ops own_ops = { own_route, own_fire };

/*
 * Records: op, then operands. op % 5: 0 table write (offset byte, size
 * 1 << (x & 3), 8 value bytes), 1 table read, 2 PBA read, 3 control bits,
 * 4 notify (vector byte), 5 reset (op == 9 only: reset is rare).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct owner o = { 0 };
	struct msix x;
	unsigned int i;

	if (msix_init(&x, NR, &own_ops, &o))
		abort();
	while (size) {
		uint8_t op = fuzz_byte(&data, &size);
		uint64_t off = fuzz_take(&data, &size, 1);
		unsigned int sz = 1u << (fuzz_take(&data, &size, 1) & 3);

		switch (op % 6) {
		case 0:
			msix_table_write(&x, off, sz,
					 fuzz_take(&data, &size, 8));
			break;
		case 1:
			(void)msix_table_read(&x, off, sz);
			break;
		case 2:
			(void)msix_pba_read(&x, off & 15, sz);
			break;
		case 3:
			msix_set_control(&x, off & 1, off & 2);
			break;
		case 4:
			if (msix_notify(&x, (unsigned int)off % 8) !=
			    msix_enabled(&x))
				abort();
			break;
		default:
			if (op == 5)
				msix_reset(&x);
		}
	}
	/* a pending bit is set only for a vector that is not live */
	for (i = 0; i < NR; i++)
		if (x.pba & 1ULL << i && o.live[i])
			abort();
	msix_destroy(&x);
	return 0;
}
