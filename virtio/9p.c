// SPDX-License-Identifier: GPL-2.0-only
/* virtio-9p: a 9P2000.L server (lkvm/9p.h) on one request queue. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>

#include "lkvm/9p.h"
#include "lkvm/seccomp.h"
#include "lkvm/virtio-devs.h"

#define P9_QUEUE_SIZE 128
/* a chain holds at most queue-size buffers: every legal chain fits */
#define P9_MAX_IOV P9_QUEUE_SIZE

/*
 * The server runs on a thread of its own, so that file system calls never
 * hold up the I/O thread that serves every other device: a notify only
 * wakes it. The thread alone pops and pushes the request queue's chains,
 * and is the only user of the server but for reset, which runs when no
 * chain is in flight and takes lock too.
 */
struct p9_dev {
	struct virtio_dev *vdev;
	struct p9_server *srv;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* kicked, stop */
	pthread_cond_t wake;
	bool kicked, stop; /* stop: also read without lock (atomic) */
	uint64_t kick_ns; /* when kicked was set */
	/* the thread's counters (--stats); written by it, read atomically */
	struct virtio_9p_stats stats;
	/* the server: the thread while it serves, reset; never held by the
	 * I/O thread, so a slow request does not stall its notify */
	pthread_mutex_t srv_lock;
	uint8_t cfg[2 + P9_TAG_MAX]; /* struct virtio_9p_config */
	uint16_t cfg_len;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* Serve every chain available; srv_lock held. */
static void p9_drain(struct p9_dev *p)
{
	struct iovec iov[P9_MAX_IOV];
	struct virtq_chain c;
	uint64_t t;
	long n;

	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED) &&
	       virtio_queue_pop(p->vdev, 0, &c, iov, P9_MAX_IOV) > 0) {
		t = now_ns();
		n = p9_serve(p->srv, iov, c.nout, iov + c.nout,
			     c.niov - c.nout);
		stat_add(&p->stats.chains, 1);
		stat_add(&p->stats.serve_ns, now_ns() - t);
		if (n < 0) {
			virtio_queue_push_broken(
				p->vdev, 0, c.head,
				"9p request or reply buffer too short");
			continue;
		}
		virtio_queue_push(p->vdev, 0, c.head, (uint32_t)n);
	}
}

static void *p9_thread(void *arg)
{
	struct p9_dev *p = arg;
	uint64_t wait;

	seccomp_thread_start(SECCOMP_THREAD_FS, "9p");
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (!p->kicked) {
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		p->kicked = false;
		wait = now_ns() - p->kick_ns;
		pthread_mutex_unlock(&p->lock);
		stat_add(&p->stats.wakeups, 1);
		stat_add(&p->stats.wake_ns, wait);
		if (wait >
		    __atomic_load_n(&p->stats.wake_max_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&p->stats.wake_max_ns, wait,
					 __ATOMIC_RELAXED);
		seccomp_thread_update();
		pthread_mutex_lock(&p->srv_lock);
		p9_drain(p);
		pthread_mutex_unlock(&p->srv_lock);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static bool p9_notify(struct virtio_dev *d, unsigned int q, unsigned int budget)
{
	struct p9_dev *p = virtio_dev_priv(d);

	(void)q;
	(void)budget;
	pthread_mutex_lock(&p->lock);
	if (!p->kicked)
		p->kick_ns = now_ns();
	p->kicked = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return false;
}

static void p9_reset(struct virtio_dev *d)
{
	struct p9_dev *p = virtio_dev_priv(d);

	pthread_mutex_lock(&p->srv_lock);
	p9_server_reset(p->srv);
	pthread_mutex_unlock(&p->srv_lock);
}

static uint64_t p9_config_read(struct virtio_dev *d, uint32_t off,
			       unsigned int size)
{
	struct p9_dev *p = virtio_dev_priv(d);
	uint64_t v = 0;

	if (size > sizeof(v) || off > p->cfg_len || size > p->cfg_len - off)
		return 0;
	memcpy(&v, p->cfg + off, size);
	return v;
}

static const struct virtio_dev_ops p9_ops = {
	.name = "virtio-9p",
	.device_id = VIRTIO_ID_9P,
	.nr_queues = 1,
	.queue_max = P9_QUEUE_SIZE,
	.config_size = sizeof(((struct p9_dev *)0)->cfg),
	.config_read = p9_config_read,
	.notify = p9_notify,
	.reset = p9_reset,
};

int virtio_9p_create(const struct gmem *mem, struct irq_line irq,
		     struct p9_server *srv, const char *tag,
		     struct virtio_dev **out)
{
	struct p9_dev *p;
	size_t n = strlen(tag);
	sigset_t all, old;
	int ret;

	if (!n || n > P9_TAG_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->srv = srv;
	p->cfg[0] = (uint8_t)n; /* little-endian tag_len */
	p->cfg[1] = (uint8_t)(n >> 8);
	memcpy(p->cfg + 2, tag, n);
	p->cfg_len = (uint16_t)(2 + n);
	ret = -pthread_mutex_init(&p->lock, NULL);
	if (ret)
		goto out_free;
	ret = -pthread_mutex_init(&p->srv_lock, NULL);
	if (ret)
		goto out_mutex;
	ret = -pthread_cond_init(&p->wake, NULL);
	if (ret)
		goto out_srv;
	ret = virtio_dev_new(&p9_ops, p, mem, 1ULL << VIRTIO_9P_MOUNT_TAG, irq,
			     &p->vdev);
	if (ret)
		goto out_cond;
	/* the thread takes no signal: they are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&p->thread, NULL, p9_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto out_dev;
	p->started = true;
	*out = p->vdev;
	return 0;

out_dev:
	virtio_dev_free(p->vdev);
out_cond:
	pthread_cond_destroy(&p->wake);
out_srv:
	pthread_mutex_destroy(&p->srv_lock);
out_mutex:
	pthread_mutex_destroy(&p->lock);
out_free:
	free(p);
	return ret;
}

void virtio_9p_get_stats(struct virtio_dev *d, struct virtio_9p_stats *st)
{
	struct p9_dev *p = virtio_dev_priv(d);

	st->wakeups = __atomic_load_n(&p->stats.wakeups, __ATOMIC_RELAXED);
	st->wake_ns = __atomic_load_n(&p->stats.wake_ns, __ATOMIC_RELAXED);
	st->wake_max_ns =
		__atomic_load_n(&p->stats.wake_max_ns, __ATOMIC_RELAXED);
	st->chains = __atomic_load_n(&p->stats.chains, __ATOMIC_RELAXED);
	st->serve_ns = __atomic_load_n(&p->stats.serve_ns, __ATOMIC_RELAXED);
}

void virtio_9p_destroy(struct virtio_dev *d)
{
	struct p9_dev *p;

	if (!d)
		return;
	p = virtio_dev_priv(d);
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		pthread_join(p->thread, NULL);
	virtio_dev_free(d);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->srv_lock);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
