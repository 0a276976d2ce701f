// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/term.c's Ctrl-A filter and hw/console.c's input ring. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/console.h"
#include "lkvm/term.h"
#include "unit.h"

static size_t filter(struct term_escape *e, const char *in, size_t n,
		     uint8_t *out, bool *quit)
{
	return term_filter(e, (const uint8_t *)in, n, out, quit);
}

static void test_plain_bytes(void)
{
	struct term_escape e = { 0 };
	uint8_t out[16];
	bool quit = true;

	CHECK_EQ(filter(&e, "ls -l\r", 6, out, &quit), 6);
	CHECK(!quit);
	CHECK(!memcmp(out, "ls -l\r", 6));
	CHECK_EQ(filter(&e, "", 0, out, &quit), 0);
	CHECK(!quit);
}

static void test_ctrl_a_x_quits(void)
{
	struct term_escape e = { 0 };
	uint8_t out[16];
	bool quit = false;

	CHECK_EQ(filter(&e, "ab\x01xcd", 6, out, &quit), 2);
	CHECK(quit);
	CHECK(!memcmp(out, "ab", 2));
	CHECK(!e.armed);
	/* upper case too */
	quit = false;
	CHECK_EQ(filter(&e, "\x01X", 2, out, &quit), 0);
	CHECK(quit);
	/* a later call starts afresh */
	CHECK_EQ(filter(&e, "q", 1, out, &quit), 1);
	CHECK(!quit);
}

static void test_ctrl_a_twice(void)
{
	struct term_escape e = { 0 };
	uint8_t out[16];
	bool quit = false;

	CHECK_EQ(filter(&e, "\x01\x01x", 3, out, &quit), 2);
	CHECK(!quit);
	CHECK_EQ(out[0], 0x01);
	CHECK_EQ(out[1], 'x');
	CHECK(!e.armed);
	/* four Ctrl-A are two */
	CHECK_EQ(filter(&e, "\x01\x01\x01\x01", 4, out, &quit), 2);
	CHECK(!memcmp(out, "\x01\x01", 2));
	CHECK(!e.armed);
}

static void test_ctrl_a_other(void)
{
	struct term_escape e = { 0 };
	uint8_t out[16];
	bool quit = false;

	CHECK_EQ(filter(&e,
			"\x01"
			"c!",
			3, out, &quit),
		 3);
	CHECK(!quit);
	CHECK(!memcmp(out,
		      "\x01"
		      "c!",
		      3));
	CHECK_EQ(filter(&e, "\x01\x03", 2, out, &quit), 2);
	CHECK(!memcmp(out, "\x01\x03", 2));
}

static void test_split_escape(void)
{
	struct term_escape e = { 0 };
	uint8_t out[16];
	bool quit = false;

	CHECK_EQ(filter(&e, "a\x01", 2, out, &quit), 1);
	CHECK(e.armed);
	CHECK(!quit);
	CHECK_EQ(filter(&e, "x", 1, out, &quit), 0);
	CHECK(quit);

	e.armed = false;
	CHECK_EQ(filter(&e, "\x01", 1, out, &quit), 0);
	CHECK_EQ(filter(&e, "\x01", 1, out, &quit), 1);
	CHECK_EQ(out[0], 0x01);
	CHECK_EQ(filter(&e, "\x01", 1, out, &quit), 0);
	CHECK_EQ(filter(&e, "", 0, out, &quit), 0);
	CHECK(e.armed);
	CHECK_EQ(filter(&e, "z", 1, out, &quit), 2);
	CHECK(!memcmp(out, "\x01z", 2));
	CHECK(!quit);
}

static void test_console_input_order(void)
{
	struct console *c = malloc(sizeof(*c));
	uint8_t buf[16];

	REQUIRE(c);
	console_init(c, -1);
	CHECK_EQ(console_read(c, buf, sizeof(buf)), 0);
	console_input(c, (const uint8_t *)"hello", 5);
	console_input(c, (const uint8_t *)" you", 4);
	CHECK_EQ(console_read(c, buf, 3), 3);
	CHECK(!memcmp(buf, "hel", 3));
	CHECK_EQ(console_read(c, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "lo you", 6));
	CHECK_EQ(console_read(c, buf, sizeof(buf)), 0);
	CHECK_EQ(c->dropped, 0);
	console_destroy(c);
	free(c);
}

static void test_console_ring_full(void)
{
	struct console *c = malloc(sizeof(*c));
	uint8_t *big = malloc(CONSOLE_RING + 100), buf[8];
	size_t i;

	if (!CHECK(c && big))
		goto out;
	for (i = 0; i < CONSOLE_RING + 100; i++)
		big[i] = (uint8_t)(i * 7);
	console_init(c, -1);
	/* wrap the ring first, so the full ring spans its end */
	console_input(c, big, 10);
	CHECK_EQ(console_read(c, buf, 8), 8);
	console_input(c, big, CONSOLE_RING + 100);
	CHECK_EQ(c->len, CONSOLE_RING);
	CHECK_EQ(c->dropped, 100 + 2);
	console_input(c, (const uint8_t *)"x", 1);
	CHECK_EQ(c->dropped, 103);
	/* what was kept comes out in order: the 2 old bytes first */
	CHECK_EQ(console_read(c, buf, 2), 2);
	CHECK_EQ(buf[0], (uint8_t)(8 * 7));
	CHECK_EQ(buf[1], (uint8_t)(9 * 7));
	for (i = 0; i < CONSOLE_RING - 2; i++) {
		if (console_read(c, buf, 1) != 1 ||
		    buf[0] != (uint8_t)(i * 7)) {
			unit_fail(__FILE__, __LINE__, "ring order at %zu", i);
			break;
		}
	}
	CHECK_EQ(console_read(c, buf, 1), 0);
	console_destroy(c);
out:
	free(big);
	free(c);
}

static void test_console_write(void)
{
	struct console *c = malloc(sizeof(*c));
	int fds[2];
	char buf[16] = "";

	REQUIRE(c);
	if (!CHECK_EQ(pipe(fds), 0)) {
		free(c);
		return;
	}
	console_init(c, fds[1]);
	console_write(c, (const uint8_t *)"boot ok", 7);
	CHECK_EQ(read(fds[0], buf, sizeof(buf)), 7);
	CHECK(!memcmp(buf, "boot ok", 7));
	close(fds[0]);
	close(fds[1]);
	/* a closed output is ignored, not an endless loop */
	console_write(c, (const uint8_t *)"lost", 4);
	console_destroy(c);
	free(c);
}

/* Bytes readable from fd within ms milliseconds (0 when none). */
static ssize_t read_within(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return read(fd, buf, len);
}

/* Read exactly len bytes from fd, waiting up to 2 s in all. */
static bool read_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int i;

	for (i = 0; i < 20 && got < len; i++) {
		n = read_within(fd, buf + got, len - got, 100);
		if (n > 0)
			got += (size_t)n;
	}
	return got == len;
}

static void test_console_buffered(void)
{
	struct console *c = malloc(sizeof(*c));
	int fds[2];
	char buf[64] = "";

	REQUIRE(c);
	if (!CHECK_EQ(pipe(fds), 0)) {
		free(c);
		return;
	}
	console_init(c, fds[1]);
	CHECK_EQ(console_buffer_output(c), 0);
	/* a line goes out after its newline, in order */
	console_write(c, (const uint8_t *)"bo", 2);
	console_write(c, (const uint8_t *)"ot\r\n", 4);
	CHECK(read_exact(fds[0], buf, 6));
	CHECK(!memcmp(buf, "boot\r\n", 6));
	/* a prompt without a newline shows after the delay */
	console_write(c, (const uint8_t *)"# ", 2);
	CHECK(read_exact(fds[0], buf, 2));
	CHECK(!memcmp(buf, "# ", 2));
	/* ... and again after that (the writer re-arms) */
	console_write(c, (const uint8_t *)"$", 1);
	CHECK(read_exact(fds[0], buf, 1));
	CHECK_EQ(buf[0], '$');
	/* a drain returns once what waits is written */
	console_write(c, (const uint8_t *)"ab", 2);
	console_drain(c);
	CHECK_EQ(read_within(fds[0], buf, sizeof(buf), 0), 2);
	/* destroy writes out the rest */
	console_write(c, (const uint8_t *)"end", 3);
	console_destroy(c);
	CHECK_EQ(read_within(fds[0], buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "end", 3));
	CHECK_EQ(c->out_dropped, 0);
	close(fds[0]);
	close(fds[1]);
	free(c);
}

/* Elapsed milliseconds since *t0. */
static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * An output nobody reads (a full pipe): writers never block, the excess is
 * dropped and counted, and destroy gives up after CONSOLE_OUT_DRAIN_MS.
 */
static void test_console_stuck_output(void)
{
	struct console *c = malloc(sizeof(*c));
	static uint8_t chunk[4096];
	struct timespec t0;
	int fds[2], i;

	REQUIRE(c);
	if (!CHECK_EQ(pipe(fds), 0)) {
		free(c);
		return;
	}
	memset(chunk, 'x', sizeof(chunk));
	chunk[sizeof(chunk) - 1] = '\n';
	console_init(c, fds[1]);
	CHECK_EQ(console_buffer_output(c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* 64 MiB: far more than the pipe and the ring hold */
	for (i = 0; i < 16384; i++)
		console_write(c, chunk, sizeof(chunk));
	CHECK(ms_since(&t0) < 5000); /* it would block for ever otherwise */
	CHECK(console_dropped(c) > 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	console_destroy(c);
	CHECK(ms_since(&t0) < CONSOLE_OUT_DRAIN_MS + 1000);
	close(fds[0]);
	close(fds[1]);
	free(c);
}

/* A reader that went away (EPIPE with SIGPIPE ignored): output ends,
 * writers go on. */
static void test_console_reader_gone(void)
{
	struct console *c = malloc(sizeof(*c));
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int fds[2];

	REQUIRE(c);
	if (!CHECK_EQ(pipe(fds), 0)) {
		free(c);
		return;
	}
	console_init(c, fds[1]);
	CHECK_EQ(console_buffer_output(c), 0);
	close(fds[0]);
	console_write(c, (const uint8_t *)"lost\n", 5);
	console_drain(c);
	console_write(c, (const uint8_t *)"also\n", 5);
	console_drain(c);
	CHECK_EQ(console_dropped(c), 10);
	console_destroy(c);
	close(fds[1]);
	signal(SIGPIPE, old);
	free(c);
}

/* More than the buffer holds, without a newline: all of it, in order. */
static void test_console_buffer_full(void)
{
	struct console *c = malloc(sizeof(*c));
	size_t big = 3 * CONSOLE_OUT_BUF, i, got = 0;
	uint8_t *in = malloc(big), *out = malloc(big + 1);
	int fds[2];
	ssize_t n;

	if (!CHECK(c && in && out) || !CHECK_EQ(pipe(fds), 0))
		goto out;
	for (i = 0; i < big; i++)
		in[i] = (uint8_t)('a' + i % 26);
	/* the pipe must hold it all: this thread writes and reads */
	fcntl(fds[1], F_SETPIPE_SZ, (int)(4 * big));
	console_init(c, fds[1]);
	CHECK_EQ(console_buffer_output(c), 0);
	for (i = 0; i < big; i += 100)
		console_write(c, in + i, i + 100 <= big ? 100 : big - i);
	console_write(c, in, 1);
	console_destroy(c);
	while ((n = read_within(fds[0], (char *)out + got, big + 1 - got, 0)) >
	       0)
		got += (size_t)n;
	CHECK_EQ(got, big + 1);
	CHECK(!memcmp(out, in, big));
	CHECK_EQ(out[big], 'a');
	close(fds[0]);
	close(fds[1]);
out:
	free(in);
	free(out);
	free(c);
}

UNIT_SUITE(term, UNIT_TEST(test_plain_bytes), UNIT_TEST(test_ctrl_a_x_quits),
	   UNIT_TEST(test_ctrl_a_twice), UNIT_TEST(test_ctrl_a_other),
	   UNIT_TEST(test_split_escape), UNIT_TEST(test_console_input_order),
	   UNIT_TEST(test_console_ring_full), UNIT_TEST(test_console_write),
	   UNIT_TEST(test_console_buffered),
	   UNIT_TEST(test_console_stuck_output),
	   UNIT_TEST(test_console_reader_gone),
	   UNIT_TEST(test_console_buffer_full));
