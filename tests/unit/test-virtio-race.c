// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency tests for virtio/core.c and virtio/worker.c: a hostile
 * driver on several vCPUs, and the I/O thread against a vCPU. Each test
 * races two or more threads; run under ASan (make unit) they catch the
 * out-of-bounds accesses and use-after-reset, under TSan (make unit-tsan)
 * the data races. Each would have failed on e01647f.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "lkvm/irq-share.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/virtio.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define DESC_GPA (GUEST_RAM_BASE + 0x10000)
#define AVAIL_GPA (GUEST_RAM_BASE + 0x14000)
#define USED_GPA (GUEST_RAM_BASE + 0x15000)
#define BUF_GPA (GUEST_RAM_BASE + 0x20000)
#define QNUM 16
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)

/* A device that keeps the chains it takes until the test returns them. */
struct hold {
	pthread_mutex_t lock;
	uint16_t heads[1024];
	unsigned int nheld;
	unsigned int taken; /* chains popped in all */
	unsigned int turns; /* notify calls */
	bool flood; /* notify reports more work, always */
};

/* A device on virtio-mmio and the guest driving it. */
struct rig {
	struct guest g;
	struct virtio_dev *d;
	struct vdrv v; /* the driver, over virtio-mmio */
	struct drvq q; /* queue 0 */
	struct hold hold;
};

static bool hold_notify(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	struct hold *h = virtio_dev_priv(d);
	struct iovec iov[QNUM];
	struct virtq_chain c;

	pthread_mutex_lock(&h->lock);
	h->turns++;
	while (budget-- && h->nheld < 1024 &&
	       virtio_queue_pop(d, q, &c, iov, QNUM) > 0) {
		h->heads[h->nheld++] = c.head;
		h->taken++;
	}
	pthread_mutex_unlock(&h->lock);
	return h->flood;
}

static const struct virtio_dev_ops hold_ops = {
	.name = "hold",
	.device_id = 0x42,
	.nr_queues = 1,
	.queue_max = QNUM,
	.notify = hold_notify,
};

/* Return every chain the device holds. */
static unsigned int hold_complete(struct rig *g)
{
	struct hold *h = &g->hold;
	unsigned int i, n;

	pthread_mutex_lock(&h->lock);
	n = h->nheld;
	for (i = 0; i < n; i++)
		virtio_queue_push(g->d, 0, h->heads[i], 0);
	h->nheld = 0;
	pthread_mutex_unlock(&h->lock);
	return n;
}

static struct rig *rig_new(bool rng)
{
	struct rig *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	pthread_mutex_init(&g->hold.lock, NULL);
	if (guest_init(&g->g, GUEST_RAM_BASE, GUEST_RAM_SIZE))
		goto fail;
	if (rng ? !virtio_rng_create(&g->g.mem, (struct irq_line){ 0 }, &g->d)
		: !virtio_dev_new(&hold_ops, &g->hold, &g->g.mem, 0,
				  (struct irq_line){ 0 }, &g->d)) {
		vdrv_init_mmio(&g->v, g->d);
		drvq_init(&g->q, &g->g, QNUM, DESC_GPA, AVAIL_GPA, USED_GPA);
		return g;
	}
fail:
	pthread_mutex_destroy(&g->hold.lock);
	guest_destroy(&g->g);
	free(g);
	return NULL;
}

static void rig_free(struct rig *g)
{
	virtio_dev_free(g->d);
	pthread_mutex_destroy(&g->hold.lock);
	guest_destroy(&g->g);
	free(g);
}

static void wr(struct rig *g, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(g->d, off, 4, v);
}

static uint32_t rd(struct rig *g, uint64_t off)
{
	return (uint32_t)virtio_mmio_ops.read(g->d, off, 4);
}

static uint16_t used_idx(struct rig *g)
{
	return drvq_used_idx(&g->q);
}

/* Reset, then features, queue 0 on fresh rings and DRIVER_OK, as a driver
 * does; true when live. */
static bool bring_up(struct rig *g)
{
	vdrv_reset(&g->v);
	return !vdrv_bring_up(&g->v, F_V1, &g->q, 1) && virtio_dev_live(g->d);
}

/* Make descriptor head (one 64-byte writable buffer) available again. */
static void post(struct rig *g, uint16_t head)
{
	drvq_post_buf(&g->q, head, BUF_GPA + 64ULL * head, 64,
		      VRING_DESC_F_WRITE);
}

/* Selector against QueueReady */

struct sel_race {
	struct rig *g;
	unsigned int rounds;
};

static void *flip_queue_sel(void *arg)
{
	struct sel_race *r = arg;
	unsigned int i;

	for (i = 0; i < r->rounds; i++) {
		wr(r->g, VIRTIO_MMIO_QUEUE_SEL, 0);
		wr(r->g, VIRTIO_MMIO_QUEUE_SEL, 0x10000000);
		wr(r->g, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MAX_QUEUES);
	}
	return NULL;
}

/*
 * One vCPU flips QueueSel between a queue and far out of range while
 * another sets queue 0 up and ready, off and on: every register picks its
 * queue from one read of QueueSel, so nothing indexes out of range (ASan)
 * or races (TSan), and only queue 0 can ever become ready.
 */
static void test_queue_sel_vs_ready(void)
{
	struct rig *g = rig_new(true);
	struct sel_race r = { g, 20000 };
	pthread_t t;
	unsigned int i, q;

	REQUIRE(g);
	REQUIRE(bring_up(g));
	REQUIRE(!pthread_create(&t, NULL, flip_queue_sel, &r));
	for (i = 0; i < r.rounds; i++) {
		wr(g, VIRTIO_MMIO_QUEUE_NUM, QNUM);
		wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
		wr(g, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL_GPA);
		wr(g, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED_GPA);
		wr(g, VIRTIO_MMIO_QUEUE_READY, 1);
		(void)rd(g, VIRTIO_MMIO_QUEUE_READY);
		(void)rd(g, VIRTIO_MMIO_QUEUE_NUM_MAX);
		(void)rd(g, VIRTIO_MMIO_QUEUE_DESC_LOW);
		wr(g, VIRTIO_MMIO_QUEUE_READY, 0);
	}
	pthread_join(t, NULL);
	for (q = 1; q < VIRTIO_MAX_QUEUES; q++)
		CHECK(!virtio_queue_copy(g->d, q).ready);
	/* whatever happened, the queue the selector ended on is coherent */
	wr(g, VIRTIO_MMIO_QUEUE_SEL, 0x10000000);
	CHECK_EQ(rd(g, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	CHECK_EQ(rd(g, VIRTIO_MMIO_QUEUE_READY), 0);
	rig_free(g);
}

/* Reset against the doorbell and the completions */

struct reset_race {
	struct rig *g;
	bool stop; /* atomic */
	unsigned int completed; /* atomic */
};

/* Another vCPU rings the doorbell without pause. */
static void *ring_doorbell(void *arg)
{
	struct reset_race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
		wr(r->g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	return NULL;
}

/* The device's completions, late, from another thread (a disk). */
static void *complete_late(void *arg)
{
	struct reset_race *r = arg;
	struct timespec ts = { 0, 20000 };

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		nanosleep(&ts, NULL);
		__atomic_add_fetch(&r->completed, hold_complete(r->g),
				   __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * A driver resets the device while another vCPU rings its doorbell and
 * the device completes chains late on a third thread: the reset returns
 * only once nothing is in flight, and nothing is written to the used ring
 * after it returned (Virtio 1.2, 2.4).
 */
static void test_reset_vs_doorbell(void)
{
	struct rig *g = rig_new(false);
	struct reset_race r = { g, false, 0 };
	struct timespec ts = { 0, 50000 };
	unsigned int round, i, inflight = 1, later = 0;
	pthread_t bell, done;
	uint16_t idx;

	REQUIRE(g);
	REQUIRE(!pthread_create(&bell, NULL, ring_doorbell, &r));
	REQUIRE(!pthread_create(&done, NULL, complete_late, &r));
	for (round = 0; round < 300; round++) {
		if (!CHECK(bring_up(g)))
			break;
		for (i = 0; i < QNUM; i++)
			post(g, (uint16_t)i);
		/* chains in flight when the reset comes */
		wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		wr(g, VIRTIO_MMIO_STATUS, 0);
		virtio_queue_snapshot(g->d, 0, NULL, &inflight);
		if (!CHECK_EQ(inflight, 0))
			break;
		idx = used_idx(g);
		nanosleep(&ts, NULL);
		later += used_idx(g) != idx;
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(bell, NULL);
	pthread_join(done, NULL);
	CHECK_EQ(later, 0);
	CHECK(__atomic_load_n(&r.completed, __ATOMIC_RELAXED) > 0);
	rig_free(g);
}

/*
 * A driver re-posts the same head forever without reading the used ring:
 * the device never has more chains in flight than the queue size; the
 * excess breaks the queue (NEEDS_RESET), and a reset recovers it.
 */
static void test_inflight_capped(void)
{
	struct rig *g = rig_new(false);
	unsigned int i, inflight = 0;

	REQUIRE(g);
	REQUIRE(bring_up(g));
	for (i = 0; i < 2000; i++) {
		post(g, 0);
		wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	virtio_queue_snapshot(g->d, 0, NULL, &inflight);
	CHECK_EQ(inflight, QNUM);
	CHECK_EQ(g->hold.taken, QNUM);
	CHECK(rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(hold_complete(g), QNUM);
	CHECK(bring_up(g));
	post(g, 1);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(hold_complete(g), 1);
	CHECK_EQ(used_idx(g), 1);
	rig_free(g);
}

static void *reset_device(void *arg)
{
	struct rig *g = arg;

	wr(g, VIRTIO_MMIO_STATUS, 0);
	return NULL;
}

/*
 * A reset waits for chains in flight (a slow disk), until the VM stops:
 * then it returns at once, so a vCPU in it can be joined.
 */
static void test_shutdown_ends_reset_wait(void)
{
	struct rig *g = rig_new(false);
	struct timespec ts = { 0, 20000000 };
	unsigned int inflight = 0;
	pthread_t t;

	REQUIRE(g);
	REQUIRE(bring_up(g));
	post(g, 0);
	wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_queue_snapshot(g->d, 0, NULL, &inflight);
	CHECK_EQ(inflight, 1);
	REQUIRE(!pthread_create(&t, NULL, reset_device, g));
	nanosleep(&ts, NULL);
	/* still waiting: the chain is the device's */
	CHECK(virtio_get_status(g->d) & VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_dev_shutdown(g->d);
	pthread_join(t, NULL);
	CHECK_EQ(virtio_get_status(g->d), 0);
	/* the late completion lands nowhere */
	CHECK_EQ(hold_complete(g), 1);
	CHECK_EQ(used_idx(g), 0);
	rig_free(g);
}

/* Shared INTx */

struct level_rec {
	int level;
	unsigned int sets, same; /* calls, and calls that changed nothing */
};

static void rec_set(void *ctrl, unsigned int irq, int level)
{
	struct level_rec *r = ctrl;

	(void)irq;
	r->sets++;
	r->same += r->level == level;
	r->level = level;
}

struct intx_race {
	struct irq_line line;
	unsigned int rounds;
	int last; /* the level this thread leaves its line at */
};

static void *toggle_line(void *arg)
{
	struct intx_race *r = arg;
	unsigned int i;

	for (i = 0; i < r->rounds; i++) {
		irq_line_set(&r->line, 1);
		irq_line_set(&r->line, 0);
	}
	if (r->last) /* devices report transitions only */
		irq_line_set(&r->line, 1);
	return NULL;
}

/*
 * Two functions share a wired-OR INTx line; one goes 1 -> 0 while the
 * other goes 0 -> 1. The line must end as the count says: high while
 * either drives it (on e01647f, a lowering racing a raising could leave
 * it low with a count of 1: that function's interrupts were lost for
 * good), and the controller only ever sees changes.
 */
static void test_intx_shared(void)
{
	struct level_rec rec = { 0 };
	struct irq_share s;
	struct intx_race a, b;
	pthread_t ta, tb;
	unsigned int round;

	irq_share_init(&s, (struct irq_line){ rec_set, &rec, 12 });
	for (round = 0; round < 50; round++) {
		a = (struct intx_race){ irq_share_line(&s), 2000, round & 1 };
		b = (struct intx_race){ irq_share_line(&s), 2000, 0 };
		REQUIRE(!pthread_create(&ta, NULL, toggle_line, &a));
		REQUIRE(!pthread_create(&tb, NULL, toggle_line, &b));
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_mutex_lock(&s.lock);
		CHECK_EQ(rec.level, (int)(round & 1));
		CHECK_EQ(s.count, round & 1);
		pthread_mutex_unlock(&s.lock);
		if (round & 1)
			irq_line_set(&a.line, 0);
		irq_line_set(&a.line, 0); /* a stray lowering: ignored */
	}
	CHECK_EQ(rec.same, 0);
	CHECK(rec.sets > 0);
	irq_share_destroy(&s);
}

/* The I/O thread's fairness */

/*
 * One device floods its queue (always more work), another gets a single
 * notification: the second is served in the first round, the flooder
 * gets one budget a round, and a stop is seen between rounds.
 */
static void test_worker_fair(void)
{
	struct rig *flood = rig_new(false), *calm = rig_new(false);
	struct virtio_worker *w = NULL;
	unsigned int i;

	REQUIRE(flood && calm);
	REQUIRE(!virtio_worker_create(&w));
	CHECK_EQ(virtio_worker_add(w, flood->d), 0);
	CHECK_EQ(virtio_worker_add(w, calm->d), 1);
	CHECK(virtio_worker_fd(w, 1) >= 0);
	CHECK_EQ(virtio_worker_fd(w, 2), -1);
	REQUIRE(bring_up(flood) && bring_up(calm));
	flood->hold.flood = true;
	for (i = 0; i < QNUM; i++)
		post(flood, (uint16_t)i);
	/* the transports' notify goes to the worker's eventfds now */
	wr(flood, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(flood->hold.turns, 0);
	CHECK(virtio_worker_round(w, 1000));
	CHECK_EQ(flood->hold.turns, 1);
	for (i = 0; i < 10; i++)
		CHECK(virtio_worker_round(w, 1000));
	CHECK_EQ(flood->hold.turns, 11);
	post(calm, 3);
	wr(calm, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK(virtio_worker_round(w, 1000));
	CHECK_EQ(calm->hold.turns, 1);
	CHECK_EQ(calm->hold.taken, 1);
	CHECK_EQ(flood->hold.turns, 12);
	/* a round with no notification and a flooder: no waiting */
	CHECK(virtio_worker_round(w, -1));
	CHECK_EQ(calm->hold.turns, 1);
	virtio_worker_stop(w);
	CHECK(!virtio_worker_round(w, -1));
	hold_complete(flood);
	hold_complete(calm);
	virtio_worker_destroy(w);
	rig_free(flood);
	rig_free(calm);
}

/*
 * A queue handed to vhost: its doorbell's eventfd stays someone else's
 * (passt dies reading an empty one), so the worker neither serves the
 * queue nor reads the count.
 */
static void test_worker_detach(void)
{
	struct rig *r = rig_new(false);
	struct virtio_worker *w = NULL;
	uint64_t cnt = 0;

	REQUIRE(r);
	REQUIRE(!virtio_worker_create(&w));
	CHECK_EQ(virtio_worker_add(w, r->d), 0);
	CHECK_EQ(virtio_worker_detach(w, 1), -EINVAL);
	CHECK_EQ(virtio_worker_detach(w, 0), 0);
	REQUIRE(bring_up(r));
	post(r, 3);
	wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK(virtio_worker_round(w, 50));
	CHECK_EQ(r->hold.turns, 0);
	/* the doorbell's count is still there for its owner */
	CHECK_EQ(read(virtio_worker_fd(w, 0), &cnt, sizeof(cnt)),
		 (ssize_t)sizeof(cnt));
	CHECK_EQ(cnt, 1);
	virtio_worker_destroy(w);
	rig_free(r);
}

UNIT_SUITE(vrace, UNIT_TEST(test_queue_sel_vs_ready),
	   UNIT_TEST(test_reset_vs_doorbell), UNIT_TEST(test_inflight_capped),
	   UNIT_TEST(test_shutdown_ends_reset_wait),
	   UNIT_TEST(test_intx_shared), UNIT_TEST(test_worker_fair),
	   UNIT_TEST(test_worker_detach));
