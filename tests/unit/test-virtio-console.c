// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/console.c: transmit, receive, malformed chains. */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "lkvm/compiler.h"
#include "lkvm/console.h"
#include "lkvm/virtio-devs.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define QSIZE 16
#define RXQ 0
#define TXQ 1
/* each queue's rings, page-aligned: queue q at RING_GPA(q) */
#define RING_GPA(q) (GUEST_RAM_BASE + 0x10000 + 0x10000ULL * (q))
#define DESC_GPA(q) RING_GPA(q)
#define AVAIL_GPA(q) (RING_GPA(q) + 0x4000)
#define USED_GPA(q) (RING_GPA(q) + 0x5000)
#define BUF_GPA (GUEST_RAM_BASE + 0x40000) /* data buffers, 4 KiB each */
#define BUF_SIZE 0x1000
#define BUF(i) (BUF_GPA + (uint64_t)BUF_SIZE * (i))

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE

struct tc {
	struct guest g;
	struct console con;
	int pipe[2]; /* console output: written to [1], read from [0] */
	struct virtio_dev *d;
	struct vdrv v; /* the driver, through the core helpers */
	struct drvq q[2]; /* receiveq, transmitq */
};

/* Reset, negotiate every offered feature, enable both queues on fresh
 * rings, DRIVER_OK when driver_ok. */
static bool tc_enable(struct tc *t, bool driver_ok)
{
	vdrv_reset(&t->v);
	if (!CHECK_EQ(vdrv_setup(&t->v, ~0ULL, t->q, 2), 0))
		return false;
	if (driver_ok && !CHECK_EQ(vdrv_driver_ok(&t->v), 0))
		return false;
	return virtio_dev_live(t->d) == driver_ok;
}

static void tc_free(struct tc *t)
{
	if (!t)
		return;
	virtio_console_destroy(t->d);
	console_destroy(&t->con);
	if (t->pipe[0] >= 0)
		close(t->pipe[0]);
	if (t->pipe[1] >= 0)
		close(t->pipe[1]);
	guest_destroy(&t->g);
	free(t);
}

static struct tc *tc_new_opts(bool driver_ok)
{
	struct tc *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->pipe[0] = t->pipe[1] = -1;
	console_init(&t->con, -1);
	if (guest_init(&t->g, GUEST_RAM_BASE, GUEST_RAM_SIZE) ||
	    pipe2(t->pipe, O_CLOEXEC) || fcntl(t->pipe[0], F_SETFL, O_NONBLOCK))
		goto fail;
	t->con.out_fd = t->pipe[1];
	if (virtio_console_create(&t->g.mem, (struct irq_line){ 0 }, &t->con,
				  &t->d))
		goto fail;
	vdrv_init_core(&t->v, t->d);
	drvq_init(&t->q[RXQ], &t->g, QSIZE, DESC_GPA(RXQ), AVAIL_GPA(RXQ),
		  USED_GPA(RXQ));
	drvq_init(&t->q[TXQ], &t->g, QSIZE, DESC_GPA(TXQ), AVAIL_GPA(TXQ),
		  USED_GPA(TXQ));
	if (!tc_enable(t, driver_ok))
		goto fail;
	return t;
fail:
	tc_free(t);
	return NULL;
}

static struct tc *tc_new(void)
{
	return tc_new_opts(true);
}

/* Post one single-buffer receive chain of len bytes at BUF(slot). */
static void tc_post_rx(struct tc *t, uint16_t slot, uint32_t len)
{
	drvq_post_buf(&t->q[RXQ], slot, BUF(slot), len, F_WRITE);
}

/* Everything written to the console so far (non-blocking). */
static size_t drain_out(struct tc *t, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(t->pipe[0], buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

static void host_input(struct tc *t, const char *s)
{
	console_input(&t->con, (const uint8_t *)s, strlen(s));
}

static void test_identity(void)
{
	struct tc *t = tc_new();
	struct virtio_dev *d;

	REQUIRE(t);
	d = t->d;
	CHECK_EQ(virtio_dev_ops(d)->device_id, VIRTIO_ID_CONSOLE);
	CHECK_EQ(virtio_dev_ops(d)->nr_queues, 2);
	CHECK_EQ(virtio_dev_ops(d)->config_size,
		 sizeof(struct virtio_console_config));
	CHECK(!(virtio_dev_features(d) & (1ULL << VIRTIO_CONSOLE_F_SIZE)));
	CHECK(!(virtio_dev_features(d) & (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)));
	CHECK(!(virtio_dev_features(d) &
		(1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE)));
	CHECK(virtio_dev_features(d) & (1ULL << VIRTIO_F_VERSION_1));
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 0, 2), 0); /* cols */
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 2, 2), 0); /* rows */
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 4, 4), 1); /* max_nr_ports */
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 0, 8), 0x100000000ULL);
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 12, 1),
		 0); /* past the end */
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, 10, 4), 0);
	CHECK_EQ(virtio_dev_ops(d)->config_read(d, UINT32_MAX, 4), 0);
	virtio_dev_ops(d)->config_write(d, 8, 4,
					'x'); /* emerg_wr: not offered */
	CHECK_EQ(drain_out(t, (char[4]){ 0 }, 4), 0);
	tc_free(t);
}

static void test_tx_multi_buffer(void)
{
	struct tc *t = tc_new();
	char out[64];

	REQUIRE(t);
	memcpy(guest_ptr(&t->g, BUF(0), BUF_SIZE), "hello, ", 7);
	memcpy(guest_ptr(&t->g, BUF(1), BUF_SIZE), "virtio ", 7);
	memcpy(guest_ptr(&t->g, BUF(2), BUF_SIZE), "console", 7);
	guest_fill(&t->g, BUF(3), 0xee, 16);
	drvq_put_desc(&t->q[TXQ], 0, BUF(0), 7, F_NEXT, 5);
	drvq_put_desc(&t->q[TXQ], 5, BUF(1), 7, F_NEXT, 2);
	drvq_put_desc(&t->q[TXQ], 2, BUF(2), 7, F_NEXT, 3);
	/* a writable buffer on transmitq: ignored, left untouched */
	drvq_put_desc(&t->q[TXQ], 3, BUF(3), 16, F_WRITE, 0);
	drvq_avail(&t->q[TXQ], 0);
	memcpy(guest_ptr(&t->g, BUF(4), BUF_SIZE), "!\n", 2);
	drvq_put_desc(&t->q[TXQ], 7, BUF(4), 2, 0, 0);
	drvq_avail(&t->q[TXQ], 7);
	virtio_notify(t->d, TXQ);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 2);
	CHECK_EQ(drvq_used_id(&t->q[TXQ], 0), 0);
	CHECK_EQ(drvq_used_len(&t->q[TXQ], 0), 0);
	CHECK_EQ(drvq_used_id(&t->q[TXQ], 1), 7);
	CHECK_EQ(drvq_used_len(&t->q[TXQ], 1), 0);
	CHECK_EQ(guest_get8(&t->g, BUF(3)), 0xee);
	CHECK_EQ(drain_out(t, out, sizeof(out)), 23);
	CHECK(!memcmp(out, "hello, virtio console!\n", 23));
	CHECK(virtio_isr_peek(t->d) & VIRTIO_ISR_QUEUE);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	tc_free(t);
}

static void test_rx_no_input(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	tc_post_rx(t, 0, 8);
	virtio_notify(t->d, RXQ);
	virtio_console_input(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	CHECK_EQ(virtio_queue_copy(t->d, RXQ).last_avail, 0); /* not popped */
	CHECK_EQ(virtio_isr_peek(t->d), 0);
	/* the chain is still there for later input */
	host_input(t, "k");
	virtio_console_input(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), 1);
	CHECK_EQ(guest_get8(&t->g, BUF(0)), 'k');
	tc_free(t);
}

static void test_rx_input_then_buffer(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	host_input(t, "hello");
	virtio_console_input(t->d); /* nothing posted yet */
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	tc_post_rx(t, 3, 64);
	virtio_notify(t->d, RXQ);
	REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1));
	CHECK_EQ(drvq_used_id(&t->q[RXQ], 0), 3);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), 5);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(3), BUF_SIZE), "hello", 5));
	CHECK(virtio_isr_peek(t->d) & VIRTIO_ISR_QUEUE);
	tc_free(t);
}

static void test_rx_buffer_then_input(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	tc_post_rx(t, 1, 64);
	virtio_notify(t->d, RXQ);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	host_input(t, "ls\n");
	virtio_console_input(t->d);
	REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1));
	CHECK_EQ(drvq_used_id(&t->q[RXQ], 0), 1);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), 3);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(1), BUF_SIZE), "ls\n", 3));
	tc_free(t);
}

static void test_rx_spans_buffers(void)
{
	struct tc *t = tc_new();
	uint16_t i;

	REQUIRE(t);
	for (i = 0; i < 4; i++)
		tc_post_rx(t, i, 4);
	host_input(t, "0123456789");
	virtio_console_input(t->d);
	REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 3));
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), 4);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 1), 4);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 2), 2);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(0), BUF_SIZE), "0123", 4));
	CHECK(!memcmp(guest_ptr(&t->g, BUF(1), BUF_SIZE), "4567", 4));
	CHECK(!memcmp(guest_ptr(&t->g, BUF(2), BUF_SIZE), "89", 2));
	CHECK_EQ(virtio_queue_copy(t->d, RXQ).last_avail,
		 3); /* the 4th stays posted */
	host_input(t, "ab");
	virtio_console_input(t->d);
	REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 4));
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 3), 2);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(3), BUF_SIZE), "ab", 2));
	tc_free(t);
}

/* More input than the buffers posted: the rest waits, in order. */
static void test_rx_backlog(void)
{
	struct tc *t = tc_new();
	char in[1000], got[1000];
	uint16_t n = 0, i;
	size_t off = 0;

	REQUIRE(t);
	for (i = 0; i < sizeof(in) - 1; i++)
		in[i] = (char)('a' + i % 26);
	in[sizeof(in) - 1] = 0;
	host_input(t, in);
	while (off < sizeof(in) - 1 && n < 200) {
		/* a two-buffer chain of 7 + 30 bytes each time */
		drvq_put_desc(&t->q[RXQ], 0, BUF(0), 7, F_WRITE | F_NEXT, 1);
		drvq_put_desc(&t->q[RXQ], 1, BUF(1), 30, F_WRITE, 0);
		drvq_avail(&t->q[RXQ], 0);
		virtio_notify(t->d, RXQ);
		REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), (uint16_t)(n + 1)));
		REQUIRE(drvq_used_len(&t->q[RXQ], n) > 0 &&
			drvq_used_len(&t->q[RXQ], n) <= 37);
		memcpy(got + off, guest_ptr(&t->g, BUF(0), BUF_SIZE),
		       drvq_used_len(&t->q[RXQ], n) < 7
			       ? drvq_used_len(&t->q[RXQ], n)
			       : 7);
		if (drvq_used_len(&t->q[RXQ], n) > 7)
			memcpy(got + off + 7,
			       guest_ptr(&t->g, BUF(1), BUF_SIZE),
			       drvq_used_len(&t->q[RXQ], n) - 7);
		off += drvq_used_len(&t->q[RXQ], n);
		n++;
	}
	CHECK_EQ(off, sizeof(in) - 1);
	CHECK(!memcmp(got, in, sizeof(in) - 1));
	/* drained: a further buffer waits */
	drvq_avail(&t->q[RXQ], 0);
	virtio_notify(t->d, RXQ);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), n);
	tc_free(t);
}

static void test_rx_not_live(void)
{
	struct tc *t = tc_new_opts(false);

	REQUIRE(t);
	tc_post_rx(t, 0, 8);
	host_input(t, "x");
	virtio_console_input(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	virtio_set_status(t->d,
			  virtio_get_status(t->d) | VIRTIO_CONFIG_S_DRIVER_OK);
	REQUIRE(virtio_dev_live(t->d));
	virtio_console_input(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	CHECK_EQ(guest_get8(&t->g, BUF(0)), 'x');
	tc_free(t);
}

/* Readable buffers on receiveq are skipped; a chain with no writable room
 * is handed back once with length 0 and input waits for the next. */
static void test_rx_odd_chains(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	drvq_put_desc(&t->q[RXQ], 0, BUF(0), 8, 0, 0);
	drvq_avail(&t->q[RXQ], 0);
	drvq_put_desc(&t->q[RXQ], 1, BUF(1), 4, F_NEXT, 2);
	drvq_put_desc(&t->q[RXQ], 2, BUF(2), 4, F_WRITE, 0);
	drvq_avail(&t->q[RXQ], 1);
	guest_fill(&t->g, BUF(1), 0xee, 4);
	host_input(t, "xyz");
	virtio_console_input(t->d);
	REQUIRE(CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 2));
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), 0);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 1), 3);
	CHECK_EQ(guest_get8(&t->g, BUF(1)), 0xee);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(2), BUF_SIZE), "xyz", 3));
	CHECK(virtio_dev_live(t->d));
	tc_free(t);
}

static void test_tx_malformed(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	drvq_put_desc(&t->q[TXQ], 0, BUF(0), 4, F_NEXT,
		      QSIZE); /* next out of range */
	drvq_avail(&t->q[TXQ], 0);
	virtio_notify(t->d, TXQ);
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(!virtio_dev_live(t->d));
	CHECK(virtio_isr_peek(t->d) & VIRTIO_ISR_CONFIG);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 0);
	/* broken: receive stops too */
	tc_post_rx(t, 0, 8);
	host_input(t, "x");
	virtio_console_input(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	/* a reset recovers, and the staged or queued input survives */
	REQUIRE(tc_enable(t, true));
	tc_post_rx(t, 0, 8);
	virtio_notify(t->d, RXQ);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	CHECK_EQ(guest_get8(&t->g, BUF(0)), 'x');
	tc_free(t);
}

static void test_rx_malformed(void)
{
	struct tc *t = tc_new();

	REQUIRE(t);
	drvq_avail(&t->q[RXQ], QSIZE + 3); /* head out of range */
	virtio_notify(t->d, RXQ);
	CHECK(virtio_dev_live(t->d)); /* no input: not looked at yet */
	host_input(t, "x");
	virtio_console_input(t->d);
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	tc_free(t);
}

struct stress {
	struct tc *t;
	unsigned int rounds;
};

static void *input_thread(void *arg)
{
	struct stress *s = arg;
	unsigned int i;

	for (i = 0; i < s->rounds; i++) {
		host_input(s->t, "z");
		virtio_console_input(s->t->d);
	}
	return NULL;
}

/* Input thread and transmit/receive notifies at once: no byte lost. */
static void test_threads(void)
{
	struct stress s = { .rounds = 2000 };
	unsigned int got = 0, i, spins = 0;
	char out[64];
	pthread_t th;
	uint16_t seen = 0;

	s.t = tc_new();
	REQUIRE(s.t);
	/* receive chains are re-posted as they come back */
	for (i = 0; i < QSIZE; i++)
		tc_post_rx(s.t, (uint16_t)i, 1);
	REQUIRE(!pthread_create(&th, NULL, input_thread, &s));
	memcpy(guest_ptr(&s.t->g, BUF(QSIZE), BUF_SIZE), "t", 1);
	while (got < s.rounds && spins++ < 10000000) {
		uint16_t u = drvq_used_idx(&s.t->q[RXQ]);

		for (; seen != u; seen++) {
			CHECK_EQ(drvq_used_len(&s.t->q[RXQ], seen), 1);
			got++;
			drvq_avail(&s.t->q[RXQ],
				   (uint16_t)drvq_used_id(&s.t->q[RXQ], seen));
		}
		drvq_put_desc(&s.t->q[TXQ], 0, BUF(QSIZE), 1, 0, 0);
		drvq_avail(&s.t->q[TXQ], 0);
		virtio_notify(s.t->d, TXQ);
		virtio_notify(s.t->d, RXQ);
		drain_out(s.t, out, sizeof(out));
	}
	pthread_join(th, NULL);
	CHECK_EQ(got, s.rounds);
	CHECK(virtio_dev_live(s.t->d));
	tc_free(s.t);
}

UNIT_SUITE(virtio_console, UNIT_TEST(test_identity),
	   UNIT_TEST(test_tx_multi_buffer), UNIT_TEST(test_rx_no_input),
	   UNIT_TEST(test_rx_input_then_buffer),
	   UNIT_TEST(test_rx_buffer_then_input),
	   UNIT_TEST(test_rx_spans_buffers), UNIT_TEST(test_rx_backlog),
	   UNIT_TEST(test_rx_not_live), UNIT_TEST(test_rx_odd_chains),
	   UNIT_TEST(test_tx_malformed), UNIT_TEST(test_rx_malformed),
	   UNIT_TEST(test_threads));
