/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An in-memory disk backend for tests (lkvm/disk.h): requests run on the
 * submitter's thread, inside disk_submit(), unless the test holds them to
 * complete later one by one, in any order. It counts what it did and can
 * fail requests on demand. Thread-safe; done() is never called under its
 * lock.
 */
#ifndef LKVM_TESTS_FAKE_DISK_H
#define LKVM_TESTS_FAKE_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/disk.h"

#define FAKE_DISK_OP(op) (1u << (op)) /* for fake_disk_fail()'s mask */
#define FAKE_DISK_ALL_OPS 0x1fu

struct fake_disk_opts {
	uint64_t size; /* bytes, a non-zero multiple of 512 */
	uint32_t block_size; /* 0: 512 */
	bool ro;
	unsigned int caps; /* DISK_CAP_* */
	const char *serial; /* NULL: "fake-disk" */
};

/* What the fake did, from its creation. */
struct fake_disk_counts {
	unsigned int submitted; /* accepted by the backend */
	unsigned int refused; /* fake_disk_refuse() */
	unsigned int failed; /* completed with an injected error */
	unsigned int reads, writes, discards, write_zeroes; /* completed */
	unsigned int flushes; /* FLUSH requests and disk_flush() calls */
	unsigned int dsync; /* completed requests that had DISK_REQ_DSYNC */
	unsigned int dsync_writes; /* the WRITEs among them */
	unsigned int max_held; /* the most held at once */
};

/*
 * A new zero-filled disk. Returns 0 with it in *out (free it with
 * disk_close()), -EINVAL for a bad size or block size, or -ENOMEM.
 */
int fake_disk_create(const struct fake_disk_opts *o, struct disk **out);

/* The disk's bytes, disk_size(d) of them: tests read and write them. */
uint8_t *fake_disk_data(struct disk *d);

/*
 * hold: accepted requests wait (in submission order) for
 * fake_disk_complete(); otherwise they complete inside disk_submit().
 * Turning it off does not complete the requests already held.
 */
void fake_disk_hold(struct disk *d, bool hold);
/* Requests held now. */
unsigned int fake_disk_held(struct disk *d);
/* Run and complete the i-th held request (0: the oldest). False if there
 * is none. */
bool fake_disk_complete(struct disk *d, unsigned int i);
/* Complete every held request, newest first; returns how many. */
unsigned int fake_disk_complete_all(struct disk *d);

/* The next count requests whose op is in op_mask (FAKE_DISK_OP()) leave
 * the data alone and complete with err (a -errno). */
void fake_disk_fail(struct disk *d, unsigned int op_mask, int err,
		    unsigned int count);
/* The next count submissions are refused: the backend's submit returns
 * err and never calls done(). */
void fake_disk_refuse(struct disk *d, int err, unsigned int count);

void fake_disk_counts(struct disk *d, struct fake_disk_counts *c);

#endif
