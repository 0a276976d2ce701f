/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between the blkio engines; not part of the public interface. */
#ifndef LKVM_BLKIO_PRIV_H
#define LKVM_BLKIO_PRIV_H

#include <pthread.h>
#include <sys/types.h>

#include "lkvm/blkio.h"

struct blkio_aio;

/*
 * The system calls the engine makes to sync, behind pointers so that unit
 * tests can count and fail them without LD_PRELOAD. blkio_create() sets
 * them to fdatasync() and pwritev2(); a test may replace them after
 * blkio_create() and before its first blkio_submit() (submission takes
 * b->lock, which orders the store before any engine thread's use).
 * Nothing else changes them.
 */
struct blkio_hooks {
	int (*sync)(int fd);
	ssize_t (*pwritev2)(int fd, const struct iovec *iov, int cnt, off_t off,
			    int flags);
};

struct blkio {
	int fd;
	struct blkio_hooks hooks;
	struct disk_stats stats; /* updated with __atomic_add_fetch */
	bool no_rwf_dsync; /* pwritev2(RWF_DSYNC) unsupported; atomic */
	pthread_mutex_t lock;
	pthread_cond_t work; /* queue non-empty or stopping */
	pthread_cond_t idle; /* inflight dropped to 0 */
	struct disk_req *head, *tail; /* requests for the workers */
	unsigned int inflight; /* accepted, done() not yet returned */
	bool stopping;
	unsigned int nthreads;
	pthread_t threads[64];
	void *zeroes; /* aligned zeroes for the write-zeroes fallback */
	struct blkio_aio *aio; /* NULL for the thread engine */
};

/* Run a READ/WRITE to the end, starting skip bytes into it, honouring
 * DISK_REQ_DSYNC: bytes done (r->len) or -errno. */
int blkio_rw_sync(struct blkio *b, const struct disk_req *r, uint64_t skip);
/* fdatasync(b->fd) through the hook, counted: 0 or -errno. */
int blkio_sync(struct blkio *b);
/* Queue r for a worker; r was counted in inflight already. */
void blkio_queue_worker(struct blkio *b, struct disk_req *r);
/* Count r, call r->done with 0 (result: the bytes of a READ/WRITE, or 0)
 * or result's -errno, and drop r from inflight. */
void blkio_complete(struct blkio *b, struct disk_req *r, int result);

/* blkio-aio.c: 0 or -errno (-ENOTSUP without libaio). */
int blkio_aio_start(struct blkio *b, unsigned int depth);
/* Submit a READ/WRITE to the kernel; false when the caller must fall back
 * to a worker (ring full or io_submit failed). */
bool blkio_aio_submit(struct blkio *b, struct disk_req *r);
/* After inflight reached 0: stop the completion thread, free the ring. */
void blkio_aio_stop(struct blkio *b);

#endif
