// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: virtio-blk requests against small in-memory fake disks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "drvq.h"
#include "fake-disk.h"
#include "fuzz-input.h"
#include "guest.h"
#include "lkvm/disk.h"
#include "lkvm/virtio-devs.h"
#include "vdrv.h"

/*
 * The input: one flags byte (bit 0 read-only disk, bit 1 EVENT_IDX, bit 2
 * the disk holds every request until all are in, then completes them
 * newest first, bit 3 the disk fails the next three requests, bit 4 it
 * refuses the next two, bit 5 a disk with 4 KiB blocks and neither
 * discard nor write-zeroes), then up to MAX_REQS requests, each: a byte
 * giving the
 * number of descriptors (1 + b % MAX_DESC), per descriptor a flags byte
 * (bit 0 device-writable) and a little-endian 16-bit length (% 4097),
 * then the contents of that request's device-readable buffers (header,
 * discard segments, data) in order. Missing bytes are zero. Each
 * descriptor gets its own 4 KiB slot of guest RAM, so requests never
 * overlap.
 *
 * Invariants: no crash or sanitizer report; every chain the device hands
 * back with a non-zero length has a status byte of OK, IOERR or UNSUPP and
 * a length within its writable bytes; one handed back with length 0 means
 * the device needs a reset; the disk never had more requests than the
 * chains' segments allow.
 */
#define RAM_SIZE 0x80000ULL
#define DESC_GPA GUEST_RAM_BASE
#define AVAIL_GPA (GUEST_RAM_BASE + 0x1000)
#define USED_GPA (GUEST_RAM_BASE + 0x2000)
#define SLOT_GPA (GUEST_RAM_BASE + 0x4000)
#define SLOT_SIZE 0x1000
#define QSIZE 64
#define MAX_REQS 8
#define MAX_DESC 6
#define DISK_BYTES (64 * 1024)

struct freq {
	uint16_t head;
	uint64_t status; /* GPA of the status byte; 0: no writable buffer */
	uint64_t in_len;
	uint64_t out_len; /* device-readable bytes */
};

static struct guest g;
static struct drvq q; /* queue 0, the same rings for every device */
static struct virtio_dev *devs[3];
static struct disk *disks[3];

/* Read-write, read-only, and 4 KiB blocks without discard. */
static void open_disks(void)
{
	static const struct fake_disk_opts opts[] = {
		{ .size = DISK_BYTES,
		  .caps = DISK_CAP_DISCARD | DISK_CAP_WRITE_ZEROES },
		{ .size = DISK_BYTES, .ro = true },
		{ .size = DISK_BYTES, .block_size = 4096 },
	};
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (fake_disk_create(&opts[i], &disks[i]))
			abort();
}

static unsigned int dev_index(unsigned int flags)
{
	return flags & 1 ? 1 : flags & 0x20 ? 2 : 0;
}

static struct virtio_dev *get_dev(unsigned int flags)
{
	unsigned int i = dev_index(flags);

	if (!g.mem.nr) {
		if (guest_init(&g, GUEST_RAM_BASE, RAM_SIZE))
			abort();
		drvq_init(&q, &g, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
		open_disks();
	}
	if (!devs[i] && virtio_blk_create(&g.mem, (struct irq_line){ 0 },
					  disks[i], &devs[i]))
		abort();
	return devs[i];
}

/* Reset d and bring it up again on fresh rings, with every feature it
 * offers but EVENT_IDX unless asked for. */
static void enable(struct virtio_dev *d, bool event_idx)
{
	uint64_t mask = ~0ULL;
	struct vdrv v;

	if (!event_idx)
		mask &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
	vdrv_init_core(&v, d);
	vdrv_reset(&v);
	if (vdrv_bring_up(&v, mask, &q, 1) || !virtio_dev_live(d))
		abort();
}

/* Lay out one request from the input; its descriptors start at *slot. */
static void build(struct freq *r, unsigned int *slot, const uint8_t **data,
		  size_t *size)
{
	unsigned int n = 1 + fuzz_byte(data, size) % MAX_DESC, i;
	struct vring_desc desc[MAX_DESC];
	unsigned int first = *slot;

	for (i = 0; i < n; i++) {
		uint16_t flags =
			fuzz_byte(data, size) & 1 ? VRING_DESC_F_WRITE : 0;
		uint32_t len = fuzz_byte(data, size);

		len = (len | (uint32_t)fuzz_byte(data, size) << 8) %
		      (SLOT_SIZE + 1);
		desc[i] = (struct vring_desc){
			.addr = SLOT_GPA + (uint64_t)(first + i) * SLOT_SIZE,
			.len = len,
			.flags = flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0),
			.next = (uint16_t)(first + i + 1),
		};
	}
	r->head = (uint16_t)first;
	r->status = 0;
	r->in_len = 0;
	r->out_len = 0;
	for (i = 0; i < n; i++) {
		uint64_t addr = desc[i].addr;

		drvq_put_desc(&q, (uint16_t)(first + i), addr, desc[i].len,
			      desc[i].flags, desc[i].next);
		guest_fill(&g, addr, 0, SLOT_SIZE);
		if (desc[i].flags & VRING_DESC_F_WRITE) {
			r->in_len += desc[i].len;
			if (desc[i].len) {
				r->status = addr + desc[i].len - 1;
				guest_fill(&g, addr, 0xee, desc[i].len);
			}
			continue;
		}
		r->out_len += desc[i].len;
		fuzz_copy(data, size, guest_ptr(&g, addr, desc[i].len),
			  desc[i].len);
	}
	*slot += n;
}

static void check(const struct freq *reqs, unsigned int nreq, bool needs_reset)
{
	uint32_t id, len;
	unsigned int k;

	if (drvq_used_idx(&q) > nreq)
		abort();
	while (drvq_pop_used(&q, &id, &len)) {
		for (k = 0; k < nreq && reqs[k].head != id; k++)
			;
		if (k == nreq)
			abort();
		if (!len) {
			if (!needs_reset)
				abort();
			continue;
		}
		if (!reqs[k].status || len > reqs[k].in_len ||
		    guest_get8(&g, reqs[k].status) > VIRTIO_BLK_S_UNSUPP)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct freq reqs[MAX_REQS];
	unsigned int flags, nreq = 0, slot = 0, max_subs = 0;
	struct virtio_dev *d;
	struct disk *disk;
	bool needs_reset;

	flags = fuzz_byte(&data, &size);
	d = get_dev(flags);
	disk = disks[dev_index(flags)];
	fake_disk_hold(disk, flags & 4);
	fake_disk_fail(disk, flags & 8 ? FAKE_DISK_ALL_OPS : 0, -EIO, 3);
	fake_disk_refuse(disk, -ENOMEM, flags & 0x10 ? 2 : 0);
	guest_fill(&g, DESC_GPA, 0, drvq_desc_size(QSIZE));
	enable(d, flags & 2); /* and fresh avail and used rings */
	while (size && nreq < MAX_REQS) {
		build(&reqs[nreq], &slot, &data, &size);
		drvq_add_avail(&q, reqs[nreq].head);
		/* a DISCARD or WRITE_ZEROES makes a disk request per 16-byte
		 * segment after its header; any other request one */
		max_subs += 1 + (unsigned int)(reqs[nreq].out_len / 16);
		nreq++;
	}
	drvq_publish(&q);
	virtio_notify(d, 0);
	/* held ones are in flight: finish them, out of order */
	fake_disk_hold(disk, false);
	if (fake_disk_complete_all(disk) > max_subs)
		abort();
	needs_reset = virtio_get_status(d) & VIRTIO_CONFIG_S_NEEDS_RESET;
	virtio_set_status(d, 0); /* waits for every request in flight */
	check(reqs, nreq, needs_reset);
	return 0;
}
