// SPDX-License-Identifier: GPL-2.0-only
/* The guest console's host side: output, and an input queue to the guest. */
#include <errno.h>
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
	pthread_condattr_destroy(&attr);
	c->out_len = 0;
	c->out_buffered = c->out_armed = c->out_stop = false;
}

void console_destroy(struct console *c)
{
	if (c->out_buffered) {
		pthread_mutex_lock(&c->out_lock);
		c->out_stop = true;
		pthread_cond_signal(&c->out_cond);
		pthread_mutex_unlock(&c->out_lock);
		pthread_join(c->flusher, NULL);
	}
	console_drain(c);
	pthread_cond_destroy(&c->out_cond);
	pthread_mutex_destroy(&c->out_lock);
	pthread_mutex_destroy(&c->lock);
}

/* write(2) all of buf; out_lock held. */
static void out_write(struct console *c, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* output gone: the guest must not stall */
		buf += n;
		len -= (size_t)n;
	}
}

/* Write out the buffer; out_lock held. */
static void out_flush(struct console *c)
{
	out_write(c, c->out, c->out_len);
	c->out_len = 0;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&c->out_lock);
	if (!c->out_buffered) {
		out_write(c, buf, len);
	} else if (len > sizeof(c->out) - c->out_len) {
		out_flush(c);
		out_write(c, buf, len);
	} else {
		memcpy(c->out + c->out_len, buf, len);
		c->out_len += len;
		if (memchr(buf, '\n', len) || c->out_len == sizeof(c->out))
			out_flush(c);
	}
	/* A partial line waits for the flusher's deadline; while one runs,
	 * later bytes need no wake-up: one per burst, not one per line. */
	if (c->out_len && c->out_buffered && !c->out_armed) {
		c->out_armed = true;
		pthread_cond_signal(&c->out_cond);
	}
	pthread_mutex_unlock(&c->out_lock);
}

void console_drain(struct console *c)
{
	pthread_mutex_lock(&c->out_lock);
	out_flush(c);
	pthread_mutex_unlock(&c->out_lock);
}

/* Writes out a partial line CONSOLE_OUT_DELAY_MS after it was armed. */
static void *console_flusher(void *arg)
{
	struct console *c = arg;
	struct timespec dl;

	seccomp_thread_start(SECCOMP_THREAD_CONSOLE, "console");
	pthread_mutex_lock(&c->out_lock);
	while (!c->out_stop) {
		/* started at set-up, before the filter: its own now */
		seccomp_thread_update();
		if (!c->out_armed) {
			pthread_cond_wait(&c->out_cond, &c->out_lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += CONSOLE_OUT_DELAY_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		while (!c->out_stop &&
		       pthread_cond_timedwait(&c->out_cond, &c->out_lock,
					      &dl) != ETIMEDOUT)
			;
		out_flush(c);
		c->out_armed = false;
	}
	pthread_mutex_unlock(&c->out_lock);
	return NULL;
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
		c->out_buffered = c->out_armed = false;
		out_flush(c);
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
