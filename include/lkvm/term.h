/* SPDX-License-Identifier: GPL-2.0-only */
/* The host terminal: raw mode for an interactive console and the Ctrl-A
 * escape (Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A). */
#ifndef LKVM_TERM_H
#define LKVM_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERM_ESCAPE 0x01 /* Ctrl-A */

struct term_escape {
	bool armed; /* the last byte was Ctrl-A */
};

/*
 * Filter n input bytes through the escape: copy the guest's bytes to out
 * (room for n bytes) and return how many. *quit is set on Ctrl-A x; the
 * bytes after it are dropped. Ctrl-A followed by anything else sends both.
 */
size_t term_filter(struct term_escape *e, const uint8_t *in, size_t n,
		   uint8_t *out, bool *quit);

/*
 * When fd is a terminal, switch it to raw mode (no echo, no line editing,
 * no signals from Ctrl-C) and arrange for the old mode to be restored at
 * exit and by die(). Returns true when raw mode is on.
 */
bool term_raw_enable(int fd);

/* Restore the terminal mode term_raw_enable() changed. Idempotent. */
void term_restore(void);

#endif
