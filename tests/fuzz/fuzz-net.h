/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-net fuzz targets' shared part: a device over the fake backend
 * in fresh guest RAM per input, and chains built from the input.
 */
#ifndef LKVM_FUZZ_NET_H
#define LKVM_FUZZ_NET_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "lkvm/net.h"
#include "lkvm/virtio-devs.h"
#include "drvq.h"
#include "fake-net.h"
#include "fuzz-input.h"
#include "guest.h"
#include "vdrv.h"

#define FN_QSIZE 16
#define FN_RING_GPA(q) (GUEST_RAM_BASE + 0x4000ULL * (q))
#define FN_SLOT_SIZE 0x400
#define FN_SLOT_GPA(q, i)           \
	(GUEST_RAM_BASE + 0x10000 + \
	 (uint64_t)FN_SLOT_SIZE * ((q)*FN_QSIZE + (i)))
#define FN_RAM_SIZE (0x10000 + 3 * FN_QSIZE * FN_SLOT_SIZE)
#define FN_MAX_DESC 6

struct fn_state {
	struct guest g;
	struct fake_net *f;
	struct virtio_dev *d;
	struct vdrv v;
	struct drvq q[3];
	uint16_t next_desc[3];
};

static struct fn_state fn;

/* A fresh device: flags bit 0 the header backend, the rest masks
 * features (bit 1 no MRG_RXBUF, 2 no EVENT_IDX, 3 no CSUM/TSO, 4 no
 * CTRL_RX, 5 no INDIRECT). */
static void fn_setup(uint8_t flags)
{
	uint64_t mask = ~0ULL;
	unsigned int q;

	if (!fn.g.mem.nr && guest_init(&fn.g, GUEST_RAM_BASE, FN_RAM_SIZE))
		abort();
	guest_clear(&fn.g);
	fn.f = fake_net_new(flags & 1);
	if (!fn.f ||
	    virtio_net_create(&fn.g.mem, (struct irq_line){ 0 }, &fn.f->be,
			      (const uint8_t[6]){ 2, 0, 0, 0, 0, 1 }, 1, &fn.d))
		abort();
	for (q = 0; q < 3; q++) {
		drvq_init(&fn.q[q], &fn.g, FN_QSIZE, FN_RING_GPA(q),
			  FN_RING_GPA(q) + 0x1000, FN_RING_GPA(q) + 0x2000);
		fn.next_desc[q] = 0;
	}
	if (flags & 2)
		mask &= ~(1ULL << VIRTIO_NET_F_MRG_RXBUF);
	if (flags & 4)
		mask &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
	if (flags & 8)
		mask &= ~((1ULL << VIRTIO_NET_F_CSUM) |
			  (1ULL << VIRTIO_NET_F_HOST_TSO4));
	if (flags & 16)
		mask &= ~(1ULL << VIRTIO_NET_F_CTRL_RX);
	if (flags & 32)
		mask &= ~(1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	vdrv_init_core(&fn.v, fn.d);
	if (vdrv_bring_up(&fn.v, mask, fn.q, 3) || !virtio_dev_live(fn.d))
		abort();
}

static void fn_teardown(void)
{
	virtio_net_destroy(fn.d);
	net_close(&fn.f->be);
}

/*
 * A chain on queue q from the input: a byte n (1 + n % FN_MAX_DESC
 * descriptors), per descriptor a flags byte (bit 0 writable, bit 1 a raw
 * next from the next byte, bit 2 INDIRECT, bit 3 the length from two
 * bytes instead of one) and its length; then the readable buffers'
 * contents. Each descriptor has its own slot of RAM; lengths beyond the
 * slot point past it on purpose.
 */
static void fn_post_chain(unsigned int q, const uint8_t **data, size_t *size)
{
	struct drvq *dq = &fn.q[q];
	unsigned int n = 1 + fuzz_byte(data, size) % FN_MAX_DESC, i;
	uint16_t first = fn.next_desc[q];

	if (first + n > FN_QSIZE || dq->avail_idx >= FN_QSIZE)
		return;
	for (i = 0; i < n; i++) {
		uint16_t di = (uint16_t)(first + i);
		uint8_t fl = fuzz_byte(data, size);
		uint16_t next = (uint16_t)(di + 1), flags = 0;
		uint32_t len;

		if (fl & 2)
			next = fuzz_byte(data, size);
		len = fl & 8 ? (uint32_t)fuzz_take(data, size, 2)
			     : fuzz_byte(data, size);
		if (fl & 1)
			flags |= VRING_DESC_F_WRITE;
		if (fl & 4)
			flags |= VRING_DESC_F_INDIRECT;
		if (i + 1 < n)
			flags |= VRING_DESC_F_NEXT;
		drvq_put_desc(dq, di, FN_SLOT_GPA(q, di), len, flags, next);
	}
	for (i = 0; i < n; i++) {
		struct vring_desc dp = drvq_get_desc(dq, (uint16_t)(first + i));
		uint8_t *slot = guest_ptr(&fn.g, dp.addr, FN_SLOT_SIZE);

		if (!(dp.flags & VRING_DESC_F_WRITE))
			fuzz_copy(data, size, slot,
				  dp.len < FN_SLOT_SIZE ? dp.len
							: FN_SLOT_SIZE);
	}
	fn.next_desc[q] = (uint16_t)(first + n);
	drvq_avail(dq, first);
}

#endif
