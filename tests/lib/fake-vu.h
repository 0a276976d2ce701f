/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vhost-user back end for tests: a thread on one end of a socketpair
 * that reads the front end's requests, keeps each one (request, flags,
 * payload, the descriptors that came with it), and answers as a back end
 * would (features, protocol features, ring bases, acknowledgements). It
 * can misbehave: hang up at a given request, answer the wrong request or
 * size, refuse an acknowledgement, or never answer.
 */
#ifndef LKVM_TEST_FAKE_VU_H
#define LKVM_TEST_FAKE_VU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lkvm/vhost-user.h"

#define FAKE_VU_MSGS 64

struct fake_vu_msg {
	uint32_t req, flags, size;
	uint8_t payload[sizeof(struct vu_mem_table)];
	int fds[VU_MAX_REGIONS]; /* received: the test closes them */
	unsigned int nfds;
};

enum fake_vu_fault {
	FAKE_VU_OK,
	FAKE_VU_HANGUP, /* close the socket on request fault_req */
	FAKE_VU_WRONG_REQ, /* answer fault_req as another request */
	FAKE_VU_WRONG_SIZE, /* answer fault_req with 4 bytes more */
	FAKE_VU_NACK, /* acknowledge fault_req with a failure */
	FAKE_VU_SILENT, /* never answer fault_req */
};

struct fake_vu {
	int sock; /* the front end's end */
	int peer; /* the thread's end */
	pthread_t thread;
	uint64_t features, protocol_features; /* what it offers */
	enum fake_vu_fault fault;
	uint32_t fault_req;
	/* what it received, in order; written by its thread, read by the
	 * test after fake_vu_stop() */
	struct fake_vu_msg msgs[FAKE_VU_MSGS];
	unsigned int nr_msgs;
};

/*
 * Start a back end offering features (VU_F_PROTOCOL_FEATURES included or
 * not) and protocol features. 0 or -errno.
 */
int fake_vu_start(struct fake_vu *f, uint64_t features, uint64_t protocol);
/* Close the front end's socket and join the thread (it ends at EOF):
 * msgs may be read from here on. */
void fake_vu_stop(struct fake_vu *f);
/* Close the descriptors it received. */
void fake_vu_free(struct fake_vu *f);
/* The index of the n-th message (from 0) of request req, -1 if none. */
int fake_vu_find(const struct fake_vu *f, uint32_t req, unsigned int n);

#endif
