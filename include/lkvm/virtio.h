/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A virtio device, independent of its transport: feature negotiation, the
 * status state machine, queue set-up, the queues themselves and
 * interrupts. Transports (mmio, pci) decode their registers and call the
 * virtio_* helpers below, which hold every check, so the transports cannot
 * drift apart. Device models take and return chains with
 * virtio_queue_pop() / virtio_queue_push().
 *
 * struct virtio_dev is opaque: its register state (selectors, queue
 * set-up, status, features) lives in virtio/core.c and is only touched
 * under the device's register lock.
 *
 * Locking, outermost first; a thread never takes an earlier lock while
 * holding a later one:
 *   1. the register lock: every register write, and reads of anything a
 *      selector picks (the selector is read once, under the lock);
 *   2. one lock per queue: the ring state, the chains in flight and the
 *      "stopping" flag of a reset;
 *   3. the interrupt lock: the ISR and the interrupt line, and the choice
 *      between a vector and the line (virtio_dev_irq_switch());
 *   4. the transport's and the machine's own locks (MSI-X table, PLIC...).
 * A device reset (status 0) or a queue disable (QueueReady 0) stops each
 * queue: no new chain is handed out, it waits until every chain in flight
 * has been pushed back, then the queue is cleared. So a queue walk and a
 * reset never overlap, and nothing completes into a queue after its reset
 * (Virtio 1.2, 2.4). Device code that holds a chain must therefore finish
 * it without waiting for the register lock.
 */
#ifndef LKVM_VIRTIO_H
#define LKVM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lkvm/device.h"
#include "lkvm/guest-mem.h"
#include "lkvm/log.h"
#include "lkvm/virtio-queue.h"

#define VIRTIO_MAX_QUEUES 8

/* ISR bits (Virtio 1.2, 4.1.4.5 / 4.2.2). */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Chains a device serves per notify turn before others get theirs. */
#define VIRTIO_NOTIFY_BUDGET 64

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
	/*
	 * Serve queue q: take at most budget chains with virtio_queue_pop()
	 * and return true when it stopped with chains still available (it
	 * is then called again after the other queues had a turn), false
	 * when the queue is empty, stopped or broken. Any one thread at a
	 * time per device (the I/O thread, or the caller of virtio_notify()
	 * without a kick hook).
	 */
	bool (*notify)(struct virtio_dev *d, unsigned int q,
		       unsigned int budget);
	/*
	 * May be NULL. A device whose own thread waits for queue q's
	 * notifications on an eventfd returns it here: KVM's ioeventfd for
	 * the queue's doorbell then signals that thread directly, and the
	 * I/O thread never serves the device. Without ioeventfds the
	 * doorbell's vCPU thread calls notify, which must then only wake
	 * the device's thread (several vCPUs may call it at once).
	 */
	int (*notify_fd)(struct virtio_dev *d, unsigned int q);
	/*
	 * The driver reset the device: every queue is already stopped and
	 * drained; drop device state that outlives chains. Register lock
	 * held. May be NULL.
	 */
	void (*reset)(struct virtio_dev *d);
	/*
	 * The driver set DRIVER_OK (on true), or is resetting a live device
	 * (on false, before any queue is stopped): for a device whose data
	 * path runs outside lkvm (vhost), which takes and lets go of the
	 * rings here. Register lock held. May be NULL.
	 */
	void (*live)(struct virtio_dev *d, bool on);
};

/*
 * How a transport delivers interrupts when it has per-queue vectors
 * (virtio-pci with MSI-X enabled): each returns true when it took the
 * interrupt, false to fall back to ISR + the interrupt line. Called with
 * the interrupt lock held.
 */
struct virtio_irq_ops {
	bool (*queue)(void *transport, unsigned int q);
	bool (*config)(void *transport);
};

/*
 * A new device for ops; features are the device's own bits
 * (VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC and VIRTIO_RING_F_EVENT_IDX
 * are added); priv is the device model's. Returns 0 with the device in
 * *out, -EINVAL for ops with too many or too large queues or no notify,
 * -ENOMEM without memory.
 */
int virtio_dev_new(const struct virtio_dev_ops *ops, void *priv,
		   const struct gmem *mem, uint64_t features,
		   struct irq_line irq, struct virtio_dev **out);
/* Free d; nothing may use it any more. NULL is ignored. */
void virtio_dev_free(struct virtio_dev *d);

void *virtio_dev_priv(const struct virtio_dev *d);
const struct virtio_dev_ops *virtio_dev_ops(const struct virtio_dev *d);

/*
 * Where a device's queue doorbells decode, as its transport reports them to
 * the machine (so that KVM can signal an eventfd per queue, see
 * virtio/worker.c): queue q's doorbell is a write of len bytes at addr + q *
 * stride; with stride 0 every queue shares addr and the value written
 * names the queue (virtio-mmio's QueueNotify).
 */
struct virtio_doorbells {
	uint64_t addr;
	uint64_t stride;
	unsigned int len;
};

/*
 * The one report both transports make: d's doorbells now decode as db, or
 * (db NULL) no longer decode. virtio-mmio reports once, when the machine
 * places the device; virtio-pci whenever the guest maps or moves BAR 0.
 */
typedef void virtio_doorbells_fn(void *opaque, struct virtio_dev *d,
				 const struct virtio_doorbells *db);

/*
 * Set-up, before the guest runs: the interrupt line (a transport that
 * routes its own, like virtio-pci's INTx, replaces it), per-vector
 * delivery, and the kick hook: when set, virtio_notify() calls
 * kick(opaque, q) instead of serving the queue itself, so that device work
 * runs on the I/O thread (see virtio/worker.c), not on the vCPU.
 */
void virtio_dev_set_irq(struct virtio_dev *d, struct irq_line irq);
void virtio_dev_set_irq_ops(struct virtio_dev *d,
			    const struct virtio_irq_ops *ops, void *transport);
void virtio_dev_set_kick(struct virtio_dev *d,
			 void (*kick)(void *opaque, unsigned int q),
			 void *opaque);
void virtio_dev_set_size_default_max(struct virtio_dev *d);

/*
 * The VM is stopping: a reset in progress, or any later one, no longer
 * waits for chains in flight (a slow disk must not hold a vCPU, and so
 * lkvm's exit, for seconds); they complete into a queue nobody uses.
 * Guest memory must stay mapped until the device is drained and freed.
 * Any thread.
 */
void virtio_dev_shutdown(struct virtio_dev *d);

/*
 * Device configuration space for a transport: off and size as the guest
 * sent them; accesses outside [0, config_size) read 0 and are ignored.
 */
uint64_t virtio_config_read(struct virtio_dev *d, uint64_t off,
			    unsigned int size);
void virtio_config_write(struct virtio_dev *d, uint64_t off, unsigned int size,
			 uint64_t value);

/* Selectors, as the driver writes and reads them. */
void virtio_set_dev_features_sel(struct virtio_dev *d, uint32_t sel);
uint32_t virtio_get_dev_features_sel(struct virtio_dev *d);
void virtio_set_drv_features_sel(struct virtio_dev *d, uint32_t sel);
uint32_t virtio_get_drv_features_sel(struct virtio_dev *d);
void virtio_set_queue_sel(struct virtio_dev *d, uint32_t sel);
uint32_t virtio_get_queue_sel(struct virtio_dev *d);

/* 32-bit halves of the feature words the selectors pick (0 beyond). */
uint32_t virtio_get_dev_features(struct virtio_dev *d);
uint32_t virtio_get_drv_features(struct virtio_dev *d);
void virtio_set_drv_features(struct virtio_dev *d, uint32_t value);
/* The features the device offers. */
uint64_t virtio_dev_features(const struct virtio_dev *d);
/* Offer only those of them in keep (before the guest runs: a data path
 * handed to a back end that lacks some). */
void virtio_dev_mask_features(struct virtio_dev *d, uint64_t keep);
/* The features the driver accepted (complete once FEATURES_OK is set). */
uint64_t virtio_dev_driver_features(const struct virtio_dev *d);

/*
 * A write of the device status register: 0 resets the device; otherwise
 * bits may only be added, FEATURES_OK is refused (left clear) when the
 * driver accepted features the device did not offer or lacks VERSION_1,
 * and DRIVER_OK needs FEATURES_OK.
 */
void virtio_set_status(struct virtio_dev *d, uint32_t value);
uint32_t virtio_get_status(const struct virtio_dev *d);
uint32_t virtio_get_config_generation(const struct virtio_dev *d);

/*
 * Queue registers of the queue QueueSel selects (read once, under the
 * register lock); writes after the queue is ready are ignored.
 */
uint16_t virtio_queue_num_max(struct virtio_dev *d);
void virtio_set_queue_num(struct virtio_dev *d, uint32_t num);
/* The selected queue's size: what the driver wrote, else the maximum
 * (virtio-pci's queue_size starts at the maximum); 0 for no queue. */
uint16_t virtio_get_queue_num(struct virtio_dev *d);
/* The selected queue, or -1 when QueueSel names none. */
int virtio_selected_queue(struct virtio_dev *d);
/* which: 0 descriptor area, 1 driver area, 2 device area; hi selects the
 * upper 32 bits. */
void virtio_set_queue_addr(struct virtio_dev *d, int which, bool hi,
			   uint32_t value);
uint32_t virtio_get_queue_addr(struct virtio_dev *d, int which, bool hi);
/*
 * QueueReady: 1 validates and enables the queue (an invalid set-up sets
 * DEVICE_NEEDS_RESET), 0 stops it (waits for its chains in flight).
 * A queue whose size the driver never wrote has size 0 (refused), or the
 * maximum after virtio_dev_set_size_default_max() (virtio-pci).
 */
void virtio_set_queue_ready(struct virtio_dev *d, uint32_t ready);
bool virtio_queue_ready(struct virtio_dev *d);
/*
 * A per-queue value a transport keeps for the selected queue (virtio-pci's
 * queue_msix_vector): *get or set it under the register lock, through
 * slots (VIRTIO_MAX_QUEUES entries). Returns false when QueueSel names no
 * queue.
 */
bool virtio_queue_slot_get(struct virtio_dev *d, const uint16_t *slots,
			   uint16_t *value);
bool virtio_queue_slot_set(struct virtio_dev *d, uint16_t *slots,
			   uint16_t value);

/* A queue notification from the driver; out-of-range q is ignored. */
void virtio_notify(struct virtio_dev *d, uint32_t q);

/*
 * Serve queue q once with at most budget chains (the I/O thread's turn):
 * true when chains remain available. False for an out-of-range q, a queue
 * not ready or a device not live.
 */
bool virtio_queue_serve(struct virtio_dev *d, unsigned int q,
			unsigned int budget);

/* Read-and-clear (pci) or acknowledge (mmio) the interrupt status. */
uint32_t virtio_isr_read_clear(struct virtio_dev *d);
void virtio_isr_ack(struct virtio_dev *d, uint32_t bits);
uint32_t virtio_isr_peek(struct virtio_dev *d);
/*
 * Bits virtio_isr_peek() (virtio-mmio's InterruptStatus) shows on top of
 * the pending ones, without driving the line: for a queue whose data path
 * outside lkvm pulses the wired line itself (vhost's call eventfd as an
 * irqfd), VIRTIO_ISR_QUEUE, so that the driver's handler looks at its
 * queues (a look that finds nothing costs one ring read). While bits are
 * hinted, each acknowledge (and a reset) lowers the line when no bit of
 * lkvm's own is pending: the other party only ever raises it. Any thread.
 */
void virtio_dev_set_isr_hint(struct virtio_dev *d, uint32_t bits);

/*
 * Change how interrupts are delivered (virtio-pci's MSI-X enable): fn(arg,
 * isr) runs under the interrupt lock, so no interrupt decides between a
 * vector and the line meanwhile. isr is what is pending on the line; when
 * fn returns true (the line is no longer used: a function with MSI-X on
 * must not assert INTx), the ISR is cleared and the line lowered; fn then
 * delivers what was pending through the vectors itself.
 */
void virtio_dev_irq_switch(struct virtio_dev *d,
			   bool (*fn)(void *arg, uint32_t isr), void *arg);

/*
 * Device side. Take the next available chain of queue q. Returns 1 with
 * the chain in *c and its buffers in iov (see virtq_pop()), 0 when there
 * is none (with EVENT_IDX, avail_event is then published, so the driver's
 * next buffer notifies), or the queue is not ready, being reset, or the
 * device is not live; negative when the queue broke: the driver posted a malformed
 * chain, a chain of more than max_iov buffers (handed back with length 0)
 * or more chains than the queue size while that many are in flight. The
 * device is then marked DEVICE_NEEDS_RESET (and the reason logged, rate
 * limited) before this returns. A chain taken is in flight until
 * virtio_queue_push(); a reset waits for it.
 */
int virtio_queue_pop(struct virtio_dev *d, unsigned int q,
		     struct virtq_chain *c, struct iovec *iov,
		     unsigned int max_iov);
/*
 * Device side: hand back a chain taken by virtio_queue_pop() with written
 * bytes, and interrupt the driver if it asked for one. Any thread.
 */
void virtio_queue_push(struct virtio_dev *d, unsigned int q, uint16_t head,
		       uint32_t written);
/*
 * Device side: a used-buffer interrupt for queue q, unconditionally (the
 * queue's vector, or ISR + line): for a data path outside lkvm that
 * decided itself that the driver wants one (vhost's call eventfd).
 */
void virtio_queue_interrupt(struct virtio_dev *d, unsigned int q);

/*
 * Device side: hand back n chains taken by virtio_queue_pop() at once
 * (e[i].id the head, e[i].len the bytes written): the driver sees all of
 * them or none (see virtq_push_n()), then one interrupt if it asked for
 * one. Ignored when fewer than n chains are in flight (a device bug).
 */
void virtio_queue_push_n(struct virtio_dev *d, unsigned int q,
			 const struct vring_used_elem *e, unsigned int n);

/* Chains longer than this count only their first buffers' room in
 * virtio_queue_peek_room(). */
#define VIRTQ_PEEK_IOV 64

/*
 * Device side: how many of the chains queue q has available, taken in
 * order, hold at least need bytes of device-writable room, looking at no
 * more than max_chains; nothing is taken. 0 when they do not (with
 * want_kick and EVENT_IDX, the driver is then asked to notify at its next
 * buffer: see virtq_request_kick()), when the queue is not ready, being
 * reset or the device not live, or when a chain is malformed (the pop that
 * follows finds it). The guest may change the chains before they are
 * popped: a device must cope with less room than this promised.
 */
unsigned int virtio_queue_peek_room(struct virtio_dev *d, unsigned int q,
				    uint64_t need, unsigned int max_chains,
				    bool want_kick);

/*
 * Device side: the chain was malformed in a way only the device sees:
 * hand it back with length 0 and set DEVICE_NEEDS_RESET.
 */
void virtio_queue_push_broken(struct virtio_dev *d, unsigned int q,
			      uint16_t head, const char *why);
/*
 * Device side: true when queue q is ready, not broken and has chains
 * available; with EVENT_IDX, when it has none, publishes avail_event
 * first so the driver's next buffer notifies (and looks once more).
 */
bool virtio_queue_has_work(struct virtio_dev *d, unsigned int q);

/* Device side: the device configuration changed. */
void virtio_dev_config_changed(struct virtio_dev *d);

/* True once the driver set DRIVER_OK and the device is not broken. */
bool virtio_dev_live(const struct virtio_dev *d);

/*
 * For tests and diagnostics: a copy of queue q's ring state and its
 * chains in flight. Returns false for an out-of-range q.
 */
bool virtio_queue_snapshot(struct virtio_dev *d, unsigned int q,
			   struct virtq *vq, unsigned int *inflight);

static inline struct virtq virtio_queue_copy(struct virtio_dev *d,
					     unsigned int q)
{
	struct virtq vq = { 0 };

	virtio_queue_snapshot(d, q, &vq, NULL);
	return vq;
}

#endif
