// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: virtio-net transmit (and receive) against the fake backend. */
#include "fuzz-net.h"

/*
 * The input: a flags byte (see fn_setup()), then operations, an opcode
 * byte (% 6) and its operands:
 *   0 a transmit chain (fn_post_chain()), 1 a receive chain,
 *   2 a frame from the backend: a two-byte length (% 9000), that many
 *     bytes (zero-padded),
 *   3 a turn of the device (virtio_net_poll()),
 *   4 the link: a byte, bit 0 up; bit 1 the backend full; bit 2 dead,
 *   5 a raw head on a queue byte's queue (% 2).
 *
 * Invariants: no crash or sanitizer report; every transmit completion has
 * length 0; every frame sent is at most NET_HDR_LEN + NET_FRAME_MAX bytes,
 * and starts with a header whose flags and GSO type are legal; every
 * receive completion is at most the frame's length.
 */
static void check(void)
{
	uint32_t id, len;
	unsigned int i;

	while (drvq_pop_used(&fn.q[1], &id, &len))
		if (len || id >= FN_QSIZE)
			abort();
	while (drvq_pop_used(&fn.q[0], &id, &len))
		if (len > NET_HDR_LEN + 9000 || id >= FN_QSIZE)
			abort();
	for (i = 0; i < fn.f->nr_tx; i++) {
		const struct fake_net_frame *fr = &fn.f->tx[i];

		if (fr->len > NET_HDR_LEN + NET_FRAME_MAX)
			abort();
		if (fn.f->be.vnet_hdr &&
		    (fr->len < NET_HDR_LEN ||
		     fr->data[0] & ~VIRTIO_NET_HDR_F_NEEDS_CSUM))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[9000];

	fn_setup(fuzz_byte(&data, &size));
	while (size) {
		switch (fuzz_byte(&data, &size) % 6) {
		case 0:
			fn_post_chain(1, &data, &size);
			break;
		case 1:
			fn_post_chain(0, &data, &size);
			break;
		case 2: {
			size_t n = fuzz_take(&data, &size, 2) % sizeof(frame);

			fuzz_copy(&data, &size, frame, n);
			fake_net_inject(fn.f, frame, n);
			break;
		}
		case 3:
			virtio_net_poll(fn.d);
			break;
		case 4: {
			uint8_t b = fuzz_byte(&data, &size);

			virtio_net_set_link(fn.d, b & 1);
			fn.f->full = b & 2;
			fn.f->dead = b & 4;
			break;
		}
		case 5: {
			unsigned int q = fuzz_byte(&data, &size) & 1;

			if (fn.q[q].avail_idx < FN_QSIZE)
				drvq_avail(&fn.q[q], fuzz_byte(&data, &size));
			break;
		}
		}
		check();
	}
	virtio_net_poll(fn.d);
	check();
	fn_teardown();
	return 0;
}
