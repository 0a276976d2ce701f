// SPDX-License-Identifier: GPL-2.0-only
/* virtio-rng: entropy from the host's getrandom() into the guest. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/uio.h>

#include <linux/virtio_ids.h>

#include "lkvm/virtio-devs.h"

#define RNG_QUEUE_SIZE 64
/* a chain holds at most queue-size buffers: every legal chain fits */
#define RNG_MAX_IOV RNG_QUEUE_SIZE

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

static bool rng_notify(struct virtio_dev *d, unsigned int q,
		       unsigned int budget)
{
	struct iovec iov[RNG_MAX_IOV];
	struct virtq_chain c;

	while (budget--) {
		if (virtio_queue_pop(d, q, &c, iov, RNG_MAX_IOV) <= 0)
			return false;
		virtio_queue_push(d, q, c.head, rng_fill(iov, &c));
	}
	return virtio_queue_has_work(d, q);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.queue_max = RNG_QUEUE_SIZE,
	.notify = rng_notify,
};

int virtio_rng_create(const struct gmem *mem, struct irq_line irq,
		      struct virtio_dev **out)
{
	return virtio_dev_new(&rng_ops, NULL, mem, 0, irq, out);
}

void virtio_rng_destroy(struct virtio_dev *d)
{
	virtio_dev_free(d);
}
