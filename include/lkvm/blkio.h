/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The asynchronous block I/O engine under virtio-blk: requests against one
 * file descriptor, completed by a callback on an engine thread. Two
 * engines: a pool of worker threads (always available) and Linux AIO
 * through libaio (when built with HAVE_LIBAIO), which hands reads and
 * writes to the kernel and sends flush, discard and write-zeroes to a
 * worker thread.
 */
#ifndef LKVM_BLKIO_H
#define LKVM_BLKIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum blkio_op {
	BLKIO_READ,
	BLKIO_WRITE,
	BLKIO_FLUSH, /* fdatasync: every write completed before is durable */
	BLKIO_DISCARD, /* punch a hole; a no-op where the host cannot */
	BLKIO_WRITE_ZEROES, /* zero range, or write zeroes where unsupported */
};

enum blkio_engine {
	BLKIO_ENGINE_THREADS,
	BLKIO_ENGINE_AIO,
};

/*
 * Request flags. BLKIO_F_DSYNC: a WRITE, WRITE_ZEROES or DISCARD is durable
 * (as after fdatasync) when done() is called, for a device that must be
 * write-through (a virtio-blk driver that did not negotiate FLUSH).
 * Writes use RWF_DSYNC (pwritev2, or the AIO iocb's aio_rw_flags), else a
 * plain write followed by fdatasync; the other two are followed by
 * fdatasync. READ and FLUSH ignore it.
 */
#define BLKIO_F_DSYNC (1u << 0)

struct blkio_req {
	int op; /* enum blkio_op */
	unsigned int flags; /* BLKIO_F_*; other bits make the request invalid */
	/* READ/WRITE: the buffers, iovcnt in 1..IOV_MAX, totalling len */
	const struct iovec *iov;
	int iovcnt;
	uint64_t offset, len; /* bytes; len <= INT32_MAX; unused for FLUSH */
	/*
	 * Called once per accepted request, on an engine thread, with the
	 * bytes transferred (READ/WRITE: always len, short transfers are
	 * retried), 0 (other ops) or -errno. The request and its buffers
	 * belong to the engine until then.
	 */
	void (*done)(struct blkio_req *r, int result);
	void *opaque; /* for the caller */
	struct blkio_req *link; /* engine private */
};

struct blkio;

/* Counters since blkio_create(); each one only grows. */
struct blkio_stats {
	uint64_t reads, writes; /* READ, WRITE requests completed */
	uint64_t flushes; /* FLUSH requests completed */
	uint64_t dsync_writes; /* WRITEs completed that had BLKIO_F_DSYNC */
	/* fdatasync calls: one per FLUSH, and one per BLKIO_F_DSYNC request
	 * that RWF_DSYNC could not cover (not a write, or a host without
	 * it) */
	uint64_t syncs;
};

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
 * Returns 0, after which r->done runs exactly once, or -EINVAL for a
 * malformed request (bad op, flags, iovcnt, len or iovec total), in which case
 * r->done is never called. Thread-safe; may be called from r->done.
 */
int blkio_submit(struct blkio *b, struct blkio_req *r);

/* Copy b's counters into *st. Thread-safe; each counter is read atomically
 * but the set is not a snapshot while requests run. */
void blkio_get_stats(struct blkio *b, struct blkio_stats *st);

/* Wait until every accepted request has completed (its done callback
 * returned), stop the threads and free b. NULL is ignored. Must not be
 * called from a done callback. */
void blkio_destroy(struct blkio *b);

#endif
