/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device side of a split virtqueue (Virtio 1.2, 2.7): validating the
 * rings when the driver sets the queue ready, walking descriptor chains a
 * hostile guest wrote, returning them through the used ring and deciding
 * when the driver wants an interrupt.
 *
 * Locking: a struct virtq is not thread-safe; the device that owns it
 * serialises every call (its own lock). The guest runs concurrently; the
 * functions here are written for that.
 *
 * Byte order: the host is assumed little-endian (RISC-V and x86), like the
 * Virtio 1.x rings, so ring fields are used without conversion. queue.c
 * refuses to build on a big-endian host.
 */
#ifndef LKVM_VIRTIO_QUEUE_H
#define LKVM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#include "lkvm/guest-mem.h"

/* The largest queue size any device may offer (QUEUE_NUM_MAX). */
#define VIRTQ_MAX_SIZE 1024

/*
 * One split virtqueue. The transport owns it, keeps it zeroed (or reset)
 * until the driver sets QUEUE_READY, and may read the fields; only the
 * functions below write them.
 */
struct virtq {
	const struct gmem *mem;
	uint16_t num; /* queue size, a power of two */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* host pointers into guest RAM, checked and cached by virtq_enable */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* next available-ring index the device takes */
	uint16_t used_idx; /* device's copy of used->idx */
	/* used_idx at the last virtq_need_notify(), for EVENT_IDX */
	uint16_t signalled_used;
	bool signalled_valid;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool ready;
	bool broken; /* the driver broke the rules; see virtq_pop() */
	char error[96]; /* why the queue broke, for the transport's log */
};

/*
 * Validate the rings and enable the queue; called when the driver writes
 * QUEUE_READY=1 with the negotiated features. Requires: num a power of two
 * in 1..max_size and max_size <= VIRTQ_MAX_SIZE; desc 16-aligned, avail
 * 2-aligned, used 4-aligned (Virtio 1.2, 2.7); the descriptor table
 * (16 * num bytes), the available ring (6 + 2 * num bytes, used_event
 * included) and the used ring (6 + 8 * num bytes, avail_event included)
 * each wholly inside one RAM region of mem. On success caches the host
 * pointers, starts both indexes at 0, sets ready and returns 0. Otherwise
 * returns -EINVAL, clears ready and leaves the other fields as they were.
 * mem must outlive the queue.
 */
int virtq_enable(struct virtq *q, const struct gmem *mem, uint16_t num,
		 uint16_t max_size, uint64_t desc, uint64_t avail,
		 uint64_t used, bool event_idx, bool indirect);

/* Back to not ready with all state cleared (device or queue reset). */
void virtq_reset(struct virtq *q);

/*
 * Mark the queue broken for a reason the device found (why is copied into
 * q->error unless it already broke): virtq_pop() returns -EINVAL from now
 * on. Returns -EINVAL.
 */
int virtq_fail(struct virtq *q, const char *why);

/* One descriptor chain taken from the available ring. */
struct virtq_chain {
	uint16_t head; /* the id to hand back to virtq_push() */
	/* iov[0..nout) device-readable, iov[nout..niov) device-writable */
	unsigned int niov, nout;
	uint64_t out_len, in_len; /* byte totals of each part */
};

/*
 * Take the next available chain. Returns:
 *   1        the chain is in *c and its buffers in iov[0..c->niov) as host
 *            pointers into guest RAM (each range checked whole); the device
 *            must virtq_push(c->head) it once done with it.
 *   0        the ring is empty (or the queue is not ready).
 *   -EINVAL  the available index or the chain is malformed: q->broken is
 *            set, q->error says why, and every later call returns -EINVAL
 *            until virtq_reset(). The transport sets DEVICE_NEEDS_RESET.
 *   -E2BIG   the chain is well formed but has more than max_iov buffers. It
 *            is consumed (c->head is valid, the other fields describe only
 *            the first max_iov buffers): the device pushes it back (usually
 *            with written 0) or sets DEVICE_NEEDS_RESET itself. The queue
 *            is not broken. A malformed chain is -EINVAL even when it is
 *            also too long.
 *
 * Rules enforced (Virtio 1.2, 2.7.5 and 2.7.13): at most num chains pending;
 * head and every next < num; a chain holds at most num buffers in all,
 * which also stops loops; a device-readable buffer never follows a
 * device-writable one; INDIRECT only when negotiated, never with NEXT, only
 * as the last descriptor of the main chain (its WRITE flag is ignored),
 * never inside an indirect table; an indirect table is a non-zero multiple
 * of 16 bytes inside RAM, its chain starts at entry 0, every next is inside
 * the table and it is walked at most once per entry. Each descriptor is
 * copied once from guest memory and only the copy is used.
 *
 * Zero-length buffers are skipped: they take part in the flag, next and
 * ordering checks and count towards the chain length, but their address is
 * not checked and they produce no iovec. A chain of only zero-length
 * buffers is returned with niov 0.
 */
int virtq_pop(struct virtq *q, struct virtq_chain *c, struct iovec *iov,
	      unsigned int max_iov);

/*
 * Return a chain: writes the used element (head, written = bytes the device
 * wrote into the device-writable buffers), then publishes used->idx with a
 * release store. Valid on a broken queue (chains taken before it broke may
 * still be completed); does nothing when the queue is not ready.
 */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/*
 * Return n chains at once (e[i].id the head, e[i].len the bytes written):
 * every used element is written before the one release store of used->idx,
 * so the driver sees all or none of them (virtio-net's mergeable receive
 * buffers: the driver expects num_buffers used elements together). Does
 * nothing when the queue is not ready.
 */
void virtq_push_n(struct virtq *q, const struct vring_used_elem *e,
		  unsigned int n);

/*
 * After one or more virtq_push() calls: true when the driver wants a used
 * buffer notification now. Without EVENT_IDX, unless avail->flags has
 * VRING_AVAIL_F_NO_INTERRUPT; with EVENT_IDX, when used->idx went past
 * used_event since the previous call (vring_need_event()), and always on
 * the first call after enabling. False when nothing could be signalled
 * (not ready).
 */
bool virtq_need_notify(struct virtq *q);

/*
 * With EVENT_IDX: publish avail_event = last_avail so that the driver
 * notifies only for buffers the device has not seen, followed by a full
 * barrier; call virtq_has_work() afterwards to catch buffers made available
 * meanwhile. Does nothing without EVENT_IDX or when not ready.
 */
void virtq_update_avail_event(struct virtq *q);

/*
 * With EVENT_IDX: publish avail_event = the driver's current avail->idx
 * (not last_avail), followed by a full barrier: the driver's next buffer
 * notifies even while chains the device has not taken are pending (a
 * device that waits for more room than they hold). Does nothing without
 * EVENT_IDX or when not ready.
 */
void virtq_request_kick(struct virtq *q);

/* True when the queue is ready, not broken and the driver made buffers
 * available that virtq_pop() has not taken yet. */
bool virtq_has_work(struct virtq *q);

#endif
