// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: virtio-console transmit and receive against host input. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "lkvm/console.h"
#include "lkvm/virtio-devs.h"
#include "drvq.h"
#include "fuzz-input.h"
#include "guest.h"
#include "vdrv.h"

/*
 * The input: one flags byte (bit 0 EVENT_IDX), then operations, each an
 * opcode byte (% 6) and its operands; missing bytes are zero.
 *   0 post a transmit chain, 1 post a receive chain: a byte n (1 + n % 4
 *     descriptors), per descriptor a flags byte (bit 0 device-writable,
 *     bit 1 a raw next taken from the following byte, which may be out of
 *     range or loop) and a length byte; then the contents of the chain's
 *     device-readable buffers. Each descriptor has its own slot of RAM.
 *   2 host input: a length byte, then that many bytes, to console_input().
 *   3 notify: a byte selecting the queue (% 3: 2 is out of range).
 *   4 virtio_console_input().
 *   5 make a raw head available: a queue byte (bit 0) and a head byte.
 * A fresh device and console serve each input.
 *
 * Invariants: no crash or sanitizer report; the console output is exactly
 * the device-readable bytes of the transmit chains in the used ring, in
 * order, each returned with length 0; each receive completion fits its
 * chain's writable room and the receive data, in used-ring order, is a
 * prefix of the host input; without a broken queue no receive completion
 * is empty unless its chain has no writable room.
 */
#define RAM_SIZE 0x40000ULL
#define QSIZE 16
#define RING_GPA(q) (GUEST_RAM_BASE + 0x4000ULL * (q))
#define AVAIL_OFF 0x1000
#define USED_OFF 0x2000
#define SLOT_SIZE 0x100
#define SLOT_GPA(q, i) \
	(GUEST_RAM_BASE + 0x10000 + (uint64_t)SLOT_SIZE * ((q)*QSIZE + (i)))
#define MAX_DESC 4
#define MAX_OUT (2 * QSIZE * QSIZE * 256)

struct fstate {
	struct guest g;
	struct console con;
	int pipe[2];
	struct virtio_dev *d;
	struct vdrv v; /* the driver, through the core helpers */
	struct drvq q[2]; /* receiveq, transmitq */
	uint16_t next_desc[2]; /* descriptors used so far */
	uint8_t in[65536]; /* all host input, in order */
	size_t in_len, rx_len; /* rx_len: bytes delivered so far */
	uint8_t *expect; /* transmit bytes the used ring accounts for */
	size_t expect_len;
};

static struct fstate st;

static void post_chain(unsigned int q, const uint8_t **data, size_t *size)
{
	struct drvq *dq = &st.q[q];
	unsigned int n = 1 + fuzz_byte(data, size) % MAX_DESC, i;
	uint16_t first = st.next_desc[q];

	if (first + n > QSIZE || dq->avail_idx >= QSIZE)
		return;
	for (i = 0; i < n; i++) {
		uint16_t di = (uint16_t)(first + i);
		uint8_t fl = fuzz_byte(data, size);
		uint16_t next = (uint16_t)(di + 1);
		uint32_t len;

		/* on receiveq a raw next is out of range: chains sharing
		 * buffers there would defeat the data check */
		if (fl & 2)
			next = q ? fuzz_byte(data, size)
				 : (uint16_t)(QSIZE | fuzz_byte(data, size));
		len = fuzz_byte(data, size);
		drvq_put_desc(dq, di, SLOT_GPA(q, di), len,
			      (uint16_t)((fl & 1 ? VRING_DESC_F_WRITE : 0) |
					 (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			      next);
	}
	for (i = 0; i < n; i++) {
		struct vring_desc dp = drvq_get_desc(dq, (uint16_t)(first + i));
		uint8_t *slot = guest_ptr(&st.g, dp.addr, SLOT_SIZE);

		memset(slot, 0, SLOT_SIZE);
		if (!(dp.flags & VRING_DESC_F_WRITE))
			fuzz_copy(data, size, slot, dp.len);
	}
	st.next_desc[q] = (uint16_t)(first + n);
	drvq_avail(dq, first);
}

/*
 * Walk the chain at head as the fuzzer wrote it; the device returned it,
 * so it is well formed. Calls fn on each buffer; returns the buffers.
 */
static unsigned int walk(unsigned int q, uint16_t head,
			 void (*fn)(const struct vring_desc *dp, void *arg),
			 void *arg)
{
	unsigned int n = 0;
	uint16_t i = head;

	for (;;) {
		struct vring_desc d;

		if (i >= QSIZE || n++ >= QSIZE)
			abort(); /* the device accepted a malformed chain */
		d = drvq_get_desc(&st.q[q], i);
		fn(&d, arg);
		if (!(d.flags & VRING_DESC_F_NEXT))
			return n;
		i = d.next;
	}
}

static void add_tx(const struct vring_desc *dp, void *arg)
{
	(void)arg;
	/* an unwritten descriptor (a raw head or next) is all zero */
	if (dp->flags & VRING_DESC_F_WRITE || !dp->len)
		return;
	memcpy(st.expect + st.expect_len, guest_ptr(&st.g, dp->addr, dp->len),
	       dp->len);
	st.expect_len += dp->len;
}

struct rx_walk {
	uint32_t left; /* bytes of the completion still to check */
	uint64_t room;
};

static void check_rx(const struct vring_desc *dp, void *arg)
{
	struct rx_walk *w = arg;
	uint32_t n;

	if (!(dp->flags & VRING_DESC_F_WRITE) || !dp->len)
		return;
	w->room += dp->len;
	n = w->left < dp->len ? w->left : dp->len;
	if (st.rx_len + n > st.in_len ||
	    memcmp(guest_ptr(&st.g, dp->addr, n), st.in + st.rx_len, n))
		abort(); /* not the host input, in order */
	st.rx_len += n;
	w->left -= n;
}

/* Check the used entries that appeared since the last call. */
static void check_used(void)
{
	bool broken = virtio_get_status(st.d) & VIRTIO_CONFIG_S_NEEDS_RESET;
	unsigned int q;

	for (q = 0; q < 2; q++) {
		struct drvq *dq = &st.q[q];
		uint32_t id, len;

		if ((uint16_t)(drvq_used_idx(dq) - dq->used_seen) > QSIZE)
			abort();
		while (drvq_pop_used(dq, &id, &len)) {
			if (q == 1) {
				if (len)
					abort();
				walk(q, (uint16_t)id, add_tx, NULL);
			} else {
				struct rx_walk w = { .left = len };

				walk(q, (uint16_t)id, check_rx, &w);
				if (w.left || (!len && w.room && !broken))
					abort();
			}
		}
	}
}

static void check_output(void)
{
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;

	while ((n = read(st.pipe[0], buf, sizeof(buf))) > 0) {
		if (got + (size_t)n > st.expect_len ||
		    memcmp(buf, st.expect + got, (size_t)n))
			abort();
		got += (size_t)n;
	}
	if (got != st.expect_len)
		abort();
}

static void enable(bool event_idx)
{
	uint64_t mask = ~0ULL;

	if (!event_idx)
		mask &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
	vdrv_init_core(&st.v, st.d);
	if (vdrv_bring_up(&st.v, mask, st.q, 2) || !virtio_dev_live(st.d))
		abort();
}

static void setup(void)
{
	unsigned int q;

	if (!st.g.mem.nr) {
		st.expect = malloc(MAX_OUT);
		if (guest_init(&st.g, GUEST_RAM_BASE, RAM_SIZE) || !st.expect ||
		    pipe2(st.pipe, O_CLOEXEC) ||
		    fcntl(st.pipe[0], F_SETFL, O_NONBLOCK) ||
		    fcntl(st.pipe[1], F_SETPIPE_SZ, MAX_OUT) < 0)
			abort();
	}
	guest_clear(&st.g);
	for (q = 0; q < 2; q++) {
		drvq_init(&st.q[q], &st.g, QSIZE, RING_GPA(q),
			  RING_GPA(q) + AVAIL_OFF, RING_GPA(q) + USED_OFF);
		st.next_desc[q] = 0;
	}
	st.in_len = st.rx_len = st.expect_len = 0;
	console_init(&st.con, st.pipe[1]);
	if (virtio_console_create(&st.g.mem, (struct irq_line){ 0 }, &st.con,
				  &st.d))
		abort();
}

static void host_input(const uint8_t **data, size_t *size)
{
	size_t n = fuzz_byte(data, size);

	n = n < *size ? n : *size;
	if (st.in_len + n > sizeof(st.in))
		n = sizeof(st.in) - st.in_len;
	memcpy(st.in + st.in_len, *data, n);
	console_input(&st.con, *data, n);
	st.in_len += n;
	*data += n;
	*size -= n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	enable(fuzz_byte(&data, &size) & 1);
	while (size) {
		switch (fuzz_byte(&data, &size) % 6) {
		case 0:
			post_chain(1, &data, &size);
			break;
		case 1:
			post_chain(0, &data, &size);
			break;
		case 2:
			host_input(&data, &size);
			break;
		case 3:
			virtio_notify(st.d, fuzz_byte(&data, &size) % 3);
			break;
		case 4:
			virtio_console_input(st.d);
			break;
		case 5: {
			unsigned int q = fuzz_byte(&data, &size) & 1;

			uint16_t head = fuzz_byte(&data, &size);

			/* as for next: only out-of-range heads on receiveq */
			if (!q)
				head |= QSIZE;
			if (st.q[q].avail_idx < QSIZE)
				drvq_avail(&st.q[q], head);
			break;
		}
		}
		check_used();
	}
	check_output();
	virtio_console_destroy(st.d);
	console_destroy(&st.con);
	return 0;
}
