/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A virtio device, independent of its transport: feature negotiation, the
 * status state machine, queue set-up and interrupts. Transports (mmio,
 * pci) decode their registers and call the virtio_* helpers below, which
 * hold every check, so the transports cannot drift apart.
 */
#ifndef LKVM_VIRTIO_H
#define LKVM_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lkvm/device.h"
#include "lkvm/guest-mem.h"
#include "lkvm/log.h"
#include "lkvm/virtio-queue.h"

#define VIRTIO_MAX_QUEUES 8

/* ISR bits (Virtio 1.2, 4.1.4.5 / 4.2.2). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

struct virtio_dev;

struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	uint16_t queue_max; /* largest queue size the device accepts */
	uint32_t config_size; /* bytes of device-specific configuration */
	/* Device configuration space, off + size <= config_size. */
	uint64_t (*config_read)(struct virtio_dev *d, uint32_t off,
				unsigned int size);
	void (*config_write)(struct virtio_dev *d, uint32_t off,
			     unsigned int size, uint64_t value);
	/* The driver made buffers available on queue q (any thread). */
	void (*notify)(struct virtio_dev *d, unsigned int q);
	/* The driver reset the device: drop in-flight work. May be NULL. */
	void (*reset)(struct virtio_dev *d);
};

/*
 * How a transport delivers interrupts when it has per-queue vectors
 * (virtio-pci with MSI-X enabled): each returns true when it took the
 * interrupt, false to fall back to ISR + the interrupt line.
 */
struct virtio_irq_ops {
	bool (*queue)(void *transport, unsigned int q);
	bool (*config)(void *transport);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct gmem *mem;
	struct irq_line irq;
	const struct virtio_irq_ops *irq_ops; /* NULL: ISR + irq only */
	void *transport;
	pthread_mutex_t lock; /* registers and queue set-up */
	uint64_t features; /* offered: VIRTIO_F_VERSION_1 always */
	uint64_t driver_features;
	uint32_t status;
	uint32_t config_generation;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	pthread_mutex_t irq_lock; /* isr and the interrupt line, together */
	uint32_t isr;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	/* what the driver wrote for each queue before enabling it */
	uint16_t queue_num[VIRTIO_MAX_QUEUES];
	uint64_t queue_desc[VIRTIO_MAX_QUEUES];
	uint64_t queue_driver[VIRTIO_MAX_QUEUES];
	uint64_t queue_device[VIRTIO_MAX_QUEUES];
	struct ratelimit rl;
};

/*
 * Set up d for ops; features are the device's own bits (VIRTIO_F_VERSION_1,
 * VIRTIO_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX are added). Returns 0
 * or -EINVAL for ops with too many queues.
 */
int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		    void *priv, const struct gmem *mem, uint64_t features,
		    struct irq_line irq);
void virtio_dev_destroy(struct virtio_dev *d);

/* A transport with its own interrupt vectors (set before the guest runs). */
void virtio_dev_set_irq_ops(struct virtio_dev *d,
			    const struct virtio_irq_ops *ops, void *transport);

/*
 * Device configuration space for a transport: off and size as the guest
 * sent them; accesses outside [0, config_size) read 0 and are ignored.
 */
uint64_t virtio_config_read(struct virtio_dev *d, uint64_t off,
			    unsigned int size);
void virtio_config_write(struct virtio_dev *d, uint64_t off, unsigned int size,
			 uint64_t value);

/* 32-bit halves of the feature words selected by the *_sel registers. */
uint32_t virtio_get_dev_features(struct virtio_dev *d);
void virtio_set_drv_features(struct virtio_dev *d, uint32_t value);

/*
 * A write of the device status register: 0 resets the device; otherwise
 * bits may only be added, FEATURES_OK is refused (left clear) when the
 * driver accepted features the device did not offer or lacks VERSION_1,
 * and DRIVER_OK needs FEATURES_OK.
 */
void virtio_set_status(struct virtio_dev *d, uint32_t value);

/* Queue registers for the queue selected by queue_sel; writes after
 * FEATURES_OK... are accepted only while the queue is not ready. */
uint16_t virtio_queue_num_max(struct virtio_dev *d);
void virtio_set_queue_num(struct virtio_dev *d, uint32_t num);
/* The selected queue's size: what the driver wrote, else the maximum
 * (virtio-pci's queue_size starts at the maximum); 0 for no queue. */
uint16_t virtio_get_queue_num(struct virtio_dev *d);
/* The selected queue, or -1 when queue_sel names none. */
int virtio_selected_queue(struct virtio_dev *d);
/* which: 0 descriptor area, 1 driver area, 2 device area; hi selects the
 * upper 32 bits. */
void virtio_set_queue_addr(struct virtio_dev *d, int which, bool hi,
			   uint32_t value);
uint32_t virtio_get_queue_addr(struct virtio_dev *d, int which, bool hi);
/* QueueReady: 1 validates and enables the queue (an invalid set-up sets
 * DEVICE_NEEDS_RESET), 0 disables it. */
void virtio_set_queue_ready(struct virtio_dev *d, uint32_t ready);
bool virtio_queue_ready(struct virtio_dev *d);

/* A queue notification from the driver; out-of-range q is ignored. */
void virtio_notify(struct virtio_dev *d, uint32_t q);

/* Read-and-clear (pci) or acknowledge (mmio) the interrupt status. */
uint32_t virtio_isr_read_clear(struct virtio_dev *d);
void virtio_isr_ack(struct virtio_dev *d, uint32_t bits);
uint32_t virtio_isr_peek(struct virtio_dev *d);

/* Device side: after pushing used buffers on q, interrupt the driver if
 * it asked for one. */
void virtio_dev_used(struct virtio_dev *d, unsigned int q);
/* Device side: the queue or device is in an unrecoverable state. */
void virtio_dev_needs_reset(struct virtio_dev *d);
/* Device side: the device configuration changed. */
void virtio_dev_config_changed(struct virtio_dev *d);

/* True once the driver set DRIVER_OK and the device is not broken. */
bool virtio_dev_live(struct virtio_dev *d);

#endif
