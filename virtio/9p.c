// SPDX-License-Identifier: GPL-2.0-only
/* virtio-9p: a 9P2000.L server (lkvm/9p.h) on one request queue. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

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
 * hold up the I/O thread that serves every other device. The thread waits
 * on the queue's doorbell eventfd itself (notify_fd: KVM's ioeventfd
 * signals it with no other thread in between; without ioeventfds the
 * vCPU's notify writes it). The thread alone pops and pushes the request
 * queue's chains, and is the only user of the server but for reset, which
 * runs when no chain is in flight and takes srv_lock too.
 */
struct p9_dev {
	struct virtio_dev *vdev;
	struct p9_server *srv;
	pthread_t thread;
	bool started;
	int kick_fd; /* eventfd (blocking): the doorbell, or stop */
	bool stop; /* atomic */
	/* when lkvm's own notify (no ioeventfd) last woke the thread and
	 * it has not yet looked: 0 when it has (atomic) */
	uint64_t kick_ns;
	/* the thread's counters (--stats); written by it, read atomically */
	struct virtio_9p_stats stats;
	/* the server: the thread while it serves, reset; never held by a
	 * notify, so a slow request does not stall a vCPU */
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

/* A wakeup that came through p9_notify(): how long it took. */
static void stat_wake(struct p9_dev *p)
{
	uint64_t t = __atomic_exchange_n(&p->kick_ns, 0, __ATOMIC_RELAXED);
	uint64_t wait;

	if (!t)
		return; /* KVM's ioeventfd: no timestamp */
	wait = now_ns() - t;
	stat_add(&p->stats.timed_wakeups, 1);
	stat_add(&p->stats.wake_ns, wait);
	if (wait > __atomic_load_n(&p->stats.wake_max_ns, __ATOMIC_RELAXED))
		__atomic_store_n(&p->stats.wake_max_ns, wait, __ATOMIC_RELAXED);
}

static void *p9_thread(void *arg)
{
	struct p9_dev *p = arg;
	uint64_t cnt;

	seccomp_thread_start(SECCOMP_THREAD_FS, "9p");
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		/* blocks until a doorbell or the stop (an eventfd read of 8
		 * bytes, signals masked: it does not fail) */
		if (read(p->kick_fd, &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			break;
		stat_add(&p->stats.wakeups, 1);
		stat_wake(p);
		seccomp_thread_update();
		pthread_mutex_lock(&p->srv_lock);
		p9_drain(p);
		pthread_mutex_unlock(&p->srv_lock);
	}
	return NULL;
}

/* Wake the thread; any thread, several at once. */
static void p9_kick(struct p9_dev *p)
{
	uint64_t one = 1, zero = 0;

	__atomic_compare_exchange_n(&p->kick_ns, &zero, now_ns(), false,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	/* fails only when the counter would overflow: it is signalled */
	if (write(p->kick_fd, &one, sizeof(one)) < 0)
		return;
}

static bool p9_notify(struct virtio_dev *d, unsigned int q, unsigned int budget)
{
	(void)q;
	(void)budget;
	p9_kick(virtio_dev_priv(d));
	return false;
}

static int p9_notify_fd(struct virtio_dev *d, unsigned int q)
{
	struct p9_dev *p = virtio_dev_priv(d);

	return q ? -1 : p->kick_fd;
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
	.notify_fd = p9_notify_fd,
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
	p->kick_fd = eventfd(0, EFD_CLOEXEC);
	if (p->kick_fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = -pthread_mutex_init(&p->srv_lock, NULL);
	if (ret)
		goto out_fd;
	ret = virtio_dev_new(&p9_ops, p, mem, 1ULL << VIRTIO_9P_MOUNT_TAG, irq,
			     &p->vdev);
	if (ret)
		goto out_srv;
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
out_srv:
	pthread_mutex_destroy(&p->srv_lock);
out_fd:
	close(p->kick_fd);
out_free:
	free(p);
	return ret;
}

void virtio_9p_get_stats(struct virtio_dev *d, struct virtio_9p_stats *st)
{
	struct p9_dev *p = virtio_dev_priv(d);

	st->wakeups = __atomic_load_n(&p->stats.wakeups, __ATOMIC_RELAXED);
	st->timed_wakeups =
		__atomic_load_n(&p->stats.timed_wakeups, __ATOMIC_RELAXED);
	st->wake_ns = __atomic_load_n(&p->stats.wake_ns, __ATOMIC_RELAXED);
	st->wake_max_ns =
		__atomic_load_n(&p->stats.wake_max_ns, __ATOMIC_RELAXED);
	st->chains = __atomic_load_n(&p->stats.chains, __ATOMIC_RELAXED);
	st->serve_ns = __atomic_load_n(&p->stats.serve_ns, __ATOMIC_RELAXED);
}

void virtio_9p_destroy(struct virtio_dev *d)
{
	struct p9_dev *p;
	uint64_t one = 1;

	if (!d)
		return;
	p = virtio_dev_priv(d);
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	if (write(p->kick_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake already */
	}
	if (p->started)
		pthread_join(p->thread, NULL);
	virtio_dev_free(d);
	pthread_mutex_destroy(&p->srv_lock);
	close(p->kick_fd);
	free(p);
}
