// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/queue.c: ring validation, chain walks, used ring. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/compiler.h"
#include "lkvm/virtio-queue.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"

/* where a driver might put a queue: each ring page-aligned */
#define DESC_GPA (GUEST_RAM_BASE + 0x10000)
#define AVAIL_GPA (GUEST_RAM_BASE + 0x14000)
#define USED_GPA (GUEST_RAM_BASE + 0x15000)
#define TABLE_GPA (GUEST_RAM_BASE + 0x18000) /* indirect tables */
#define BUF_GPA (GUEST_RAM_BASE + 0x20000) /* data buffers */

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_IND VRING_DESC_F_INDIRECT

/* A virtq driven directly, its rings in the fake guest's RAM. */
struct tq {
	struct guest g;
	struct virtq q;
	struct drvq dq; /* the driver's side of q */
};

static struct tq *tq_new(uint16_t num, bool event_idx, bool indirect)
{
	struct tq *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (guest_init(&t->g, GUEST_RAM_BASE, GUEST_RAM_SIZE) ||
	    virtq_enable(&t->q, &t->g.mem, num, VIRTQ_MAX_SIZE, DESC_GPA,
			 AVAIL_GPA, USED_GPA, event_idx, indirect)) {
		guest_destroy(&t->g);
		free(t);
		return NULL;
	}
	drvq_init(&t->dq, &t->g, num, DESC_GPA, AVAIL_GPA, USED_GPA);
	return t;
}

static void tq_free(struct tq *t)
{
	guest_destroy(&t->g);
	free(t);
}

/* Pop expecting a malformed chain: -EINVAL and a broken queue. */
static bool pop_bad(struct tq *t)
{
	struct virtq_chain c;
	struct iovec iov[8];
	int ret = virtq_pop(&t->q, &c, iov, ARRAY_SIZE(iov));

	return CHECK_EQ(ret, -EINVAL) && CHECK(t->q.broken) &&
	       CHECK(t->q.error[0]);
}

static void test_enable_ok(void)
{
	struct tq *t = tq_new(256, true, true);
	struct virtq q = { 0 };

	REQUIRE(t);
	CHECK(t->q.ready);
	CHECK(!t->q.broken);
	CHECK_EQ(t->q.num, 256);
	CHECK(t->q.desc == (void *)guest_ptr(&t->g, DESC_GPA, 0));
	CHECK(t->q.avail == (void *)guest_ptr(&t->g, AVAIL_GPA, 0));
	CHECK(t->q.used == (void *)guest_ptr(&t->g, USED_GPA, 0));
	CHECK_EQ(t->q.desc_gpa, DESC_GPA);
	CHECK(t->q.event_idx && t->q.indirect);
	/* size 1 and the largest; rings ending at the end of RAM (the used
	 * ring, 6 + 8 * num bytes, cannot end exactly there and stay
	 * 4-aligned) */
	CHECK_EQ(virtq_enable(&q, &t->g.mem, 1, 1, DESC_GPA, AVAIL_GPA,
			      USED_GPA, false, false),
		 0);
	CHECK_EQ(virtq_enable(&q, &t->g.mem, VIRTQ_MAX_SIZE, VIRTQ_MAX_SIZE,
			      GUEST_RAM_END - 16 * VIRTQ_MAX_SIZE,
			      GUEST_RAM_END - (6 + 2 * VIRTQ_MAX_SIZE),
			      GUEST_RAM_BASE, false, false),
		 0);
	CHECK_EQ(virtq_enable(&q, &t->g.mem, 8, 8, DESC_GPA, AVAIL_GPA,
			      GUEST_RAM_END - (8 + 8 * 8), false, false),
		 0);
	CHECK(q.ready);
	tq_free(t);
}

static void test_enable_bad(void)
{
	static const struct {
		uint16_t num, max;
		uint64_t desc, avail, used;
	} bad[] = {
		{ 0, 256, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 3, 256, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 96, 256, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 512, 256, DESC_GPA, AVAIL_GPA, USED_GPA }, /* > max_size */
		{ 2048, 4096, DESC_GPA, AVAIL_GPA, USED_GPA }, /* > MAX */
		{ 1, 0, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ 16, 256, DESC_GPA + 8, AVAIL_GPA, USED_GPA }, /* alignment */
		{ 16, 256, DESC_GPA + 1, AVAIL_GPA, USED_GPA },
		{ 16, 256, DESC_GPA, AVAIL_GPA + 1, USED_GPA },
		{ 16, 256, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
		{ 16, 256, 0x1000, AVAIL_GPA, USED_GPA }, /* below RAM */
		{ 16, 256, GUEST_RAM_BASE - 16, AVAIL_GPA, USED_GPA },
		{ 16, 256, DESC_GPA, GUEST_RAM_END, USED_GPA },
		{ 16, 256, DESC_GPA, AVAIL_GPA, GUEST_RAM_END },
		/* straddle the end of RAM by the smallest amount */
		{ 16, 256, GUEST_RAM_END - 16 * 16 + 16, AVAIL_GPA, USED_GPA },
		/* room for the ring but not for used_event / avail_event */
		{ 16, 256, DESC_GPA, GUEST_RAM_END - (4 + 2 * 16), USED_GPA },
		{ 16, 256, DESC_GPA, AVAIL_GPA, GUEST_RAM_END - (4 + 8 * 16) },
		/* gpa + len overflows */
		{ 16, 256, UINT64_MAX - 15, AVAIL_GPA, USED_GPA },
		{ 16, 256, DESC_GPA, UINT64_MAX - 1, USED_GPA },
		{ 16, 256, DESC_GPA, AVAIL_GPA, UINT64_MAX - 3 },
		{ 16, 256, 0xfffffffffffff000ULL, AVAIL_GPA, USED_GPA },
	};
	struct tq *t = tq_new(16, false, false);
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct virtq q = { 0 };

		q.ready = true; /* must be cleared */
		q.desc_gpa = 0x1234;
		if (!CHECK_EQ(virtq_enable(&q, &t->g.mem, bad[i].num,
					   bad[i].max, bad[i].desc,
					   bad[i].avail, bad[i].used, true,
					   true),
			      -EINVAL))
			fprintf(stderr, "    case %u\n", i);
		CHECK(!q.ready);
		CHECK_EQ(q.desc_gpa, 0x1234); /* the rest is left alone */
	}
	/* no memory at all */
	CHECK_EQ(virtq_enable(&t->q, NULL, 16, 256, DESC_GPA, AVAIL_GPA,
			      USED_GPA, false, false),
		 -EINVAL);
	CHECK(!t->q.ready);
	tq_free(t);
}

static void test_simple_chain(void)
{
	struct tq *t = tq_new(16, false, false);
	struct virtq_chain c;
	struct iovec iov[4];

	REQUIRE(t);
	CHECK(!virtq_has_work(&t->q));
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 0);
	drvq_put_desc(&t->dq, 3, BUF_GPA, 100, 0, 0);
	drvq_avail(&t->dq, 3);
	CHECK(virtq_has_work(&t->q));
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 1));
	CHECK_EQ(c.head, 3);
	CHECK_EQ(c.niov, 1);
	CHECK_EQ(c.nout, 1);
	CHECK_EQ(c.out_len, 100);
	CHECK_EQ(c.in_len, 0);
	CHECK(iov[0].iov_base == guest_ptr(&t->g, BUF_GPA, 0));
	CHECK_EQ(iov[0].iov_len, 100);
	CHECK(!virtq_has_work(&t->q));
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 0);

	virtq_push(&t->q, 3, 0);
	CHECK_EQ(guest_get16(&t->g, USED_GPA + 2), 1);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4), 3);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 8), 0);
	CHECK_EQ(t->q.used_idx, 1);
	tq_free(t);
}

static void test_out_in_chain(void)
{
	struct tq *t = tq_new(16, false, false);
	struct virtq_chain c;
	struct iovec iov[8];

	REQUIRE(t);
	/* header, data out, data in, status: 5 -> 2 -> 9 -> 15 */
	drvq_put_desc(&t->dq, 5, BUF_GPA, 16, F_NEXT, 2);
	drvq_put_desc(&t->dq, 2, BUF_GPA + 0x1000, 512, F_NEXT, 9);
	drvq_put_desc(&t->dq, 9, BUF_GPA + 0x2000, 4096, F_NEXT | F_WRITE, 15);
	drvq_put_desc(&t->dq, 15, BUF_GPA + 0x3000, 1, F_WRITE, 0);
	drvq_avail(&t->dq, 5);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 8), 1));
	CHECK_EQ(c.head, 5);
	CHECK_EQ(c.niov, 4);
	CHECK_EQ(c.nout, 2);
	CHECK_EQ(c.out_len, 16 + 512);
	CHECK_EQ(c.in_len, 4096 + 1);
	CHECK(iov[1].iov_base == guest_ptr(&t->g, BUF_GPA + 0x1000, 0));
	CHECK(iov[2].iov_base == guest_ptr(&t->g, BUF_GPA + 0x2000, 0));
	CHECK_EQ(iov[2].iov_len, 4096);
	CHECK(iov[3].iov_base == guest_ptr(&t->g, BUF_GPA + 0x3000, 0));
	virtq_push(&t->q, c.head, 4097);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4), 5);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 8), 4097);
	tq_free(t);
}

static void test_indirect_chain(void)
{
	struct tq *t = tq_new(16, false, true);
	struct virtq_chain c;
	struct iovec iov[8];

	REQUIRE(t);
	/* a table alone: entries 0 -> 2 -> 1, out, in, in */
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 16, F_NEXT, 2);
	drvq_put_indirect(&t->dq, TABLE_GPA, 2, BUF_GPA + 0x100, 32,
			  F_NEXT | F_WRITE, 1);
	drvq_put_indirect(&t->dq, TABLE_GPA, 1, BUF_GPA + 0x200, 1, F_WRITE, 0);
	/* WRITE on the indirect descriptor itself is ignored */
	drvq_put_desc(&t->dq, 7, TABLE_GPA, 3 * 16, F_IND | F_WRITE, 0);
	drvq_avail(&t->dq, 7);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 8), 1));
	CHECK_EQ(c.head, 7);
	CHECK_EQ(c.niov, 3);
	CHECK_EQ(c.nout, 1);
	CHECK_EQ(c.out_len, 16);
	CHECK_EQ(c.in_len, 33);
	CHECK(iov[1].iov_base == guest_ptr(&t->g, BUF_GPA + 0x100, 0));
	CHECK(iov[2].iov_base == guest_ptr(&t->g, BUF_GPA + 0x200, 0));

	/* direct descriptors followed by an indirect one (2.7.5.3.2) */
	drvq_put_desc(&t->dq, 0, BUF_GPA + 0x300, 8, F_NEXT, 1);
	drvq_put_desc(&t->dq, 1, TABLE_GPA, 3 * 16, F_IND, 0);
	drvq_avail(&t->dq, 0);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 8), 1));
	CHECK_EQ(c.niov, 4);
	CHECK_EQ(c.nout, 2);
	CHECK_EQ(c.out_len, 24);
	CHECK(iov[0].iov_base == guest_ptr(&t->g, BUF_GPA + 0x300, 0));
	CHECK(!t->q.broken);

	/* a table of exactly num entries is the longest chain allowed */
	for (uint16_t i = 0; i < 16; i++)
		drvq_put_indirect(&t->dq, TABLE_GPA + 0x1000, i, BUF_GPA, 1,
				  i < 15 ? F_NEXT : 0, i + 1);
	drvq_put_desc(&t->dq, 4, TABLE_GPA + 0x1000, 16 * 16, F_IND, 0);
	drvq_avail(&t->dq, 4);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 8), -E2BIG));
	CHECK(!t->q.broken);
	{
		struct iovec big[16];

		drvq_avail(&t->dq, 4);
		CHECK_EQ(virtq_pop(&t->q, &c, big, 16), 1);
		CHECK_EQ(c.niov, 16);
	}
	tq_free(t);
}

static void test_indirect_not_negotiated(void)
{
	struct tq *t = tq_new(16, false, false);

	REQUIRE(t);
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	drvq_put_desc(&t->dq, 0, TABLE_GPA, 16, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

static void test_indirect_nested(void)
{
	struct tq *t = tq_new(16, false, true);

	REQUIRE(t);
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 16, F_NEXT, 1);
	drvq_put_indirect(&t->dq, TABLE_GPA, 1, TABLE_GPA + 0x100, 16, F_IND,
			  0);
	drvq_put_indirect(&t->dq, TABLE_GPA + 0x100, 0, BUF_GPA, 16, 0, 0);
	drvq_put_desc(&t->dq, 0, TABLE_GPA, 32, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

/* One indirect descriptor (addr, len, flags) must be rejected. */
static void expect_bad_indirect(uint64_t addr, uint32_t len, uint16_t flags)
{
	struct tq *t = tq_new(16, false, true);

	REQUIRE(t);
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	drvq_put_desc(&t->dq, 0, addr, len, flags, 1);
	drvq_put_desc(&t->dq, 1, BUF_GPA, 16, 0, 0);
	drvq_avail(&t->dq, 0);
	if (!pop_bad(t))
		fprintf(stderr, "    addr 0x%llx len %u flags %u\n",
			(unsigned long long)addr, len, flags);
	tq_free(t);
}

static void test_indirect_bad_table(void)
{
	expect_bad_indirect(TABLE_GPA, 0, F_IND);
	expect_bad_indirect(TABLE_GPA, 15, F_IND);
	expect_bad_indirect(TABLE_GPA, 17, F_IND);
	expect_bad_indirect(TABLE_GPA, 40, F_IND);
	expect_bad_indirect(TABLE_GPA, 16, F_IND | F_NEXT);
	expect_bad_indirect(GUEST_RAM_END - 16, 32, F_IND);
	expect_bad_indirect(GUEST_RAM_BASE - 16, 16, F_IND);
	expect_bad_indirect(UINT64_MAX - 15, 32, F_IND);
}

static void test_indirect_bad_entries(void)
{
	struct tq *t = tq_new(16, false, true);

	REQUIRE(t);
	/* next beyond the table (but < num) */
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 16, F_NEXT, 2);
	drvq_put_desc(&t->dq, 0, TABLE_GPA, 32, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	/* a loop inside the table: 0 -> 1 -> 0 */
	t = tq_new(16, false, true);
	REQUIRE(t);
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 0, F_NEXT, 1);
	drvq_put_indirect(&t->dq, TABLE_GPA, 1, BUF_GPA, 0, F_NEXT, 0);
	drvq_put_desc(&t->dq, 0, TABLE_GPA, 32, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	/* a table longer than the queue size: 17 entries on a 16 queue */
	t = tq_new(16, false, true);
	REQUIRE(t);
	for (uint16_t i = 0; i < 17; i++)
		drvq_put_indirect(&t->dq, TABLE_GPA, i, BUF_GPA, 0,
				  i < 16 ? F_NEXT : 0, i + 1);
	drvq_put_desc(&t->dq, 0, TABLE_GPA, 17 * 16, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	/* direct + indirect buffers together longer than the queue size */
	t = tq_new(4, false, true);
	REQUIRE(t);
	for (uint16_t i = 0; i < 3; i++)
		drvq_put_indirect(&t->dq, TABLE_GPA, i, BUF_GPA, 1,
				  i < 2 ? F_NEXT : 0, i + 1);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 1, F_NEXT, 1);
	drvq_put_desc(&t->dq, 1, BUF_GPA, 1, F_NEXT, 2);
	drvq_put_desc(&t->dq, 2, TABLE_GPA, 3 * 16, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

static void test_desc_loop(void)
{
	struct tq *t = tq_new(16, false, false);

	REQUIRE(t);
	drvq_put_desc(&t->dq, 1, BUF_GPA, 8, F_NEXT, 4);
	drvq_put_desc(&t->dq, 4, BUF_GPA, 8, F_NEXT, 1);
	drvq_avail(&t->dq, 1);
	pop_bad(t);
	tq_free(t);

	/* a self-loop of zero-length descriptors adds no buffer */
	t = tq_new(16, false, false);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 6, BUF_GPA, 0, F_NEXT, 6);
	drvq_avail(&t->dq, 6);
	pop_bad(t);
	tq_free(t);

	/* the longest direct chain, all num descriptors, is fine */
	t = tq_new(8, false, false);
	REQUIRE(t);
	for (uint16_t i = 0; i < 8; i++)
		drvq_put_desc(&t->dq, i, BUF_GPA + i, 1, i < 7 ? F_NEXT : 0,
			      i + 1);
	drvq_avail(&t->dq, 0);
	{
		struct virtq_chain c;
		struct iovec iov[8];

		CHECK_EQ(virtq_pop(&t->q, &c, iov, 8), 1);
		CHECK_EQ(c.niov, 8);
		CHECK_EQ(c.out_len, 8);
	}
	tq_free(t);
}

static void test_next_out_of_range(void)
{
	struct tq *t = tq_new(16, false, false);

	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, F_NEXT, 16);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	t = tq_new(16, false, false);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, F_NEXT, 0xffff);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

static void test_head_out_of_range(void)
{
	struct tq *t = tq_new(16, false, false);

	REQUIRE(t);
	drvq_avail(&t->dq, 16);
	pop_bad(t);
	tq_free(t);
}

static void test_avail_idx_jump(void)
{
	struct virtq_chain c;
	struct iovec iov[4];
	struct tq *t = tq_new(16, false, false);

	REQUIRE(t);
	/* exactly num pending is fine */
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	drvq_set_avail_idx(&t->dq, 16);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 1);
	CHECK_EQ(t->q.last_avail, 1);
	tq_free(t);

	t = tq_new(16, false, false);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	drvq_set_avail_idx(&t->dq, 17);
	pop_bad(t);
	tq_free(t);

	/* going backwards is a jump by almost 65536 */
	t = tq_new(16, false, false);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	drvq_avail(&t->dq, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 1);
	drvq_set_avail_idx(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

static void expect_bad_buffer(uint64_t addr, uint32_t len, bool indirect)
{
	struct tq *t = tq_new(16, false, true);

	REQUIRE(t);
	if (indirect) {
		drvq_put_indirect(&t->dq, TABLE_GPA, 0, addr, len, 0, 0);
		drvq_put_desc(&t->dq, 0, TABLE_GPA, 16, F_IND, 0);
	} else {
		drvq_put_desc(&t->dq, 0, BUF_GPA, 8, F_NEXT, 1);
		drvq_put_desc(&t->dq, 1, addr, len, F_WRITE, 0);
	}
	drvq_avail(&t->dq, 0);
	if (!pop_bad(t))
		fprintf(stderr, "    addr 0x%llx len 0x%x\n",
			(unsigned long long)addr, len);
	tq_free(t);
}

static void test_buffer_outside_ram(void)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ 0, 1 },
		{ GUEST_RAM_BASE - 1, 1 },
		{ GUEST_RAM_BASE - 1, 2 }, /* straddles the start */
		{ GUEST_RAM_END, 1 },
		{ GUEST_RAM_END - 1, 2 }, /* straddles the end */
		{ GUEST_RAM_BASE, GUEST_RAM_SIZE + 1 },
		{ GUEST_RAM_BASE + 0x10, UINT32_MAX },
		{ UINT64_MAX, 1 }, /* addr + len overflows */
		{ UINT64_MAX - 3, 16 },
		{ UINT64_MAX, UINT32_MAX },
	};
	struct virtq_chain c;
	struct iovec iov[2];
	struct tq *t;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_bad_buffer(bad[i].addr, bad[i].len, false);
		expect_bad_buffer(bad[i].addr, bad[i].len, true);
	}
	/* the last byte of RAM and all of RAM are fine */
	t = tq_new(16, false, false);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, GUEST_RAM_END - 1, 1, F_NEXT, 1);
	drvq_put_desc(&t->dq, 1, GUEST_RAM_BASE, GUEST_RAM_SIZE, F_WRITE, 0);
	drvq_avail(&t->dq, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 2), 1);
	CHECK(iov[0].iov_base == guest_ptr(&t->g, GUEST_RAM_END - 1, 0));
	CHECK_EQ(c.in_len, GUEST_RAM_SIZE);
	tq_free(t);
}

static void test_readable_after_writable(void)
{
	struct tq *t = tq_new(16, false, true);

	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, F_NEXT | F_WRITE, 1);
	drvq_put_desc(&t->dq, 1, BUF_GPA, 8, 0, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	/* a zero-length writable buffer still counts for the order */
	t = tq_new(16, false, true);
	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 0, F_NEXT | F_WRITE, 1);
	drvq_put_desc(&t->dq, 1, BUF_GPA, 8, 0, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);

	/* writable direct, then a readable entry in an indirect table */
	t = tq_new(16, false, true);
	REQUIRE(t);
	drvq_put_indirect(&t->dq, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, F_NEXT | F_WRITE, 1);
	drvq_put_desc(&t->dq, 1, TABLE_GPA, 16, F_IND, 0);
	drvq_avail(&t->dq, 0);
	pop_bad(t);
	tq_free(t);
}

static void test_zero_length(void)
{
	struct tq *t = tq_new(16, false, false);
	struct virtq_chain c;
	struct iovec iov[4];

	REQUIRE(t);
	/* a chain of zero-length buffers: returned, with no iovec; the
	 * address of a zero-length buffer is not looked at */
	drvq_put_desc(&t->dq, 0, 0, 0, F_NEXT, 1);
	drvq_put_desc(&t->dq, 1, UINT64_MAX, 0, F_WRITE, 0);
	drvq_avail(&t->dq, 0);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 1));
	CHECK_EQ(c.head, 0);
	CHECK_EQ(c.niov, 0);
	CHECK_EQ(c.nout, 0);
	CHECK_EQ(c.out_len + c.in_len, 0);

	/* zero-length buffers between others are skipped */
	drvq_put_desc(&t->dq, 2, BUF_GPA, 4, F_NEXT, 3);
	drvq_put_desc(&t->dq, 3, BUF_GPA, 0, F_NEXT, 4);
	drvq_put_desc(&t->dq, 4, BUF_GPA + 8, 4, F_WRITE, 0);
	drvq_avail(&t->dq, 2);
	REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 2), 1));
	CHECK_EQ(c.niov, 2);
	CHECK_EQ(c.nout, 1);
	CHECK(iov[1].iov_base == guest_ptr(&t->g, BUF_GPA + 8, 0));
	tq_free(t);
}

static void test_max_iov(void)
{
	struct tq *t = tq_new(16, false, false);
	struct virtq_chain c;
	struct iovec iov[4];

	REQUIRE(t);
	for (uint16_t i = 0; i < 4; i++)
		drvq_put_desc(&t->dq, i, BUF_GPA + 0x100 * i, 8,
			      i < 3 ? F_NEXT : 0, i + 1);
	drvq_avail(&t->dq, 0);
	drvq_avail(&t->dq, 0);
	drvq_avail(&t->dq, 1);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 3), -E2BIG);
	CHECK_EQ(c.head, 0);
	CHECK(!t->q.broken);
	CHECK_EQ(t->q.last_avail, 1);
	virtq_push(&t->q, c.head, 0);
	/* exactly max_iov buffers fits */
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 4), 1);
	CHECK_EQ(c.niov, 4);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 3), 1);
	CHECK_EQ(c.niov, 3);
	CHECK_EQ(c.head, 1);
	/* a zero-length chain fits in no iovec at all */
	drvq_put_desc(&t->dq, 9, BUF_GPA, 0, 0, 0);
	drvq_avail(&t->dq, 9);
	CHECK_EQ(virtq_pop(&t->q, &c, NULL, 0), 1);
	tq_free(t);
}

static void test_used_wrap(void)
{
	struct tq *t = tq_new(4, false, false);
	struct virtq_chain c;
	struct iovec iov[1];
	uint16_t heads[4] = { 2, 0, 3, 1 };
	unsigned int i;

	REQUIRE(t);
	/* the state after 65534 round trips */
	t->q.last_avail = t->q.used_idx = 65534;
	guest_put16(&t->g, USED_GPA + 2, 65534);
	drvq_set_avail_idx(&t->dq, 65534);
	for (i = 0; i < 4; i++) {
		drvq_put_desc(&t->dq, heads[i], BUF_GPA, 8, 0, 0);
		drvq_avail(&t->dq, heads[i]);
	}
	CHECK_EQ(guest_get16(&t->g, AVAIL_GPA + 2), 2);
	for (i = 0; i < 4; i++) {
		REQUIRE(CHECK_EQ(virtq_pop(&t->q, &c, iov, 1), 1));
		CHECK_EQ(c.head, heads[i]);
		virtq_push(&t->q, c.head, i);
		CHECK_EQ(guest_get16(&t->g, USED_GPA + 2),
			 (uint16_t)(65535 + i));
	}
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 1), 0);
	CHECK_EQ(t->q.used_idx, 2);
	CHECK_EQ(t->q.last_avail, 2);
	/* elements at ring slots 65534 % 4 = 2, 3, then 0, 1 */
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4 + 8 * 2), 2);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4 + 8 * 3), 0);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4 + 8 * 0), 3);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 4 + 8 * 1), 1);
	CHECK_EQ(guest_get32(&t->g, USED_GPA + 8 + 8 * 1), 3); /* len */
	tq_free(t);
}

static void test_need_notify(void)
{
	struct tq *t = tq_new(16, false, false);
	uint64_t used_event = AVAIL_GPA + 4 + 2 * 16;

	REQUIRE(t);
	virtq_push(&t->q, 0, 0);
	CHECK(virtq_need_notify(&t->q));
	guest_put16(&t->g, AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	virtq_push(&t->q, 0, 0);
	CHECK(!virtq_need_notify(&t->q));
	guest_put16(&t->g, AVAIL_GPA, 0);
	CHECK(virtq_need_notify(&t->q));
	tq_free(t);

	t = tq_new(16, true, false);
	REQUIRE(t);
	/* NO_INTERRUPT is ignored with EVENT_IDX; the first call notifies */
	guest_put16(&t->g, AVAIL_GPA, VRING_AVAIL_F_NO_INTERRUPT);
	guest_put16(&t->g, used_event, 100);
	virtq_push(&t->q, 0, 0); /* used idx 1 */
	CHECK(virtq_need_notify(&t->q));
	/* driver wants an interrupt once entry 1 is used (idx reaches 2) */
	guest_put16(&t->g, used_event, 1);
	virtq_push(&t->q, 0, 0); /* 2 */
	CHECK(virtq_need_notify(&t->q));
	virtq_push(&t->q, 0, 0); /* 3: past used_event already signalled */
	CHECK(!virtq_need_notify(&t->q));
	/* a batch that crosses used_event: 3 -> 6 with used_event 4 */
	guest_put16(&t->g, used_event, 4);
	virtq_push(&t->q, 0, 0);
	virtq_push(&t->q, 0, 0);
	virtq_push(&t->q, 0, 0);
	CHECK(virtq_need_notify(&t->q));
	/* a batch that stops short: 6 -> 7 with used_event 9 */
	guest_put16(&t->g, used_event, 9);
	virtq_push(&t->q, 0, 0);
	CHECK(!virtq_need_notify(&t->q));
	/* used_event 0: after wrapping past 65535 */
	guest_put16(&t->g, used_event, 0);
	t->q.used_idx = 65535;
	t->q.signalled_used = 65535;
	virtq_push(&t->q, 0, 0); /* 0 */
	CHECK(!virtq_need_notify(&t->q));
	virtq_push(&t->q, 0, 0); /* 1: entry 0 used */
	CHECK(virtq_need_notify(&t->q));
	/* a reset forgets what was signalled */
	virtq_reset(&t->q);
	CHECK(!virtq_need_notify(&t->q));
	tq_free(t);
}

static void test_update_avail_event(void)
{
	struct tq *t = tq_new(16, true, false);
	uint64_t avail_event = USED_GPA + 4 + 8 * 16;
	struct virtq_chain c;
	struct iovec iov[1];

	REQUIRE(t);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	drvq_avail(&t->dq, 0);
	drvq_avail(&t->dq, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 1), 1);
	virtq_update_avail_event(&t->q);
	CHECK_EQ(guest_get16(&t->g, avail_event), 1);
	CHECK(virtq_has_work(&t->q));
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 1), 1);
	virtq_update_avail_event(&t->q);
	CHECK_EQ(guest_get16(&t->g, avail_event), 2);
	CHECK(!virtq_has_work(&t->q));
	tq_free(t);

	/* without EVENT_IDX nothing is written */
	t = tq_new(16, false, false);
	REQUIRE(t);
	guest_put16(&t->g, avail_event, 0x5a5a);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	drvq_avail(&t->dq, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 1), 1);
	virtq_update_avail_event(&t->q);
	CHECK_EQ(guest_get16(&t->g, avail_event), 0x5a5a);
	tq_free(t);
}

static void test_broken_until_reset(void)
{
	struct tq *t = tq_new(16, false, false);
	struct virtq_chain c;
	struct iovec iov[2];

	REQUIRE(t);
	drvq_avail(&t->dq, 20);
	REQUIRE(pop_bad(t));
	/* repaired ring: still broken */
	guest_put16(&t->g, AVAIL_GPA + 4, 0);
	drvq_put_desc(&t->dq, 0, BUF_GPA, 8, 0, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 2), -EINVAL);
	CHECK(!virtq_has_work(&t->q));
	CHECK(t->q.broken);
	/* a chain taken earlier may still be completed */
	virtq_push(&t->q, 3, 0);
	CHECK_EQ(guest_get16(&t->g, USED_GPA + 2), 1);

	virtq_reset(&t->q);
	CHECK(!t->q.ready && !t->q.broken && !t->q.error[0]);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 2), 0);
	CHECK(!virtq_has_work(&t->q));
	virtq_push(&t->q, 0, 0); /* not ready: ignored */
	CHECK_EQ(guest_get16(&t->g, USED_GPA + 2), 1);

	/* the driver re-initialises the rings and sets the queue ready */
	drvq_reset(&t->dq);
	REQUIRE(CHECK_EQ(virtq_enable(&t->q, &t->g.mem, 16, 16, DESC_GPA,
				      AVAIL_GPA, USED_GPA, false, false),
			 0));
	drvq_avail(&t->dq, 0);
	CHECK_EQ(virtq_pop(&t->q, &c, iov, 2), 1);
	CHECK(!t->q.broken);
	tq_free(t);
}

static void test_not_ready(void)
{
	struct virtq q = { 0 };
	struct virtq_chain c;
	struct iovec iov[1];

	CHECK_EQ(virtq_pop(&q, &c, iov, 1), 0);
	CHECK(!virtq_has_work(&q));
	CHECK(!virtq_need_notify(&q));
	virtq_push(&q, 0, 0);
	virtq_update_avail_event(&q);
	CHECK_EQ(q.used_idx, 0);
}

UNIT_SUITE(virtq, UNIT_TEST(test_enable_ok), UNIT_TEST(test_enable_bad),
	   UNIT_TEST(test_simple_chain), UNIT_TEST(test_out_in_chain),
	   UNIT_TEST(test_indirect_chain),
	   UNIT_TEST(test_indirect_not_negotiated),
	   UNIT_TEST(test_indirect_nested), UNIT_TEST(test_indirect_bad_table),
	   UNIT_TEST(test_indirect_bad_entries), UNIT_TEST(test_desc_loop),
	   UNIT_TEST(test_next_out_of_range), UNIT_TEST(test_head_out_of_range),
	   UNIT_TEST(test_avail_idx_jump), UNIT_TEST(test_buffer_outside_ram),
	   UNIT_TEST(test_readable_after_writable), UNIT_TEST(test_zero_length),
	   UNIT_TEST(test_max_iov), UNIT_TEST(test_used_wrap),
	   UNIT_TEST(test_need_notify), UNIT_TEST(test_update_avail_event),
	   UNIT_TEST(test_broken_until_reset), UNIT_TEST(test_not_ready));
