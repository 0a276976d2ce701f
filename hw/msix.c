// SPDX-License-Identifier: GPL-2.0-only
/* MSI-X table, pending bits and masking for PCI device models. */
#include <errno.h>
#include <string.h>

#include "lkvm/msix.h"

#define CTRL_MASKED 0x1u

int msix_init(struct msix *x, unsigned int nr, const struct msix_ops *ops,
	      void *opaque)
{
	int ret;

	if (!nr || nr > MSIX_MAX_VECTORS)
		return -EINVAL;
	memset(x, 0, sizeof(*x));
	x->nr = nr;
	x->ops = ops;
	x->opaque = opaque;
	ret = pthread_mutex_init(&x->lock, NULL);
	if (ret)
		return -ret;
	msix_reset(x);
	return 0;
}

void msix_destroy(struct msix *x)
{
	pthread_mutex_destroy(&x->lock);
}

static bool vec_live(const struct msix *x, unsigned int vec)
{
	return x->enabled && !x->fmask && !(x->table[vec].ctrl & CTRL_MASKED);
}

static uint64_t vec_addr(const struct msix *x, unsigned int vec)
{
	return (uint64_t)x->table[vec].addr_hi << 32 | x->table[vec].addr_lo;
}

/*
 * Tell the owner about vec after its entry or the control bits changed
 * (msg: the message itself changed), and deliver what was left pending
 * while it was masked. x->lock held.
 */
static void vec_update(struct msix *x, unsigned int vec, bool msg)
{
	bool live = vec_live(x, vec);

	if (live != x->live[vec] || (live && msg))
		x->ops->route(x->opaque, vec, vec_addr(x, vec),
			      x->table[vec].data, live);
	x->live[vec] = live;
	if (live && x->pba & 1ULL << vec) {
		x->pba &= ~(1ULL << vec);
		x->ops->fire(x->opaque, vec);
	}
}

void msix_reset(struct msix *x)
{
	unsigned int i;

	pthread_mutex_lock(&x->lock);
	x->enabled = x->fmask = false;
	x->pba = 0;
	for (i = 0; i < x->nr; i++) {
		x->table[i] = (struct msix_entry){ .ctrl = CTRL_MASKED };
		vec_update(x, i, false);
	}
	pthread_mutex_unlock(&x->lock);
}

static bool access_ok(uint64_t off, unsigned int size, uint64_t limit)
{
	return (size == 4 || size == 8) && !(off & (size - 1)) && off < limit &&
	       size <= limit - off;
}

/* Dword word (0..3) of an entry: address low/high, data, vector control. */
static uint32_t *entry_slot(struct msix_entry *e, unsigned int word)
{
	switch (word) {
	case 0:
		return &e->addr_lo;
	case 1:
		return &e->addr_hi;
	case 2:
		return &e->data;
	}
	return &e->ctrl;
}

uint64_t msix_table_read(struct msix *x, uint64_t off, unsigned int size)
{
	struct msix_entry *e;
	uint64_t v;

	if (!access_ok(off, size, msix_table_size(x)))
		return 0;
	pthread_mutex_lock(&x->lock);
	e = &x->table[off / MSIX_ENTRY_SIZE];
	v = *entry_slot(e, (off % MSIX_ENTRY_SIZE) / 4);
	if (size == 8)
		v |= (uint64_t)*entry_slot(e, (off % MSIX_ENTRY_SIZE) / 4 + 1)
		     << 32;
	pthread_mutex_unlock(&x->lock);
	return v;
}

/* One dword of an entry; returns true when the message changed. */
static bool entry_put(struct msix_entry *e, unsigned int word, uint32_t v)
{
	uint32_t *p = entry_slot(e, word);
	bool msg = word < 3 && *p != v;

	/* Vector Control: only the mask bit is defined, the rest reserved. */
	*p = word == 3 ? v & CTRL_MASKED : v;
	return msg;
}

void msix_table_write(struct msix *x, uint64_t off, unsigned int size,
		      uint64_t value)
{
	unsigned int vec = (unsigned int)(off / MSIX_ENTRY_SIZE);
	unsigned int word = (unsigned int)(off % MSIX_ENTRY_SIZE) / 4;
	bool msg;

	if (!access_ok(off, size, msix_table_size(x)))
		return;
	pthread_mutex_lock(&x->lock);
	msg = entry_put(&x->table[vec], word, (uint32_t)value);
	if (size == 8)
		msg |= entry_put(&x->table[vec], word + 1,
				 (uint32_t)(value >> 32));
	vec_update(x, vec, msg);
	pthread_mutex_unlock(&x->lock);
}

uint64_t msix_pba_read(struct msix *x, uint64_t off, unsigned int size)
{
	uint64_t v;

	if (!access_ok(off, size, msix_pba_size(x)))
		return 0;
	pthread_mutex_lock(&x->lock);
	v = off ? x->pba >> 32 : x->pba; /* nr <= 64: one qword */
	pthread_mutex_unlock(&x->lock);
	return size == 4 ? (uint32_t)v : v;
}

void msix_set_control(struct msix *x, bool enabled, bool fmask)
{
	unsigned int i;

	pthread_mutex_lock(&x->lock);
	if (x->enabled != enabled || x->fmask != fmask) {
		x->enabled = enabled;
		x->fmask = fmask;
		for (i = 0; i < x->nr; i++)
			vec_update(x, i, false);
	}
	pthread_mutex_unlock(&x->lock);
}

bool msix_enabled(struct msix *x)
{
	bool on;

	pthread_mutex_lock(&x->lock);
	on = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return on;
}

bool msix_notify(struct msix *x, unsigned int vec)
{
	pthread_mutex_lock(&x->lock);
	if (!x->enabled) {
		pthread_mutex_unlock(&x->lock);
		return false;
	}
	if (vec < x->nr) {
		if (vec_live(x, vec))
			x->ops->fire(x->opaque, vec);
		else
			x->pba |= 1ULL << vec;
	}
	pthread_mutex_unlock(&x->lock);
	return true;
}
