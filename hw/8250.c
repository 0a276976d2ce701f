// SPDX-License-Identifier: GPL-2.0-only
/* The emulated 8250/16550A UART: registers, receive FIFO, interrupts. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/uapi-compat.h"
#include "lkvm/uart.h"

#define UART_IER_MASK \
	(UART_IER_MSI | UART_IER_RLSI | UART_IER_THRI | UART_IER_RDI)
/* MCR bits 5-7 do not exist on a 16550A and read as 0. */
#define UART_MCR_MASK                                                   \
	(UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_OUT1 | UART_MCR_RTS | \
	 UART_MCR_DTR)
#define UART_MSR_LINES \
	(UART_MSR_DCD | UART_MSR_RI | UART_MSR_DSR | UART_MSR_CTS)
/* What the host side of the line shows outside loopback: a live modem. */
#define UART_MSR_IDLE (UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS)

struct uart {
	pthread_mutex_t lock;
	struct uart_backend be;
	void *opaque;
	struct irq_line irq;
	int irq_level;

	uint8_t rx[UART_FIFO_SIZE];
	unsigned int rx_head;
	unsigned int rx_count;
	/* The FIFO filled up; tell the backend when room appears. */
	bool rx_was_full;
	/* THR is empty and the guest has not yet acknowledged it. */
	bool thre_pending;

	uint8_t ier;
	uint8_t fcr; /* UART_FCR_ENABLE_FIFO and the trigger bits only */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_err; /* sticky error bits: UART_LSR_OE */
	uint8_t msr;
	uint8_t scr;
	uint8_t dll;
	uint8_t dlm;

	/* The image the backend shows the guest, when image_on. */
	uint8_t image[UART_NR_REGS];
	bool image_on;
	unsigned int pure_reads; /* exited reads in a row in a pure state */
};

static bool uart_fifo_enabled(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE_FIFO;
}

/* With FIFOs disabled the receiver is the 16450's single holding register. */
static unsigned int uart_rx_capacity(const struct uart *u)
{
	return uart_fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

static unsigned int uart_rx_trigger(const struct uart *u)
{
	static const unsigned int levels[] = { 1, 4, 8, 14 };

	if (!uart_fifo_enabled(u))
		return 1;
	return levels[(u->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

static bool uart_rx_full(const struct uart *u)
{
	return u->rx_count >= uart_rx_capacity(u);
}

/* Append a byte; the caller has checked there is room. */
static void uart_rx_put(struct uart *u, uint8_t byte)
{
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	if (uart_rx_full(u))
		u->rx_was_full = true;
}

/* Returns true when the backend should hear that room appeared. */
static bool uart_rx_room_appeared(struct uart *u)
{
	if (!u->rx_was_full || uart_rx_full(u))
		return false;
	u->rx_was_full = false;
	return true;
}

static uint8_t uart_rx_pop(struct uart *u, bool *notify)
{
	uint8_t byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	*notify |= uart_rx_room_appeared(u);
	return byte;
}

static void uart_rx_clear(struct uart *u, bool *notify)
{
	u->rx_head = 0;
	u->rx_count = 0;
	*notify |= uart_rx_room_appeared(u);
}

/*
 * A byte the guest looped back to itself. Unlike host input it cannot be
 * refused: into a full receiver it is an overrun. The FIFO keeps its bytes
 * (the new one is lost); the 16450 holding register is overwritten.
 */
static void uart_rx_loopback(struct uart *u, uint8_t byte)
{
	if (!uart_rx_full(u)) {
		uart_rx_put(u, byte);
		return;
	}
	u->lsr_err |= UART_LSR_OE;
	if (!uart_fifo_enabled(u))
		u->rx[u->rx_head] = byte;
}

static uint8_t uart_lsr(const struct uart *u)
{
	/* Transmission is instantaneous: THR and the shifter are always empty. */
	uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_err;

	if (u->rx_count)
		lsr |= UART_LSR_DR;
	return lsr;
}

/* The interrupt the IIR reports now, by 16550A priority, or NO_INT. */
static uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & UART_IER_RLSI) && (u->lsr_err & UART_LSR_OE))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count) {
		/*
		 * Real hardware raises the timeout after four idle character
		 * times; an emulated line is idle at once, so below the
		 * trigger level the data is reported as a timeout straight away.
		 */
		if (u->rx_count < uart_rx_trigger(u))
			return UART_IIR_RX_TIMEOUT;
		return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/*
 * Drive the line while any enabled condition exists. MCR OUT2 does not gate
 * it: PC boards wire OUT2 to the interrupt enable, but there is no such gate
 * on an ns16550a device-tree node, and Linux sets OUT2 anyway.
 */
static void uart_update_irq(struct uart *u)
{
	int level = uart_iir_id(u) != UART_IIR_NO_INT;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	irq_line_set(&u->irq, level);
}

/* Modem inputs as the guest sees them: looped back from MCR, or idle. */
static uint8_t uart_msr_lines(const struct uart *u)
{
	uint8_t lines = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_IDLE;
	if (u->mcr & UART_MCR_RTS)
		lines |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		lines |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		lines |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		lines |= UART_MSR_DCD;
	return lines;
}

/* Set the MSR line bits, latching the delta bits for those that changed. */
static void uart_msr_update(struct uart *u)
{
	uint8_t old = u->msr, lines = uart_msr_lines(u);
	uint8_t changed = (old ^ lines) & UART_MSR_LINES;
	uint8_t delta = 0;

	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	/* TERI is the trailing edge only: RI going from on to off. */
	if ((old & UART_MSR_RI) && !(lines & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	u->msr = lines | ((old | delta) & UART_MSR_ANY_DELTA);
}

static uint8_t uart_read_iir(struct uart *u)
{
	uint8_t id = uart_iir_id(u);

	/* Reading IIR acknowledges a THRE interrupt it reports. */
	if (id == UART_IIR_THRI)
		u->thre_pending = false;
	if (uart_fifo_enabled(u))
		id |= UART_IIR_FIFO_ENABLED;
	return id;
}

static uint8_t uart_read_msr(struct uart *u)
{
	uint8_t msr = u->msr;

	u->msr &= ~UART_MSR_ANY_DELTA;
	return msr;
}

static uint8_t uart_read_lsr(struct uart *u)
{
	uint8_t lsr = uart_lsr(u);

	u->lsr_err = 0;
	return lsr;
}

static uint8_t uart_reg_read(struct uart *u, unsigned int reg, bool *notify)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RX:
		return dlab ? u->dll : uart_rx_pop(u, notify);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		return uart_read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return uart_read_lsr(u);
	case UART_MSR:
		return uart_read_msr(u);
	default:
		return u->scr;
	}
}

/*
 * Writing THR acknowledges the THRE interrupt, but the byte leaves at once,
 * so THR is empty again and THRE is re-armed, as real hardware does a
 * character time later. Linux relies on that to send more than a FIFO's
 * worth without toggling IER.
 */
static void uart_write_thr(struct uart *u, uint8_t byte)
{
	if (u->mcr & UART_MCR_LOOP)
		uart_rx_loopback(u, byte);
	else if (u->be.tx)
		u->be.tx(u->opaque, &byte, 1);
	u->thre_pending = true;
}

static void uart_write_ier(struct uart *u, uint8_t val)
{
	uint8_t old = u->ier;

	u->ier = val & UART_IER_MASK;
	/* Enabling ETBEI with THR empty raises THRE at once. */
	if (!(old & UART_IER_THRI) && (u->ier & UART_IER_THRI))
		u->thre_pending = true;
	if ((old ^ u->ier) & UART_IER_THRI && u->be.thri)
		u->be.thri(u->opaque, u->ier & UART_IER_THRI);
}

/* FCR bits other than ENABLE are only programmed while ENABLE is written. */
static void uart_write_fcr(struct uart *u, uint8_t val, bool *notify)
{
	bool enable = val & UART_FCR_ENABLE_FIFO;

	if (enable != uart_fifo_enabled(u)) {
		/* Switching modes resets both FIFOs; THRE fires anew. */
		u->fcr = enable ? UART_FCR_ENABLE_FIFO : 0;
		uart_rx_clear(u, notify);
		u->thre_pending = true;
	}
	if (!enable)
		return;
	u->fcr = UART_FCR_ENABLE_FIFO | (val & UART_FCR_TRIGGER_MASK);
	if (val & UART_FCR_CLEAR_RCVR)
		uart_rx_clear(u, notify);
	/* The transmit FIFO is always empty: nothing to clear. */
}

static void uart_write_mcr(struct uart *u, uint8_t val)
{
	u->mcr = val & UART_MCR_MASK;
	uart_msr_update(u);
}

static void uart_reg_write(struct uart *u, unsigned int reg, uint8_t val,
			   bool *notify)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab)
			u->dll = val;
		else
			uart_write_thr(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			uart_write_ier(u, val);
		break;
	case UART_FCR:
		uart_write_fcr(u, val, notify);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		uart_write_mcr(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only (LSR writes are a factory test). */
		break;
	}
}

static void uart_notify_rx_ready(struct uart *u, bool notify)
{
	if (notify && u->be.rx_ready)
		u->be.rx_ready(u->opaque);
}

/*
 * Reads have no effect (RBR with an empty FIFO, IIR with nothing to report,
 * LSR without errors, MSR without deltas), and a THR write, the only write
 * KVM may batch, changes no register a read shows: no loopback, no DLAB
 * (offset 0 is the THR), no ETBEI (THRE would become pending).
 */
static bool uart_reads_pure(const struct uart *u)
{
	return !(u->lcr & UART_LCR_DLAB) && !(u->mcr & UART_MCR_LOOP) &&
	       !(u->ier & UART_IER_THRI) && !u->rx_count && !u->lsr_err &&
	       !(u->msr & UART_MSR_ANY_DELTA);
}

/*
 * Offer, refresh or take back the register image after an access or
 * input; before uart_update_irq(), so that no interrupt is raised while
 * the guest could still read a stale image.
 */
static void uart_image_sync(struct uart *u, bool exited_read)
{
	uint8_t regs[UART_NR_REGS];
	bool unused = false;
	unsigned int i;

	if (!u->be.image)
		return;
	if (!uart_reads_pure(u)) {
		u->pure_reads = 0;
		if (u->image_on) {
			u->image_on = false;
			u->be.image(u->opaque, NULL);
		}
		return;
	}
	if (!u->image_on &&
	    (!exited_read || ++u->pure_reads < UART_IMAGE_READS))
		return;
	/* pure: the same reads the guest would make change nothing */
	for (i = 0; i < UART_NR_REGS; i++)
		regs[i] = uart_reg_read(u, i, &unused);
	if (u->image_on && !memcmp(regs, u->image, sizeof(regs)))
		return;
	memcpy(u->image, regs, sizeof(regs));
	u->image_on = true;
	u->be.image(u->opaque, u->image);
}

static uint64_t uart_mmio_read(void *dev, uint64_t offset, unsigned int size)
{
	struct uart *u = dev;
	bool notify = false;
	uint64_t val = 0;
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	/* bytes past the registers read 0; no sum that could wrap */
	for (i = 0;
	     offset < UART_NR_REGS && i < size && i < UART_NR_REGS - offset;
	     i++)
		val |= (uint64_t)uart_reg_read(u, offset + i, &notify)
		       << (8 * i);
	uart_image_sync(u, true);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	uart_notify_rx_ready(u, notify);
	return val;
}

static void uart_mmio_write(void *dev, uint64_t offset, unsigned int size,
			    uint64_t value)
{
	struct uart *u = dev;
	bool notify = false;
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	for (i = 0;
	     offset < UART_NR_REGS && i < size && i < UART_NR_REGS - offset;
	     i++)
		uart_reg_write(u, offset + i, value >> (8 * i) & 0xff, &notify);
	uart_image_sync(u, false);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	uart_notify_rx_ready(u, notify);
}

const struct mmio_ops uart_mmio_ops = {
	.read = uart_mmio_read,
	.write = uart_mmio_write,
};

size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && !uart_rx_full(u))
		uart_rx_put(u, buf[n++]);
	if (n < len)
		u->rx_was_full = true;
	uart_image_sync(u, false);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = uart_rx_full(u) ? 0 : uart_rx_capacity(u) - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

size_t uart_rx_pending(struct uart *u)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return n;
}

int uart_create(struct uart **out, const struct uart_backend *be, void *opaque,
		struct irq_line irq)
{
	struct uart *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = pthread_mutex_init(&u->lock, NULL);
	if (ret) {
		free(u);
		return -ret;
	}
	if (be)
		u->be = *be;
	u->opaque = opaque;
	u->irq = irq;
	u->thre_pending = true;
	u->msr = UART_MSR_IDLE;
	*out = u;
	return 0;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}
