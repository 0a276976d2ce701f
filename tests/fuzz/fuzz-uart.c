// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the 8250 UART's registers and host input, with invariants. */
#include <linux/serial_reg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/uart.h"

/*
 * Each op is one byte, kind in bits 7-6:
 *   0: write, offset in bits 5-0 (>= 8 exercises the unused part), value
 *      in the next byte
 *   1: read, offset in bits 5-0
 *   2: uart_rx_push of (bits 5-0) bytes taken from the input
 *   3: a wide read: size 1 << (bits 1-0), offset bits 5-2
 * Invariant of the register image: while the UART offers it, exited reads
 * of all eight registers return exactly its bytes and change nothing, and
 * no interrupt is raised.
 */
struct state {
	struct uart *u;
	int level;
	size_t tx_bytes;
	const uint8_t *img;
	uint8_t copy[UART_NR_REGS];
	unsigned int offers;
};

static void fz_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct state *s = opaque;

	(void)buf;
	s->tx_bytes += len;
}

static void fz_rx_ready(void *opaque)
{
	struct state *s = opaque;

	/* Single-threaded here, so the room just made is still there. */
	if (!uart_rx_room(s->u))
		abort();
}

static void fz_irq_set(void *ctrl, unsigned int irq, int level)
{
	struct state *s = ctrl;

	if (irq != 3 || level == s->level || (level != 0 && level != 1))
		abort();
	if (level && s->img)
		abort();
	s->level = level;
}

static void fz_image(void *opaque, const uint8_t *regs)
{
	struct state *s = opaque;

	s->img = regs;
	if (regs) {
		memcpy(s->copy, regs, sizeof(s->copy));
		s->offers++;
	}
}

static void check_image(struct state *s)
{
	unsigned int i, offers = s->offers;
	size_t pending = uart_rx_pending(s->u);
	int level = s->level;

	if (!s->img)
		return;
	if (memcmp(s->img, s->copy, sizeof(s->copy)))
		abort();
	for (i = 0; i < UART_NR_REGS; i++)
		if (uart_mmio_ops.read(s->u, i, 1) != s->copy[i])
			abort();
	if (!s->img || s->offers != offers || s->level != level ||
	    uart_rx_pending(s->u) != pending)
		abort();
}

static void check_fifo(struct state *s)
{
	size_t pending = uart_rx_pending(s->u), room = uart_rx_room(s->u);

	if (pending > UART_FIFO_SIZE || room + pending > UART_FIFO_SIZE)
		abort();
}

static void check_iir(struct state *s, uint8_t iir)
{
	uint8_t id = iir & 0x0f;

	if (id != UART_IIR_NO_INT && id != UART_IIR_MSI &&
	    id != UART_IIR_THRI && id != UART_IIR_RDI && id != UART_IIR_RLSI &&
	    id != 0x0c)
		abort();
	if ((iir & 0x30) || ((iir & 0xc0) != 0 && (iir & 0xc0) != 0xc0))
		abort();
	/* Only a THRE report is acknowledged by the read itself. */
	if (id == UART_IIR_NO_INT && s->level)
		abort();
	if (id != UART_IIR_NO_INT && id != UART_IIR_THRI && !s->level)
		abort();
}

static void check_lsr(struct state *s, uint8_t lsr)
{
	size_t pending = uart_rx_pending(s->u);

	if (!(lsr & UART_LSR_THRE) || !(lsr & UART_LSR_TEMT))
		abort();
	if (!!(lsr & UART_LSR_DR) != (pending > 0))
		abort();
}

static void do_read(struct state *s, unsigned int off)
{
	uint64_t v = uart_mmio_ops.read(s->u, off, 1);

	if (v > 0xff || (off >= 8 && v))
		abort();
	if (off == UART_IIR)
		check_iir(s, v);
	else if (off == UART_LSR)
		check_lsr(s, v);
}

static size_t do_push(struct state *s, const uint8_t *data, size_t len)
{
	size_t room = uart_rx_room(s->u), n;

	n = uart_rx_push(s->u, data, len);
	if (n > len || n > room || (n < len && n < room))
		abort();
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s = { 0 };
	struct uart_backend be = { .tx = fz_tx,
				   .rx_ready = fz_rx_ready,
				   .image = fz_image };
	struct irq_line irq = { .set = fz_irq_set, .ctrl = &s, .irq = 3 };
	size_t i = 0, n;

	if (uart_create(&s.u, &be, &s, irq))
		return 0;
	while (i < size) {
		uint8_t op = data[i++], arg = op & 0x3f;

		switch (op >> 6) {
		case 0:
			if (i < size)
				uart_mmio_ops.write(s.u, arg, 1, data[i++]);
			break;
		case 1:
			do_read(&s, arg);
			break;
		case 2:
			n = arg < size - i ? arg : size - i;
			i += do_push(&s, data + i, n);
			break;
		default:
			n = 1u << (arg & 3);
			if (uart_mmio_ops.read(s.u, arg >> 2, n) >> 1 >>
			    (8 * n - 1))
				abort();
			break;
		}
		check_fifo(&s);
		check_image(&s);
	}
	uart_destroy(s.u);
	return 0;
}
