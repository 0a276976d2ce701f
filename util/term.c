// SPDX-License-Identifier: GPL-2.0-only
/* Host terminal raw mode, always restored, and the Ctrl-A escape filter. */
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/term.h"

static struct termios saved_mode;
static int saved_fd = -1;

size_t term_filter(struct term_escape *e, const uint8_t *in, size_t n,
		   uint8_t *out, bool *quit)
{
	size_t i, o = 0;

	*quit = false;
	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (!e->armed && c == TERM_ESCAPE) {
			e->armed = true;
			continue;
		}
		if (e->armed) {
			e->armed = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return o;
			}
			if (c != TERM_ESCAPE)
				out[o++] = TERM_ESCAPE;
		}
		out[o++] = c;
	}
	return o;
}

void term_restore(void)
{
	if (saved_fd < 0)
		return;
	tcsetattr(saved_fd, TCSANOW, &saved_mode);
	saved_fd = -1;
}

bool term_raw_enable(int fd)
{
	struct termios raw;

	if (!isatty(fd) || tcgetattr(fd, &saved_mode) < 0)
		return false;
	raw = saved_mode;
	raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
			 ICRNL | IXON);
	raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cflag &= ~(CSIZE | PARENB);
	raw.c_cflag |= CS8;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return false;
	saved_fd = fd;
	atexit(term_restore);
	log_die_hook = term_restore;
	return true;
}
