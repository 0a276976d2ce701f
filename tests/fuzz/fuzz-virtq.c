// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: split virtqueue chain walks over guest-written rings. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/virtio-queue.h"

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

static uint8_t *ram_a, *ram_b;
static struct gmem mem;

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static size_t feed(uint8_t *dst, size_t room, const uint8_t **data,
		   size_t *size)
{
	size_t n = *size < room ? *size : room;

	memcpy(dst, *data, n);
	*data += n;
	*size -= n;
	return n;
}

static bool in_buf(const uint8_t *p, size_t len, const uint8_t *buf,
		   size_t size)
{
	return p >= buf && (size_t)(p - buf) <= size &&
	       len <= size - (size_t)(p - buf);
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
		if (!in_buf(p, iov[i].iov_len, ram_a, A_SIZE) &&
		    !in_buf(p, iov[i].iov_len, ram_b, B_SIZE))
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
	uint64_t desc, avail, used, rest;
	unsigned int max_iov;
	uint16_t num, start, idx;
	struct virtq q = { 0 };
	uint8_t hdr[HDR] = { 0 };

	if (!ram_a) {
		ram_a = malloc(A_SIZE);
		ram_b = malloc(B_SIZE);
		if (!ram_a || !ram_b || gmem_add(&mem, 0, A_SIZE, ram_a) ||
		    gmem_add(&mem, B_GPA, B_SIZE, ram_b))
			abort();
	}
	memset(ram_a, 0, A_SIZE);
	memset(ram_b, 0, B_SIZE);
	feed(hdr, HDR, &data, &size);
	num = (uint16_t)(1u << (hdr[0] % 11));
	start = (uint16_t)(hdr[2] | hdr[3] << 8);
	idx = (uint16_t)(hdr[4] | hdr[5] << 8);
	if (!(hdr[1] & 0x80))
		idx = (uint16_t)(start + idx % (num + 2u));
	max_iov = hdr[6] % 65;

	desc = 0;
	avail = desc + 16ULL * num;
	used = align_up(avail + 6 + 2ULL * num, 4);
	rest = align_up(used + 6 + 8ULL * num, 16);
	feed(ram_a + desc, 16ULL * num, &data, &size);
	feed(ram_a + avail, 6 + 2ULL * num, &data, &size);
	feed(ram_a + rest, A_SIZE - rest, &data, &size);
	feed(ram_b, B_SIZE, &data, &size);

	if (virtq_enable(&q, &mem, num, VIRTQ_MAX_SIZE, desc, avail, used,
			 hdr[1] & 1, hdr[1] & 2))
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
