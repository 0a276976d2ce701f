/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A network backend for tests: frames the device sends are kept in order
 * for the test to read back, frames the test queues are what the device
 * receives. It can carry the virtio-net header or not, refuse room
 * (writable false), fail sends, and play a peer that went away.
 */
#ifndef LKVM_TEST_FAKE_NET_H
#define LKVM_TEST_FAKE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/net.h"

#define FAKE_NET_FRAMES 64

struct fake_net_frame {
	uint8_t *data;
	size_t len;
};

struct fake_net {
	struct net_backend be; /* first: what the device is given */
	/* frames the device sent (header included when vnet_hdr) */
	struct fake_net_frame tx[FAKE_NET_FRAMES];
	unsigned int nr_tx;
	/* frames waiting for the device, taken from rx_head */
	struct fake_net_frame rx[FAKE_NET_FRAMES];
	unsigned int rx_head, nr_rx;
	bool full; /* writable() says no */
	int send_err; /* non-zero: send fails with it */
	bool dead; /* send and recv say -EPIPE */
	uint64_t offload; /* the last set_offload() */
	unsigned int offload_calls;
};

/* A fake backend (be.fd -1), with or without the header. NULL on ENOMEM. */
struct fake_net *fake_net_new(bool vnet_hdr);
/* Queue a frame for the device to receive (copied). */
void fake_net_inject(struct fake_net *f, const void *data, size_t len);

#endif
