// SPDX-License-Identifier: GPL-2.0-only
/* Transport-independent virtio device state: features, status, queues. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lkvm/virtio.h"

/* One queue: the ring and its chains in flight, and what the driver set. */
struct virtio_queue {
	pthread_mutex_t lock; /* vq, inflight, stopping */
	pthread_cond_t idle; /* inflight reached 0 */
	struct virtq vq;
	unsigned int inflight; /* chains popped, not yet pushed */
	bool stopping; /* a reset waits for inflight: pop hands out nothing */
	/* the driver's set-up before QueueReady; register lock */
	uint16_t num;
	uint64_t desc, driver, device;
};

struct virtio_dev {
	/* fixed once the guest runs */
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct gmem *mem;
	struct irq_line irq;
	const struct virtio_irq_ops *irq_ops; /* NULL: ISR + irq only */
	void *transport;
	void (*kick)(void *opaque, unsigned int q);
	void *kick_opaque;
	bool size_default_max;
	bool shutdown; /* atomic: the VM stops, resets wait for nothing */
	uint64_t features; /* offered */

	pthread_mutex_t lock; /* the register lock */
	/* written under the register lock, read with atomic loads */
	uint64_t driver_features;
	/* written under the register lock, or NEEDS_RESET atomically */
	uint32_t status;
	uint32_t config_generation; /* atomic */
	uint32_t dev_features_sel, drv_features_sel, queue_sel;

	pthread_mutex_t irq_lock; /* isr, the line, vector-or-line choice */
	uint32_t isr;
	uint32_t isr_hint; /* atomic: bits every ISR read shows too */

	struct virtio_queue q[VIRTIO_MAX_QUEUES];
	struct ratelimit rl;
};

int virtio_dev_new(const struct virtio_dev_ops *ops, void *priv,
		   const struct gmem *mem, uint64_t features,
		   struct irq_line irq, struct virtio_dev **out)
{
	struct virtio_dev *d;
	unsigned int i;

	if (ops->nr_queues > VIRTIO_MAX_QUEUES || !ops->queue_max ||
	    ops->queue_max > VIRTQ_MAX_SIZE || !ops->notify)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
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
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		pthread_mutex_init(&d->q[i].lock, NULL);
		pthread_cond_init(&d->q[i].idle, NULL);
	}
	*out = d;
	return 0;
}

void virtio_dev_free(struct virtio_dev *d)
{
	unsigned int i;

	if (!d)
		return;
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		pthread_cond_destroy(&d->q[i].idle);
		pthread_mutex_destroy(&d->q[i].lock);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->irq_lock);
	free(d);
}

void *virtio_dev_priv(const struct virtio_dev *d)
{
	return d->priv;
}

const struct virtio_dev_ops *virtio_dev_ops(const struct virtio_dev *d)
{
	return d->ops;
}

void virtio_dev_set_irq(struct virtio_dev *d, struct irq_line irq)
{
	d->irq = irq;
}

void virtio_dev_set_irq_ops(struct virtio_dev *d,
			    const struct virtio_irq_ops *ops, void *transport)
{
	d->irq_ops = ops;
	d->transport = transport;
}

void virtio_dev_set_kick(struct virtio_dev *d,
			 void (*kick)(void *opaque, unsigned int q),
			 void *opaque)
{
	d->kick = kick;
	d->kick_opaque = opaque;
}

void virtio_dev_set_size_default_max(struct virtio_dev *d)
{
	d->size_default_max = true;
}

void virtio_dev_shutdown(struct virtio_dev *d)
{
	unsigned int i;

	__atomic_store_n(&d->shutdown, true, __ATOMIC_RELEASE);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		/* under the lock: a waiter checks the flag, then sleeps */
		pthread_mutex_lock(&d->q[i].lock);
		pthread_cond_broadcast(&d->q[i].idle);
		pthread_mutex_unlock(&d->q[i].lock);
	}
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

/* Interrupts */

/* Set or clear ISR bits and drive the line to match; irq_lock held. */
static void isr_update_locked(struct virtio_dev *d, uint32_t set,
			      uint32_t clear)
{
	uint32_t old = d->isr;

	d->isr = (old & ~clear) | set;
	if (!old != !d->isr)
		irq_line_set(&d->irq, d->isr != 0);
}

uint32_t virtio_isr_peek(struct virtio_dev *d)
{
	uint32_t v;

	pthread_mutex_lock(&d->irq_lock);
	v = d->isr;
	pthread_mutex_unlock(&d->irq_lock);
	return v | __atomic_load_n(&d->isr_hint, __ATOMIC_RELAXED);
}

void virtio_dev_set_isr_hint(struct virtio_dev *d, uint32_t bits)
{
	__atomic_store_n(&d->isr_hint, bits, __ATOMIC_RELAXED);
}

uint32_t virtio_isr_read_clear(struct virtio_dev *d)
{
	uint32_t v;

	pthread_mutex_lock(&d->irq_lock);
	v = d->isr;
	isr_update_locked(d, 0, ~0u);
	pthread_mutex_unlock(&d->irq_lock);
	return v;
}

/*
 * With an ISR hint someone else raises the line too (vhost's call eventfd
 * as an irqfd: KVM sets a wired source's level from it and never lowers
 * it). Lower it here while nothing of ours is pending: a level-triggered
 * line left asserted is delivered again at every EOI (the APLIC's MSI
 * mode retriggers while the input is high), and the guest never leaves
 * its handler. irq_lock held.
 */
static void hinted_line_lower_locked(struct virtio_dev *d)
{
	if (__atomic_load_n(&d->isr_hint, __ATOMIC_RELAXED) && !d->isr)
		irq_line_set(&d->irq, 0);
}

void virtio_isr_ack(struct virtio_dev *d, uint32_t bits)
{
	pthread_mutex_lock(&d->irq_lock);
	isr_update_locked(d, 0, bits);
	hinted_line_lower_locked(d);
	pthread_mutex_unlock(&d->irq_lock);
}

void virtio_dev_irq_switch(struct virtio_dev *d,
			   bool (*fn)(void *arg, uint32_t isr), void *arg)
{
	pthread_mutex_lock(&d->irq_lock);
	if (fn(arg, d->isr))
		isr_update_locked(d, 0, ~0u);
	pthread_mutex_unlock(&d->irq_lock);
}

/* A used-buffer interrupt for queue q: its vector, else ISR + line. */
static void queue_interrupt(struct virtio_dev *d, unsigned int q)
{
	pthread_mutex_lock(&d->irq_lock);
	if (!d->irq_ops || !d->irq_ops->queue(d->transport, q))
		isr_update_locked(d, VIRTIO_ISR_QUEUE, 0);
	pthread_mutex_unlock(&d->irq_lock);
}

/* A configuration interrupt: a vector when the transport has one. */
static void config_interrupt(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->irq_lock);
	if (!d->irq_ops || !d->irq_ops->config(d->transport))
		isr_update_locked(d, VIRTIO_ISR_CONFIG, 0);
	pthread_mutex_unlock(&d->irq_lock);
}

/*
 * DEVICE_NEEDS_RESET, reported like a configuration change (Virtio 1.2,
 * 2.1.2). Called with a queue lock or the register lock held, so that it
 * is ordered against a reset: a reset stops every queue (taking their
 * locks) before it clears the status, which clears this too.
 */
static void dev_break(struct virtio_dev *d)
{
	uint32_t old = __atomic_fetch_or(
		&d->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_ACQ_REL);

	if (old & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	__atomic_add_fetch(&d->config_generation, 1, __ATOMIC_RELEASE);
	if (old & VIRTIO_CONFIG_S_DRIVER_OK)
		config_interrupt(d);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	__atomic_add_fetch(&d->config_generation, 1, __ATOMIC_RELEASE);
	config_interrupt(d);
}

bool virtio_dev_live(const struct virtio_dev *d)
{
	uint32_t s = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);

	return (s & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(s & VIRTIO_CONFIG_S_NEEDS_RESET);
}

uint32_t virtio_get_status(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
}

uint32_t virtio_get_config_generation(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->config_generation, __ATOMIC_ACQUIRE);
}

/* Selectors and features */

static uint32_t locked_read(struct virtio_dev *d, const uint32_t *p)
{
	uint32_t v;

	pthread_mutex_lock(&d->lock);
	v = *p;
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void locked_write(struct virtio_dev *d, uint32_t *p, uint32_t v)
{
	pthread_mutex_lock(&d->lock);
	*p = v;
	pthread_mutex_unlock(&d->lock);
}

void virtio_set_dev_features_sel(struct virtio_dev *d, uint32_t sel)
{
	locked_write(d, &d->dev_features_sel, sel);
}

uint32_t virtio_get_dev_features_sel(struct virtio_dev *d)
{
	return locked_read(d, &d->dev_features_sel);
}

void virtio_set_drv_features_sel(struct virtio_dev *d, uint32_t sel)
{
	locked_write(d, &d->drv_features_sel, sel);
}

uint32_t virtio_get_drv_features_sel(struct virtio_dev *d)
{
	return locked_read(d, &d->drv_features_sel);
}

void virtio_set_queue_sel(struct virtio_dev *d, uint32_t sel)
{
	locked_write(d, &d->queue_sel, sel);
}

uint32_t virtio_get_queue_sel(struct virtio_dev *d)
{
	return locked_read(d, &d->queue_sel);
}

/* 32-bit word sel of a 64-bit feature set, 0 beyond. */
static uint32_t feature_word(uint64_t f, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(f >> (32 * sel)) : 0;
}

uint32_t virtio_get_dev_features(struct virtio_dev *d)
{
	return feature_word(d->features, virtio_get_dev_features_sel(d));
}

uint32_t virtio_get_drv_features(struct virtio_dev *d)
{
	uint32_t v;

	pthread_mutex_lock(&d->lock);
	v = feature_word(d->driver_features, d->drv_features_sel);
	pthread_mutex_unlock(&d->lock);
	return v;
}

uint64_t virtio_dev_features(const struct virtio_dev *d)
{
	return d->features;
}

void virtio_dev_mask_features(struct virtio_dev *d, uint64_t keep)
{
	pthread_mutex_lock(&d->lock);
	d->features &= keep;
	pthread_mutex_unlock(&d->lock);
}

uint64_t virtio_dev_driver_features(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->driver_features, __ATOMIC_ACQUIRE);
}

void virtio_set_drv_features(struct virtio_dev *d, uint32_t value)
{
	uint32_t sel;
	uint64_t f;

	pthread_mutex_lock(&d->lock);
	sel = d->drv_features_sel;
	/* Only while negotiating: after FEATURES_OK the set is fixed. */
	if (sel < 2 && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		f = d->driver_features & ~(0xffffffffULL << (32 * sel));
		f |= (uint64_t)value << (32 * sel);
		__atomic_store_n(&d->driver_features, f, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Queues: stop and reset */

/*
 * Stop queue q: hand out no more chains, wait until every chain in flight
 * is back, clear the ring state. Register lock held (so no one enables it
 * meanwhile); the queue lock is dropped while waiting, so completions can
 * push.
 */
static void queue_stop(struct virtio_queue *q, const bool *shutdown)
{
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	while (q->inflight && !__atomic_load_n(shutdown, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&q->idle, &q->lock);
	virtq_reset(&q->vq);
	q->stopping = false;
	pthread_mutex_unlock(&q->lock);
}

/* Reset: queues, features, status, ISR. Register lock held. */
static void virtio_reset_locked(struct virtio_dev *d)
{
	unsigned int i;

	/* a data path outside lkvm lets go of the rings first */
	if (d->ops->live && (__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) &
			     VIRTIO_CONFIG_S_DRIVER_OK))
		d->ops->live(d, false);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtio_queue *q = &d->q[i];

		queue_stop(q, &d->shutdown);
		q->num = 0;
		q->desc = q->driver = q->device = 0;
	}
	if (d->ops->reset)
		d->ops->reset(d);
	__atomic_store_n(&d->driver_features, 0, __ATOMIC_RELEASE);
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	/* last: a NEEDS_RESET set by a queue before it stopped goes too */
	__atomic_store_n(&d->status, 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&d->irq_lock);
	isr_update_locked(d, 0, ~0u);
	hinted_line_lower_locked(d);
	pthread_mutex_unlock(&d->irq_lock);
}

static bool features_acceptable(const struct virtio_dev *d)
{
	return !(d->driver_features & ~d->features) &&
	       (d->driver_features & 1ULL << VIRTIO_F_VERSION_1);
}

void virtio_set_status(struct virtio_dev *d, uint32_t value)
{
	uint32_t add, status;

	pthread_mutex_lock(&d->lock);
	if (!value) {
		virtio_reset_locked(d);
		goto out;
	}
	/* The driver may only add bits; it cannot clear NEEDS_RESET. */
	status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	add = value & ~status & 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if (add & VIRTIO_CONFIG_S_FEATURES_OK && !features_acceptable(d)) {
		pr_warn_ratelimited(
			&d->rl,
			"%s: driver features 0x%llx refused (offered 0x%llx)",
			d->ops->name, (unsigned long long)d->driver_features,
			(unsigned long long)d->features);
		add &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (add & VIRTIO_CONFIG_S_DRIVER_OK &&
	    !((status | add) & VIRTIO_CONFIG_S_FEATURES_OK))
		add &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	/* an OR, not a store: a queue may set NEEDS_RESET meanwhile */
	__atomic_fetch_or(&d->status, add, __ATOMIC_ACQ_REL);
	if (add & VIRTIO_CONFIG_S_DRIVER_OK && d->ops->live)
		d->ops->live(d, true);
out:
	pthread_mutex_unlock(&d->lock);
}

/* Queue registers */

/* The queue QueueSel picks, or NULL. Register lock held: read once. */
static struct virtio_queue *sel_queue(struct virtio_dev *d, unsigned int *idx)
{
	uint32_t sel = d->queue_sel;

	if (sel >= d->ops->nr_queues)
		return NULL;
	if (idx)
		*idx = sel;
	return &d->q[sel];
}

/* ready of a queue; its own lock (the ring state is the queue's). */
static bool queue_is_ready(struct virtio_queue *q)
{
	bool r;

	pthread_mutex_lock(&q->lock);
	r = q->vq.ready;
	pthread_mutex_unlock(&q->lock);
	return r;
}

uint16_t virtio_queue_num_max(struct virtio_dev *d)
{
	uint16_t v;

	pthread_mutex_lock(&d->lock);
	v = sel_queue(d, NULL) ? d->ops->queue_max : 0;
	pthread_mutex_unlock(&d->lock);
	return v;
}

int virtio_selected_queue(struct virtio_dev *d)
{
	unsigned int idx;
	int v;

	pthread_mutex_lock(&d->lock);
	v = sel_queue(d, &idx) ? (int)idx : -1;
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* The size a queue is enabled with; register lock held. */
static uint16_t queue_size(const struct virtio_dev *d,
			   const struct virtio_queue *q)
{
	if (q->num)
		return q->num;
	return d->size_default_max ? d->ops->queue_max : 0;
}

uint16_t virtio_get_queue_num(struct virtio_dev *d)
{
	struct virtio_queue *q;
	uint16_t v = 0;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, NULL);
	if (q)
		v = q->num ? q->num : d->ops->queue_max;
	pthread_mutex_unlock(&d->lock);
	return v;
}

void virtio_set_queue_num(struct virtio_dev *d, uint32_t num)
{
	struct virtio_queue *q;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, NULL);
	if (q && !queue_is_ready(q))
		q->num = (uint16_t)(num > 0xffff ? 0 : num);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t *queue_addr(struct virtio_queue *q, int which)
{
	switch (which) {
	case 0:
		return &q->desc;
	case 1:
		return &q->driver;
	case 2:
		return &q->device;
	}
	return NULL;
}

void virtio_set_queue_addr(struct virtio_dev *d, int which, bool hi,
			   uint32_t value)
{
	struct virtio_queue *q;
	uint64_t *a;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, NULL);
	a = q && !queue_is_ready(q) ? queue_addr(q, which) : NULL;
	if (a && hi)
		*a = (*a & 0xffffffffULL) | (uint64_t)value << 32;
	else if (a)
		*a = (*a & ~0xffffffffULL) | value;
	pthread_mutex_unlock(&d->lock);
}

uint32_t virtio_get_queue_addr(struct virtio_dev *d, int which, bool hi)
{
	struct virtio_queue *q;
	uint64_t *a;
	uint32_t v = 0;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, NULL);
	a = q ? queue_addr(q, which) : NULL;
	if (a)
		v = (uint32_t)(hi ? *a >> 32 : *a);
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* Enable queue idx from its registers; register lock held. */
static void queue_enable(struct virtio_dev *d, struct virtio_queue *q,
			 unsigned int idx)
{
	uint64_t f = d->driver_features;
	uint16_t num = queue_size(d, q);
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (!q->vq.ready)
		ret = virtq_enable(&q->vq, d->mem, num, d->ops->queue_max,
				   q->desc, q->driver, q->device,
				   f & 1ULL << VIRTIO_RING_F_EVENT_IDX,
				   f & 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (ret) {
		pr_warn_ratelimited(
			&d->rl,
			"%s: queue %u set-up refused (size %u, rings 0x%llx 0x%llx 0x%llx)",
			d->ops->name, idx, num, (unsigned long long)q->desc,
			(unsigned long long)q->driver,
			(unsigned long long)q->device);
		dev_break(d);
	}
	pthread_mutex_unlock(&q->lock);
}

void virtio_set_queue_ready(struct virtio_dev *d, uint32_t ready)
{
	struct virtio_queue *q;
	unsigned int idx;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, &idx);
	if (q && ready)
		queue_enable(d, q, idx);
	else if (q)
		queue_stop(q, &d->shutdown);
	pthread_mutex_unlock(&d->lock);
}

bool virtio_queue_ready(struct virtio_dev *d)
{
	struct virtio_queue *q;
	bool r = false;

	pthread_mutex_lock(&d->lock);
	q = sel_queue(d, NULL);
	if (q)
		r = queue_is_ready(q);
	pthread_mutex_unlock(&d->lock);
	return r;
}

bool virtio_queue_slot_get(struct virtio_dev *d, const uint16_t *slots,
			   uint16_t *value)
{
	unsigned int idx;
	bool ok;

	pthread_mutex_lock(&d->lock);
	ok = sel_queue(d, &idx) != NULL;
	if (ok)
		*value = __atomic_load_n(&slots[idx], __ATOMIC_ACQUIRE);
	pthread_mutex_unlock(&d->lock);
	return ok;
}

bool virtio_queue_slot_set(struct virtio_dev *d, uint16_t *slots,
			   uint16_t value)
{
	unsigned int idx;
	bool ok;

	pthread_mutex_lock(&d->lock);
	ok = sel_queue(d, &idx) != NULL;
	if (ok)
		__atomic_store_n(&slots[idx], value, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->lock);
	return ok;
}

/* Notifications and the device side of the queues */

bool virtio_queue_serve(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	if (q >= d->ops->nr_queues || !virtio_dev_live(d) ||
	    !queue_is_ready(&d->q[q]))
		return false;
	return d->ops->notify(d, q, budget);
}

void virtio_notify(struct virtio_dev *d, uint32_t q)
{
	if (q >= d->ops->nr_queues)
		return;
	if (d->kick) {
		d->kick(d->kick_opaque, q);
		return;
	}
	/* no I/O thread (tests): serve here, to the end */
	while (virtio_queue_serve(d, q, VIRTIO_NOTIFY_BUDGET))
		;
}

/* The queue broke: log why and set NEEDS_RESET. Queue lock held. */
static int queue_broke(struct virtio_dev *d, struct virtio_queue *q,
		       unsigned int idx)
{
	pr_warn_ratelimited(&d->rl, "%s: queue %u: %s: device needs reset",
			    d->ops->name, idx, q->vq.error);
	dev_break(d);
	return -EINVAL;
}

/* Interrupt the driver after used buffers if it wants one; q's lock held. */
static void queue_used(struct virtio_dev *d, struct virtio_queue *q,
		       unsigned int idx)
{
	if (virtq_need_notify(&q->vq))
		queue_interrupt(d, idx);
}

int virtio_queue_pop(struct virtio_dev *d, unsigned int idx,
		     struct virtq_chain *c, struct iovec *iov,
		     unsigned int max_iov)
{
	struct virtio_queue *q;
	int ret = 0;

	if (idx >= d->ops->nr_queues)
		return 0;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	if (q->stopping || !q->vq.ready || !virtio_dev_live(d))
		goto out;
	/* a driver has at most num chains out: more is a broken queue */
	if (q->inflight >= q->vq.num && virtq_has_work(&q->vq)) {
		virtq_fail(&q->vq, "more chains in flight than the queue size");
		ret = queue_broke(d, q, idx);
		goto out;
	}
	ret = virtq_pop(&q->vq, c, iov, max_iov);
	if (!ret) {
		/* with EVENT_IDX: ask for a kick at the next new buffer,
		 * then look again for one that raced with the request */
		virtq_update_avail_event(&q->vq);
		ret = virtq_pop(&q->vq, c, iov, max_iov);
	}
	if (ret == -E2BIG) {
		/* consumed: hand it back before the queue is declared broken */
		virtq_push(&q->vq, c->head, 0);
		queue_used(d, q, idx);
		virtq_fail(&q->vq,
			   "chain has more buffers than the device takes");
	}
	if (ret < 0)
		ret = queue_broke(d, q, idx);
	else if (ret > 0)
		q->inflight++;
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* Return a chain in flight; q's lock held. */
static void queue_push_locked(struct virtio_dev *d, struct virtio_queue *q,
			      unsigned int idx, uint16_t head, uint32_t written)
{
	if (!q->inflight)
		return; /* not taken with virtio_queue_pop(): a device bug */
	virtq_push(&q->vq, head, written);
	queue_used(d, q, idx);
	if (!--q->inflight)
		pthread_cond_broadcast(&q->idle);
}

void virtio_queue_push(struct virtio_dev *d, unsigned int idx, uint16_t head,
		       uint32_t written)
{
	struct virtio_queue *q;

	if (idx >= d->ops->nr_queues)
		return;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	queue_push_locked(d, q, idx, head, written);
	pthread_mutex_unlock(&q->lock);
}

void virtio_queue_push_broken(struct virtio_dev *d, unsigned int idx,
			      uint16_t head, const char *why)
{
	struct virtio_queue *q;

	if (idx >= d->ops->nr_queues)
		return;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	queue_push_locked(d, q, idx, head, 0);
	virtq_fail(&q->vq, why);
	queue_broke(d, q, idx);
	pthread_mutex_unlock(&q->lock);
}

bool virtio_queue_has_work(struct virtio_dev *d, unsigned int idx)
{
	struct virtio_queue *q;
	bool w = false;

	if (idx >= d->ops->nr_queues)
		return false;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	if (!q->stopping && q->vq.ready) {
		w = virtq_has_work(&q->vq);
		if (!w) {
			/* with EVENT_IDX: ask for a kick at the next new
			 * buffer, then look again for one that raced */
			virtq_update_avail_event(&q->vq);
			w = virtq_has_work(&q->vq);
		}
	}
	pthread_mutex_unlock(&q->lock);
	return w;
}

void virtio_queue_interrupt(struct virtio_dev *d, unsigned int idx)
{
	if (idx < d->ops->nr_queues)
		queue_interrupt(d, idx);
}

void virtio_queue_push_n(struct virtio_dev *d, unsigned int idx,
			 const struct vring_used_elem *e, unsigned int n)
{
	struct virtio_queue *q;

	if (idx >= d->ops->nr_queues || !n)
		return;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	if (q->inflight >= n) {
		virtq_push_n(&q->vq, e, n);
		queue_used(d, q, idx);
		q->inflight -= n;
		if (!q->inflight)
			pthread_cond_broadcast(&q->idle);
	}
	pthread_mutex_unlock(&q->lock);
}

unsigned int virtio_queue_peek_room(struct virtio_dev *d, unsigned int idx,
				    uint64_t need, unsigned int max_chains,
				    bool want_kick)
{
	struct iovec iov[VIRTQ_PEEK_IOV];
	struct virtio_queue *q;
	struct virtq_chain c;
	struct virtq copy;
	uint64_t room = 0;
	unsigned int n = 0;

	if (idx >= d->ops->nr_queues)
		return 0;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	if (q->stopping || !q->vq.ready || !virtio_dev_live(d))
		goto out;
	/* walk a copy: virtq_pop() changes only the struct, never RAM */
	copy = q->vq;
	while (n < max_chains && room < need &&
	       virtq_pop(&copy, &c, iov, VIRTQ_PEEK_IOV) == 1) {
		room += c.in_len;
		n++;
	}
	if (room < need) {
		n = 0;
		if (want_kick)
			virtq_request_kick(&q->vq);
	}
out:
	pthread_mutex_unlock(&q->lock);
	return n;
}

bool virtio_queue_snapshot(struct virtio_dev *d, unsigned int idx,
			   struct virtq *vq, unsigned int *inflight)
{
	struct virtio_queue *q;

	if (idx >= VIRTIO_MAX_QUEUES)
		return false;
	q = &d->q[idx];
	pthread_mutex_lock(&q->lock);
	if (vq)
		*vq = q->vq;
	if (inflight)
		*inflight = q->inflight;
	pthread_mutex_unlock(&q->lock);
	return true;
}
