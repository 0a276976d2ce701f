// SPDX-License-Identifier: GPL-2.0-only
/* The guest console's host side: output, and an input queue to the guest. */
#include <errno.h>
#include <unistd.h>

#include "lkvm/console.h"
#include "lkvm/uart.h"

void console_init(struct console *c, int out_fd)
{
	pthread_mutex_init(&c->lock, NULL);
	c->out_fd = out_fd;
	c->head = c->len = 0;
	c->dropped = 0;
	c->uart = NULL;
}

void console_destroy(struct console *c)
{
	pthread_mutex_destroy(&c->lock);
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
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
