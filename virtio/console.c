// SPDX-License-Identifier: GPL-2.0-only
/* virtio-console: one port between the guest and the host console. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "lkvm/compiler.h"
#include "lkvm/console.h"
#include "lkvm/virtio-devs.h"

#define CONSOLE_QUEUE_SIZE 64
/* a chain holds at most queue-size buffers, so -E2BIG cannot happen */
#define CONSOLE_MAX_IOV CONSOLE_QUEUE_SIZE
#define CONSOLE_RXQ 0 /* receiveq(port0): host to guest */
#define CONSOLE_TXQ 1 /* transmitq(port0): guest to host */
/* host input taken from the console before a receive chain is popped */
#define CONSOLE_RX_STAGE 256

_Static_assert(sizeof(struct virtio_console_config) == 12,
	       "virtio_console_config layout (Virtio 1.2, 5.3.4)");

struct vcon_dev {
	struct virtio_dev vdev;
	struct console *con;
	/*
	 * Guards both virtqueues and the staged input; taken under vdev.lock
	 * (reset, virtio_console_input), never the other way round.
	 */
	pthread_mutex_t qlock;
	/*
	 * Host input read from the console but not yet in the guest: the
	 * device reads some input before it pops a receive chain, so that it
	 * never takes a guest buffer it cannot fill. qlock held.
	 */
	uint8_t stage[CONSOLE_RX_STAGE];
	size_t stage_off, stage_len;
	struct virtio_console_config cfg;
};

static struct vcon_dev *to_vcon(struct virtio_dev *d)
{
	return d->priv;
}

/* Write the device-readable buffers of one transmit chain, in order. */
static void vcon_tx_chain(struct vcon_dev *v, const struct iovec *iov,
			  const struct virtq_chain *c)
{
	unsigned int i;

	for (i = 0; i < c->nout; i++)
		console_write(v->con, iov[i].iov_base, iov[i].iov_len);
}

/* Drain the transmit queue; qlock held. Returns 0 or -errno of virtq_pop. */
static int vcon_tx_locked(struct vcon_dev *v)
{
	struct virtq *vq = &v->vdev.vq[CONSOLE_TXQ];
	struct iovec iov[CONSOLE_MAX_IOV];
	struct virtq_chain c;
	int ret;

	do {
		while ((ret = virtq_pop(vq, &c, iov, ARRAY_SIZE(iov))) > 0) {
			vcon_tx_chain(v, iov, &c);
			virtq_push(vq, c.head, 0);
		}
		if (ret == -E2BIG) {
			/* consumed but only partly described: hand it back */
			virtq_push(vq, c.head, 0);
			return ret;
		}
		if (ret < 0)
			return ret;
		/* with EVENT_IDX: ask for a kick at the next new buffer, then
		 * look again for one that raced with the request */
		virtq_update_avail_event(vq);
	} while (virtq_has_work(vq));
	return 0;
}

/* Make sure some host input is staged; false when there is none. */
static bool vcon_stage_fill(struct vcon_dev *v)
{
	if (v->stage_off < v->stage_len)
		return true;
	v->stage_off = 0;
	v->stage_len = console_read(v->con, v->stage, sizeof(v->stage));
	return v->stage_len != 0;
}

/*
 * Copy host input into the device-writable buffers of one receive chain:
 * the staged bytes first, then straight from the console while there is
 * room. Returns the bytes written; qlock held.
 */
static uint32_t vcon_rx_chain(struct vcon_dev *v, const struct iovec *iov,
			      const struct virtq_chain *c)
{
	uint32_t written = 0;
	unsigned int i;

	for (i = c->nout; i < c->niov; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t room = iov[i].iov_len, n;

		while (room) {
			if (v->stage_off < v->stage_len) {
				n = v->stage_len - v->stage_off;
				n = n < room ? n : room;
				memcpy(p, v->stage + v->stage_off, n);
				v->stage_off += n;
			} else {
				n = console_read(v->con, p, room);
				if (!n)
					return written;
			}
			p += n;
			room -= n;
			written += (uint32_t)n;
		}
	}
	return written;
}

/*
 * Fill posted receive buffers while there is host input; qlock held.
 * A chain is popped only once input is staged, so it always gets at least
 * one byte (unless it has no writable buffer at all) and chains the device
 * cannot fill stay on the available ring for the next input.
 */
static int vcon_rx_locked(struct vcon_dev *v)
{
	struct virtq *vq = &v->vdev.vq[CONSOLE_RXQ];
	struct iovec iov[CONSOLE_MAX_IOV];
	struct virtq_chain c;
	int ret;

	if (!vq->ready || !virtio_dev_live(&v->vdev))
		return 0;
	do {
		while (virtq_has_work(vq)) {
			if (!vcon_stage_fill(v))
				return 0; /* keep the avail_event we had */
			ret = virtq_pop(vq, &c, iov, ARRAY_SIZE(iov));
			if (ret == -E2BIG) {
				virtq_push(vq, c.head, 0);
				return ret;
			}
			if (ret < 0)
				return ret;
			if (!ret)
				return 0;
			/* a chain without writable room is returned empty,
			 * once: it is the driver's own mistake */
			virtq_push(vq, c.head, vcon_rx_chain(v, iov, &c));
		}
		virtq_update_avail_event(vq);
	} while (virtq_has_work(vq));
	return 0;
}

/*
 * After queue work: interrupt the driver when chains were returned (with
 * EVENT_IDX the first check after enabling always asks for one, so an idle
 * pass must not ask), or report a broken queue. Called without qlock
 * (needs_reset takes vdev.lock).
 */
static void vcon_done(struct vcon_dev *v, unsigned int q, int ret, bool pushed)
{
	struct virtio_dev *d = &v->vdev;

	if (ret < 0) {
		pr_warn_ratelimited(
			&d->rl, "%s: queue %u: %s: device needs reset",
			d->ops->name, q,
			ret == -E2BIG ? "chain too long" : d->vq[q].error);
		virtio_dev_needs_reset(d);
	}
	if (pushed)
		virtio_dev_used(d, q);
}

static void vcon_notify(struct virtio_dev *d, unsigned int q)
{
	struct vcon_dev *v = to_vcon(d);
	uint16_t used;
	bool pushed;
	int ret;

	pthread_mutex_lock(&v->qlock);
	used = d->vq[q].used_idx;
	ret = q == CONSOLE_TXQ ? vcon_tx_locked(v) : vcon_rx_locked(v);
	pushed = d->vq[q].used_idx != used;
	pthread_mutex_unlock(&v->qlock);
	vcon_done(v, q, ret, pushed);
}

void virtio_console_input(struct virtio_dev *d)
{
	struct vcon_dev *v = to_vcon(d);
	struct virtq *vq = &d->vq[CONSOLE_RXQ];
	uint16_t used;
	bool pushed;
	int ret;

	/* vdev.lock keeps a reset or QueueReady=0 out while we fill */
	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&v->qlock);
	used = vq->used_idx;
	ret = vcon_rx_locked(v);
	pushed = vq->used_idx != used;
	pthread_mutex_unlock(&v->qlock);
	pthread_mutex_unlock(&d->lock);
	vcon_done(v, CONSOLE_RXQ, ret, pushed);
}

/* The driver reset the device (vdev.lock held): wait for queue work in
 * progress. Staged input is host input, not guest state: it is kept. */
static void vcon_reset(struct virtio_dev *d)
{
	struct vcon_dev *v = to_vcon(d);

	pthread_mutex_lock(&v->qlock);
	pthread_mutex_unlock(&v->qlock);
}

static uint64_t vcon_config_read(struct virtio_dev *d, uint32_t off,
				 unsigned int size)
{
	struct vcon_dev *v = to_vcon(d);
	uint64_t val = 0;

	if (size > sizeof(val) || off > sizeof(v->cfg) ||
	    size > sizeof(v->cfg) - off)
		return 0;
	memcpy(&val, (const uint8_t *)&v->cfg + off, size);
	return val;
}

/* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, not offered: ignored. */
static void vcon_config_write(struct virtio_dev *d, uint32_t off,
			      unsigned int size, uint64_t value)
{
	(void)d;
	(void)off;
	(void)size;
	(void)value;
}

static const struct virtio_dev_ops vcon_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_console_config),
	.config_read = vcon_config_read,
	.config_write = vcon_config_write,
	.notify = vcon_notify,
	.reset = vcon_reset,
};

struct virtio_dev *virtio_console_create(const struct gmem *mem,
					 struct irq_line irq,
					 struct console *con)
{
	struct vcon_dev *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (virtio_dev_init(&v->vdev, &vcon_ops, v, mem, 0, irq)) {
		free(v);
		return NULL;
	}
	v->con = con;
	v->cfg.max_nr_ports = 1; /* little-endian host, see virtio-queue.h */
	pthread_mutex_init(&v->qlock, NULL);
	return &v->vdev;
}

void virtio_console_destroy(struct virtio_dev *d)
{
	struct vcon_dev *v;

	if (!d)
		return;
	v = to_vcon(d);
	pthread_mutex_destroy(&v->qlock);
	virtio_dev_destroy(d);
	free(v);
}
