// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the virtio-mmio register file over a virtio-rng device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "lkvm/compiler.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "drvq.h"
#include "guest.h"
#include "fuzz-input.h"

/*
 * The input is a sequence of 8-byte records [op, a, b, v0, v1, v2, v3, x]
 * (a short last record is zero-padded). op % 8 picks the action:
 *   0-2  a raw access: offset (a | b << 8) % region size, size 1 << (x & 3),
 *        a write of v when op & 8, else a read
 *   3-4  a 32-bit write of v to a known register, regs[a % N]
 *   5    QueueNotify of queue a % 4 (0 is the real one)
 *   6    place rings for the selected queue at RAM offset (a | b << 8):
 *        QueueNum 1 << (v0 % 8), the three addresses, a chain of v3 % 4 + 1
 *        writable buffers of v1 bytes made available at head v2 (when the
 *        rings fit in RAM), and QueueReady=1 when x & 1
 *   7    copy the next x % 64 input bytes into RAM at offset (a | b << 8)
 * After each record the invariants are checked: DRIVER_OK never without
 * FEATURES_OK, QueueReady reads 1 exactly for a ready virtq, the line is
 * high exactly when the interrupt status is non-zero.
 */
#define RAM_GPA 0x10000ULL
#define RAM_SIZE 0x4000ULL
#define REC 8

struct line {
	int level;
};

static const uint32_t regs[] = {
	VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL,
	VIRTIO_MMIO_QUEUE_SEL,
	VIRTIO_MMIO_QUEUE_NUM,
	VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY,
	VIRTIO_MMIO_INTERRUPT_ACK,
	VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW,
	VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_AVAIL_LOW,
	VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
	VIRTIO_MMIO_QUEUE_USED_LOW,
	VIRTIO_MMIO_QUEUE_USED_HIGH,
};

static struct guest g;

static void line_set(void *ctrl, unsigned int irq, int level)
{
	struct line *l = ctrl;

	(void)irq;
	l->level = level;
}

static uint32_t rd(struct virtio_dev *d, uint32_t off)
{
	return (uint32_t)virtio_mmio_ops.read(d, off, 4);
}

static void wr(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio_ops.write(d, off, 4, v);
}

/* Rings for num entries at RAM offset base (rounded down to 16): the
 * descriptors, the available ring, the used ring, then the buffers. */
static void place_rings(struct virtio_dev *d, const uint8_t *r)
{
	uint16_t num = (uint16_t)(1u << (r[3] % 8));
	uint64_t base = ((uint64_t)(r[1] | r[2] << 8) % RAM_SIZE) & ~15ULL;
	uint16_t head = r[5] % num, n = r[6] % 4 + 1, i;
	struct drvq_buf bufs[4];
	struct drvq q;
	uint64_t buf;

	buf = drvq_layout(&q, &g, num, RAM_GPA + base);
	wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q.desc);
	wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q.avail);
	wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q.used);
	wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	/* the chain: head, head + 1, ... (mod num), all device-writable */
	for (i = 0; i < n; i++)
		bufs[i] = (struct drvq_buf){ buf + 64ULL * i, r[4], true };
	if (guest_valid(&g, q.desc, drvq_desc_size(num)))
		drvq_put_chain(&q, head, bufs, n);
	/* made available after what the ring already holds */
	if (guest_valid(&g, q.avail, drvq_avail_size(num))) {
		q.avail_idx = guest_get16(&g, q.avail + 2);
		drvq_avail(&q, head);
	}
	if (r[7] & 1)
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void check(struct virtio_dev *d, const struct line *l)
{
	uint32_t s = rd(d, VIRTIO_MMIO_STATUS);
	uint32_t isr = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);
	uint32_t sel = virtio_get_queue_sel(d), q;

	if ((s & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(s & VIRTIO_CONFIG_S_FEATURES_OK))
		abort();
	if (isr & ~3u || l->level != (isr != 0))
		abort();
	for (q = 0; q < VIRTIO_MAX_QUEUES + 1; q++) {
		bool ready = q < virtio_dev_ops(d)->nr_queues &&
			     virtio_queue_copy(d, q).ready;

		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		if (rd(d, VIRTIO_MMIO_QUEUE_READY) != ready)
			abort();
		if (q >= virtio_dev_ops(d)->nr_queues &&
		    rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX))
			abort();
		if (q < VIRTIO_MAX_QUEUES &&
		    q >= virtio_dev_ops(d)->nr_queues &&
		    virtio_queue_copy(d, q).ready)
			abort();
	}
	wr(d, VIRTIO_MMIO_QUEUE_SEL, sel);
}

static void step(struct virtio_dev *d, const uint8_t *r, const uint8_t **data,
		 size_t *size)
{
	uint32_t v = (uint32_t)r[3] | (uint32_t)r[4] << 8 |
		     (uint32_t)r[5] << 16 | (uint32_t)r[6] << 24;
	uint32_t off = (uint32_t)(r[1] | r[2] << 8) % VIRTIO_MMIO_REGION_SIZE;
	unsigned int size_b = 1u << (r[7] & 3);
	size_t n;

	switch (r[0] % 8) {
	case 0:
	case 1:
	case 2:
		if (r[0] & 8)
			virtio_mmio_ops.write(d, off, size_b, v);
		else
			(void)virtio_mmio_ops.read(d, off, size_b);
		break;
	case 3:
	case 4:
		wr(d, regs[r[1] % ARRAY_SIZE(regs)], v);
		break;
	case 5:
		wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, r[1] % 4);
		break;
	case 6:
		place_rings(d, r);
		break;
	case 7:
		n = r[7] % 64;
		n = n < *size ? n : *size;
		off = (uint32_t)(r[1] | r[2] << 8) % RAM_SIZE;
		if (n > RAM_SIZE - off)
			n = RAM_SIZE - off;
		memcpy(guest_ptr(&g, RAM_GPA + off, n), *data, n);
		*data += n;
		*size -= n;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line l = { 0 };
	struct irq_line irq = { .set = line_set, .ctrl = &l, .irq = 1 };
	struct virtio_dev *d;

	if (!g.mem.nr && guest_init(&g, RAM_GPA, RAM_SIZE))
		abort();
	guest_clear(&g);
	if (virtio_rng_create(&g.mem, irq, &d))
		abort();
	while (size) {
		uint8_t r[REC];

		fuzz_copy(&data, &size, r, REC);
		step(d, r, &data, &size);
		check(d, &l);
	}
	/* a reset always leaves the device quiet */
	wr(d, VIRTIO_MMIO_STATUS, 0);
	if (rd(d, VIRTIO_MMIO_STATUS) || l.level || virtio_isr_peek(d) ||
	    virtio_dev_driver_features(d))
		abort();
	virtio_rng_destroy(d);
	return 0;
}
