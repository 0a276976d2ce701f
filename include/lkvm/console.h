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

#define CONSOLE_RING 65536
/* Buffered output: at most this many bytes wait for a newline, ... */
#define CONSOLE_OUT_BUF 4096
/* ... and for at most this long after the first of them. */
#define CONSOLE_OUT_DELAY_MS 10

struct uart;

struct console {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ring[CONSOLE_RING];
	size_t head, len;
	unsigned long dropped;
	struct uart *uart; /* when set, input goes to its FIFO */

	/* Output (console_buffer_output()); out_lock orders all writers. */
	pthread_mutex_t out_lock;
	pthread_cond_t out_cond;
	uint8_t out[CONSOLE_OUT_BUF];
	size_t out_len;
	bool out_buffered; /* the flusher thread runs */
	bool out_armed; /* the flusher has a deadline running */
	bool out_stop;
	pthread_t flusher;
};

void console_init(struct console *c, int out_fd);
/* Stop buffering (writing out what is pending) and free c's resources. */
void console_destroy(struct console *c);

/*
 * Send all of buf to the host output, in order with every other caller
 * (retries short writes; a broken output drops the bytes). Unbuffered,
 * the bytes are written at once. Buffered, they are written when they
 * complete a line (up to the last newline and everything before it), when
 * CONSOLE_OUT_BUF bytes wait, or CONSOLE_OUT_DELAY_MS after the oldest
 * waiting byte arrived: a prompt without a newline still shows at once
 * to a human, while a boot log costs a write(2) per line, not per byte.
 * Thread-safe.
 */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/*
 * Buffer the output from now on; starts the thread that writes a partial
 * line out after CONSOLE_OUT_DELAY_MS. Returns 0, or the pthread error
 * negated (output then stays unbuffered).
 */
int console_buffer_output(struct console *c);

/* Write out any buffered output now (before exiting or logging). */
void console_drain(struct console *c);

/* Queue host input, then move what fits into the UART. Input beyond the
 * ring's room is dropped and counted. */
void console_input(struct console *c, const uint8_t *buf, size_t len);

/* Move queued input into the UART's FIFO as far as it has room. */
void console_flush(struct console *c);

/* Take up to len queued bytes (SBI console reads). Returns the count. */
size_t console_read(struct console *c, uint8_t *buf, size_t len);

#endif
