// SPDX-License-Identifier: GPL-2.0-only
/* The host side of the guest's consoles: the SBI console, and the input
 * thread (stdin, UART FIFO refills, the coalesced ring drained every 20 ms). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/seccomp.h"
#include "lkvm/term.h"
#include "lkvm/virtio-devs.h"
#include "riscv/machine.h"

static void sbi_con_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	console_write(&m->con, buf, len);
}

static size_t sbi_con_read(void *opaque, uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	return console_read(&m->con, buf, len);
}

const struct sbi_console_ops machine_sbi_console = {
	.write = sbi_con_write,
	.read = sbi_con_read,
};

/* Host input: stdin to the console queue, and queued input to the UART. */
void *machine_input_thread(void *arg)
{
	struct machine *m = arg;
	bool tty = isatty(STDIN_FILENO), quit;
	struct pollfd pfd[3] = {
		{ .fd = m->stop_fd, .events = POLLIN },
		{ .fd = m->wake_fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	struct term_escape esc = { 0 };
	uint8_t in[256], out[256];
	uint64_t count;
	nfds_t n = 3;

	seccomp_thread_start(SECCOMP_THREAD_INPUT, "input");
	/* batched THR writes also reach the host when the guest makes no
	 * exit for a while (a spinning or panicked kernel): every 20 ms */
	while (poll(pfd, n, m->cring ? 20 : -1) >= 0 || errno == EINTR) {
		if (pfd[0].revents)
			break;
		machine_drain_coalesced(m);
		if (pfd[1].revents & POLLIN &&
		    read(m->wake_fd, &count, sizeof(count)) > 0)
			console_flush(&m->con);
		if (n == 3 && pfd[2].revents) {
			ssize_t r = read(STDIN_FILENO, in, sizeof(in));
			size_t k = r > 0 ? (size_t)r : 0;

			if (r <= 0 && !(r < 0 && errno == EINTR))
				n = 2; /* end of input: stop reading it */
			if (tty)
				k = term_filter(&esc, in, k, out, &quit);
			else
				memcpy(out, in, k), quit = false;
			console_input(&m->con, out, k);
			if (m->vcon)
				virtio_console_input(m->vcon);
			if (quit)
				machine_stop(m, LKVM_EXIT_SHUTDOWN);
		}
	}
	return NULL;
}
