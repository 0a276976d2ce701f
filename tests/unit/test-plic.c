// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/plic.c: registers, arbitration, triggers, threads. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "lkvm/compiler.h"
#include "lkvm/log.h"
#include "lkvm/plic.h"
#include "unit.h"

#define NR_CTX 4

/* A fake hart side: the last EIP level per context and misuse counts. */
struct fake {
	bool eip[NR_CTX];
	unsigned int calls;
	unsigned int redundant; /* set_eip without a change */
	unsigned int bad_ctx;
};

static void fake_set_eip(void *opaque, unsigned int ctx, bool level)
{
	struct fake *f = opaque;

	f->calls++;
	if (ctx >= NR_CTX) {
		f->bad_ctx++;
		return;
	}
	if (f->eip[ctx] == level)
		f->redundant++;
	f->eip[ctx] = level;
}

static const struct plic_ops fake_ops = { .set_eip = fake_set_eip };

static enum log_level saved_level;

/* Unknown offsets are logged once per PLIC; keep test output quiet. */
static struct plic *make(struct fake *f, unsigned int nr_sources)
{
	struct plic *p = NULL;

	memset(f, 0, sizeof(*f));
	saved_level = log_level;
	log_level = LOG_ERR;
	if (plic_create(&p, nr_sources, NR_CTX, &fake_ops, f))
		return NULL;
	return p;
}

static void done(struct plic *p, struct fake *f)
{
	CHECK_EQ(f->redundant, 0);
	CHECK_EQ(f->bad_ctx, 0);
	plic_destroy(p);
	log_level = saved_level;
}

static uint32_t rd(struct plic *p, uint64_t off)
{
	return (uint32_t)plic_mmio_ops.read(p, off, 4);
}

static void wr(struct plic *p, uint64_t off, uint32_t val)
{
	plic_mmio_ops.write(p, off, 4, val);
}

static void set_prio(struct plic *p, unsigned int src, uint32_t prio)
{
	wr(p, PLIC_PRIORITY_BASE + 4 * src, prio);
}

static void enable(struct plic *p, unsigned int ctx, unsigned int src, bool on)
{
	uint64_t off =
		PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * ctx + src / 32 * 4;
	uint32_t v = rd(p, off);

	wr(p, off, on ? v | 1u << (src % 32) : v & ~(1u << (src % 32)));
}

static void set_threshold(struct plic *p, unsigned int ctx, uint32_t t)
{
	wr(p, PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx, t);
}

static unsigned int claim(struct plic *p, unsigned int ctx)
{
	return rd(p, PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx +
			     PLIC_CONTEXT_CLAIM);
}

static void complete(struct plic *p, unsigned int ctx, uint32_t id)
{
	wr(p,
	   PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + PLIC_CONTEXT_CLAIM,
	   id);
}

static void test_create_args(void)
{
	struct plic *p = NULL;
	struct fake f;
	const struct plic_ops no_cb = { .set_eip = NULL };

	CHECK_EQ(plic_create(&p, 0, 1, &fake_ops, &f), -EINVAL);
	CHECK_EQ(plic_create(&p, 1024, 1, &fake_ops, &f), -EINVAL);
	CHECK_EQ(plic_create(&p, 1, 0, &fake_ops, &f), -EINVAL);
	CHECK_EQ(plic_create(&p, 1, 15873, &fake_ops, &f), -EINVAL);
	CHECK_EQ(plic_create(&p, 1, 1, NULL, &f), -EINVAL);
	CHECK_EQ(plic_create(&p, 1, 1, &no_cb, &f), -EINVAL);
	CHECK(p == NULL);
	REQUIRE(CHECK_EQ(plic_create(&p, 1023, 15872, &fake_ops, &f), 0));
	CHECK_EQ(plic_nr_sources(p), 1023);
	CHECK_EQ(plic_nr_contexts(p), 15872);
	plic_destroy(p);
	plic_destroy(NULL);
	CHECK_EQ(plic_mmio_size(1), 0x201000);
	CHECK_EQ(plic_mmio_size(15872), 0x4000000);
	CHECK_EQ(plic_mmio_size(0), 0);
	CHECK_EQ(plic_mmio_size(15873), 0);
}

static void test_priority_and_threshold(void)
{
	struct fake f;
	struct plic *p = make(&f, 40);

	REQUIRE(p);
	set_prio(p, 5, 0xffffffff);
	CHECK_EQ(rd(p, 4 * 5), PLIC_MAX_PRIORITY);
	set_prio(p, 5, 3);
	CHECK_EQ(rd(p, 4 * 5), 3);
	set_threshold(p, 1, 0x1f);
	CHECK_EQ(rd(p, PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE), 7);
	set_threshold(p, 1, 3);
	enable(p, 1, 5, true);
	plic_set_irq(p, 5, 1);
	CHECK(!f.eip[1]); /* priority 3 is not above threshold 3 */
	set_threshold(p, 1, 2);
	CHECK(f.eip[1]);
	set_prio(p, 5, 0);
	CHECK(!f.eip[1]); /* priority 0 never interrupts */
	set_threshold(p, 1, 0);
	CHECK(!f.eip[1]);
	CHECK_EQ(claim(p, 1), 0);
	set_prio(p, 5, 1);
	CHECK(f.eip[1]);
	CHECK(!f.eip[0]);
	done(p, &f);
}

static void test_claim_order(void)
{
	struct fake f;
	struct plic *p = make(&f, 64);
	static const unsigned int src[] = { 3, 9, 40, 33, 63 };
	static const uint32_t prio[] = { 2, 5, 5, 7, 1 };
	static const unsigned int want[] = { 33, 9, 40, 3, 63 };
	unsigned int i;

	REQUIRE(p);
	for (i = 0; i < ARRAY_SIZE(src); i++) {
		set_prio(p, src[i], prio[i]);
		enable(p, 0, src[i], true);
		plic_set_trigger(p, src[i], PLIC_EDGE);
		plic_set_irq(p, src[i], 1);
	}
	CHECK(f.eip[0]);
	for (i = 0; i < ARRAY_SIZE(want); i++)
		CHECK_EQ(claim(p, 0), want[i]);
	CHECK_EQ(claim(p, 0), 0);
	CHECK(!f.eip[0]);
	done(p, &f);
}

static void test_claim_ignores_threshold(void)
{
	struct fake f;
	struct plic *p = make(&f, 8);

	REQUIRE(p);
	set_prio(p, 2, 1);
	enable(p, 0, 2, true);
	set_threshold(p, 0, 7);
	plic_set_irq(p, 2, 1);
	CHECK(!f.eip[0]);
	/* The specification: claims are not affected by the threshold. */
	CHECK_EQ(claim(p, 0), 2);
	done(p, &f);
}

/*
 * The two rules side by side, over every threshold: EIP is high exactly
 * when a pending, enabled source has a priority above the threshold; a
 * claim takes the highest-priority pending, enabled source with a
 * non-zero priority whatever the threshold (ties: lowest id), so a hart
 * can mask notifications with threshold 7 and poll with claims, as the
 * PLIC specification's "Interrupt Claim Process" describes.
 */
static void test_eip_and_claim_rules(void)
{
	static const uint32_t prio[] = { 0, 3, 5, 5, 1, 7, 2 }; /* src 1.. */
	static const unsigned int order[] = { 6, 3, 4, 2, 7, 5 };
	struct fake f;
	struct plic *p = make(&f, 8);
	unsigned int t, i, src;

	REQUIRE(p);
	for (i = 0; i < ARRAY_SIZE(prio); i++) {
		src = i + 1;
		set_prio(p, src, prio[i]);
		plic_set_trigger(p, src, PLIC_EDGE);
		enable(p, 0, src, true);
	}
	set_prio(p, 8, PLIC_MAX_PRIORITY); /* level, never enabled */
	for (t = 0; t <= PLIC_MAX_PRIORITY; t++) {
		set_threshold(p, 0, t);
		for (i = 0; i < ARRAY_SIZE(prio); i++) {
			plic_set_irq(p, i + 1, 0);
			plic_set_irq(p, i + 1, 1);
		}
		/* a pending source not enabled here never counts */
		plic_set_irq(p, 8, 1);
		for (i = 0; i < ARRAY_SIZE(order); i++) {
			/* the best one left is prio[order[i] - 1] */
			if (!CHECK_EQ(f.eip[0], prio[order[i] - 1] > t))
				fprintf(stderr, "    threshold %u, step %u\n",
					t, i);
			src = claim(p, 0);
			CHECK_EQ(src, order[i]);
			complete(p, 0, src);
		}
		CHECK(!f.eip[0]);
		CHECK_EQ(claim(p, 0), 0); /* source 1 has priority 0 */
		plic_set_irq(p, 8, 0);
	}
	done(p, &f);
}

static void test_claim_complete_cycle(void)
{
	struct fake f;
	struct plic *p = make(&f, 8);

	REQUIRE(p);
	set_prio(p, 4, 1);
	enable(p, 0, 4, true);
	enable(p, 2, 4, true);
	plic_set_irq(p, 4, 1);
	CHECK(f.eip[0] && f.eip[2]);
	CHECK_EQ(claim(p, 2), 4);
	CHECK(!f.eip[0] && !f.eip[2]); /* in service for everyone */
	CHECK_EQ(rd(p, PLIC_PENDING_BASE), 0);
	CHECK_EQ(claim(p, 0), 0);
	plic_set_irq(p, 4, 0);
	complete(p, 2, 4);
	CHECK(!f.eip[0] && !f.eip[2]);
	plic_set_irq(p, 4, 1);
	CHECK(f.eip[0] && f.eip[2]);
	CHECK_EQ(claim(p, 0), 4);
	complete(p, 0, 4);
	CHECK(f.eip[0]); /* still high: pending again */
	done(p, &f);
}

static void test_bad_complete_ignored(void)
{
	struct fake f;
	struct plic *p = make(&f, 8);

	REQUIRE(p);
	set_prio(p, 1, 1);
	set_prio(p, 2, 1);
	enable(p, 0, 1, true);
	enable(p, 0, 2, true);
	plic_set_irq(p, 1, 1);
	plic_set_irq(p, 2, 1);
	CHECK_EQ(claim(p, 0), 1);
	complete(p, 0, 2); /* not claimed */
	complete(p, 0, 0);
	complete(p, 0, 9); /* out of range */
	complete(p, 0, 0xffffffff);
	complete(p, 1, 1); /* not enabled for context 1 */
	CHECK_EQ(claim(p, 0), 2);
	CHECK_EQ(claim(p, 0), 0);
	enable(p, 0, 1, false);
	complete(p, 0, 1); /* disabled now: still in service */
	enable(p, 0, 1, true);
	CHECK_EQ(claim(p, 0), 0);
	complete(p, 0, 1);
	CHECK_EQ(claim(p, 0), 1);
	done(p, &f);
}

static void test_enable_edges(void)
{
	struct fake f;
	struct plic *p = make(&f, 100);

	REQUIRE(p);
	set_prio(p, 70, 4);
	plic_set_irq(p, 70, 1);
	CHECK(!f.eip[3]);
	enable(p, 3, 70, true);
	CHECK(f.eip[3]);
	CHECK_EQ(rd(p, PLIC_ENABLE_BASE + 3 * PLIC_ENABLE_STRIDE + 8), 1u << 6);
	enable(p, 3, 70, false);
	CHECK(!f.eip[3]);
	/* Bits of source 0 and beyond source 100 do not stick. */
	wr(p, PLIC_ENABLE_BASE, 0xffffffff);
	CHECK_EQ(rd(p, PLIC_ENABLE_BASE), 0xfffffffe);
	wr(p, PLIC_ENABLE_BASE + 12, 0xffffffff);
	CHECK_EQ(rd(p, PLIC_ENABLE_BASE + 12), 0x1f);
	CHECK_EQ(rd(p, PLIC_ENABLE_BASE + 16), 0);
	done(p, &f);
}

static void test_level_vs_edge(void)
{
	struct fake f;
	struct plic *p = make(&f, 8);

	REQUIRE(p);
	set_prio(p, 1, 1);
	set_prio(p, 2, 1);
	enable(p, 0, 1, true);
	enable(p, 0, 2, true);
	CHECK_EQ(plic_set_trigger(p, 2, PLIC_EDGE), 0);
	CHECK_EQ(plic_set_trigger(p, 0, PLIC_EDGE), -EINVAL);
	CHECK_EQ(plic_set_trigger(p, 9, PLIC_EDGE), -EINVAL);
	CHECK_EQ(plic_set_trigger(p, 1, (enum plic_trigger)7), -EINVAL);
	/* Level: a pulse dropped before the claim is gone. */
	plic_set_irq(p, 1, 1);
	CHECK(f.eip[0]);
	plic_set_irq(p, 1, 0);
	CHECK(!f.eip[0]);
	CHECK_EQ(claim(p, 0), 0);
	/* Edge: a pulse is latched, once. */
	plic_set_irq(p, 2, 1);
	plic_set_irq(p, 2, 0);
	plic_set_irq(p, 2, 0);
	CHECK(f.eip[0]);
	CHECK_EQ(claim(p, 0), 2);
	complete(p, 0, 2);
	CHECK_EQ(claim(p, 0), 0);
	/* Staying high is not a new edge. */
	plic_set_irq(p, 2, 1);
	plic_set_irq(p, 2, 1);
	CHECK_EQ(claim(p, 0), 2);
	complete(p, 0, 2);
	CHECK_EQ(claim(p, 0), 0);
	/* An edge during service is served after the complete. */
	plic_set_irq(p, 2, 0);
	plic_set_irq(p, 2, 1);
	CHECK_EQ(claim(p, 0), 2);
	plic_set_irq(p, 2, 0);
	plic_set_irq(p, 2, 1);
	CHECK(!f.eip[0]);
	complete(p, 0, 2);
	CHECK(f.eip[0]);
	CHECK_EQ(claim(p, 0), 2);
	done(p, &f);
}

static void test_level_repends(void)
{
	struct fake f;
	struct plic *p = make(&f, 8);

	REQUIRE(p);
	set_prio(p, 6, 2);
	enable(p, 1, 6, true);
	plic_set_irq(p, 6, 1);
	CHECK_EQ(claim(p, 1), 6);
	CHECK(!f.eip[1]);
	complete(p, 1, 6);
	CHECK(f.eip[1]);
	CHECK_EQ(rd(p, PLIC_PENDING_BASE), 1u << 6);
	CHECK_EQ(claim(p, 1), 6);
	plic_set_irq(p, 6, 0);
	complete(p, 1, 6);
	CHECK(!f.eip[1]);
	CHECK_EQ(claim(p, 1), 0);
	done(p, &f);
}

static void test_pending_readout(void)
{
	struct fake f;
	struct plic *p = make(&f, 70);

	REQUIRE(p);
	plic_set_irq(p, 1, 1);
	plic_set_irq(p, 31, 1);
	plic_set_irq(p, 32, 1);
	plic_set_irq(p, 70, 1);
	plic_set_irq(p, 0, 1);
	plic_set_irq(p, 71, 1);
	plic_set_irq(p, 0xffffffff, 1);
	CHECK_EQ(rd(p, PLIC_PENDING_BASE), 0x80000002u);
	CHECK_EQ(rd(p, PLIC_PENDING_BASE + 4), 1);
	CHECK_EQ(rd(p, PLIC_PENDING_BASE + 8), 1u << 6);
	CHECK_EQ(rd(p, PLIC_PENDING_BASE + 12), 0);
	wr(p, PLIC_PENDING_BASE, 0); /* read-only */
	CHECK_EQ(rd(p, PLIC_PENDING_BASE), 0x80000002u);
	CHECK_EQ(f.calls, 0); /* nothing enabled */
	done(p, &f);
}

static void test_source0_and_out_of_range(void)
{
	struct fake f;
	struct plic *p = make(&f, 10);
	uint64_t size = plic_mmio_size(NR_CTX);

	REQUIRE(p);
	wr(p, 0, 7);
	CHECK_EQ(rd(p, 0), 0);
	wr(p, 4 * 11, 7); /* beyond nr_sources */
	CHECK_EQ(rd(p, 4 * 11), 0);
	wr(p, PLIC_ENABLE_BASE + NR_CTX * PLIC_ENABLE_STRIDE, 0xff);
	CHECK_EQ(rd(p, PLIC_ENABLE_BASE + NR_CTX * PLIC_ENABLE_STRIDE), 0);
	CHECK_EQ(rd(p, PLIC_CONTEXT_BASE + 8), 0);
	CHECK_EQ(rd(p, size - 4), 0);
	CHECK_EQ(rd(p, size), 0);
	wr(p, size, 1);
	CHECK_EQ(rd(p, UINT64_MAX - 3), 0);
	wr(p, UINT64_MAX - 3, 1);
	CHECK_EQ(rd(p, PLIC_CONTEXT_BASE + NR_CTX * PLIC_CONTEXT_STRIDE), 0);
	CHECK_EQ(f.calls, 0);
	done(p, &f);
}

static void test_odd_offsets(void)
{
	struct fake f;
	struct plic *p = make(&f, 10);
	uint64_t off;

	REQUIRE(p);
	set_prio(p, 1, 5);
	enable(p, 0, 1, true);
	plic_set_irq(p, 1, 1);
	for (off = 1; off < 4; off++) {
		CHECK_EQ(plic_mmio_ops.read(p, 4 + off, 4), 0);
		CHECK_EQ(plic_mmio_ops.read(p, PLIC_CONTEXT_BASE + 4 + off, 4),
			 0);
		plic_mmio_ops.write(p, 4 + off, 4, 0);
	}
	/* Narrow accesses do nothing either (the bus should not send them). */
	CHECK_EQ(plic_mmio_ops.read(p, PLIC_CONTEXT_BASE + 4, 1), 0);
	CHECK_EQ(plic_mmio_ops.read(p, PLIC_CONTEXT_BASE + 4, 8), 0);
	plic_mmio_ops.write(p, 4, 2, 0);
	CHECK_EQ(rd(p, 4), 5);
	CHECK(f.eip[0]);
	CHECK_EQ(claim(p, 0), 1);
	done(p, &f);
}

/*
 * Concurrent claims: each worker claims and completes on its own context
 * (every source enabled everywhere) while a producer raises edges, one
 * outstanding per source. A claim of a source with no outstanding edge is
 * a double claim; at the end every edge must have been claimed.
 */
#define CC_SOURCES 48
#define CC_ROUNDS 200
#define CC_WORKERS 3

struct cc {
	struct plic *p;
	int outstanding[CC_SOURCES + 1];
	unsigned int claims[CC_SOURCES + 1];
	unsigned int total;
	unsigned int errors;
	int stop;
	time_t deadline;
};

static void cc_eip(void *opaque, unsigned int ctx, bool level)
{
	(void)opaque;
	(void)ctx;
	(void)level;
}

static const struct plic_ops cc_ops = { .set_eip = cc_eip };

static bool cc_timed_out(const struct cc *c)
{
	return time(NULL) > c->deadline;
}

static void cc_claim_one(struct cc *c, unsigned int ctx)
{
	unsigned int id = claim(c->p, ctx);

	if (!id) {
		sched_yield();
		return;
	}
	if (id > CC_SOURCES ||
	    !__atomic_exchange_n(&c->outstanding[id], 0, __ATOMIC_SEQ_CST))
		__atomic_add_fetch(&c->errors, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_add_fetch(&c->claims[id], 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&c->total, 1, __ATOMIC_SEQ_CST);
	complete(c->p, ctx, id);
}

static struct cc cc;
static unsigned int cc_ctx[CC_WORKERS];

static void *cc_worker(void *arg)
{
	unsigned int ctx = *(unsigned int *)arg;

	while (!__atomic_load_n(&cc.stop, __ATOMIC_SEQ_CST) &&
	       !cc_timed_out(&cc))
		cc_claim_one(&cc, ctx);
	return NULL;
}

static void *cc_producer(void *arg)
{
	unsigned int r, s;

	(void)arg;
	for (r = 0; r < CC_ROUNDS; r++) {
		for (s = 1; s <= CC_SOURCES; s++) {
			while (__atomic_load_n(&cc.outstanding[s],
					       __ATOMIC_SEQ_CST)) {
				if (cc_timed_out(&cc))
					return NULL;
				sched_yield();
			}
			__atomic_store_n(&cc.outstanding[s], 1,
					 __ATOMIC_SEQ_CST);
			plic_set_irq(cc.p, s, 1);
			plic_set_irq(cc.p, s, 0);
		}
	}
	return NULL;
}

static void cc_setup(void)
{
	unsigned int s, ctx;

	for (s = 1; s <= CC_SOURCES; s++) {
		plic_set_trigger(cc.p, s, PLIC_EDGE);
		set_prio(cc.p, s, 1 + s % 7);
		for (ctx = 0; ctx < CC_WORKERS; ctx++)
			enable(cc.p, ctx, s, true);
	}
}

static void test_concurrent_claims(void)
{
	pthread_t workers[CC_WORKERS], producer;
	unsigned int i, s;

	memset(&cc, 0, sizeof(cc));
	REQUIRE(!plic_create(&cc.p, CC_SOURCES, CC_WORKERS, &cc_ops, NULL));
	cc.deadline = time(NULL) + 20;
	cc_setup();
	for (i = 0; i < CC_WORKERS; i++) {
		cc_ctx[i] = i;
		REQUIRE(!pthread_create(&workers[i], NULL, cc_worker,
					&cc_ctx[i]));
	}
	REQUIRE(!pthread_create(&producer, NULL, cc_producer, NULL));
	pthread_join(producer, NULL);
	while (__atomic_load_n(&cc.total, __ATOMIC_SEQ_CST) <
		       CC_ROUNDS * CC_SOURCES &&
	       !cc_timed_out(&cc))
		sched_yield();
	__atomic_store_n(&cc.stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < CC_WORKERS; i++)
		pthread_join(workers[i], NULL);
	CHECK(!cc_timed_out(&cc));
	CHECK_EQ(cc.errors, 0);
	CHECK_EQ(cc.total, CC_ROUNDS * CC_SOURCES);
	for (s = 1; s <= CC_SOURCES; s++)
		CHECK_EQ(cc.claims[s], CC_ROUNDS);
	for (i = 0; i < CC_WORKERS; i++)
		CHECK_EQ(claim(cc.p, i), 0);
	plic_destroy(cc.p);
}

UNIT_SUITE(plic, UNIT_TEST(test_create_args),
	   UNIT_TEST(test_priority_and_threshold), UNIT_TEST(test_claim_order),
	   UNIT_TEST(test_claim_ignores_threshold),
	   UNIT_TEST(test_eip_and_claim_rules),
	   UNIT_TEST(test_claim_complete_cycle),
	   UNIT_TEST(test_bad_complete_ignored), UNIT_TEST(test_enable_edges),
	   UNIT_TEST(test_level_vs_edge), UNIT_TEST(test_level_repends),
	   UNIT_TEST(test_pending_readout),
	   UNIT_TEST(test_source0_and_out_of_range),
	   UNIT_TEST(test_odd_offsets), UNIT_TEST(test_concurrent_claims));
