// SPDX-License-Identifier: GPL-2.0-only
/* The split virtqueue core: ring validation, chain walks, used ring. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/virtio-queue.h"

/* The rings are little-endian and used without conversion. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio/queue.c assumes a little-endian host"
#endif

_Static_assert(sizeof(struct vring_desc) == 16, "vring_desc layout");
_Static_assert(offsetof(struct vring_desc, len) == 8, "vring_desc layout");
_Static_assert(offsetof(struct vring_desc, flags) == 12, "vring_desc layout");
_Static_assert(offsetof(struct vring_desc, next) == 14, "vring_desc layout");
_Static_assert(sizeof(struct vring_avail) == 4, "vring_avail layout");
_Static_assert(offsetof(struct vring_avail, ring) == 4, "vring_avail layout");
_Static_assert(sizeof(struct vring_used_elem) == 8, "vring_used_elem layout");
_Static_assert(offsetof(struct vring_used, ring) == 4, "vring_used layout");

/* Ring sizes in bytes (Virtio 1.2, 2.7), the event fields included. */
#define DESC_BYTES(n) (16ULL * (n))
#define AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define USED_BYTES(n) (6ULL + 8ULL * (n))

/* Where the chain walk is: limits shared by the main chain and a table. */
struct walk {
	struct virtq_chain *c;
	struct iovec *iov;
	unsigned int max_iov;
	unsigned int nbuf; /* buffer descriptors so far, at most num */
	bool seen_write; /* a device-writable descriptor was seen */
	bool too_big; /* more buffers than max_iov: walk on, only validate */
};

static __printf(2, 3) int virtq_break(struct virtq *q, const char *fmt, ...)
{
	va_list ap;

	if (!q->broken) {
		va_start(ap, fmt);
		vsnprintf(q->error, sizeof(q->error), fmt, ap);
		va_end(ap);
	}
	q->broken = true;
	return -EINVAL;
}

/*
 * A host pointer to a ring of len bytes at gpa, NULL unless the guest
 * address and the host pointer both have the ring's alignment (the host
 * one so that the atomic accesses below are aligned).
 */
static void *ring_ptr(const struct gmem *mem, uint64_t gpa, uint64_t len,
		      uint64_t align)
{
	void *p;

	if (gpa & (align - 1))
		return NULL;
	p = gmem_ptr(mem, gpa, len);
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

int virtq_enable(struct virtq *q, const struct gmem *mem, uint16_t num,
		 uint16_t max_size, uint64_t desc, uint64_t avail,
		 uint64_t used, bool event_idx, bool indirect)
{
	void *d, *a, *u;

	q->ready = false;
	if (!mem || max_size > VIRTQ_MAX_SIZE || !num || num > max_size ||
	    (num & (num - 1)))
		return -EINVAL;
	/* gmem_ptr() checks [gpa, gpa + len) with overflow-safe arithmetic */
	d = ring_ptr(mem, desc, DESC_BYTES(num), VRING_DESC_ALIGN_SIZE);
	a = ring_ptr(mem, avail, AVAIL_BYTES(num), VRING_AVAIL_ALIGN_SIZE);
	u = ring_ptr(mem, used, USED_BYTES(num), VRING_USED_ALIGN_SIZE);
	if (!d || !a || !u)
		return -EINVAL;

	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->num = num;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->ready = true;
	return 0;
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_fail(struct virtq *q, const char *why)
{
	return virtq_break(q, "%s", why);
}

/*
 * Copy one descriptor out of guest memory. The compiler barrier keeps the
 * compiler from re-reading guest memory in place of the copy later: the
 * guest may change the descriptor at any time, and only the copy is
 * validated. memcpy because an indirect table may be misaligned.
 */
static void desc_read(struct vring_desc *dst, const void *src)
{
	memcpy(dst, src, sizeof(*dst));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Add one buffer (a validated copy) to the chain. */
static int walk_add(struct virtq *q, struct walk *w, const struct vring_desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;
	struct virtq_chain *c = w->c;
	void *p;

	if (++w->nbuf > q->num)
		return virtq_break(q, "chain longer than queue size %u",
				   q->num);
	if (!write && w->seen_write)
		return virtq_break(q,
				   "readable descriptor after a writable one");
	w->seen_write |= write;
	if (!d->len)
		return 0; /* carries no data: skipped, see virtq_pop() */
	p = gmem_ptr(q->mem, d->addr, d->len);
	if (!p)
		return virtq_break(q, "buffer 0x%llx+0x%x outside RAM",
				   (unsigned long long)d->addr, d->len);
	if (w->too_big || c->niov >= w->max_iov) {
		/* validate the rest: a malformed chain must break the queue */
		w->too_big = true;
		return 0;
	}
	w->iov[c->niov].iov_base = p;
	w->iov[c->niov].iov_len = d->len;
	c->niov++;
	/* cannot overflow (at most 1024 * 4 GiB) but stay checked anyway */
	if (write) {
		if (__builtin_add_overflow(c->in_len, d->len, &c->in_len))
			return virtq_break(q, "chain length overflows");
	} else {
		c->nout++;
		if (__builtin_add_overflow(c->out_len, d->len, &c->out_len))
			return virtq_break(q, "chain length overflows");
	}
	return 0;
}

/* Walk the indirect table the (copied) descriptor ind points to. */
static int walk_indirect(struct virtq *q, struct walk *w,
			 const struct vring_desc *ind)
{
	const uint8_t *table;
	struct vring_desc d;
	uint32_t n, i = 0, steps = 0;
	int ret;

	if (!q->indirect)
		return virtq_break(q, "indirect descriptor not negotiated");
	if (ind->flags & VRING_DESC_F_NEXT)
		return virtq_break(q, "descriptor with both NEXT and INDIRECT");
	if (!ind->len || ind->len % sizeof(d))
		return virtq_break(q, "indirect table length %u", ind->len);
	table = gmem_ptr(q->mem, ind->addr, ind->len);
	if (!table)
		return virtq_break(q, "indirect table 0x%llx+0x%x outside RAM",
				   (unsigned long long)ind->addr, ind->len);
	n = ind->len / sizeof(d);
	for (;;) {
		if (++steps > n)
			return virtq_break(q, "indirect chain loops");
		desc_read(&d, table + (size_t)i * sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT)
			return virtq_break(q, "nested indirect descriptor");
		ret = walk_add(q, w, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return virtq_break(q, "indirect next %u >= %u entries",
					   d.next, n);
		i = d.next;
	}
}

/* Walk the chain at c->head of the descriptor table. */
static int walk_chain(struct virtq *q, struct walk *w)
{
	struct vring_desc d;
	unsigned int steps = 0;
	uint16_t i = w->c->head;
	int ret;

	for (;;) {
		/* each entry at most once: stops loops that never add a buffer */
		if (++steps > q->num)
			return virtq_break(q, "descriptor chain loops");
		desc_read(&d, &q->desc[i]);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(q, w, &d);
		ret = walk_add(q, w, &d);
		if (ret)
			return ret;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= q->num)
			return virtq_break(
				q, "descriptor next %u >= queue size %u",
				d.next, q->num);
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c, struct iovec *iov,
	      unsigned int max_iov)
{
	struct walk w = { .c = c, .iov = iov, .max_iov = max_iov };
	uint16_t avail_idx, pending, head;
	int ret;

	if (q->broken)
		return -EINVAL;
	if (!q->ready)
		return 0;
	/*
	 * Acquire: pairs with the driver's write barrier (virtio_wmb) between
	 * filling the descriptors and ring entry and storing avail->idx, so the
	 * reads below see what the driver wrote before publishing.
	 */
	avail_idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending > q->num)
		return virtq_break(q,
				   "avail idx %u is %u ahead of %u (size %u)",
				   avail_idx, pending, q->last_avail, q->num);
	if (!pending)
		return 0;
	head = __atomic_load_n(&q->avail->ring[q->last_avail & (q->num - 1)],
			       __ATOMIC_RELAXED);
	if (head >= q->num)
		return virtq_break(q, "avail head %u >= queue size %u", head,
				   q->num);
	memset(c, 0, sizeof(*c));
	c->head = head;
	ret = walk_chain(q, &w);
	if (ret)
		return ret;
	/* taken, also on -E2BIG: the device hands it back with virtq_push() */
	q->last_avail++;
	return w.too_big ? -E2BIG : 1;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	struct vring_used_elem *e;

	if (!q->ready)
		return;
	e = &q->used->ring[q->used_idx & (q->num - 1)];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
	q->used_idx++;
	/*
	 * Release: the element (and the data written into the buffers) is
	 * visible before the new index; pairs with the driver's read barrier
	 * (virtio_rmb) between loading used->idx and reading the element.
	 */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

void virtq_push_n(struct virtq *q, const struct vring_used_elem *e,
		  unsigned int n)
{
	unsigned int i;

	if (!q->ready || !n)
		return;
	for (i = 0; i < n; i++) {
		struct vring_used_elem *u =
			&q->used->ring[(uint16_t)(q->used_idx + i) &
				       (q->num - 1)];

		__atomic_store_n(&u->id, e[i].id, __ATOMIC_RELAXED);
		__atomic_store_n(&u->len, e[i].len, __ATOMIC_RELAXED);
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	/* Release: as in virtq_push(), every element before the index */
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_need_notify(struct virtq *q)
{
	uint16_t old, new, event;
	bool valid;

	if (!q->ready)
		return false;
	/*
	 * Full barrier: orders the used->idx store in virtq_push() before the
	 * loads of avail->flags / used_event; pairs with the driver's virtio_mb
	 * between writing used_event (or clearing NO_INTERRUPT) and re-reading
	 * used->idx, so that one of the two sides sees the other.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	valid = q->signalled_valid;
	old = q->signalled_used;
	new = q->used_idx;
	q->signalled_valid = true;
	q->signalled_used = new;
	/* used_event sits right after the available ring's entries */
	event = __atomic_load_n(&q->avail->ring[q->num], __ATOMIC_RELAXED);
	return !valid || vring_need_event(event, new, old);
}

void virtq_update_avail_event(struct virtq *q)
{
	uint16_t *avail_event;

	if (!q->ready || !q->event_idx)
		return;
	/* avail_event sits right after the used ring's elements */
	avail_event = (uint16_t *)(void *)&q->used->ring[q->num];
	__atomic_store_n(avail_event, q->last_avail, __ATOMIC_RELAXED);
	/*
	 * Full barrier: the avail_event store before the caller's next load of
	 * avail->idx (virtq_has_work); pairs with the driver's virtio_mb
	 * between storing avail->idx and reading avail_event.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtq_request_kick(struct virtq *q)
{
	uint16_t *avail_event;

	if (!q->ready || !q->event_idx)
		return;
	avail_event = (uint16_t *)(void *)&q->used->ring[q->num];
	/* Acquire: as in virtq_pop(); the driver's index as it is now */
	__atomic_store_n(avail_event,
			 __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELAXED);
	/* Full barrier: pairs with the driver's virtio_mb, as in
	 * virtq_update_avail_event() */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_work(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	/* Acquire: pairs with the driver's virtio_wmb, as in virtq_pop() */
	return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE) !=
	       q->last_avail;
}
