/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An emulated 8250/16550A UART: eight byte-wide registers (reg-shift 0),
 * a 16-byte receive FIFO, instantaneous transmission and one interrupt line.
 * The guest sees it through uart_mmio_ops; the host feeds it input with
 * uart_rx_push() and takes its output through a struct uart_backend.
 */
#ifndef LKVM_UART_H
#define LKVM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/device.h"

/*
 * Access sizes the UART's MMIO region accepts. Linux uses bytes; a wider
 * access acts as byte accesses at ascending offsets, the same whether it
 * exits or reads the register image (below).
 */
#define UART_MMIO_SIZES \
	(MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4) | MMIO_SIZE(8))
/*
 * Size of the MMIO region: a whole 4 KiB page, so that the machine can map
 * the register image there. Offsets 8 and above read 0 and ignore writes.
 */
#define UART_MMIO_REGION_SIZE 0x1000
/* Registers, at offsets 0..7: the size of the register image. */
#define UART_NR_REGS 8
/* Exited reads, all without side effects, before the image is offered. */
#define UART_IMAGE_READS 16
/* Depth of the receive FIFO (one byte when the guest disables FIFOs). */
#define UART_FIFO_SIZE 16

struct uart;

struct uart_backend {
	/*
	 * Bytes the guest transmitted, for the host (stdout). Called with the
	 * UART lock held: it must not call back into this UART. May be NULL
	 * (output is dropped).
	 */
	void (*tx)(void *opaque, const uint8_t *buf, size_t len);
	/*
	 * Optional (may be NULL): the receive FIFO has room again after being
	 * full, so the host may push more input. Called without the UART lock
	 * held, from the thread that made the room (a vCPU thread), so it may
	 * call uart_rx_push().
	 */
	void (*rx_ready)(void *opaque);
	/*
	 * Optional: the guest switched the THR-empty interrupt (IER ETBEI)
	 * on or off. While it is off, THR writes need no immediate answer
	 * (the guest polls LSR, and every register read sees all earlier
	 * writes), so the machine may let KVM batch them. Called with the
	 * UART lock held, from the vCPU thread that wrote IER: it must not
	 * call back into this UART.
	 */
	void (*thri)(void *opaque, bool on);
	/*
	 * Optional: the register image. regs (UART_NR_REGS bytes) is what
	 * byte reads at offsets 0..7 return now; they would change nothing,
	 * and the THR writes KVM may batch change none of them, so the
	 * machine may let the guest read regs from a read-only page instead
	 * of exiting. It is offered after UART_IMAGE_READS such reads in a
	 * row, and offered again whenever a register changes. NULL: a read
	 * may have an effect or show something new (input arrived, ETBEI,
	 * DLAB, loopback...), so from now on every read must reach the UART:
	 * the machine takes the page away before returning. The UART calls
	 * it before it raises any interrupt the change causes. Called with
	 * the UART lock held, from the thread of the access or of
	 * uart_rx_push(): it must not call back into this UART.
	 */
	void (*image)(void *opaque, const uint8_t *regs);
};

/*
 * Create a UART in its reset state: FIFOs disabled, no interrupt enabled,
 * THR empty, DCD/DSR/CTS asserted. be is copied; opaque is passed to its
 * callbacks; irq is the line the UART drives (it starts low). Returns 0 and
 * sets *out, or -ENOMEM / the pthread error negated, leaving *out untouched.
 */
int uart_create(struct uart **out, const struct uart_backend *be, void *opaque,
		struct irq_line irq);

/*
 * Free a UART made by uart_create(). NULL is a no-op. The caller makes sure
 * no other thread is using it (no MMIO dispatch, no uart_rx_push()).
 */
void uart_destroy(struct uart *u);

/*
 * Guest register access; dev is the struct uart *. Registers sit at offsets
 * 0..7. Any offset in the region and any size are safe: the value is the
 * low byte, offsets >= 8 read 0 and ignore writes. Thread-safe.
 */
extern const struct mmio_ops uart_mmio_ops;

/*
 * Host input: queue up to len bytes of buf for the guest to read. Returns
 * the number of bytes accepted, at most uart_rx_room(); the rest are
 * refused (not an overrun) and the host should retry after rx_ready.
 * Updates the interrupt line. Thread-safe.
 */
size_t uart_rx_push(struct uart *u, const uint8_t *buf, size_t len);

/*
 * Bytes uart_rx_push() would accept now: free FIFO slots (0..16), or 0/1 of
 * the single holding register when the guest has disabled the FIFOs.
 * Thread-safe; a snapshot that other threads may change at once.
 */
size_t uart_rx_room(struct uart *u);

/* Bytes waiting in the receive FIFO for the guest (0..16). Thread-safe. */
size_t uart_rx_pending(struct uart *u);

#endif
