// SPDX-License-Identifier: GPL-2.0-only
/* Transport-independent virtio device state: features, status, queues. */
#include <errno.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lkvm/virtio.h"

int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		    void *priv, const struct gmem *mem, uint64_t features,
		    struct irq_line irq)
{
	if (ops->nr_queues > VIRTIO_MAX_QUEUES || !ops->queue_max ||
	    ops->queue_max > VIRTQ_MAX_SIZE)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->mem = mem;
	d->irq = irq;
	d->features = features | 1ULL << VIRTIO_F_VERSION_1 |
		      1ULL << VIRTIO_RING_F_INDIRECT_DESC |
		      1ULL << VIRTIO_RING_F_EVENT_IDX;
	d->rl = (struct ratelimit){ .interval = 5, .burst = 5 };
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->irq_lock, NULL);
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *d)
{
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->irq_lock);
}

void virtio_dev_set_irq_ops(struct virtio_dev *d,
			    const struct virtio_irq_ops *ops, void *transport)
{
	d->irq_ops = ops;
	d->transport = transport;
}

uint64_t virtio_config_read(struct virtio_dev *d, uint64_t off,
			    unsigned int size)
{
	if (off >= d->ops->config_size || size > d->ops->config_size - off ||
	    !d->ops->config_read)
		return 0;
	return d->ops->config_read(d, (uint32_t)off, size);
}

void virtio_config_write(struct virtio_dev *d, uint64_t off, unsigned int size,
			 uint64_t value)
{
	if (off >= d->ops->config_size || size > d->ops->config_size - off ||
	    !d->ops->config_write)
		return;
	d->ops->config_write(d, (uint32_t)off, size, value);
}

/* Set or clear ISR bits and drive the line to match; irq_lock orders the
 * two so that a concurrent ack never lowers a freshly raised line. */
static void isr_update(struct virtio_dev *d, uint32_t set, uint32_t clear)
{
	uint32_t old;

	pthread_mutex_lock(&d->irq_lock);
	old = d->isr;
	d->isr = (old & ~clear) | set;
	if (!old != !d->isr)
		irq_line_set(&d->irq, d->isr != 0);
	pthread_mutex_unlock(&d->irq_lock);
}

uint32_t virtio_get_dev_features(struct virtio_dev *d)
{
	uint32_t sel = d->dev_features_sel;

	return sel < 2 ? (uint32_t)(d->features >> (32 * sel)) : 0;
}

void virtio_set_drv_features(struct virtio_dev *d, uint32_t value)
{
	uint32_t sel = d->drv_features_sel;

	pthread_mutex_lock(&d->lock);
	/* Only while negotiating: after FEATURES_OK the set is fixed. */
	if (sel < 2 && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		d->driver_features &= ~(0xffffffffULL << (32 * sel));
		d->driver_features |= (uint64_t)value << (32 * sel);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Reset: queues, features, status, ISR. d->lock held. */
static void virtio_reset_locked(struct virtio_dev *d)
{
	unsigned int i;

	if (d->ops->reset)
		d->ops->reset(d);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		virtq_reset(&d->vq[i]);
		d->queue_num[i] = 0;
		d->queue_desc[i] = d->queue_driver[i] = d->queue_device[i] = 0;
	}
	d->driver_features = 0;
	d->status = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	isr_update(d, 0, ~0u);
}

static bool features_acceptable(const struct virtio_dev *d)
{
	return !(d->driver_features & ~d->features) &&
	       (d->driver_features & 1ULL << VIRTIO_F_VERSION_1);
}

void virtio_set_status(struct virtio_dev *d, uint32_t value)
{
	uint32_t add;

	pthread_mutex_lock(&d->lock);
	if (!value) {
		virtio_reset_locked(d);
		goto out;
	}
	/* The driver may only add bits; it cannot clear NEEDS_RESET. */
	add = value & ~d->status & 0xff;
	if (add & VIRTIO_CONFIG_S_FEATURES_OK && !features_acceptable(d)) {
		pr_warn_ratelimited(
			&d->rl,
			"%s: driver features 0x%llx refused (offered 0x%llx)",
			d->ops->name, (unsigned long long)d->driver_features,
			(unsigned long long)d->features);
		add &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (add & VIRTIO_CONFIG_S_DRIVER_OK &&
	    !((d->status | add) & VIRTIO_CONFIG_S_FEATURES_OK))
		add &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	d->status |= add & ~VIRTIO_CONFIG_S_NEEDS_RESET;
out:
	pthread_mutex_unlock(&d->lock);
}

static struct virtq *selected_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nr_queues ? &d->vq[d->queue_sel] : NULL;
}

uint16_t virtio_queue_num_max(struct virtio_dev *d)
{
	return selected_queue(d) ? d->ops->queue_max : 0;
}

int virtio_selected_queue(struct virtio_dev *d)
{
	return selected_queue(d) ? (int)d->queue_sel : -1;
}

uint16_t virtio_get_queue_num(struct virtio_dev *d)
{
	unsigned int q = d->queue_sel;

	if (!selected_queue(d))
		return 0;
	return d->queue_num[q] ? d->queue_num[q] : d->ops->queue_max;
}

void virtio_set_queue_num(struct virtio_dev *d, uint32_t num)
{
	pthread_mutex_lock(&d->lock);
	if (selected_queue(d) && !d->vq[d->queue_sel].ready)
		d->queue_num[d->queue_sel] = (uint16_t)(num > 0xffff ? 0 : num);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t *queue_addr(struct virtio_dev *d, int which)
{
	unsigned int q = d->queue_sel;

	switch (which) {
	case 0:
		return &d->queue_desc[q];
	case 1:
		return &d->queue_driver[q];
	case 2:
		return &d->queue_device[q];
	}
	return NULL;
}

void virtio_set_queue_addr(struct virtio_dev *d, int which, bool hi,
			   uint32_t value)
{
	uint64_t *a;

	pthread_mutex_lock(&d->lock);
	if (selected_queue(d) && !d->vq[d->queue_sel].ready) {
		a = queue_addr(d, which);
		if (a && hi)
			*a = (*a & 0xffffffffULL) | (uint64_t)value << 32;
		else if (a)
			*a = (*a & ~0xffffffffULL) | value;
	}
	pthread_mutex_unlock(&d->lock);
}

uint32_t virtio_get_queue_addr(struct virtio_dev *d, int which, bool hi)
{
	uint64_t *a = selected_queue(d) ? queue_addr(d, which) : NULL;

	if (!a)
		return 0;
	return (uint32_t)(hi ? *a >> 32 : *a);
}

void virtio_set_queue_ready(struct virtio_dev *d, uint32_t ready)
{
	unsigned int q = d->queue_sel;
	struct virtq *vq;
	int ret;

	pthread_mutex_lock(&d->lock);
	vq = selected_queue(d);
	if (!vq)
		goto out;
	if (!ready) {
		/* let the device finish with its queues before they vanish */
		if (vq->ready && d->ops->reset)
			d->ops->reset(d);
		virtq_reset(vq);
		goto out;
	}
	if (vq->ready)
		goto out;
	ret = virtq_enable(
		vq, d->mem, d->queue_num[q], d->ops->queue_max,
		d->queue_desc[q], d->queue_driver[q], d->queue_device[q],
		d->driver_features & 1ULL << VIRTIO_RING_F_EVENT_IDX,
		d->driver_features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (ret) {
		pr_warn_ratelimited(
			&d->rl,
			"%s: queue %u set-up refused (size %u, rings 0x%llx 0x%llx 0x%llx)",
			d->ops->name, q, d->queue_num[q],
			(unsigned long long)d->queue_desc[q],
			(unsigned long long)d->queue_driver[q],
			(unsigned long long)d->queue_device[q]);
		pthread_mutex_unlock(&d->lock);
		virtio_dev_needs_reset(d);
		return;
	}
out:
	pthread_mutex_unlock(&d->lock);
}

bool virtio_queue_ready(struct virtio_dev *d)
{
	struct virtq *vq = selected_queue(d);

	return vq && vq->ready;
}

void virtio_notify(struct virtio_dev *d, uint32_t q)
{
	if (q >= d->ops->nr_queues || !d->vq[q].ready || !virtio_dev_live(d))
		return;
	d->ops->notify(d, q);
}

uint32_t virtio_isr_peek(struct virtio_dev *d)
{
	uint32_t v;

	pthread_mutex_lock(&d->irq_lock);
	v = d->isr;
	pthread_mutex_unlock(&d->irq_lock);
	return v;
}

uint32_t virtio_isr_read_clear(struct virtio_dev *d)
{
	uint32_t v;

	pthread_mutex_lock(&d->irq_lock);
	v = d->isr;
	d->isr = 0;
	if (v)
		irq_line_set(&d->irq, 0);
	pthread_mutex_unlock(&d->irq_lock);
	return v;
}

void virtio_isr_ack(struct virtio_dev *d, uint32_t bits)
{
	isr_update(d, 0, bits);
}

void virtio_dev_used(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->ops->nr_queues || !virtq_need_notify(&d->vq[q]))
		return;
	if (!d->irq_ops || !d->irq_ops->queue(d->transport, q))
		isr_update(d, VIRTIO_ISR_QUEUE, 0);
}

/* A configuration interrupt: a vector when the transport has one. */
static void config_interrupt(struct virtio_dev *d)
{
	if (!d->irq_ops || !d->irq_ops->config(d->transport))
		isr_update(d, VIRTIO_ISR_CONFIG, 0);
}

void virtio_dev_needs_reset(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	d->config_generation++;
	/* Reported like a configuration change (Virtio 1.2, 2.1.2); under
	 * the lock so that a concurrent reset cannot be followed by it. */
	if (d->status & VIRTIO_CONFIG_S_DRIVER_OK)
		config_interrupt(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->config_generation++;
	pthread_mutex_unlock(&d->lock);
	config_interrupt(d);
}

bool virtio_dev_live(struct virtio_dev *d)
{
	uint32_t s = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);

	return (s & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(s & VIRTIO_CONFIG_S_NEEDS_RESET);
}
