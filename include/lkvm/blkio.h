/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The asynchronous block I/O engine under the raw disk backend
 * (lkvm/disk-raw.h): struct disk_req requests against one file
 * descriptor, completed by their done callback on an engine thread. Two
 * engines: a pool of worker threads (always available) and Linux AIO
 * through libaio (when built with HAVE_LIBAIO), which hands reads and
 * writes to the kernel and sends flush, discard and write-zeroes to a
 * worker thread.
 *
 * What each op does here: FLUSH is fdatasync; DISCARD punches a hole (a
 * no-op where the host cannot); WRITE_ZEROES zeroes the range, or writes
 * zeroes where the host cannot. DISK_REQ_DSYNC: writes use RWF_DSYNC
 * (pwritev2, or the AIO iocb's aio_rw_flags), else a plain write followed
 * by fdatasync; DISCARD and WRITE_ZEROES are followed by fdatasync.
 */
#ifndef LKVM_BLKIO_H
#define LKVM_BLKIO_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/disk.h"

enum blkio_engine {
	BLKIO_ENGINE_THREADS,
	BLKIO_ENGINE_AIO,
};

struct blkio;

/*
 * Start an engine on fd (which must stay open until blkio_destroy()).
 * n: worker threads for BLKIO_ENGINE_THREADS (0 means 4, at most 64);
 * queue depth for BLKIO_ENGINE_AIO (0 means 128), which also starts two
 * worker threads. Returns 0 with the engine in *out, -ENOTSUP for AIO in a
 * build without libaio, or another -errno.
 */
int blkio_create(struct blkio **out, int fd, enum blkio_engine engine,
		 unsigned int n);

/* True when this build has the libaio engine. */
bool blkio_have_aio(void);

/*
 * Queue r; never blocks on the I/O itself (with AIO on a file opened
 * without O_DIRECT the kernel may still do the I/O inside io_submit()).
 * The range is not checked against the file: reading past its end fails.
 * Returns 0, after which r->done runs exactly once on an engine thread
 * (short transfers are retried; one that makes no progress is -EIO), or
 * -EINVAL for a malformed request (bad op, flags, iovcnt, len or iovec
 * total), in which case r->done is never called. Thread-safe; may be
 * called from r->done.
 */
int blkio_submit(struct blkio *b, struct disk_req *r);

/* fdatasync now, on the caller's thread, counted in syncs: 0 or -errno. */
int blkio_flush(struct blkio *b);

/* Copy b's counters into *st. Thread-safe; each counter is read atomically
 * but the set is not a snapshot while requests run. */
void blkio_get_stats(struct blkio *b, struct disk_stats *st);

/* Wait until every accepted request has completed (its done callback
 * returned), stop the threads and free b. NULL is ignored. Must not be
 * called from a done callback. */
void blkio_destroy(struct blkio *b);

#endif
