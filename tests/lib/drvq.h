/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver's side of a split virtqueue (Virtio 1.2, 2.7) in the fake
 * guest's RAM: where the three rings are, writing descriptors, making
 * chains available and reading what the device used. It writes what a
 * test tells it, checked or not: descriptor contents, heads and indexes
 * are the test's to get wrong on purpose.
 *
 * A drvq is the guest's; the device under test only sees the GPAs it is
 * given. The avail index and the used index are read and written with
 * acquire/release atomics, so a device on another thread (the I/O thread,
 * a disk engine) sees the ring entries before the index that covers them.
 */
#ifndef LKVM_TEST_DRVQ_H
#define LKVM_TEST_DRVQ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "guest.h"

struct drvq {
	struct guest *g;
	uint16_t num; /* queue size */
	uint64_t desc, avail, used; /* GPAs of the three rings */
	uint16_t avail_idx; /* the next avail->idx the driver publishes */
	uint16_t used_seen; /* used entries drvq_pop_used() consumed */
};

/* One buffer of a chain: device-writable when write. */
struct drvq_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/*
 * A queue of num entries with its rings at the given GPAs (not checked:
 * tests place rings badly on purpose). Nothing is written to RAM.
 */
void drvq_init(struct drvq *q, struct guest *g, uint16_t num, uint64_t desc,
	       uint64_t avail, uint64_t used);

/*
 * The rings packed from gpa (rounded up to 16): the descriptor table, the
 * available ring right after it, the used ring at the next 4-byte
 * boundary. Returns the first GPA after the used ring (avail_event
 * included), rounded up to 16: where buffers may go.
 */
uint64_t drvq_layout(struct drvq *q, struct guest *g, uint16_t num,
		     uint64_t gpa);

/* Sizes in bytes of the rings, event fields included. */
uint64_t drvq_desc_size(uint16_t num);
uint64_t drvq_avail_size(uint16_t num);
uint64_t drvq_used_size(uint16_t num);

/*
 * Fresh rings, as a driver has them when it sets the queue up: the
 * available and used rings zeroed (descriptors are left: each test
 * writes those it makes available) and both indexes back to 0.
 */
void drvq_reset(struct drvq *q);

/* Write descriptor i of the queue's table (i < num). */
void drvq_put_desc(struct drvq *q, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next);
/* Write entry i of an indirect table at table_gpa. */
void drvq_put_indirect(struct drvq *q, uint64_t table_gpa, uint32_t i,
		       uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next);
/* Read descriptor i of the queue's table back. */
struct vring_desc drvq_get_desc(const struct drvq *q, uint16_t i);

/*
 * A chain of n buffers in descriptors first, first + 1, ... (mod num),
 * each but the last with NEXT to the following one. Returns first.
 */
uint16_t drvq_put_chain(struct drvq *q, uint16_t first,
			const struct drvq_buf *bufs, unsigned int n);

/*
 * Put head in the next slot of the available ring; drvq_publish() then
 * makes every chain added so far visible with one avail->idx store.
 */
void drvq_add_avail(struct drvq *q, uint16_t head);
void drvq_publish(struct drvq *q);
/* drvq_add_avail() and drvq_publish(): one chain made available. */
void drvq_avail(struct drvq *q, uint16_t head);
/* Store idx into avail->idx as it is, and make it the driver's. */
void drvq_set_avail_idx(struct drvq *q, uint16_t idx);

/* The common cases: one buffer in descriptor i, or a chain, available. */
void drvq_post_buf(struct drvq *q, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags);
uint16_t drvq_post_chain(struct drvq *q, uint16_t first,
			 const struct drvq_buf *bufs, unsigned int n);

/* avail->flags (VRING_AVAIL_F_NO_INTERRUPT), and used_event. */
void drvq_set_avail_flags(struct drvq *q, uint16_t flags);
void drvq_set_used_event(struct drvq *q, uint16_t v);
/* GPAs of used_event and avail_event. */
uint64_t drvq_used_event_gpa(const struct drvq *q);
uint64_t drvq_avail_event_gpa(const struct drvq *q);
/* The device's avail_event. */
uint16_t drvq_avail_event(const struct drvq *q);

/* used->idx (an acquire load), and the used element for index n. */
uint16_t drvq_used_idx(const struct drvq *q);
uint32_t drvq_used_id(const struct drvq *q, uint16_t n);
uint32_t drvq_used_len(const struct drvq *q, uint16_t n);

/*
 * The next used element the driver has not seen: true with its id and len
 * (either may be NULL), false when the device used nothing new.
 */
bool drvq_pop_used(struct drvq *q, uint32_t *id, uint32_t *len);

#endif
