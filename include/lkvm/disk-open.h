/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Opening a disk image whatever its format: the first bytes of the file
 * say which backend (lkvm/disk-raw.h or lkvm/disk-qcow2.h) serves it, never
 * its name.
 */
#ifndef LKVM_DISK_OPEN_H
#define LKVM_DISK_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/blkio.h"
#include "lkvm/disk.h"

struct disk_open_opts {
	bool ro;
	bool direct; /* raw only: a qcow2 image with it is refused */
	enum blkio_engine engine; /* raw, and qcow2's fast-path reads */
	uint64_t l2_cache_bytes; /* qcow2 only; 0: the default */
};

/*
 * Read the start of path: the qcow2 magic opens it with disk_qcow2_open(),
 * anything else (a block device too) with disk_raw_open(). 0 with the
 * disk in *out, or -errno with one line naming path in err.
 */
int disk_open(struct disk **out, const char *path,
	      const struct disk_open_opts *o, char *err, size_t errlen);

#endif
