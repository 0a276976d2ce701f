// SPDX-License-Identifier: GPL-2.0-only
/* The guest console's host side: output, and an input queue to the guest. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/console.h"
#include "lkvm/seccomp.h"
#include "lkvm/uart.h"

void console_init(struct console *c, int out_fd)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&c->lock, NULL);
	c->out_fd = out_fd;
	c->head = c->len = 0;
	c->dropped = 0;
	c->uart = NULL;
	pthread_mutex_init(&c->out_lock, NULL);
	/* deadlines are on the monotonic clock: wall-clock steps must not
	 * hold output back */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->out_cond, &attr);
	pthread_cond_init(&c->out_idle, &attr);
	pthread_condattr_destroy(&attr);
	c->out_head = c->out_len = 0;
	c->out_dropped = 0;
	c->out_now = c->out_buffered = c->out_stop = c->out_dead = false;
}

void console_destroy(struct console *c)
{
	if (c->out_buffered) {
		pthread_mutex_lock(&c->out_lock);
		/* atomic: the writer also looks while it waits to write */
		__atomic_store_n(&c->out_stop, true, __ATOMIC_RELEASE);
		pthread_cond_signal(&c->out_cond);
		pthread_mutex_unlock(&c->out_lock);
		pthread_join(c->flusher, NULL);
	}
	pthread_cond_destroy(&c->out_idle);
	pthread_cond_destroy(&c->out_cond);
	pthread_mutex_destroy(&c->out_lock);
	pthread_mutex_destroy(&c->lock);
}

/* write(2) all of buf, unbuffered mode; out_lock held. */
static void out_write_all(struct console *c, const uint8_t *buf, size_t len)
{
	while (len && !c->out_dead) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* output gone: the guest must not stall */
			c->out_dead = true;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (len)
		c->out_dropped += len;
}

static struct timespec ts_after(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool ts_passed(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	size_t room, n, tail, k;
	bool now;

	pthread_mutex_lock(&c->out_lock);
	if (!c->out_buffered) {
		out_write_all(c, buf, len);
		goto out;
	}
	if (c->out_dead) {
		c->out_dropped += len;
		goto out;
	}
	room = CONSOLE_OUT_RING - c->out_len;
	n = len < room ? len : room;
	c->out_dropped += len - n;
	if (!n)
		goto out;
	if (!c->out_len)
		clock_gettime(CLOCK_MONOTONIC, &c->out_since);
	tail = (c->out_head + c->out_len) % CONSOLE_OUT_RING;
	k = n < CONSOLE_OUT_RING - tail ? n : CONSOLE_OUT_RING - tail;
	memcpy(c->out + tail, buf, k);
	memcpy(c->out, buf + k, n - k);
	/* a wake-up for the first byte (its deadline starts) and for the
	 * first reason to write now; none for bytes in between */
	now = memchr(buf, '\n', n) || c->out_len + n >= CONSOLE_OUT_BUF;
	if (!c->out_len || (now && !c->out_now)) {
		c->out_now |= now;
		pthread_cond_signal(&c->out_cond);
	}
	c->out_len += n;
out:
	pthread_mutex_unlock(&c->out_lock);
}

/*
 * Write up to len bytes of p, waiting for the output to take them. Once
 * the console is stopping, waits no longer than CONSOLE_OUT_DRAIN_MS from
 * the first time it saw the stop (*stop_dl, set then). Returns the bytes
 * written, 0 when that deadline passed, -1 when the output failed.
 */
static ssize_t out_write_some(struct console *c, const uint8_t *p, size_t len,
			      struct timespec *stop_dl, bool *stopping)
{
	struct pollfd pfd = { .fd = c->out_fd, .events = POLLOUT };
	ssize_t n;

	for (;;) {
		if (!*stopping &&
		    __atomic_load_n(&c->out_stop, __ATOMIC_ACQUIRE)) {
			*stopping = true;
			clock_gettime(CLOCK_MONOTONIC, stop_dl);
			*stop_dl = ts_after(*stop_dl, CONSOLE_OUT_DRAIN_MS);
		}
		if (*stopping && ts_passed(stop_dl))
			return 0;
		/* POLLOUT first: the write below then does not block for
		 * long on a pipe or terminal whose reader stopped */
		if (poll(&pfd, 1, 100) == 0)
			continue;
		if (pfd.revents & (POLLERR | POLLNVAL))
			return -1;
		n = write(c->out_fd, p,
			  len < CONSOLE_OUT_BUF ? len : CONSOLE_OUT_BUF);
		if (n > 0)
			return n;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return -1;
	}
}

/*
 * The writer thread: waits for bytes and a reason to write them (a
 * newline, a full buffer, the delay, a drain or the stop), then writes
 * them without out_lock. After the stop it writes what is left within
 * CONSOLE_OUT_DRAIN_MS and drops the rest.
 */
static void *console_flusher(void *arg)
{
	struct console *c = arg;
	struct timespec dl, stop_dl = { 0, 0 };
	bool stopping = false;
	size_t k;
	ssize_t n;

	seccomp_thread_start(SECCOMP_THREAD_CONSOLE, "console");
	pthread_mutex_lock(&c->out_lock);
	for (;;) {
		/* started at set-up, before the filter: its own now */
		seccomp_thread_update();
		if (!stopping &&
		    __atomic_load_n(&c->out_stop, __ATOMIC_ACQUIRE)) {
			stopping = true;
			clock_gettime(CLOCK_MONOTONIC, &stop_dl);
			stop_dl = ts_after(stop_dl, CONSOLE_OUT_DRAIN_MS);
		}
		if (!c->out_len || c->out_dead) {
			c->out_dropped += c->out_len;
			c->out_head = c->out_len = 0;
			c->out_now = false;
			pthread_cond_broadcast(&c->out_idle);
			if (stopping)
				break;
			pthread_cond_wait(&c->out_cond, &c->out_lock);
			continue;
		}
		if (!c->out_now && !stopping) {
			dl = ts_after(c->out_since, CONSOLE_OUT_DELAY_MS);
			if (pthread_cond_timedwait(&c->out_cond, &c->out_lock,
						   &dl) != ETIMEDOUT)
				continue;
			c->out_now = true; /* the delay is over: all of it */
		}
		k = CONSOLE_OUT_RING - c->out_head;
		k = c->out_len < k ? c->out_len : k;
		pthread_mutex_unlock(&c->out_lock);
		n = out_write_some(c, c->out + c->out_head, k, &stop_dl,
				   &stopping);
		pthread_mutex_lock(&c->out_lock);
		if (n < 0 || (n == 0 && stopping))
			c->out_dead = true; /* dropped at the top */
		if (n > 0) {
			c->out_head =
				(c->out_head + (size_t)n) % CONSOLE_OUT_RING;
			c->out_len -= (size_t)n;
			clock_gettime(CLOCK_MONOTONIC, &c->out_since);
		}
	}
	pthread_mutex_unlock(&c->out_lock);
	return NULL;
}

void console_drain(struct console *c)
{
	struct timespec dl;

	pthread_mutex_lock(&c->out_lock);
	if (c->out_buffered && c->out_len) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl = ts_after(dl, CONSOLE_OUT_DRAIN_MS);
		c->out_now = true;
		pthread_cond_signal(&c->out_cond);
		while (c->out_len && !c->out_dead)
			if (pthread_cond_timedwait(&c->out_idle, &c->out_lock,
						   &dl) == ETIMEDOUT) {
				/* stuck: drop the rest, so that exiting
				 * does not wait for it again */
				c->out_dead = true;
				pthread_cond_signal(&c->out_cond);
				break;
			}
	}
	pthread_mutex_unlock(&c->out_lock);
}

unsigned long long console_dropped(struct console *c)
{
	unsigned long long n;

	pthread_mutex_lock(&c->out_lock);
	n = c->out_dropped;
	pthread_mutex_unlock(&c->out_lock);
	return n;
}

int console_buffer_output(struct console *c)
{
	int ret;

	if (c->out_buffered)
		return 0;
	/* set before the thread runs: it reads it under out_lock only */
	pthread_mutex_lock(&c->out_lock);
	c->out_buffered = true;
	pthread_mutex_unlock(&c->out_lock);
	ret = pthread_create(&c->flusher, NULL, console_flusher, c);
	if (ret) {
		pthread_mutex_lock(&c->out_lock);
		c->out_buffered = false;
		pthread_mutex_unlock(&c->out_lock);
		return -ret;
	}
	return 0;
}

/* Take up to len bytes from the ring; lock held. */
static size_t ring_take(struct console *c, uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && c->len) {
		buf[n++] = c->ring[c->head];
		c->head = (c->head + 1) % CONSOLE_RING;
		c->len--;
	}
	return n;
}

/* Put a taken byte back at the front; lock held and room known. */
static void ring_untake(struct console *c, const uint8_t *buf, size_t n)
{
	while (n--) {
		c->head = (c->head + CONSOLE_RING - 1) % CONSOLE_RING;
		c->ring[c->head] = buf[n];
		c->len++;
	}
}

void console_flush(struct console *c)
{
	uint8_t buf[64];
	size_t n, done;

	if (!c->uart)
		return;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		n = ring_take(c, buf, sizeof(buf));
		if (!n)
			break;
		done = uart_rx_push(c->uart, buf, n);
		if (done < n) {
			ring_untake(c, buf + done, n - done);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void console_input(struct console *c, const uint8_t *buf, size_t len)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < len; i++) {
		if (c->len == CONSOLE_RING) {
			c->dropped += len - i;
			break;
		}
		c->ring[(c->head + c->len) % CONSOLE_RING] = buf[i];
		c->len++;
	}
	pthread_mutex_unlock(&c->lock);
	console_flush(c);
}

size_t console_read(struct console *c, uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = ring_take(c, buf, len);
	pthread_mutex_unlock(&c->lock);
	return n;
}
