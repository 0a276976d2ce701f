// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the virtio-net control queue. */
#include "fuzz-net.h"

/*
 * The input: a flags byte (see fn_setup()), then operations, an opcode
 * byte (% 3) and its operands:
 *   0 a control chain (fn_post_chain()),
 *   1 a well-formed command: class, command, a data length byte and the
 *     data, with its ack byte,
 *   2 a turn of the device.
 *
 * Invariants: no crash or sanitizer report; every control completion has
 * length 1 and its last writable byte is VIRTIO_NET_OK or VIRTIO_NET_ERR
 * (or the device needs a reset); the MAC the device shows changes only by
 * a MAC_ADDR_SET command.
 */
#define CMD_GPA (GUEST_RAM_BASE + 0x8000)
#define ACK_GPA (GUEST_RAM_BASE + 0xf000)

static void command(const uint8_t **data, size_t *size)
{
	uint8_t *p = guest_ptr(&fn.g, CMD_GPA, 2 + 255);
	size_t n;
	uint16_t first = fn.next_desc[2];

	if (first + 2 > FN_QSIZE || fn.q[2].avail_idx >= FN_QSIZE)
		return;
	p[0] = fuzz_byte(data, size) % 8;
	p[1] = fuzz_byte(data, size) % 4;
	n = fuzz_byte(data, size);
	fuzz_copy(data, size, p + 2, n);
	guest_put8(&fn.g, ACK_GPA, 0xee);
	drvq_post_chain(
		&fn.q[2], first,
		(struct drvq_buf[]){ { CMD_GPA, (uint32_t)(2 + n), false },
				     { ACK_GPA, 1, true } },
		2);
	fn.next_desc[2] = (uint16_t)(first + 2);
	virtio_net_poll(fn.d);
	if (!(virtio_get_status(fn.d) & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	    guest_get8(&fn.g, ACK_GPA) > VIRTIO_NET_ERR)
		abort();
}

static void check(void)
{
	uint32_t id, len;

	while (drvq_pop_used(&fn.q[2], &id, &len))
		if (id >= FN_QSIZE ||
		    (len != 1 &&
		     !(virtio_get_status(fn.d) & VIRTIO_CONFIG_S_NEEDS_RESET)))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fn_setup(fuzz_byte(&data, &size));
	while (size) {
		switch (fuzz_byte(&data, &size) % 3) {
		case 0:
			fn_post_chain(2, &data, &size);
			break;
		case 1:
			command(&data, &size);
			break;
		case 2:
			virtio_net_poll(fn.d);
			break;
		}
		check();
	}
	fn_teardown();
	return 0;
}
