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
#include "fuzz-input.h"

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
#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x40000ULL
#define QSIZE 16
#define RING_GPA(q) (RAM_BASE + 0x4000ULL * (q))
#define AVAIL_OFF 0x1000
#define USED_OFF 0x2000
#define SLOT_GPA(q, i) (RAM_BASE + 0x10000 + 0x100ULL * ((q)*QSIZE + (i)))
#define MAX_DESC 4
#define MAX_OUT (2 * QSIZE * QSIZE * 256)

struct fq {
	uint16_t next_desc; /* descriptors used so far */
	uint16_t avail_idx;
	uint16_t seen_used; /* used entries checked */
};

struct fstate {
	struct gmem mem;
	uint8_t *ram;
	struct console con;
	int pipe[2];
	struct virtio_dev *d;
	struct fq q[2];
	uint8_t in[65536]; /* all host input, in order */
	size_t in_len, rx_len; /* rx_len: bytes delivered so far */
	uint8_t *expect; /* transmit bytes the used ring accounts for */
	size_t expect_len;
};

static struct fstate st;

static uint8_t *host(uint64_t gpa)
{
	return st.ram + (gpa - RAM_BASE);
}

static struct vring_desc *desc_at(unsigned int q, uint16_t i)
{
	return (struct vring_desc *)(void *)host(RING_GPA(q) + 16ULL * i);
}

static void make_avail(unsigned int q, uint16_t head)
{
	struct fq *f = &st.q[q];

	memcpy(host(RING_GPA(q) + AVAIL_OFF + 4 + 2 * (f->avail_idx % QSIZE)),
	       &head, 2);
	f->avail_idx++;
	__atomic_store_n((uint16_t *)(void *)host(RING_GPA(q) + AVAIL_OFF + 2),
			 f->avail_idx, __ATOMIC_RELEASE);
}

static void post_chain(unsigned int q, const uint8_t **data, size_t *size)
{
	struct fq *f = &st.q[q];
	unsigned int n = 1 + fuzz_byte(data, size) % MAX_DESC, i;
	uint16_t first = f->next_desc;

	if (first + n > QSIZE || f->avail_idx >= QSIZE)
		return;
	for (i = 0; i < n; i++) {
		struct vring_desc *dp = desc_at(q, (uint16_t)(first + i));
		uint8_t fl = fuzz_byte(data, size);
		uint16_t next = (uint16_t)(first + i + 1);

		/* on receiveq a raw next is out of range: chains sharing
		 * buffers there would defeat the data check */
		if (fl & 2)
			next = q ? fuzz_byte(data, size)
				 : (uint16_t)(QSIZE | fuzz_byte(data, size));
		dp->addr = SLOT_GPA(q, first + i);
		dp->len = fuzz_byte(data, size);
		dp->flags = (uint16_t)((fl & 1 ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		dp->next = next;
	}
	for (i = 0; i < n; i++) {
		struct vring_desc *dp = desc_at(q, (uint16_t)(first + i));
		size_t k = *size < dp->len ? *size : dp->len;

		memset(host(dp->addr), 0, 0x100);
		if (dp->flags & VRING_DESC_F_WRITE)
			continue;
		memcpy(host(dp->addr), *data, k);
		*data += k;
		*size -= k;
	}
	f->next_desc = (uint16_t)(first + n);
	make_avail(q, first);
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
		const struct vring_desc *dp;

		if (i >= QSIZE || n++ >= QSIZE)
			abort(); /* the device accepted a malformed chain */
		dp = desc_at(q, i);
		fn(dp, arg);
		if (!(dp->flags & VRING_DESC_F_NEXT))
			return n;
		i = dp->next;
	}
}

static void add_tx(const struct vring_desc *dp, void *arg)
{
	(void)arg;
	/* an unwritten descriptor (a raw head or next) is all zero */
	if (dp->flags & VRING_DESC_F_WRITE || !dp->len)
		return;
	memcpy(st.expect + st.expect_len, host(dp->addr), dp->len);
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
	    memcmp(host(dp->addr), st.in + st.rx_len, n))
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
		struct fq *f = &st.q[q];
		uint16_t used =
			*(uint16_t *)(void *)host(RING_GPA(q) + USED_OFF + 2);
		struct vring_used_elem e;

		if ((uint16_t)(used - f->seen_used) > QSIZE)
			abort();
		for (; f->seen_used != used; f->seen_used++) {
			memcpy(&e,
			       host(RING_GPA(q) + USED_OFF + 4 +
				    8ULL * (f->seen_used % QSIZE)),
			       sizeof(e));
			if (q == 1) {
				if (e.len)
					abort();
				walk(q, (uint16_t)e.id, add_tx, NULL);
			} else {
				struct rx_walk w = { .left = e.len };

				walk(q, (uint16_t)e.id, check_rx, &w);
				if (w.left || (!e.len && w.room && !broken))
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
	struct virtio_dev *d = st.d;
	uint64_t f = virtio_dev_features(d);
	uint32_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	unsigned int q;

	if (!event_idx)
		f &= ~(1ULL << 29); /* VIRTIO_RING_F_EVENT_IDX */
	virtio_set_status(d, s);
	virtio_set_drv_features_sel(d, 0);
	virtio_set_drv_features(d, (uint32_t)f);
	virtio_set_drv_features_sel(d, 1);
	virtio_set_drv_features(d, (uint32_t)(f >> 32));
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	virtio_set_status(d, s);
	for (q = 0; q < 2; q++) {
		virtio_set_queue_sel(d, q);
		virtio_set_queue_num(d, QSIZE);
		virtio_set_queue_addr(d, 0, false, (uint32_t)RING_GPA(q));
		virtio_set_queue_addr(d, 1, false,
				      (uint32_t)(RING_GPA(q) + AVAIL_OFF));
		virtio_set_queue_addr(d, 2, false,
				      (uint32_t)(RING_GPA(q) + USED_OFF));
		virtio_set_queue_ready(d, 1);
	}
	virtio_set_status(d, s | VIRTIO_CONFIG_S_DRIVER_OK);
	if (!virtio_dev_live(d))
		abort();
}

static void setup(void)
{
	if (!st.ram) {
		st.ram = calloc(1, RAM_SIZE);
		st.expect = malloc(MAX_OUT);
		if (!st.ram || !st.expect ||
		    gmem_add(&st.mem, RAM_BASE, RAM_SIZE, st.ram) ||
		    pipe2(st.pipe, O_CLOEXEC) ||
		    fcntl(st.pipe[0], F_SETFL, O_NONBLOCK) ||
		    fcntl(st.pipe[1], F_SETPIPE_SZ, MAX_OUT) < 0)
			abort();
	}
	memset(st.ram, 0, RAM_SIZE);
	memset(st.q, 0, sizeof(st.q));
	st.in_len = st.rx_len = st.expect_len = 0;
	console_init(&st.con, st.pipe[1]);
	if (virtio_console_create(&st.mem, (struct irq_line){ 0 }, &st.con,
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
				make_avail(q, head);
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
