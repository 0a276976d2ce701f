// SPDX-License-Identifier: GPL-2.0-only
/* The Linux AIO (libaio) engine: reads and writes submitted to the kernel,
 * completions collected by one thread woken through an eventfd. */
#include <errno.h>
#include <stdlib.h>

#include "disk/blkio-priv.h"
#include "lkvm/seccomp.h"

#ifdef HAVE_LIBAIO

#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libaio.h>

#define AIO_EVENTS 64

struct blkio_aio {
	io_context_t ctx;
	int efd;
	pthread_t thread;
	pthread_mutex_t lock; /* busy, stop */
	unsigned int depth, busy; /* iocbs in the kernel */
	bool stop;
};

struct aio_cb {
	struct iocb cb;
	struct disk_req *r;
};

bool blkio_have_aio(void)
{
	return true;
}

/* One finished iocb: a short transfer is finished synchronously here. */
static void aio_finish(struct blkio *b, struct io_event *ev)
{
	struct aio_cb *acb = (struct aio_cb *)(void *)ev->obj;
	/* pairs with the release store in blkio_aio_submit(): the kernel
	 * hand-off is invisible to thread sanitizers */
	struct disk_req *r = __atomic_load_n(&acb->r, __ATOMIC_ACQUIRE);
	long res = (long)ev->res;

	free(acb);
	pthread_mutex_lock(&b->aio->lock);
	b->aio->busy--;
	pthread_mutex_unlock(&b->aio->lock);
	if (res >= 0 && (uint64_t)res < r->len)
		res = blkio_rw_sync(b, r, (uint64_t)res);
	blkio_complete(b, r, (int)res);
}

static bool aio_should_stop(struct blkio_aio *a)
{
	bool stop;

	pthread_mutex_lock(&a->lock);
	stop = a->stop && !a->busy;
	pthread_mutex_unlock(&a->lock);
	return stop;
}

static void *aio_thread(void *arg)
{
	struct blkio *b = arg;
	struct blkio_aio *a = b->aio;
	struct io_event ev[AIO_EVENTS];
	struct timespec zero = { 0, 0 };
	uint64_t cnt;
	int n, i;

	seccomp_thread_start(SECCOMP_THREAD_DISK, "aio");
	for (;;) {
		if (read(a->efd, &cnt, sizeof(cnt)) < 0 && errno != EINTR &&
		    errno != EAGAIN)
			break;
		/* started at set-up, before the filter: its own now */
		seccomp_thread_update();
		while ((n = io_getevents(a->ctx, 0, AIO_EVENTS, ev, &zero)) > 0)
			for (i = 0; i < n; i++)
				aio_finish(b, &ev[i]);
		if (aio_should_stop(a))
			break;
	}
	return NULL;
}

bool blkio_aio_submit(struct blkio *b, struct disk_req *r)
{
	struct blkio_aio *a = b->aio;
	struct aio_cb *acb;
	struct iocb *cbs[1];
	int ret;

	pthread_mutex_lock(&a->lock);
	if (a->busy >= a->depth) {
		pthread_mutex_unlock(&a->lock);
		return false;
	}
	a->busy++;
	pthread_mutex_unlock(&a->lock);
	acb = malloc(sizeof(*acb));
	if (!acb)
		goto out_unbusy;
	if (r->op == DISK_OP_READ)
		io_prep_preadv(&acb->cb, b->fd, r->iov, r->iovcnt,
			       (long long)r->offset);
	else
		io_prep_pwritev(&acb->cb, b->fd, r->iov, r->iovcnt,
				(long long)r->offset);
	/* libaio 0.3.111+ (Debian 12: 0.3.113) names the iocb's RWF_* word
	 * aio_rw_flags; a kernel before 4.13 refuses it in io_submit(),
	 * and the request then goes to a worker, which has pwritev2. */
	if (r->op == DISK_OP_WRITE && (r->flags & DISK_REQ_DSYNC))
		acb->cb.aio_rw_flags = RWF_DSYNC;
	io_set_eventfd(&acb->cb, a->efd);
	/* pairs with the acquire load in aio_finish() */
	__atomic_store_n(&acb->r, r, __ATOMIC_RELEASE);
	cbs[0] = &acb->cb;
	do
		ret = io_submit(a->ctx, 1, cbs);
	while (ret == -EINTR);
	if (ret == 1)
		return true;
	free(acb);
out_unbusy:
	pthread_mutex_lock(&a->lock);
	a->busy--;
	pthread_mutex_unlock(&a->lock);
	return false;
}

int blkio_aio_start(struct blkio *b, unsigned int depth)
{
	struct blkio_aio *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	a->depth = depth;
	pthread_mutex_init(&a->lock, NULL);
	a->efd = eventfd(0, EFD_CLOEXEC);
	if (a->efd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = io_setup((int)depth, &a->ctx);
	if (ret)
		goto out_close;
	b->aio = a;
	ret = -pthread_create(&a->thread, NULL, aio_thread, b);
	if (ret)
		goto out_destroy;
	return 0;

out_destroy:
	b->aio = NULL;
	io_destroy(a->ctx);
out_close:
	close(a->efd);
out_free:
	pthread_mutex_destroy(&a->lock);
	free(a);
	return ret;
}

void blkio_aio_stop(struct blkio *b)
{
	struct blkio_aio *a = b->aio;
	uint64_t one = 1;

	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_mutex_unlock(&a->lock);
	while (write(a->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(a->thread, NULL);
	io_destroy(a->ctx);
	close(a->efd);
	pthread_mutex_destroy(&a->lock);
	free(a);
	b->aio = NULL;
}

#else /* !HAVE_LIBAIO */

bool blkio_have_aio(void)
{
	return false;
}

int blkio_aio_start(struct blkio *b, unsigned int depth)
{
	(void)b;
	(void)depth;
	return -ENOTSUP;
}

bool blkio_aio_submit(struct blkio *b, struct disk_req *r)
{
	(void)b;
	(void)r;
	return false;
}

void blkio_aio_stop(struct blkio *b)
{
	(void)b;
}

#endif
