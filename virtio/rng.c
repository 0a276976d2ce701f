// SPDX-License-Identifier: GPL-2.0-only
/* virtio-rng: entropy from the host's getrandom() into the guest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>

#include <linux/virtio_ids.h>

#include "lkvm/virtio-devs.h"

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_IOV 16

/* Fill the device-writable buffers of one chain; bytes written. */
static uint32_t rng_fill(const struct iovec *iov, const struct virtq_chain *c)
{
	uint32_t written = 0;
	unsigned int i;

	for (i = c->nout; i < c->niov; i++) {
		size_t done = 0;

		while (done < iov[i].iov_len) {
			ssize_t n = getrandom((char *)iov[i].iov_base + done,
					      iov[i].iov_len - done, 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return written;
			done += (size_t)n;
		}
		written += (uint32_t)done;
	}
	return written;
}

static void rng_notify(struct virtio_dev *d, unsigned int q)
{
	struct iovec iov[RNG_MAX_IOV];
	struct virtq_chain c;
	struct virtq *vq = &d->vq[q];
	char why[sizeof(vq->error)];
	int ret = 0;

	/* d->lock keeps a reset or queue disable by a vCPU out while this
	 * thread walks the queue */
	pthread_mutex_lock(&d->lock);
	while (vq->ready) {
		while ((ret = virtq_pop(vq, &c, iov, RNG_MAX_IOV)) > 0)
			virtq_push(vq, c.head, rng_fill(iov, &c));
		if (ret < 0)
			break;
		/* with EVENT_IDX: ask for a kick at the next new buffer, then
		 * look again for one that raced with the request */
		virtq_update_avail_event(vq);
		if (!virtq_has_work(vq))
			break;
	}
	virtio_dev_used(d, q);
	memcpy(why, vq->error, sizeof(why));
	pthread_mutex_unlock(&d->lock);
	if (ret < 0) {
		pr_warn_ratelimited(&d->rl,
				    "%s: queue %u: %s: device needs reset",
				    d->ops->name, q, why);
		virtio_dev_needs_reset(d);
	}
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.notify = rng_notify,
};

struct virtio_dev *virtio_rng_create(const struct gmem *mem,
				     struct irq_line irq)
{
	struct virtio_dev *d = calloc(1, sizeof(*d));

	if (!d || virtio_dev_init(d, &rng_ops, NULL, mem, 0, irq)) {
		free(d);
		return NULL;
	}
	return d;
}

void virtio_rng_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	virtio_dev_destroy(d);
	free(d);
}
