// SPDX-License-Identifier: GPL-2.0-only
/* The block I/O engine: request queue, worker threads, completion. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/falloc.h>

#include "disk/blkio-priv.h"
#include "lkvm/compiler.h"
#include "lkvm/seccomp.h"

#define BLKIO_DEF_THREADS 4
#define BLKIO_AIO_THREADS 2
#define BLKIO_DEF_DEPTH 128
#define BLKIO_ZERO_BUF (64 * 1024)
#define BLKIO_ALIGN 4096 /* good for O_DIRECT on any logical block size */
#define BLKIO_STACK_IOV 64

/* Drop the first n bytes of the iovec array (v, *cnt). */
static struct iovec *iov_advance(struct iovec *v, int *cnt, uint64_t n)
{
	while (*cnt && n >= v->iov_len) {
		n -= v->iov_len;
		v++;
		(*cnt)--;
	}
	if (*cnt) {
		v->iov_base = (char *)v->iov_base + n;
		v->iov_len -= n;
	}
	return v;
}

static void stat_add(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

int blkio_sync(struct blkio *b)
{
	int ret;

	stat_add(&b->stats.syncs);
	while ((ret = b->hooks.sync(b->fd)) && errno == EINTR)
		;
	return ret ? -errno : 0;
}

/*
 * One write of a DISK_REQ_DSYNC request: with RWF_DSYNC where the host has
 * it; else a plain write, and *need_sync is set for the fdatasync after.
 */
static ssize_t write_dsync(struct blkio *b, const struct iovec *v, int cnt,
			   uint64_t off, bool *need_sync)
{
	ssize_t n;

	if (!__atomic_load_n(&b->no_rwf_dsync, __ATOMIC_RELAXED)) {
		n = b->hooks.pwritev2(b->fd, v, cnt, (off_t)off, RWF_DSYNC);
		if (n >= 0 ||
		    (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL))
			return n;
		/* EINVAL may be this request's (O_DIRECT alignment): the
		 * plain write below tells, so only the other two stick. */
		if (errno != EINVAL)
			__atomic_store_n(&b->no_rwf_dsync, true,
					 __ATOMIC_RELAXED);
	}
	*need_sync = true;
	return pwritev(b->fd, v, cnt, (off_t)off);
}

static ssize_t rw_once(struct blkio *b, const struct disk_req *r,
		       const struct iovec *v, int cnt, uint64_t off,
		       bool *need_sync)
{
	if (r->op == DISK_OP_READ)
		return preadv(b->fd, v, cnt, (off_t)off);
	if (r->flags & DISK_REQ_DSYNC)
		return write_dsync(b, v, cnt, off, need_sync);
	return pwritev(b->fd, v, cnt, (off_t)off);
}

int blkio_rw_sync(struct blkio *b, const struct disk_req *r, uint64_t skip)
{
	struct iovec stack[BLKIO_STACK_IOV], *copy = stack, *v;
	uint64_t done = skip;
	bool need_sync = false;
	int cnt = r->iovcnt, ret;
	ssize_t n;

	if (cnt > BLKIO_STACK_IOV) {
		copy = malloc(sizeof(*copy) * (size_t)cnt);
		if (!copy)
			return -ENOMEM;
	}
	memcpy(copy, r->iov, sizeof(*copy) * (size_t)cnt);
	v = iov_advance(copy, &cnt, skip);
	while (cnt) {
		n = rw_once(b, r, v, cnt, r->offset + done, &need_sync);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) { /* 0: the file shrank under us */
			ret = n ? -errno : -EIO;
			goto out;
		}
		done += (uint64_t)n;
		v = iov_advance(v, &cnt, (uint64_t)n);
	}
	ret = need_sync ? blkio_sync(b) : 0;
	if (!ret)
		ret = (int)done;
out:
	if (copy != stack)
		free(copy);
	return ret;
}

static int write_zeroes(struct blkio *b, uint64_t off, uint64_t len)
{
	struct iovec v;
	struct disk_req r = { .op = DISK_OP_WRITE, .iov = &v, .iovcnt = 1 };
	int ret;

	if (!fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len))
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -errno;
	while (len) {
		v.iov_base = b->zeroes;
		v.iov_len = len < BLKIO_ZERO_BUF ? len : BLKIO_ZERO_BUF;
		r.offset = off;
		r.len = v.iov_len;
		ret = blkio_rw_sync(b, &r, 0);
		if (ret < 0)
			return ret;
		off += v.iov_len;
		len -= v.iov_len;
	}
	return 0;
}

static int blkio_execute_op(struct blkio *b, struct disk_req *r)
{
	switch (r->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		return blkio_rw_sync(b, r, 0);
	case DISK_OP_FLUSH:
		return blkio_sync(b);
	case DISK_OP_DISCARD:
		if (!fallocate(b->fd,
			       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)r->offset, (off_t)r->len))
			return 0;
		/* Discard is a hint: a host that cannot punch holes keeps
		 * the data. */
		return errno == EOPNOTSUPP || errno == ENOSYS ? 0 : -errno;
	case DISK_OP_WRITE_ZEROES:
		return write_zeroes(b, r->offset, r->len);
	}
	return -EINVAL;
}

static int blkio_execute(struct blkio *b, struct disk_req *r)
{
	int ret = blkio_execute_op(b, r);

	/* READ/WRITE and FLUSH saw to DSYNC themselves */
	if (!ret && (r->flags & DISK_REQ_DSYNC) &&
	    (r->op == DISK_OP_DISCARD || r->op == DISK_OP_WRITE_ZEROES))
		ret = blkio_sync(b);
	return ret;
}

void blkio_complete(struct blkio *b, struct disk_req *r, int result)
{
	/* counted before done(), after which r is the caller's again */
	if (r->op == DISK_OP_READ)
		stat_add(&b->stats.reads);
	else if (r->op == DISK_OP_WRITE)
		stat_add(&b->stats.writes);
	else if (r->op == DISK_OP_FLUSH)
		stat_add(&b->stats.flushes);
	if (r->op == DISK_OP_WRITE && (r->flags & DISK_REQ_DSYNC))
		stat_add(&b->stats.dsync_writes);
	/* a READ/WRITE result is r->len: the transfer was retried to the
	 * end or failed */
	r->done(r, result < 0 ? result : 0);
	pthread_mutex_lock(&b->lock);
	if (!--b->inflight)
		pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->lock);
}

int blkio_flush(struct blkio *b)
{
	return blkio_sync(b);
}

void blkio_get_stats(struct blkio *b, struct disk_stats *st)
{
	st->reads = __atomic_load_n(&b->stats.reads, __ATOMIC_RELAXED);
	st->writes = __atomic_load_n(&b->stats.writes, __ATOMIC_RELAXED);
	st->flushes = __atomic_load_n(&b->stats.flushes, __ATOMIC_RELAXED);
	st->dsync_writes =
		__atomic_load_n(&b->stats.dsync_writes, __ATOMIC_RELAXED);
	st->syncs = __atomic_load_n(&b->stats.syncs, __ATOMIC_RELAXED);
}

static void *blkio_worker(void *arg)
{
	struct blkio *b = arg;
	struct disk_req *r;

	seccomp_thread_start(SECCOMP_THREAD_DISK, "blkio");
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->head && !b->stopping)
			pthread_cond_wait(&b->work, &b->lock);
		if (!b->head)
			break; /* stopping, and nothing left */
		r = b->head;
		b->head = r->link;
		if (!b->head)
			b->tail = NULL;
		pthread_mutex_unlock(&b->lock);
		/* started at set-up, before the filter: its own now */
		seccomp_thread_update();
		blkio_complete(b, r, blkio_execute(b, r));
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

void blkio_queue_worker(struct blkio *b, struct disk_req *r)
{
	pthread_mutex_lock(&b->lock);
	r->link = NULL;
	if (b->tail)
		b->tail->link = r;
	else
		b->head = r;
	b->tail = r;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->lock);
}

static bool req_valid(const struct disk_req *r)
{
	uint64_t total = 0;
	int i;

	if (!r->done || r->len > INT32_MAX || (r->flags & ~DISK_REQ_DSYNC))
		return false;
	switch (r->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		break;
	case DISK_OP_FLUSH:
		return true;
	case DISK_OP_DISCARD:
	case DISK_OP_WRITE_ZEROES:
		return r->offset <= INT64_MAX - r->len;
	default:
		return false;
	}
	if (r->iovcnt < 1 || r->iovcnt > IOV_MAX || !r->iov ||
	    r->offset > INT64_MAX - r->len)
		return false;
	for (i = 0; i < r->iovcnt; i++) {
		total += r->iov[i].iov_len;
		if (total > r->len)
			return false;
	}
	return total == r->len;
}

int blkio_submit(struct blkio *b, struct disk_req *r)
{
	if (!req_valid(r))
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->inflight++;
	pthread_mutex_unlock(&b->lock);
	if (b->aio && (r->op == DISK_OP_READ || r->op == DISK_OP_WRITE) &&
	    blkio_aio_submit(b, r))
		return 0;
	blkio_queue_worker(b, r);
	return 0;
}

static void blkio_stop_workers(struct blkio *b)
{
	unsigned int i;

	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&b->lock);
	for (i = 0; i < b->nthreads; i++)
		pthread_join(b->threads[i], NULL);
	b->nthreads = 0;
}

static void blkio_free(struct blkio *b)
{
	blkio_stop_workers(b);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->idle);
	pthread_mutex_destroy(&b->lock);
	free(b->zeroes);
	free(b);
}

static int blkio_start_workers(struct blkio *b, unsigned int n)
{
	int ret;

	if (n > ARRAY_SIZE(b->threads))
		n = ARRAY_SIZE(b->threads);
	while (b->nthreads < n) {
		ret = pthread_create(&b->threads[b->nthreads], NULL,
				     blkio_worker, b);
		if (ret)
			return -ret;
		b->nthreads++;
	}
	return 0;
}

int blkio_create(struct blkio **out, int fd, enum blkio_engine engine,
		 unsigned int n)
{
	struct blkio *b;
	int ret;

	if (engine != BLKIO_ENGINE_THREADS && engine != BLKIO_ENGINE_AIO)
		return -EINVAL;
	if (engine == BLKIO_ENGINE_AIO && !blkio_have_aio())
		return -ENOTSUP;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = fd;
	b->hooks.sync = fdatasync;
	b->hooks.pwritev2 = pwritev2;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->idle, NULL);
	if (posix_memalign(&b->zeroes, BLKIO_ALIGN, BLKIO_ZERO_BUF)) {
		b->zeroes = NULL;
		ret = -ENOMEM;
		goto out_free;
	}
	memset(b->zeroes, 0, BLKIO_ZERO_BUF);
	if (engine == BLKIO_ENGINE_AIO)
		ret = blkio_start_workers(b, BLKIO_AIO_THREADS);
	else
		ret = blkio_start_workers(b, n ? n : BLKIO_DEF_THREADS);
	if (ret)
		goto out_free;
	if (engine == BLKIO_ENGINE_AIO) {
		ret = blkio_aio_start(b, n ? n : BLKIO_DEF_DEPTH);
		if (ret)
			goto out_free;
	}
	*out = b;
	return 0;

out_free:
	blkio_free(b);
	return ret;
}

void blkio_destroy(struct blkio *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	while (b->inflight)
		pthread_cond_wait(&b->idle, &b->lock);
	pthread_mutex_unlock(&b->lock);
	if (b->aio)
		blkio_aio_stop(b);
	blkio_free(b);
}
