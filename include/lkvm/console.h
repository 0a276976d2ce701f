/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest console's host side: output to a file descriptor, and host
 * input queued until the guest takes it, through the 8250 (pushed into its
 * FIFO as room appears) or through SBI getchar / DBCN read (pulled).
 */
#ifndef LKVM_CONSOLE_H
#define LKVM_CONSOLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_RING 65536

struct uart;

struct console {
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ring[CONSOLE_RING];
	size_t head, len;
	unsigned long dropped;
	struct uart *uart; /* when set, input goes to its FIFO */
};

void console_init(struct console *c, int out_fd);
void console_destroy(struct console *c);

/* Write all of buf to the host output (retries short writes). */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/* Queue host input, then move what fits into the UART. Input beyond the
 * ring's room is dropped and counted. */
void console_input(struct console *c, const uint8_t *buf, size_t len);

/* Move queued input into the UART's FIFO as far as it has room. */
void console_flush(struct console *c);

/* Take up to len queued bytes (SBI console reads). Returns the count. */
size_t console_read(struct console *c, uint8_t *buf, size_t len);

#endif
