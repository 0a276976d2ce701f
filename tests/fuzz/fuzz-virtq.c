// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: split virtqueue chain walks over guest-written rings. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/virtio-queue.h"
#include "drvq.h"
#include "guest.h"

/*
 * Guest RAM is two regions that touch: A at gpa 0 (so that small fuzzed
 * addresses are valid) and B right after it, so that a buffer crossing
 * from one into the other must be refused (they are separate host
 * allocations).
 *
 * The input: an 8-byte header, then the descriptor table (16 * num bytes),
 * the available ring (6 + 2 * num bytes) and the rest, copied into RAM
 * after the used ring (indirect tables, buffers). Missing bytes are zero.
 * Header: [0] log2 of the queue size (mod 11); [1] bit 0 EVENT_IDX, bit 1
 * INDIRECT_DESC, bit 7 avail->idx taken raw; [2..3] the starting index
 * (as if that many chains had gone round); [4..5] avail->idx, relative to
 * the start unless raw; [6] max_iov (mod 65); [7] bytes the device writes
 * per chain.
 */
#define A_SIZE 0x10000ULL
#define B_GPA A_SIZE
#define B_SIZE 0x1000ULL
#define HDR 8

static struct guest g;

static size_t feed(uint8_t *dst, size_t room, const uint8_t **data,
		   size_t *size)
{
	size_t n = *size < room ? *size : room;

	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

/* The invariants of a chain virtq_pop() returned. */
static void check_chain(const struct virtq_chain *c, const struct iovec *iov,
			unsigned int max_iov, uint16_t num)
{
	uint64_t out = 0, in = 0;
	unsigned int i;

	if (c->niov > max_iov || c->nout > c->niov || c->head >= num)
		abort();
	for (i = 0; i < c->niov; i++) {
		const uint8_t *p = iov[i].iov_base;

		if (!iov[i].iov_len) /* zero-length buffers are skipped */
			abort();
		if (!guest_owns(&g, p, iov[i].iov_len))
			abort();
		if (i < c->nout)
			out += iov[i].iov_len;
		else
			in += iov[i].iov_len;
	}
	if (out != c->out_len || in != c->in_len)
		abort();
}

static void run(struct virtq *q, unsigned int max_iov, uint32_t written)
{
	struct iovec iov[64];
	struct virtq_chain c;
	unsigned int n;
	int ret;

	for (n = 0; n < 2u * q->num + 2; n++) {
		uint16_t used = q->used_idx;
		uint32_t w = written;

		memset(&c, 0xa5, sizeof(c));
		ret = virtq_pop(q, &c, iov, max_iov);
		if (ret == 0) {
			if (q->broken)
				abort();
			break;
		}
		if (ret == -EINVAL) {
			if (!q->broken || !q->error[0] || virtq_has_work(q) ||
			    virtq_pop(q, &c, iov, max_iov) != -EINVAL)
				abort();
			break;
		}
		if (ret == -E2BIG) {
			if (q->broken || c.head >= q->num || c.niov > max_iov)
				abort();
			w = 0;
		} else if (ret == 1) {
			check_chain(&c, iov, max_iov, q->num);
			if (w > c.in_len)
				w = (uint32_t)c.in_len;
			if (w) /* ASan checks the first writable buffer */
				memset(iov[c.nout].iov_base, 0x5a,
				       iov[c.nout].iov_len < w
					       ? iov[c.nout].iov_len
					       : w);
		} else {
			abort();
		}
		virtq_push(q, c.head, w);
		if (q->used_idx != (uint16_t)(used + 1) ||
		    q->used->idx != q->used_idx)
			abort();
		(void)virtq_need_notify(q);
		virtq_update_avail_event(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int max_iov;
	uint16_t num, start, idx;
	struct virtq q = { 0 };
	struct drvq dq;
	uint8_t hdr[HDR] = { 0 };
	uint64_t rest;

	if (!g.mem.nr &&
	    (guest_init(&g, 0, A_SIZE) || guest_add_ram(&g, B_GPA, B_SIZE)))
		abort();
	guest_clear(&g);
	feed(hdr, HDR, &data, &size);
	num = (uint16_t)(1u << (hdr[0] % 11));
	start = (uint16_t)(hdr[2] | hdr[3] << 8);
	idx = (uint16_t)(hdr[4] | hdr[5] << 8);
	if (!(hdr[1] & 0x80))
		idx = (uint16_t)(start + idx % (num + 2u));
	max_iov = hdr[6] % 65;

	/* the rings packed from gpa 0, the rest of A after them */
	rest = drvq_layout(&dq, &g, num, 0);
	feed(guest_ptr(&g, dq.desc, drvq_desc_size(num)), drvq_desc_size(num),
	     &data, &size);
	feed(guest_ptr(&g, dq.avail, drvq_avail_size(num)),
	     drvq_avail_size(num), &data, &size);
	feed(guest_ptr(&g, rest, A_SIZE - rest), A_SIZE - rest, &data, &size);
	feed(guest_ptr(&g, B_GPA, B_SIZE), B_SIZE, &data, &size);

	if (virtq_enable(&q, &g.mem, num, VIRTQ_MAX_SIZE, dq.desc, dq.avail,
			 dq.used, hdr[1] & 1, hdr[1] & 2))
		abort();
	/* as if start chains had been used already */
	q.last_avail = q.used_idx = start;
	q.used->idx = start;
	q.avail->idx = idx;
	run(&q, max_iov, hdr[7]);
	virtq_reset(&q);
	if (q.ready || virtq_has_work(&q))
		abort();
	return 0;
}
