/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user protocol's front-end side, as far as a virtio-net data
 * path needs it (QEMU's docs/interop/vhost-user.rst): lkvm sends requests
 * over a connected AF_UNIX stream socket, file descriptors in SCM_RIGHTS,
 * and reads the back end's replies. The back end (passt) is a separate,
 * less trusted process: every reply is checked whole before use, and a
 * back end that stops answering costs at most the socket's timeout.
 */
#ifndef LKVM_VHOST_USER_H
#define LKVM_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

/* Requests (the front end's message types). */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_SET_VRING_ENABLE = 18,
};

/* The feature bit that says the back end has protocol features. */
#define VU_F_PROTOCOL_FEATURES 30
/* Protocol feature: the back end acknowledges a request that asks. */
#define VU_PROTOCOL_F_REPLY_ACK 3

/* Header flags: the version (1), a reply, a request that wants one. */
#define VU_VERSION 0x1u
#define VU_FLAG_VERSION_MASK 0x3u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

/* A ring's kick or call request: the index, and "no fd" */
#define VU_VRING_NOFD (1u << 8)

#define VU_MAX_REGIONS 8
#define VU_HDR_SIZE 12
/* How long lkvm waits on the back end for a send or a reply. */
#define VU_TIMEOUT_MS 5000

struct vu_state {
	uint32_t index, num;
};

struct vu_vring_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};

struct vu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct vu_mem_table {
	uint32_t nregions, padding;
	struct vu_region r[VU_MAX_REGIONS];
};

/*
 * Make sock, a connected AF_UNIX stream socket, fit for vu_request():
 * blocking, with VU_TIMEOUT_MS send and receive timeouts. 0 or -errno.
 */
int vu_socket_setup(int sock);

/*
 * Send request req with size bytes of payload and nfds descriptors (at
 * most VU_MAX_REGIONS). With reply (size reply_size, which may be 0 for
 * no payload expected) the back end's answer is awaited: it must be a
 * reply to req of exactly reply_size bytes (for an acknowledgement,
 * reply_size 8 and the value 0 is success). ack adds NEED_REPLY and
 * reads the acknowledgement (requests that have no reply of their own;
 * only when REPLY_ACK was negotiated). Returns 0; -EPIPE when the back
 * end is gone; -ETIMEDOUT when it did not answer in time; -EPROTO for a
 * malformed reply; -EIO for a failure it acknowledged.
 */
int vu_request(int sock, enum vu_request req, const void *payload,
	       uint32_t size, const int *fds, unsigned int nfds, bool ack,
	       void *reply, uint32_t reply_size);

/*
 * Check a reply's 12-byte header as vu_request() does: a reply (version 1)
 * to req announcing exactly reply_size bytes of payload. 0 or -EPROTO.
 */
int vu_check_reply(const uint8_t hdr[VU_HDR_SIZE], enum vu_request req,
		   uint32_t reply_size);

#endif
