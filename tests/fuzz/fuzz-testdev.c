// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the test finisher and the pvpanic register as the board
 * serves them (hw/testdev.c behind the MMIO bus). Each op is 8 bytes:
 * flags (bit 0 write, bit 1 pvpanic), an access size (& 15), a 16-bit
 * offset into the page, then a 32-bit value. Invariants: the finisher
 * reports only pass, fail and reset, with the status its value maps to;
 * pvpanic reports only supported, non-empty events; nothing aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/mmio.h"
#include "lkvm/testdev.h"
#include "lkvm/vm.h"
#include "riscv/memmap.h"

static void on_exit_cb(void *opaque, uint32_t value, int status)
{
	int want;

	(void)opaque;
	if (!finisher_decode(value, &want) || want != status || status < 0 ||
	    status > 255)
		abort();
	switch (value & 0xffff) {
	case FINISHER_PASS:
		if (status)
			abort();
		break;
	case FINISHER_RESET:
		if (status != LKVM_EXIT_REBOOT)
			abort();
		break;
	case FINISHER_FAIL:
		if (!status)
			abort(); /* a failure never reads as success */
		break;
	default:
		abort();
	}
}

static void on_event(void *opaque, unsigned int events)
{
	(void)opaque;
	if (!events || (events & ~PVPANIC_SUPPORTED))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mmio_bus bus;
	static struct finisher f;
	static struct pvpanic p;
	static int ready;
	size_t i;

	if (!ready) {
		finisher_init(&f, on_exit_cb, NULL);
		pvpanic_init(&p, on_event, NULL);
		if (mmio_register(&bus, MEMMAP_TEST_FINISHER_BASE,
				  MEMMAP_TEST_FINISHER_SIZE, FINISHER_SIZES,
				  &finisher_mmio_ops, &f, "test-finisher") ||
		    mmio_register(&bus, MEMMAP_PVPANIC_BASE,
				  MEMMAP_PVPANIC_SIZE, PVPANIC_SIZES,
				  &pvpanic_mmio_ops, &p, "pvpanic"))
			abort();
		ready = 1;
	}
	for (i = 0; i + 8 <= size; i += 8) {
		const uint8_t *op = data + i;
		uint64_t base = op[0] & 2 ? MEMMAP_PVPANIC_BASE
					  : MEMMAP_TEST_FINISHER_BASE;
		uint16_t off;
		uint8_t buf[16];
		unsigned int len = op[1] & 15;

		memcpy(&off, op + 2, 2);
		memset(buf, 0, sizeof(buf));
		memcpy(buf, op + 4, 4);
		if (!len)
			continue;
		mmio_access(&bus, base + off, buf, len, op[0] & 1);
		if (!(op[0] & 1) && base == MEMMAP_PVPANIC_BASE && !off &&
		    len == 1 && buf[0] != PVPANIC_SUPPORTED)
			abort();
	}
	return 0;
}
