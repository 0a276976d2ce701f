/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tests' fake guest: RAM regions in host memory behind a struct gmem,
 * and little-endian loads and stores at guest-physical addresses, as a
 * guest driver would do them.
 *
 * A GPA a test hands to these helpers must lie in RAM: the helpers are
 * the test's own hands, so an address outside RAM is a bug in the test
 * and aborts with a message (hostile addresses go to the device, in
 * descriptors and registers, never through here). guest_valid() lets a
 * fuzz target check an address it computed from its input first.
 *
 * The convention: RAM at GUEST_RAM_BASE, where lkvm puts it, of
 * GUEST_RAM_SIZE bytes unless a test needs a particular size.
 */
#ifndef LKVM_TEST_GUEST_H
#define LKVM_TEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/guest-mem.h"
#include "riscv/memmap.h"

#define GUEST_RAM_BASE MEMMAP_RAM_BASE
#define GUEST_RAM_SIZE 0x100000ULL
#define GUEST_RAM_END (GUEST_RAM_BASE + GUEST_RAM_SIZE)

struct guest {
	struct gmem mem; /* what device models are given */
	uint64_t base, size; /* the first RAM region */
	uint8_t *ram; /* its host memory */
};

/*
 * Zero g and give it one RAM region [base, base+size) of zeroed,
 * page-aligned host memory. Returns 0, -ENOMEM or -EINVAL (gmem_add()).
 */
int guest_init(struct guest *g, uint64_t base, uint64_t size);

/* Another zeroed RAM region, as guest_init(). Returns 0 or -errno. */
int guest_add_ram(struct guest *g, uint64_t base, uint64_t size);

/* Free every region's memory; g may then be initialised again. */
void guest_destroy(struct guest *g);

/* Zero every RAM region (a fresh guest for the next fuzz input). */
void guest_clear(struct guest *g);

/* True when [gpa, gpa+len) lies inside one RAM region. */
bool guest_valid(const struct guest *g, uint64_t gpa, uint64_t len);

/*
 * The host address of [gpa, gpa+len), which must lie inside one RAM
 * region (len 0 checks gpa alone); aborts otherwise.
 */
void *guest_ptr(const struct guest *g, uint64_t gpa, uint64_t len);

/* True when host memory [p, p+len) lies inside one RAM region. */
bool guest_owns(const struct guest *g, const void *p, size_t len);

/* Copy to and from guest RAM; the range must lie in one region. */
void guest_write(const struct guest *g, uint64_t gpa, const void *src,
		 size_t len);
void guest_read(const struct guest *g, uint64_t gpa, void *dst, size_t len);
/* Set len bytes from gpa to byte (a marker the device must overwrite, or
 * a fresh buffer); the range must lie in one region. */
void guest_fill(const struct guest *g, uint64_t gpa, uint8_t byte, size_t len);

/* Little-endian values at gpa (any alignment). */
uint8_t guest_get8(const struct guest *g, uint64_t gpa);
uint16_t guest_get16(const struct guest *g, uint64_t gpa);
uint32_t guest_get32(const struct guest *g, uint64_t gpa);
uint64_t guest_get64(const struct guest *g, uint64_t gpa);
void guest_put8(const struct guest *g, uint64_t gpa, uint8_t v);
void guest_put16(const struct guest *g, uint64_t gpa, uint16_t v);
void guest_put32(const struct guest *g, uint64_t gpa, uint32_t v);
void guest_put64(const struct guest *g, uint64_t gpa, uint64_t v);

/*
 * A 16-bit index shared with a device that runs on another thread (the
 * rings' idx fields): gpa 2-aligned; an acquire load, a release store.
 */
uint16_t guest_load16_acquire(const struct guest *g, uint64_t gpa);
void guest_store16_release(const struct guest *g, uint64_t gpa, uint16_t v);

#endif
