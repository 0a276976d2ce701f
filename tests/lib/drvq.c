// SPDX-License-Identifier: GPL-2.0-only
/* The driver's side of a split virtqueue in the fake guest's RAM. */
#include <string.h>

#include "drvq.h"

/* Offsets from the spec (2.7.6, 2.7.8), not from the device's headers. */
#define DESC_SIZE 16
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM 8

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Ring slot of index idx (num is a power of two unless a test lies). */
static uint16_t slot(const struct drvq *q, uint32_t idx)
{
	return q->num ? (uint16_t)(idx % q->num) : 0;
}

uint64_t drvq_desc_size(uint16_t num)
{
	return DESC_SIZE * (uint64_t)num;
}

uint64_t drvq_avail_size(uint16_t num)
{
	return AVAIL_RING + 2 * (uint64_t)num + 2;
}

uint64_t drvq_used_size(uint16_t num)
{
	return USED_RING + USED_ELEM * (uint64_t)num + 2;
}

void drvq_init(struct drvq *q, struct guest *g, uint16_t num, uint64_t desc,
	       uint64_t avail, uint64_t used)
{
	*q = (struct drvq){
		.g = g, .num = num, .desc = desc, .avail = avail, .used = used
	};
}

uint64_t drvq_layout(struct drvq *q, struct guest *g, uint16_t num,
		     uint64_t gpa)
{
	uint64_t desc = align_up(gpa, 16);
	uint64_t avail = desc + drvq_desc_size(num);
	uint64_t used = align_up(avail + drvq_avail_size(num), 4);

	drvq_init(q, g, num, desc, avail, used);
	return align_up(used + drvq_used_size(num), 16);
}

void drvq_reset(struct drvq *q)
{
	memset(guest_ptr(q->g, q->avail, drvq_avail_size(q->num)), 0,
	       drvq_avail_size(q->num));
	memset(guest_ptr(q->g, q->used, drvq_used_size(q->num)), 0,
	       drvq_used_size(q->num));
	q->avail_idx = 0;
	q->used_seen = 0;
}

void drvq_put_indirect(struct drvq *q, uint64_t table_gpa, uint32_t i,
		       uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	uint64_t d = table_gpa + DESC_SIZE * (uint64_t)i;

	guest_put64(q->g, d, addr);
	guest_put32(q->g, d + 8, len);
	guest_put16(q->g, d + 12, flags);
	guest_put16(q->g, d + 14, next);
}

void drvq_put_desc(struct drvq *q, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	drvq_put_indirect(q, q->desc, i, addr, len, flags, next);
}

struct vring_desc drvq_get_desc(const struct drvq *q, uint16_t i)
{
	uint64_t d = q->desc + DESC_SIZE * (uint64_t)i;

	return (struct vring_desc){ .addr = guest_get64(q->g, d),
				    .len = guest_get32(q->g, d + 8),
				    .flags = guest_get16(q->g, d + 12),
				    .next = guest_get16(q->g, d + 14) };
}

uint16_t drvq_put_chain(struct drvq *q, uint16_t first,
			const struct drvq_buf *bufs, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint16_t i = slot(q, (uint32_t)first + k);
		uint16_t next = slot(q, (uint32_t)i + 1);
		uint16_t flags = bufs[k].write ? VRING_DESC_F_WRITE : 0;

		if (k + 1 < n)
			flags |= VRING_DESC_F_NEXT;
		drvq_put_desc(q, i, bufs[k].addr, bufs[k].len, flags,
			      k + 1 < n ? next : 0);
	}
	return first;
}

void drvq_add_avail(struct drvq *q, uint16_t head)
{
	guest_put16(q->g, q->avail + AVAIL_RING + 2ULL * slot(q, q->avail_idx),
		    head);
	q->avail_idx++;
}

void drvq_publish(struct drvq *q)
{
	/* pairs with the device's acquire load of avail->idx */
	guest_store16_release(q->g, q->avail + AVAIL_IDX, q->avail_idx);
}

void drvq_avail(struct drvq *q, uint16_t head)
{
	drvq_add_avail(q, head);
	drvq_publish(q);
}

void drvq_set_avail_idx(struct drvq *q, uint16_t idx)
{
	q->avail_idx = idx;
	drvq_publish(q);
}

void drvq_post_buf(struct drvq *q, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags)
{
	drvq_put_desc(q, i, addr, len, flags, 0);
	drvq_avail(q, i);
}

uint16_t drvq_post_chain(struct drvq *q, uint16_t first,
			 const struct drvq_buf *bufs, unsigned int n)
{
	drvq_put_chain(q, first, bufs, n);
	drvq_avail(q, first);
	return first;
}

void drvq_set_avail_flags(struct drvq *q, uint16_t flags)
{
	guest_put16(q->g, q->avail, flags);
}

uint64_t drvq_used_event_gpa(const struct drvq *q)
{
	return q->avail + AVAIL_RING + 2 * (uint64_t)q->num;
}

uint64_t drvq_avail_event_gpa(const struct drvq *q)
{
	return q->used + USED_RING + USED_ELEM * (uint64_t)q->num;
}

void drvq_set_used_event(struct drvq *q, uint16_t v)
{
	guest_put16(q->g, drvq_used_event_gpa(q), v);
}

uint16_t drvq_avail_event(const struct drvq *q)
{
	return guest_get16(q->g, drvq_avail_event_gpa(q));
}

uint16_t drvq_used_idx(const struct drvq *q)
{
	/* pairs with the device's release store of used->idx */
	return guest_load16_acquire(q->g, q->used + USED_IDX);
}

static uint64_t used_elem(const struct drvq *q, uint16_t n)
{
	return q->used + USED_RING + USED_ELEM * (uint64_t)slot(q, n);
}

uint32_t drvq_used_id(const struct drvq *q, uint16_t n)
{
	return guest_get32(q->g, used_elem(q, n));
}

uint32_t drvq_used_len(const struct drvq *q, uint16_t n)
{
	return guest_get32(q->g, used_elem(q, n) + 4);
}

bool drvq_pop_used(struct drvq *q, uint32_t *id, uint32_t *len)
{
	if (q->used_seen == drvq_used_idx(q))
		return false;
	if (id)
		*id = drvq_used_id(q, q->used_seen);
	if (len)
		*len = drvq_used_len(q, q->used_seen);
	q->used_seen++;
	return true;
}
