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

struct blkio_req {
	int op; /* enum blkio_op */
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
 * malformed request (bad op, iovcnt, len or iovec total), in which case
 * r->done is never called. Thread-safe; may be called from r->done.
 */
int blkio_submit(struct blkio *b, struct blkio_req *r);

/* Wait until every accepted request has completed (its done callback
 * returned), stop the threads and free b. NULL is ignored. Must not be
 * called from a done callback. */
void blkio_destroy(struct blkio *b);

#endif
