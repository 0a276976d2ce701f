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
	struct virtio_dev *vdev;
	struct console *con;
	/*
	 * The receive side: staged input and the walk of receiveq, which the
	 * I/O thread (a notify) and the input thread (new input) both do.
	 */
	pthread_mutex_t rxlock;
	/*
	 * Host input read from the console but not yet in the guest: the
	 * device reads some input before it pops a receive chain, so that it
	 * never takes a guest buffer it cannot fill. rxlock held.
	 */
	uint8_t stage[CONSOLE_RX_STAGE];
	size_t stage_off, stage_len;
	struct virtio_console_config cfg;
};

static struct vcon_dev *to_vcon(struct virtio_dev *d)
{
	return virtio_dev_priv(d);
}

/* Send up to budget transmit chains to the console (which never blocks). */
static bool vcon_tx(struct vcon_dev *v, unsigned int budget)
{
	struct iovec iov[CONSOLE_MAX_IOV];
	struct virtq_chain c;
	unsigned int i;

	while (budget--) {
		if (virtio_queue_pop(v->vdev, CONSOLE_TXQ, &c, iov,
				     ARRAY_SIZE(iov)) <= 0)
			return false;
		for (i = 0; i < c.nout; i++)
			console_write(v->con, iov[i].iov_base, iov[i].iov_len);
		virtio_queue_push(v->vdev, CONSOLE_TXQ, c.head, 0);
	}
	return virtio_queue_has_work(v->vdev, CONSOLE_TXQ);
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
 * room. Returns the bytes written; rxlock held.
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
 * Fill up to budget posted receive chains while there is host input. A
 * chain is popped only once input is staged, so it always gets at least
 * one byte (unless it has no writable buffer at all) and chains the device
 * cannot fill stay on the available ring for the next input. Returns true
 * when it stopped at the budget with input and chains left.
 */
static bool vcon_rx(struct vcon_dev *v, unsigned int budget)
{
	struct iovec iov[CONSOLE_MAX_IOV];
	struct virtq_chain c;
	bool more = false;

	pthread_mutex_lock(&v->rxlock);
	while (virtio_queue_has_work(v->vdev, CONSOLE_RXQ)) {
		if (!vcon_stage_fill(v))
			break; /* no input: the chains stay posted */
		if (!budget--) {
			more = true;
			break;
		}
		if (virtio_queue_pop(v->vdev, CONSOLE_RXQ, &c, iov,
				     ARRAY_SIZE(iov)) <= 0)
			break;
		/* a chain without writable room is returned empty, once: it
		 * is the driver's own mistake */
		virtio_queue_push(v->vdev, CONSOLE_RXQ, c.head,
				  vcon_rx_chain(v, iov, &c));
	}
	pthread_mutex_unlock(&v->rxlock);
	return more;
}

static bool vcon_notify(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	struct vcon_dev *v = to_vcon(d);

	return q == CONSOLE_TXQ ? vcon_tx(v, budget) : vcon_rx(v, budget);
}

void virtio_console_input(struct virtio_dev *d)
{
	/* on the input thread: one bounded turn, so that a guest cannot
	 * keep it; the rest goes to the queue's usual server */
	if (virtio_dev_live(d) && vcon_rx(to_vcon(d), VIRTIO_NOTIFY_BUDGET))
		virtio_notify(d, CONSOLE_RXQ);
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
};

int virtio_console_create(const struct gmem *mem, struct irq_line irq,
			  struct console *con, struct virtio_dev **out)
{
	struct vcon_dev *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	ret = -pthread_mutex_init(&v->rxlock, NULL);
	if (ret)
		goto out_free;
	ret = virtio_dev_new(&vcon_ops, v, mem, 0, irq, &v->vdev);
	if (ret)
		goto out_mutex;
	v->con = con;
	v->cfg.max_nr_ports = 1; /* little-endian host, see virtio-queue.h */
	*out = v->vdev;
	return 0;

out_mutex:
	pthread_mutex_destroy(&v->rxlock);
out_free:
	free(v);
	return ret;
}

void virtio_console_destroy(struct virtio_dev *d)
{
	struct vcon_dev *v;

	if (!d)
		return;
	v = to_vcon(d);
	pthread_mutex_destroy(&v->rxlock);
	virtio_dev_free(d);
	free(v);
}
