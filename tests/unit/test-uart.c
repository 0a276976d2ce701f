// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for hw/8250.c: registers, FIFO, interrupts, loopback. */
#include <stdint.h>

#include "lkvm/compiler.h"
#include "lkvm/uapi-compat.h"
#include "lkvm/uart.h"
#include "unit.h"

struct fake {
	uint8_t tx[256];
	size_t tx_len;
	unsigned int rx_ready;
	size_t rx_ready_pushed;
	int level;
	unsigned int irq_calls;
	unsigned int irq_repeats; /* calls that did not change the level */
	struct uart *u;
};

static struct fake f;

static void fake_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct fake *fk = opaque;

	while (len-- && fk->tx_len < sizeof(fk->tx))
		fk->tx[fk->tx_len++] = *buf++;
}

/* Pushes a byte back at once: this deadlocks if called with the lock held. */
static void fake_rx_ready(void *opaque)
{
	struct fake *fk = opaque;
	uint8_t byte = 'R';

	fk->rx_ready++;
	if (fk->rx_ready_pushed < 1)
		fk->rx_ready_pushed += uart_rx_push(fk->u, &byte, 1);
}

static void fake_irq_set(void *ctrl, unsigned int irq, int level)
{
	struct fake *fk = ctrl;

	if (irq != 5)
		unit_fail(__FILE__, __LINE__, "irq %u, expected 5", irq);
	if (level == fk->level)
		fk->irq_repeats++;
	fk->level = level;
	fk->irq_calls++;
}

/* ETBEI switches, as the machine sees them: +1 on, -1 off. */
static int thri_log[8];
static unsigned int thri_n;

static void fake_thri(void *opaque, bool on)
{
	(void)opaque;
	if (thri_n < 8)
		thri_log[thri_n++] = on ? 1 : -1;
}

static const struct uart_backend fake_be = {
	.tx = fake_tx,
	.rx_ready = fake_rx_ready,
	.thri = fake_thri,
};

/* A UART on backend be, its line driven through set, in f.u. */
static struct uart *setup_on(const struct uart_backend *be,
			     void (*set)(void *, unsigned int, int))
{
	struct irq_line irq = { .set = set, .ctrl = &f, .irq = 5 };

	memset(&f, 0, sizeof(f));
	if (uart_create(&f.u, be, &f, irq))
		return NULL;
	f.rx_ready_pushed = 1; /* tests that want the push-back reset it */
	return f.u;
}

static struct uart *setup(void)
{
	return setup_on(&fake_be, fake_irq_set);
}

static uint8_t rd(unsigned int off)
{
	return uart_mmio_ops.read(f.u, off, 1);
}

static void wr(unsigned int off, uint8_t val)
{
	uart_mmio_ops.write(f.u, off, 1, val);
}

static void push(const char *s)
{
	uart_rx_push(f.u, (const uint8_t *)s, strlen(s));
}

static void test_reset_state(void)
{
	REQUIRE(setup());
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	CHECK_EQ(rd(UART_IER), 0);
	CHECK_EQ(rd(UART_MCR), 0);
	CHECK_EQ(uart_rx_room(f.u), 1);
	CHECK_EQ(f.irq_calls, 0);
	uart_destroy(f.u);
	uart_destroy(NULL);
}

static void test_dlab_divisor(void)
{
	REQUIRE(setup());
	wr(UART_IER, UART_IER_RDI);
	wr(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	CHECK_EQ(rd(UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN8);
	wr(UART_DLL, 0x0c);
	wr(UART_DLM, 0x01);
	CHECK_EQ(rd(UART_DLL), 0x0c);
	CHECK_EQ(rd(UART_DLM), 0x01);
	CHECK_EQ(f.tx_len, 0);
	/* DLL reads must not pop received data. */
	push("x");
	CHECK_EQ(rd(UART_DLL), 0x0c);
	CHECK_EQ(uart_rx_pending(f.u), 1);
	wr(UART_LCR, UART_LCR_WLEN8);
	CHECK_EQ(rd(UART_IER), UART_IER_RDI);
	CHECK_EQ(rd(UART_RX), 'x');
	wr(UART_TX, 'y');
	CHECK_EQ(f.tx_len, 1);
	wr(UART_LCR, UART_LCR_DLAB);
	CHECK_EQ(rd(UART_DLL), 0x0c);
	CHECK_EQ(rd(UART_DLM), 0x01);
	uart_destroy(f.u);
}

static void test_scratch(void)
{
	REQUIRE(setup());
	wr(UART_SCR, 0xa5);
	CHECK_EQ(rd(UART_SCR), 0xa5);
	wr(UART_SCR, 0x5a);
	CHECK_EQ(rd(UART_SCR), 0x5a);
	uart_destroy(f.u);
}

static void test_thr_goes_to_backend(void)
{
	REQUIRE(setup());
	wr(UART_TX, 'o');
	wr(UART_TX, 'k');
	wr(UART_TX, '\n');
	REQUIRE(CHECK_EQ(f.tx_len, 3));
	CHECK(!memcmp(f.tx, "ok\n", 3));
	CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	uart_destroy(f.u);
}

static void test_rx_fifo_order_and_dr(void)
{
	REQUIRE(setup());
	wr(UART_FCR, UART_FCR_ENABLE_FIFO);
	push("abc");
	CHECK_EQ(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(rd(UART_RX), 'a');
	CHECK_EQ(rd(UART_RX), 'b');
	CHECK(rd(UART_LSR) & UART_LSR_DR);
	CHECK_EQ(rd(UART_RX), 'c');
	CHECK(!(rd(UART_LSR) & UART_LSR_DR));
	CHECK_EQ(rd(UART_RX), 0);
	/* Wrap around the ring. */
	push("0123456789abcdef");
	CHECK_EQ(rd(UART_RX), '0');
	push("g");
	for (const char *p = "123456789abcdefg"; *p; p++)
		CHECK_EQ(rd(UART_RX), *p);
	CHECK_EQ(uart_rx_pending(f.u), 0);
	uart_destroy(f.u);
}

static void test_fifo_disabled_holds_one_byte(void)
{
	REQUIRE(setup());
	wr(UART_IER, UART_IER_RDI);
	CHECK_EQ(uart_rx_push(f.u, (const uint8_t *)"ab", 2), 1);
	CHECK_EQ(uart_rx_room(f.u), 0);
	/* No FIFO: data is "available", never a timeout, no FIFO bits. */
	CHECK_EQ(rd(UART_IIR), UART_IIR_RDI);
	CHECK_EQ(f.level, 1);
	CHECK_EQ(rd(UART_RX), 'a');
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(f.level, 0);
	uart_destroy(f.u);
}

static void check_trigger(uint8_t bits, unsigned int level)
{
	unsigned int i;

	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | bits);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	for (i = 0; i + 1 < level; i++)
		push("t");
	if (level > 1)
		CHECK_EQ(rd(UART_IIR),
			 UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
	push("T");
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
	CHECK_EQ(f.level, 1);
	rd(UART_RX);
	if (level > 1)
		CHECK_EQ(rd(UART_IIR),
			 UART_IIR_FIFO_ENABLED | UART_IIR_RX_TIMEOUT);
	while (rd(UART_LSR) & UART_LSR_DR)
		rd(UART_RX);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	CHECK_EQ(f.level, 0);
}

static void test_trigger_levels_and_timeout(void)
{
	REQUIRE(setup());
	wr(UART_IER, UART_IER_RDI);
	check_trigger(UART_FCR_TRIGGER_1, 1);
	check_trigger(UART_FCR_TRIGGER_4, 4);
	check_trigger(UART_FCR_TRIGGER_8, 8);
	check_trigger(UART_FCR_TRIGGER_14, 14);
	CHECK_EQ(f.irq_repeats, 0);
	uart_destroy(f.u);
}

/* The machine hears of every ETBEI change and of nothing else. */
static void test_thri_callback(void)
{
	REQUIRE(setup());
	thri_n = 0;
	wr(UART_IER, UART_IER_RDI);
	wr(UART_IER, UART_IER_RDI | UART_IER_THRI);
	wr(UART_IER, UART_IER_THRI); /* still on */
	wr(UART_TX, 'a');
	wr(UART_IER, 0);
	wr(UART_IER, 0);
	/* DLAB: offset 1 is DLM, not IER */
	wr(UART_LCR, UART_LCR_DLAB);
	wr(UART_IER, 0xff);
	wr(UART_LCR, 0);
	CHECK_EQ(thri_n, 2);
	CHECK_EQ(thri_log[0], 1);
	CHECK_EQ(thri_log[1], -1);
	uart_destroy(f.u);
}

static void test_thre_interrupt_rules(void)
{
	REQUIRE(setup());
	/* ETBEI 0->1 with THR empty raises THRE. */
	wr(UART_IER, UART_IER_THRI);
	CHECK_EQ(f.level, 1);
	/* Reading IIR while THRE is the source clears it. */
	CHECK_EQ(rd(UART_IIR), UART_IIR_THRI);
	CHECK_EQ(f.level, 0);
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	/* Rewriting ETBEI as 1 is not a 0->1 edge. */
	wr(UART_IER, UART_IER_THRI);
	CHECK_EQ(f.level, 0);
	/* Writing THR empties at once, so THRE is re-armed. */
	wr(UART_TX, 'z');
	CHECK_EQ(f.level, 1);
	/* Clearing ETBEI drops the line; setting it again raises it. */
	wr(UART_IER, 0);
	CHECK_EQ(f.level, 0);
	wr(UART_IER, UART_IER_THRI);
	CHECK_EQ(f.level, 1);
	/* A higher-priority source hides THRE: reading IIR keeps it. */
	wr(UART_IER, UART_IER_THRI | UART_IER_RDI);
	push("d");
	CHECK_EQ(rd(UART_IIR), UART_IIR_RDI);
	rd(UART_RX);
	CHECK_EQ(rd(UART_IIR), UART_IIR_THRI);
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(f.level, 0);
	CHECK_EQ(f.irq_repeats, 0);
	uart_destroy(f.u);
}

static void test_iir_priority(void)
{
	unsigned int i;

	REQUIRE(setup());
	wr(UART_FCR, UART_FCR_ENABLE_FIFO);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	for (i = 0; i < UART_FIFO_SIZE + 1; i++)
		wr(UART_TX, 'a' + i);
	wr(UART_IER, 0x0f);
	CHECK_EQ(f.level, 1);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_RLSI);
	CHECK_EQ(rd(UART_LSR) & UART_LSR_OE, UART_LSR_OE);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
	for (i = 0; i < UART_FIFO_SIZE; i++)
		CHECK_EQ(rd(UART_RX), 'a' + i);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_THRI);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_MSI);
	CHECK_EQ(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DDCD | UART_MSR_DDSR);
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	CHECK_EQ(f.level, 0);
	CHECK_EQ(f.tx_len, 0);
	uart_destroy(f.u);
}

static void check_loop_msr(uint8_t mcr, uint8_t lines)
{
	wr(UART_MCR, UART_MCR_LOOP | mcr);
	CHECK_EQ(rd(UART_MSR) & 0xf0, lines);
}

static void test_loopback(void)
{
	REQUIRE(setup());
	check_loop_msr(UART_MCR_RTS, UART_MSR_CTS);
	check_loop_msr(UART_MCR_DTR, UART_MSR_DSR);
	check_loop_msr(UART_MCR_OUT1, UART_MSR_RI);
	check_loop_msr(UART_MCR_OUT2, UART_MSR_DCD);
	/* The probe Linux's autoconfig uses. */
	check_loop_msr(UART_MCR_OUT2 | UART_MCR_RTS, 0x90);
	/* RI on then off latches TERI; reading MSR clears the deltas. */
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	rd(UART_MSR);
	wr(UART_MCR, UART_MCR_LOOP);
	CHECK_EQ(rd(UART_MSR), UART_MSR_TERI);
	CHECK_EQ(rd(UART_MSR), 0);
	/* Bytes come back, not out. */
	wr(UART_TX, 'L');
	CHECK_EQ(f.tx_len, 0);
	CHECK_EQ(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(rd(UART_RX), 'L');
	/* 16450 mode overrun: OE, the holding register is overwritten. */
	wr(UART_TX, '1');
	wr(UART_TX, '2');
	CHECK_EQ(rd(UART_LSR),
		 UART_LSR_DR | UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
	CHECK(!(rd(UART_LSR) & UART_LSR_OE));
	CHECK_EQ(rd(UART_RX), '2');
	/* Leaving loopback: the idle modem lines come back, with deltas. */
	wr(UART_MCR, 0);
	CHECK_EQ(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS |
				       UART_MSR_DDCD | UART_MSR_DDSR |
				       UART_MSR_DCTS);
	wr(UART_TX, 'o');
	CHECK_EQ(f.tx_len, 1);
	uart_destroy(f.u);
}

static void test_modem_status_interrupt(void)
{
	REQUIRE(setup());
	wr(UART_IER, UART_IER_MSI);
	CHECK_EQ(f.level, 0);
	wr(UART_MCR,
	   UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	/* Lines unchanged (DCD, DSR, CTS): no deltas, no interrupt. */
	CHECK_EQ(f.level, 0);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_DTR);
	CHECK_EQ(f.level, 1);
	CHECK_EQ(rd(UART_IIR), UART_IIR_MSI);
	CHECK_EQ(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_DCTS);
	CHECK_EQ(f.level, 0);
	uart_destroy(f.u);
}

static void test_fcr_clear_and_mode_switch(void)
{
	REQUIRE(setup());
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_8);
	wr(UART_IER, UART_IER_RDI);
	push("hello");
	CHECK_EQ(f.level, 1);
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_XMIT);
	CHECK_EQ(uart_rx_pending(f.u), 5);
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	CHECK_EQ(uart_rx_pending(f.u), 0);
	CHECK(!(rd(UART_LSR) & UART_LSR_DR));
	CHECK_EQ(f.level, 0);
	/* The trigger was rewritten to 1 by the last FCR write. */
	push("a");
	CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_RDI);
	/* Disabling the FIFOs resets them and drops the FIFO bits. */
	wr(UART_FCR, 0);
	CHECK_EQ(uart_rx_pending(f.u), 0);
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(uart_rx_room(f.u), 1);
	/* Without ENABLE the other bits are not programmed. */
	push("b");
	wr(UART_FCR, UART_FCR_CLEAR_RCVR);
	CHECK_EQ(uart_rx_pending(f.u), 1);
	uart_destroy(f.u);
}

static void test_rx_push_room_and_rx_ready(void)
{
	uint8_t buf[20];

	REQUIRE(setup());
	memset(buf, 'x', sizeof(buf));
	wr(UART_FCR, UART_FCR_ENABLE_FIFO);
	CHECK_EQ(uart_rx_room(f.u), 16);
	CHECK_EQ(uart_rx_push(f.u, buf, 10), 10);
	CHECK_EQ(uart_rx_room(f.u), 6);
	CHECK_EQ(uart_rx_push(f.u, buf, sizeof(buf)), 6);
	CHECK_EQ(uart_rx_room(f.u), 0);
	CHECK_EQ(uart_rx_push(f.u, buf, 1), 0);
	CHECK(!(rd(UART_LSR) & UART_LSR_OE));
	CHECK_EQ(f.rx_ready, 0);
	/* Room appears: rx_ready fires once, outside the lock. */
	f.rx_ready_pushed = 0;
	rd(UART_RX);
	CHECK_EQ(f.rx_ready, 1);
	CHECK_EQ(f.rx_ready_pushed, 1);
	CHECK_EQ(uart_rx_pending(f.u), 16);
	/* The callback's push filled it again, so the next read fires too. */
	rd(UART_RX);
	CHECK_EQ(f.rx_ready, 2);
	rd(UART_RX);
	CHECK_EQ(f.rx_ready, 2);
	/* Clearing a full FIFO is room too. */
	CHECK_EQ(uart_rx_push(f.u, buf, sizeof(buf)), 2);
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	CHECK_EQ(f.rx_ready, 3);
	uart_destroy(f.u);
}

static void test_high_offsets_harmless(void)
{
	unsigned int off;

	REQUIRE(setup());
	wr(UART_SCR, 0x42);
	wr(UART_IER, UART_IER_THRI);
	rd(UART_IIR);
	for (off = 8; off < UART_MMIO_REGION_SIZE; off++) {
		wr(off, 0xff);
		CHECK_EQ(rd(off), 0);
	}
	CHECK_EQ(uart_mmio_ops.read(f.u, 1ULL << 40, 1), 0);
	uart_mmio_ops.write(f.u, ~0ULL, 1, 0xff);
	/* a wide access at the very top must not wrap round to offset 0 */
	uart_mmio_ops.write(f.u, ~0ULL, 8, ~0ULL);
	CHECK_EQ(uart_mmio_ops.read(f.u, ~0ULL, 8), 0);
	/* A wide access is byte accesses: past offset 7 they do nothing. */
	uart_mmio_ops.write(f.u, UART_SCR, 8, 0x1234);
	CHECK_EQ(uart_mmio_ops.read(f.u, UART_SCR, 4), 0x34);
	CHECK_EQ(rd(UART_IER), UART_IER_THRI);
	CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
	CHECK_EQ(f.tx_len, 0);
	CHECK_EQ(f.level, 0);
	uart_destroy(f.u);
}

static void test_irq_only_on_change(void)
{
	REQUIRE(setup());
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_4);
	wr(UART_IER, UART_IER_RDI | UART_IER_THRI);
	CHECK_EQ(f.irq_calls, 1);
	push("a");
	push("bcd");
	wr(UART_SCR, 1);
	rd(UART_LSR);
	CHECK_EQ(f.irq_calls, 1);
	while (rd(UART_LSR) & UART_LSR_DR)
		rd(UART_RX);
	rd(UART_IIR); /* THRE */
	CHECK_EQ(f.irq_calls, 2);
	CHECK_EQ(f.level, 0);
	rd(UART_IIR);
	wr(UART_IER, UART_IER_RDI | UART_IER_THRI);
	CHECK_EQ(f.irq_calls, 2);
	CHECK_EQ(f.irq_repeats, 0);
	uart_destroy(f.u);
}

/*
 * The register image, as a machine would map it: img is what guest reads
 * would see without exiting, or NULL. Raising the interrupt while it is
 * still mapped would let the guest's handler read a stale IIR.
 */
static struct {
	const uint8_t *img;
	uint8_t copy[UART_NR_REGS];
	unsigned int offers, withdrawals;
	unsigned int raised_while_mapped;
} im;

static void img_irq_set(void *ctrl, unsigned int irq, int level)
{
	if (level && im.img)
		im.raised_while_mapped++;
	fake_irq_set(ctrl, irq, level);
}

static void img_cb(void *opaque, const uint8_t *regs)
{
	(void)opaque;
	im.img = regs;
	if (regs) {
		memcpy(im.copy, regs, sizeof(im.copy));
		im.offers++;
	} else {
		im.withdrawals++;
	}
}

static const struct uart_backend img_be = {
	.tx = fake_tx,
	.thri = fake_thri,
	.image = img_cb,
};

static struct uart *setup_img(void)
{
	memset(&im, 0, sizeof(im));
	return setup_on(&img_be, img_irq_set);
}

/* With the image mapped, exited reads of every register give its bytes
 * and change nothing: not the image, not the line, not the FIFO. */
static bool image_matches_reads(void)
{
	unsigned int offers = im.offers, calls = f.irq_calls, i;
	bool ok = im.img != NULL;

	for (i = 0; ok && i < UART_NR_REGS; i++)
		ok = CHECK_EQ(rd(i), im.copy[i]);
	ok = ok && CHECK_EQ(im.offers, offers) && CHECK(im.img != NULL) &&
	     CHECK_EQ(f.irq_calls, calls) && CHECK_EQ(uart_rx_pending(f.u), 0);
	return ok && CHECK(!memcmp(im.img, im.copy, UART_NR_REGS));
}

/* Linux's console set-up, then its polling loop: the image comes after
 * UART_IMAGE_READS LSR reads, not before. */
static void console_polling(unsigned int reads)
{
	unsigned int i;

	wr(UART_LCR, UART_LCR_WLEN8);
	wr(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_8);
	wr(UART_IER, 0);
	wr(UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	for (i = 0; i < reads; i++) {
		rd(UART_LSR);
		wr(UART_TX, 'a' + i % 26);
	}
}

static void test_image_offered_after_pure_reads(void)
{
	REQUIRE(setup_img());
	console_polling(UART_IMAGE_READS - 1);
	CHECK_EQ(im.offers, 0);
	rd(UART_LSR);
	REQUIRE(CHECK_EQ(im.offers, 1));
	CHECK_EQ(im.copy[UART_LSR], UART_LSR_THRE | UART_LSR_TEMT);
	CHECK_EQ(im.copy[UART_IIR], UART_IIR_NO_INT | 0xc0);
	CHECK_EQ(im.copy[UART_LCR], UART_LCR_WLEN8);
	CHECK_EQ(im.copy[UART_MCR],
		 UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	CHECK(image_matches_reads());
	/* THR writes (batched by KVM) change nothing the image shows */
	wr(UART_TX, '!');
	CHECK_EQ(im.offers, 1);
	CHECK_EQ(f.tx[f.tx_len - 1], '!');
	/* a register write is shown at once */
	wr(UART_SCR, 0x5a);
	CHECK_EQ(im.offers, 2);
	CHECK_EQ(im.copy[UART_SCR], 0x5a);
	wr(UART_IER, UART_IER_RDI | UART_IER_RLSI);
	CHECK_EQ(im.copy[UART_IER], UART_IER_RDI | UART_IER_RLSI);
	CHECK(image_matches_reads());
	CHECK_EQ(im.withdrawals, 0);
	uart_destroy(f.u);
}

/* Each way out of a pure state takes the image back before returning. */
static void test_image_taken_back(void)
{
	static const struct {
		unsigned int reg;
		uint8_t val;
	} exits[] = {
		{ UART_IER, UART_IER_THRI }, /* THRE becomes pending */
		{ UART_LCR, UART_LCR_DLAB }, /* offset 0 becomes DLL */
		{ UART_MCR, UART_MCR_LOOP }, /* THR writes come back */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(exits); i++) {
		REQUIRE(setup_img());
		console_polling(UART_IMAGE_READS);
		REQUIRE(CHECK(im.img != NULL));
		wr(exits[i].reg, exits[i].val);
		CHECK(im.img == NULL);
		CHECK_EQ(im.withdrawals, 1);
		uart_destroy(f.u);
	}
	/* input: withdrawn before the interrupt is raised */
	REQUIRE(setup_img());
	console_polling(UART_IMAGE_READS);
	wr(UART_IER, UART_IER_RDI);
	REQUIRE(CHECK(im.img != NULL));
	push("k");
	CHECK(im.img == NULL);
	CHECK_EQ(f.level, 1);
	CHECK_EQ(im.raised_while_mapped, 0);
	CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	/* reading the byte makes it pure again, and is the first of a new
	 * count of UART_IMAGE_READS */
	CHECK_EQ(rd(UART_RX), 'k');
	CHECK_EQ(f.level, 0);
	console_polling(UART_IMAGE_READS - 2);
	CHECK(im.img == NULL);
	rd(UART_LSR);
	CHECK(image_matches_reads());
	uart_destroy(f.u);
}

/* An exited read that is not pure (a THRE report) does not count. */
static void test_image_not_while_thri(void)
{
	unsigned int i;

	REQUIRE(setup_img());
	wr(UART_IER, UART_IER_THRI);
	for (i = 0; i < 4 * UART_IMAGE_READS; i++) {
		rd(UART_IIR);
		rd(UART_LSR);
		wr(UART_TX, 'x');
	}
	CHECK_EQ(im.offers, 0);
	uart_destroy(f.u);
}

/* Wide accesses are byte accesses at ascending offsets, so an image that
 * a wide read covers says the same as the exit would. */
static void test_wide_accesses(void)
{
	REQUIRE(setup_img());
	console_polling(UART_IMAGE_READS);
	REQUIRE(CHECK(im.img != NULL));
	wr(UART_SCR, 0x77);
	CHECK_EQ(uart_mmio_ops.read(f.u, 4, 4),
		 (uint64_t)im.copy[4] | (uint64_t)im.copy[5] << 8 |
			 (uint64_t)im.copy[6] << 16 |
			 (uint64_t)im.copy[7] << 24);
	CHECK_EQ(uart_mmio_ops.read(f.u, 6, 8), im.copy[6] | im.copy[7] << 8);
	wr(UART_LCR, UART_LCR_DLAB);
	uart_mmio_ops.write(f.u, UART_DLL, 2, 0x0201);
	CHECK_EQ(rd(UART_DLL), 0x01);
	CHECK_EQ(rd(UART_DLM), 0x02);
	CHECK_EQ(uart_mmio_ops.read(f.u, UART_DLL, 2), 0x0201);
	CHECK_EQ(f.tx_len, UART_IMAGE_READS);
	uart_destroy(f.u);
}

/* A pseudo-random mix of guest accesses and input: whenever the image is
 * mapped it is exactly what exited reads return, and they change nothing. */
static void test_image_random_walk(void)
{
	static const uint8_t vals[] = {
		0,
		UART_IER_RDI,
		UART_IER_THRI,
		UART_IER_MSI,
		UART_LCR_DLAB,
		UART_LCR_WLEN8,
		UART_MCR_LOOP | UART_MCR_RTS,
		UART_MCR_OUT2,
		UART_FCR_ENABLE_FIFO,
		UART_FCR_CLEAR_RCVR | UART_FCR_ENABLE_FIFO,
		0xff,
		0x5a,
	};
	uint32_t x = 12345;
	unsigned int i, mapped = 0;

	REQUIRE(setup_img());
	for (i = 0; i < 20000; i++) {
		unsigned int op, reg;

		x = x * 1103515245u + 12345u;
		op = (x >> 16) % 16;
		reg = (x >> 8) % UART_NR_REGS;
		if (op < 9)
			rd(op < 6 ? UART_LSR : reg);
		else if (op < 11)
			wr(UART_TX, 'z');
		else if (op < 15)
			wr(reg, vals[(x >> 20) % ARRAY_SIZE(vals)]);
		else
			push("q");
		if (im.img) {
			mapped++;
			if (!image_matches_reads())
				break;
		}
	}
	CHECK(mapped > 100);
	CHECK(im.withdrawals > 10);
	CHECK_EQ(im.raised_while_mapped, 0);
	uart_destroy(f.u);
}

UNIT_SUITE(uart, UNIT_TEST(test_thri_callback), UNIT_TEST(test_reset_state),
	   UNIT_TEST(test_dlab_divisor), UNIT_TEST(test_scratch),
	   UNIT_TEST(test_thr_goes_to_backend),
	   UNIT_TEST(test_rx_fifo_order_and_dr),
	   UNIT_TEST(test_fifo_disabled_holds_one_byte),
	   UNIT_TEST(test_trigger_levels_and_timeout),
	   UNIT_TEST(test_thre_interrupt_rules), UNIT_TEST(test_iir_priority),
	   UNIT_TEST(test_loopback), UNIT_TEST(test_modem_status_interrupt),
	   UNIT_TEST(test_fcr_clear_and_mode_switch),
	   UNIT_TEST(test_rx_push_room_and_rx_ready),
	   UNIT_TEST(test_high_offsets_harmless),
	   UNIT_TEST(test_irq_only_on_change),
	   UNIT_TEST(test_image_offered_after_pure_reads),
	   UNIT_TEST(test_image_taken_back),
	   UNIT_TEST(test_image_not_while_thri), UNIT_TEST(test_wide_accesses),
	   UNIT_TEST(test_image_random_walk));
