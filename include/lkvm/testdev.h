/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Devices for test programs: a test finisher compatible with the
 * "sifive,test0" of QEMU's virt board, and a pvpanic register
 * ("qemu,pvpanic-mmio", Linux's PVPANIC_MMIO driver). Portable: they tell
 * the machine what the guest asked through a callback, and every guest
 * access they do not understand is ignored.
 */
#ifndef LKVM_TESTDEV_H
#define LKVM_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/device.h"

/* The finisher's register (offset 0, 32-bit): status in the low 16 bits,
 * a code above them. */
#define FINISHER_FAIL 0x3333
#define FINISHER_PASS 0x5555
#define FINISHER_RESET 0x7777
#define FINISHER_SIZES MMIO_SIZE(4)

/*
 * The exit status of `lkvm run` for a write of value to the finisher, in
 * *status; false when the value asks for nothing (ignored). PASS gives 0,
 * RESET LKVM_EXIT_REBOOT (whatever the code bits), FAIL the code: 1-255
 * as is, 255 above it, LKVM_EXIT_SYSFAIL for 0 (a failure must never read
 * as success).
 */
bool finisher_decode(uint32_t value, int *status);

/* Called on a write finisher_decode() accepts: value and its status. */
typedef void (*finisher_exit_fn)(void *opaque, uint32_t value, int status);

struct finisher {
	finisher_exit_fn exit;
	void *opaque;
};

void finisher_init(struct finisher *f, finisher_exit_fn exit, void *opaque);

/* The finisher's region (any size; the register is at offset 0): reads
 * return 0; a 32-bit write at offset 0 is decoded, anything else ignored. */
extern const struct mmio_ops finisher_mmio_ops;

/* pvpanic events (Linux's include/uapi/misc/pvpanic.h) */
#define PVPANIC_PANICKED (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)
/* The events this device reports as supported (a read of its register). */
#define PVPANIC_SUPPORTED (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)
#define PVPANIC_SIZES MMIO_SIZE(1)

/* Called on a write with supported events set: those events. */
typedef void (*pvpanic_event_fn)(void *opaque, unsigned int events);

struct pvpanic {
	pvpanic_event_fn event;
	void *opaque;
};

void pvpanic_init(struct pvpanic *p, pvpanic_event_fn event, void *opaque);

/* The pvpanic region: a one-byte register at offset 0 (reads give
 * PVPANIC_SUPPORTED; a write's supported bits are reported, the others
 * dropped); other offsets and sizes read 0 and ignore writes. */
extern const struct mmio_ops pvpanic_mmio_ops;

#endif
