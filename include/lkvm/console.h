/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest console's host side: output to a file descriptor, and host
 * input queued until the guest takes it, through the 8250 (pushed into its
 * FIFO as room appears) or through SBI getchar / DBCN read (pulled).
 */
#ifndef LKVM_CONSOLE_H
#define LKVM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CONSOLE_RING 65536
/* Buffered output waits in a ring of this size for the writer thread; a
 * guest that writes faster than the output drains loses the excess. */
#define CONSOLE_OUT_RING 65536
/* A partial line is written when this many bytes wait, ... */
#define CONSOLE_OUT_BUF 4096
/* ... or this long after the first of them. */
#define CONSOLE_OUT_DELAY_MS 10
/* At exit, output that cannot be written within this long is dropped. */
#define CONSOLE_OUT_DRAIN_MS 500

struct uart;

struct console {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ring[CONSOLE_RING];
	size_t head, len;
	unsigned long dropped;
	struct uart *uart; /* when set, input goes to its FIFO */

	/*
	 * Output. Unbuffered, console_write() writes at once. Buffered
	 * (console_buffer_output()), writers only copy into out[] under
	 * out_lock; the writer thread alone calls write(2), without the
	 * lock, so a slow or stuck output never blocks a vCPU.
	 */
	pthread_mutex_t out_lock;
	pthread_cond_t out_cond; /* to the writer: bytes, a flush, stop */
	pthread_cond_t out_idle; /* from the writer: out[] emptied */
	uint8_t out[CONSOLE_OUT_RING];
	size_t out_head, out_len;
	struct timespec out_since; /* when the oldest waiting byte came */
	bool out_now; /* a newline or a drain: write without waiting */
	bool out_buffered; /* the writer thread runs */
	bool out_stop;
	bool out_dead; /* the output failed (EPIPE...): drop from now on */
	unsigned long long out_dropped; /* bytes lost: ring full or dead */
	pthread_t flusher;
};

void console_init(struct console *c, int out_fd);
/* Stop buffering (writing out what is pending) and free c's resources. */
void console_destroy(struct console *c);

/*
 * Send all of buf to the host output, in order with every other caller.
 * Unbuffered, the bytes are written at once (retrying short writes; a
 * broken output drops them). Buffered, they are copied into the output
 * ring and this never blocks on the output: the writer thread writes them
 * when they complete a line, when CONSOLE_OUT_BUF bytes wait, or
 * CONSOLE_OUT_DELAY_MS after the oldest waiting byte arrived (a prompt
 * without a newline still shows at once to a human, while a boot log
 * costs a write(2) per line, not per byte). Bytes that do not fit in the
 * ring, or come after the output failed, are dropped and counted.
 * Thread-safe.
 */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/*
 * Buffer the output from now on; starts the writer thread. Returns 0, or
 * the pthread error negated (output then stays unbuffered).
 */
int console_buffer_output(struct console *c);

/* Write out buffered output now, waiting at most CONSOLE_OUT_DRAIN_MS;
 * what is still waiting then is dropped (the output is stuck). */
void console_drain(struct console *c);

/* Bytes of output dropped so far. */
unsigned long long console_dropped(struct console *c);

/* Queue host input, then move what fits into the UART. Input beyond the
 * ring's room is dropped and counted. */
void console_input(struct console *c, const uint8_t *buf, size_t len);

/* Move queued input into the UART's FIFO as far as it has room. */
void console_flush(struct console *c);

/* Take up to len queued bytes (SBI console reads). Returns the count. */
size_t console_read(struct console *c, uint8_t *buf, size_t len);

#endif
