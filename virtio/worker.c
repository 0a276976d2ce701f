// SPDX-License-Identifier: GPL-2.0-only
/* The I/O thread's loop: queue notifications, served fairly in turns. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lkvm/seccomp.h"
#include "lkvm/virtio-worker.h"

struct worker_queue {
	struct virtio_dev *dev;
	unsigned int q;
	int fd; /* eventfd: the driver notified */
	bool pending; /* notified, or stopped at its budget last turn */
	bool detached; /* its eventfd is vhost's to poll: never read here */
};

/* The kick hook's opaque: where a device's queues start. */
struct worker_dev {
	struct virtio_worker *w;
	unsigned int first;
};

struct virtio_worker {
	int stop_fd;
	struct worker_queue *queues;
	unsigned int nr;
	struct worker_dev *devs[VIRTIO_WORKER_MAX_DEVS];
	unsigned int nr_devs;
	unsigned int next; /* where the next round starts: rotates */
	struct pollfd *pfd; /* stop_fd, then one per queue */
};

int virtio_worker_create(struct virtio_worker **out)
{
	struct virtio_worker *w = calloc(1, sizeof(*w));
	int ret = -ENOMEM;

	if (!w)
		return -ENOMEM;
	w->pfd = calloc(1, sizeof(*w->pfd));
	if (!w->pfd)
		goto out_free;
	w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stop_fd < 0) {
		ret = -errno;
		goto out_free;
	}
	*out = w;
	return 0;

out_free:
	free(w->pfd);
	free(w);
	return ret;
}

void virtio_worker_destroy(struct virtio_worker *w)
{
	unsigned int i;

	if (!w)
		return;
	for (i = 0; i < w->nr; i++)
		close(w->queues[i].fd);
	for (i = 0; i < w->nr_devs; i++)
		free(w->devs[i]);
	close(w->stop_fd);
	free(w->queues);
	free(w->pfd);
	free(w);
}

static void worker_kick(void *opaque, unsigned int q)
{
	struct worker_dev *wd = opaque;
	uint64_t one = 1;

	/* an eventfd write only fails when the counter would overflow,
	 * and then the queue is signalled anyway */
	if (write(wd->w->queues[wd->first + q].fd, &one, sizeof(one)) < 0)
		return;
}

int virtio_worker_add(struct virtio_worker *w, struct virtio_dev *d)
{
	unsigned int n = virtio_dev_ops(d)->nr_queues, i, first = w->nr;
	struct worker_queue *qs;
	struct pollfd *pfd;
	struct worker_dev *wd;

	if (w->nr_devs >= VIRTIO_WORKER_MAX_DEVS)
		return -ENOSPC;
	qs = realloc(w->queues, (w->nr + n) * sizeof(*qs));
	if (!qs)
		return -ENOMEM;
	w->queues = qs;
	pfd = realloc(w->pfd, (w->nr + n + 1) * sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	w->pfd = pfd;
	wd = calloc(1, sizeof(*wd));
	if (!wd)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0) {
			while (i--)
				close(w->queues[first + i].fd);
			free(wd);
			return -errno;
		}
		qs[first + i] = (struct worker_queue){ d, i, fd, false, false };
	}
	w->nr += n;
	*wd = (struct worker_dev){ w, first };
	w->devs[w->nr_devs++] = wd;
	virtio_dev_set_kick(d, worker_kick, wd);
	return (int)first;
}

int virtio_worker_fd(const struct virtio_worker *w, unsigned int i)
{
	return i < w->nr ? w->queues[i].fd : -1;
}

int virtio_worker_detach(struct virtio_worker *w, unsigned int i)
{
	if (i >= w->nr)
		return -EINVAL;
	w->queues[i].detached = true;
	return 0;
}

/* Take the notifications poll() reported. */
static void worker_collect(struct virtio_worker *w)
{
	uint64_t count;
	unsigned int i;

	for (i = 0; i < w->nr; i++)
		if (w->pfd[i + 1].revents & POLLIN &&
		    read(w->queues[i].fd, &count, sizeof(count)) > 0)
			w->queues[i].pending = true;
}

bool virtio_worker_round(struct virtio_worker *w, int timeout_ms)
{
	bool busy = false;
	unsigned int i, k;

	for (i = 0; i < w->nr; i++)
		busy |= w->queues[i].pending;
	w->pfd[0] = (struct pollfd){ .fd = w->stop_fd, .events = POLLIN };
	for (i = 0; i < w->nr; i++)
		w->pfd[i + 1] = (struct pollfd){
			.fd = w->queues[i].detached ? -1 : w->queues[i].fd,
			.events = POLLIN
		};
	if (poll(w->pfd, w->nr + 1, busy ? 0 : timeout_ms) < 0 &&
	    errno != EINTR)
		return false;
	if (w->pfd[0].revents)
		return false;
	worker_collect(w);
	/* one turn each; the start rotates so no queue is always first */
	for (k = 0; k < w->nr; k++) {
		struct worker_queue *q = &w->queues[(w->next + k) % w->nr];

		if (q->pending)
			q->pending = virtio_queue_serve(q->dev, q->q,
							VIRTIO_NOTIFY_BUDGET);
	}
	if (w->nr)
		w->next = (w->next + 1) % w->nr;
	return true;
}

void *virtio_worker_thread(void *arg)
{
	struct virtio_worker *w = arg;

	seccomp_thread_start(SECCOMP_THREAD_IO, "io");
	while (virtio_worker_round(w, -1))
		;
	return NULL;
}

void virtio_worker_stop(struct virtio_worker *w)
{
	uint64_t one = 1;

	if (write(w->stop_fd, &one, sizeof(one)) < 0)
		return; /* only on counter overflow: already signalled */
}
