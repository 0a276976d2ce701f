// SPDX-License-Identifier: GPL-2.0-only
/* The block I/O engine: request queue, worker threads, completion. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
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

static ssize_t rw_once(int fd, int op, const struct iovec *v, int cnt,
		       uint64_t off)
{
	if (op == BLKIO_READ)
		return preadv(fd, v, cnt, (off_t)off);
	return pwritev(fd, v, cnt, (off_t)off);
}

int blkio_rw_sync(int fd, const struct blkio_req *r, uint64_t skip)
{
	struct iovec stack[BLKIO_STACK_IOV], *copy = stack, *v;
	uint64_t done = skip;
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
		n = rw_once(fd, r->op, v, cnt, r->offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) { /* 0: the file shrank under us */
			ret = n ? -errno : -EIO;
			goto out;
		}
		done += (uint64_t)n;
		v = iov_advance(v, &cnt, (uint64_t)n);
	}
	ret = (int)done;
out:
	if (copy != stack)
		free(copy);
	return ret;
}

static int write_zeroes(struct blkio *b, uint64_t off, uint64_t len)
{
	struct iovec v;
	struct blkio_req r = { .op = BLKIO_WRITE, .iov = &v, .iovcnt = 1 };
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
		ret = blkio_rw_sync(b->fd, &r, 0);
		if (ret < 0)
			return ret;
		off += v.iov_len;
		len -= v.iov_len;
	}
	return 0;
}

static int blkio_execute(struct blkio *b, struct blkio_req *r)
{
	int ret;

	switch (r->op) {
	case BLKIO_READ:
	case BLKIO_WRITE:
		return blkio_rw_sync(b->fd, r, 0);
	case BLKIO_FLUSH:
		while ((ret = fdatasync(b->fd)) && errno == EINTR)
			;
		return ret ? -errno : 0;
	case BLKIO_DISCARD:
		if (!fallocate(b->fd,
			       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       (off_t)r->offset, (off_t)r->len))
			return 0;
		/* Discard is a hint: a host that cannot punch holes keeps
		 * the data. */
		return errno == EOPNOTSUPP || errno == ENOSYS ? 0 : -errno;
	case BLKIO_WRITE_ZEROES:
		return write_zeroes(b, r->offset, r->len);
	}
	return -EINVAL;
}

void blkio_complete(struct blkio *b, struct blkio_req *r, int result)
{
	r->done(r, result);
	pthread_mutex_lock(&b->lock);
	if (!--b->inflight)
		pthread_cond_broadcast(&b->idle);
	pthread_mutex_unlock(&b->lock);
}

static void *blkio_worker(void *arg)
{
	struct blkio *b = arg;
	struct blkio_req *r;

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

void blkio_queue_worker(struct blkio *b, struct blkio_req *r)
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

static bool req_valid(const struct blkio_req *r)
{
	uint64_t total = 0;
	int i;

	if (!r->done || r->len > INT32_MAX)
		return false;
	switch (r->op) {
	case BLKIO_READ:
	case BLKIO_WRITE:
		break;
	case BLKIO_FLUSH:
		return true;
	case BLKIO_DISCARD:
	case BLKIO_WRITE_ZEROES:
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

int blkio_submit(struct blkio *b, struct blkio_req *r)
{
	if (!req_valid(r))
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->inflight++;
	pthread_mutex_unlock(&b->lock);
	if (b->aio && (r->op == BLKIO_READ || r->op == BLKIO_WRITE) &&
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
