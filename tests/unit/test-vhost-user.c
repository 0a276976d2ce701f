// SPDX-License-Identifier: GPL-2.0-only
/* vhost-user front end (net/vhost-user.c, net/vhost.c) against a fake back end. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "fake-vu.h"
#include "lkvm/guest-mem.h"
#include "lkvm/net.h"
#include "unit.h"

#define RAM_SIZE (1u << 20)
#define RAM_GPA 0x80000000ULL
#define F_PROTO (1ULL << VU_F_PROTOCOL_FEATURES)
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)
#define F_MRG (1ULL << VIRTIO_NET_F_MRG_RXBUF)
#define P_ACK (1ULL << VU_PROTOCOL_F_REPLY_ACK)

/* Guest RAM as lkvm makes it for vhost-user: a memfd mapped shared. */
struct shared_ram {
	int fd;
	uint8_t *host;
	struct gmem mem;
};

static bool ram_new(struct shared_ram *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = memfd_create("test-ram", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, RAM_SIZE))
		return false;
	r->host = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, 0);
	if (r->host == MAP_FAILED)
		return false;
	return !gmem_add_shared(&r->mem, RAM_GPA, RAM_SIZE, r->host, r->fd, 0);
}

static void ram_free(struct shared_ram *r)
{
	munmap(r->host, RAM_SIZE);
	close(r->fd);
}

static uint64_t payload_u64(const struct fake_vu_msg *m)
{
	uint64_t v;

	memcpy(&v, m->payload, sizeof(v));
	return v;
}

/* The whole life: open, start with two rings, stop, close; each request
 * as the protocol wants it, the descriptors the real ones. */
static void test_session(void)
{
	struct shared_ram ram;
	struct fake_vu f;
	struct net_vhost *vh = NULL;
	struct net_vhost_ring r[2];
	int kick[2], call1, i;
	char err[256];
	uint64_t cnt;

	REQUIRE(ram_new(&ram));
	REQUIRE(!fake_vu_start(&f, F_V1 | F_MRG | F_PROTO, P_ACK | 1 << 1));
	CHECK_EQ(net_vhost_user_open(&ram.mem, f.sock, &vh, err, sizeof(err)),
		 0);
	REQUIRE(vh);
	/* the back end's own features: what the device may offer */
	CHECK_EQ(net_vhost_features(vh), F_V1 | F_MRG | F_PROTO);
	kick[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	call1 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (i = 0; i < 2; i++)
		r[i] = (struct net_vhost_ring){ ram.host + 0x1000 * (3 * i),
						ram.host + 0x1000 * (3 * i + 1),
						ram.host + 0x1000 * (3 * i + 2),
						256,
						(unsigned int)i * 5,
						kick[i],
						i ? call1 : -1 };
	/* the guest accepted EVENT_IDX: the back end is not told */
	CHECK_EQ(net_vhost_start(vh,
				 F_V1 | F_MRG |
					 1ULL << VIRTIO_RING_F_EVENT_IDX |
					 1ULL << VIRTIO_NET_F_MAC,
				 r),
		 0);
	net_vhost_stop(vh);
	net_vhost_close(vh);
	fake_vu_stop(&f);

	/* the order a back end needs */
	CHECK_EQ(f.msgs[0].req, VU_GET_FEATURES);
	CHECK_EQ(f.msgs[1].req, VU_GET_PROTOCOL_FEATURES);
	CHECK_EQ(f.msgs[2].req, VU_SET_PROTOCOL_FEATURES);
	/* only REPLY_ACK of what it offered */
	CHECK_EQ(payload_u64(&f.msgs[2]), P_ACK);
	CHECK_EQ(f.msgs[3].req, VU_SET_OWNER);
	CHECK(f.msgs[3].flags & VU_FLAG_NEED_REPLY);
	CHECK_EQ(f.msgs[4].req, VU_SET_MEM_TABLE);
	CHECK_EQ(f.msgs[4].flags & VU_FLAG_VERSION_MASK, VU_VERSION);
	{
		struct vu_mem_table t;
		uint8_t *peer;

		memcpy(&t, f.msgs[4].payload, sizeof(t));
		CHECK_EQ(f.msgs[4].size, 8 + sizeof(struct vu_region));
		CHECK_EQ(t.nregions, 1);
		CHECK_EQ(t.r[0].gpa, RAM_GPA);
		CHECK_EQ(t.r[0].size, RAM_SIZE);
		CHECK_EQ(t.r[0].uaddr, (uintptr_t)ram.host);
		CHECK_EQ(t.r[0].mmap_offset, 0);
		REQUIRE(f.msgs[4].nfds == 1);
		/* the descriptor is guest RAM itself: what the guest
		 * writes, the back end reads */
		peer = mmap(NULL, RAM_SIZE, PROT_READ, MAP_SHARED,
			    f.msgs[4].fds[0], 0);
		REQUIRE(peer != MAP_FAILED);
		ram.host[4242] = 0x5a;
		CHECK_EQ(peer[4242], 0x5a);
		munmap(peer, RAM_SIZE);
	}
	i = fake_vu_find(&f, VU_SET_FEATURES, 0);
	REQUIRE(i > 4);
	/* the guest's features the back end has, and PROTOCOL_FEATURES */
	CHECK_EQ(payload_u64(&f.msgs[i]), F_V1 | F_MRG | F_PROTO);
	for (unsigned int q = 0; q < 2; q++) {
		struct vu_vring_addr a;
		struct vu_state st;
		int k = fake_vu_find(&f, VU_SET_VRING_ADDR, q);
		int n = fake_vu_find(&f, VU_SET_VRING_NUM, q);
		int b = fake_vu_find(&f, VU_SET_VRING_BASE, q);
		int ki = fake_vu_find(&f, VU_SET_VRING_KICK, q);
		int c = fake_vu_find(&f, VU_SET_VRING_CALL, q);
		int e = fake_vu_find(&f, VU_SET_VRING_ENABLE, q);

		REQUIRE(k > i && n > i && b > i && ki > i && c > i && e > c);
		memcpy(&st, f.msgs[n].payload, sizeof(st));
		CHECK_EQ(st.index, q);
		CHECK_EQ(st.num, 256);
		memcpy(&st, f.msgs[b].payload, sizeof(st));
		CHECK_EQ(st.num, q * 5);
		memcpy(&a, f.msgs[k].payload, sizeof(a));
		CHECK_EQ(a.index, q);
		CHECK_EQ(a.desc, (uintptr_t)r[q].desc);
		CHECK_EQ(a.avail, (uintptr_t)r[q].avail);
		CHECK_EQ(a.used, (uintptr_t)r[q].used);
		CHECK_EQ(payload_u64(&f.msgs[ki]), q);
		REQUIRE(f.msgs[ki].nfds == 1);
		/* the kick lkvm signalled once at the start arrives */
		CHECK_EQ(read(f.msgs[ki].fds[0], &cnt, sizeof(cnt)),
			 sizeof(cnt));
		REQUIRE(f.msgs[c].nfds == 1);
		if (q) {
			/* ring 1's call is the irqfd given */
			CHECK_EQ(write(f.msgs[c].fds[0], &cnt, sizeof(cnt)),
				 sizeof(cnt));
			CHECK_EQ(read(call1, &cnt, sizeof(cnt)), sizeof(cnt));
		}
		memcpy(&st, f.msgs[e].payload, sizeof(st));
		CHECK_EQ(st.index, q);
		CHECK_EQ(st.num, 1);
		/* the last of a ring's requests is acknowledged */
		CHECK(f.msgs[e].flags & VU_FLAG_NEED_REPLY);
	}
	/* stop: both rings' bases taken back */
	CHECK(fake_vu_find(&f, VU_GET_VRING_BASE, 0) > 0);
	CHECK(fake_vu_find(&f, VU_GET_VRING_BASE, 1) > 0);
	fake_vu_free(&f);
	close(kick[0]);
	close(kick[1]);
	close(call1);
	ram_free(&ram);
}

/* Without protocol features: no protocol requests, no acks, no enable. */
static void test_no_protocol_features(void)
{
	struct shared_ram ram;
	struct fake_vu f;
	struct net_vhost *vh = NULL;
	char err[256];
	unsigned int i;

	REQUIRE(ram_new(&ram));
	REQUIRE(!fake_vu_start(&f, F_V1, 0));
	CHECK_EQ(net_vhost_user_open(&ram.mem, f.sock, &vh, err, sizeof(err)),
		 0);
	net_vhost_close(vh);
	fake_vu_stop(&f);
	CHECK_EQ(fake_vu_find(&f, VU_GET_PROTOCOL_FEATURES, 0), -1);
	CHECK(fake_vu_find(&f, VU_SET_MEM_TABLE, 0) > 0);
	for (i = 0; i < f.nr_msgs; i++)
		CHECK(!(f.msgs[i].flags & VU_FLAG_NEED_REPLY));
	fake_vu_free(&f);
	ram_free(&ram);
}

/* Each way a back end can fail the set-up: one line, an error, no hang. */
static void test_open_errors(void)
{
	static const struct {
		uint64_t features;
		enum fake_vu_fault fault;
		uint32_t req;
		int ret;
		const char *msg;
	} cases[] = {
		{ F_MRG, FAKE_VU_OK, 0, -EOPNOTSUPP, "lacks virtio 1" },
		{ F_V1, FAKE_VU_HANGUP, VU_GET_FEATURES, -EPIPE,
		  "GET_FEATURES" },
		{ F_V1 | F_PROTO, FAKE_VU_HANGUP, VU_SET_MEM_TABLE, -EPIPE,
		  "SET_MEM_TABLE" },
		{ F_V1, FAKE_VU_WRONG_REQ, VU_GET_FEATURES, -EPROTO,
		  "GET_FEATURES" },
		{ F_V1, FAKE_VU_WRONG_SIZE, VU_GET_FEATURES, -EPROTO,
		  "GET_FEATURES" },
		{ F_V1 | F_PROTO, FAKE_VU_NACK, VU_SET_MEM_TABLE, -EIO,
		  "SET_MEM_TABLE" },
		{ F_V1 | F_PROTO, FAKE_VU_NACK, VU_SET_OWNER, -EIO,
		  "SET_OWNER" },
	};
	struct shared_ram ram;
	unsigned int i;

	REQUIRE(ram_new(&ram));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_vu f = { 0 };
		struct net_vhost *vh = NULL;
		char err[256] = "";

		f.fault = cases[i].fault;
		f.fault_req = cases[i].req;
		REQUIRE(!fake_vu_start(&f, cases[i].features, P_ACK));
		CHECK_EQ(net_vhost_user_open(&ram.mem, f.sock, &vh, err,
					     sizeof(err)),
			 cases[i].ret);
		CHECK(!vh);
		if (!CHECK(strstr(err, cases[i].msg)))
			fprintf(stderr, "  case %u: %s\n", i, err);
		CHECK(!strchr(err, '\n'));
		fake_vu_stop(&f);
		fake_vu_free(&f);
	}
	ram_free(&ram);
}

/* Private RAM cannot be given to another process. */
static void test_private_ram(void)
{
	static uint8_t host[4096];
	struct gmem mem = { 0 };
	struct fake_vu f = { 0 };
	struct net_vhost *vh = NULL;
	char err[256];

	REQUIRE(!gmem_add(&mem, RAM_GPA, sizeof(host), host));
	CHECK_EQ(mem.r[0].fd, -1);
	REQUIRE(!fake_vu_start(&f, F_V1, 0));
	CHECK_EQ(net_vhost_user_open(&mem, f.sock, &vh, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "not shareable"));
	fake_vu_stop(&f);
	CHECK_EQ(fake_vu_find(&f, VU_SET_MEM_TABLE, 0), -1);
	fake_vu_free(&f);
}

/* A back end that never answers costs the socket's timeout, no more. */
static void test_timeout(void)
{
	struct timeval tv = { 0, 100 * 1000 };
	struct fake_vu f = { 0 };
	uint64_t v;

	f.fault = FAKE_VU_SILENT;
	f.fault_req = VU_GET_FEATURES;
	REQUIRE(!fake_vu_start(&f, F_V1, 0));
	REQUIRE(!setsockopt(f.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_EQ(vu_request(f.sock, VU_GET_FEATURES, NULL, 0, NULL, 0, false,
			    &v, sizeof(v)),
		 -ETIMEDOUT);
	fake_vu_stop(&f);
	fake_vu_free(&f);
}

/* Requests lkvm cannot make are refused before anything is sent. */
static void test_request_limits(void)
{
	struct fake_vu f = { 0 };
	uint8_t big[sizeof(struct vu_mem_table) + 1] = { 0 };
	int fds[VU_MAX_REGIONS + 1] = { 0 };
	uint64_t v;

	REQUIRE(!fake_vu_start(&f, F_V1, 0));
	CHECK_EQ(vu_request(f.sock, VU_SET_MEM_TABLE, big, sizeof(big), NULL, 0,
			    false, NULL, 0),
		 -EINVAL);
	CHECK_EQ(vu_request(f.sock, VU_SET_MEM_TABLE, big, 8, fds,
			    VU_MAX_REGIONS + 1, false, NULL, 0),
		 -EINVAL);
	CHECK_EQ(vu_request(f.sock, VU_GET_FEATURES, NULL, 0, NULL, 0, true, &v,
			    sizeof(v)),
		 -EINVAL);
	fake_vu_stop(&f);
	CHECK_EQ(f.nr_msgs, 0);
	fake_vu_free(&f);
}

/* A reply's header: every field checked. */
static void test_check_reply(void)
{
	uint8_t h[VU_HDR_SIZE];
	uint32_t w[3];

#define HDR(r, fl, sz) \
	(w[0] = (r), w[1] = (fl), w[2] = (sz), memcpy(h, w, sizeof(w)))
	HDR(VU_GET_FEATURES, VU_VERSION | VU_FLAG_REPLY, 8);
	CHECK_EQ(vu_check_reply(h, VU_GET_FEATURES, 8), 0);
	CHECK_EQ(vu_check_reply(h, VU_GET_FEATURES, 0), -EPROTO);
	CHECK_EQ(vu_check_reply(h, VU_GET_PROTOCOL_FEATURES, 8), -EPROTO);
	HDR(VU_GET_FEATURES, VU_VERSION, 8); /* not a reply */
	CHECK_EQ(vu_check_reply(h, VU_GET_FEATURES, 8), -EPROTO);
	HDR(VU_GET_FEATURES, 2 | VU_FLAG_REPLY, 8); /* version 2 */
	CHECK_EQ(vu_check_reply(h, VU_GET_FEATURES, 8), -EPROTO);
	HDR(VU_GET_FEATURES, VU_VERSION | VU_FLAG_REPLY, 0xffffffffu);
	CHECK_EQ(vu_check_reply(h, VU_GET_FEATURES, 8), -EPROTO);
#undef HDR
}

/* A reply out of turn breaks the session: nothing more is sent (no
 * request waits on a back end that is out of step). */
static void test_broken_session(void)
{
	struct shared_ram ram;
	struct fake_vu f = { 0 };
	struct net_vhost *vh = NULL;
	struct net_vhost_ring r[2];
	int kick, i;
	char err[256];

	REQUIRE(ram_new(&ram));
	f.fault = FAKE_VU_WRONG_SIZE;
	f.fault_req = VU_GET_VRING_BASE;
	REQUIRE(!fake_vu_start(&f, F_V1 | F_PROTO, P_ACK));
	REQUIRE(!net_vhost_user_open(&ram.mem, f.sock, &vh, err, sizeof(err)));
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (i = 0; i < 2; i++)
		r[i] = (struct net_vhost_ring){ ram.host,
						ram.host + 0x1000,
						ram.host + 0x2000,
						64,
						0,
						kick,
						-1 };
	CHECK_EQ(net_vhost_start(vh, F_V1, r), 0);
	net_vhost_stop(vh); /* ring 0's reply is malformed */
	CHECK_EQ(net_vhost_start(vh, F_V1, r), -EPIPE);
	CHECK_EQ(net_vhost_set_call(vh, 0, kick), -EPIPE);
	net_vhost_close(vh);
	fake_vu_stop(&f);
	CHECK_EQ(fake_vu_find(&f, VU_GET_VRING_BASE, 0) >= 0, 1);
	CHECK_EQ(fake_vu_find(&f, VU_GET_VRING_BASE, 1), -1);
	CHECK_EQ(fake_vu_find(&f, VU_SET_FEATURES, 1), -1);
	fake_vu_free(&f);
	close(kick);
	ram_free(&ram);
}

UNIT_SUITE(vhost_user, UNIT_TEST(test_session),
	   UNIT_TEST(test_no_protocol_features), UNIT_TEST(test_open_errors),
	   UNIT_TEST(test_private_ram), UNIT_TEST(test_timeout),
	   UNIT_TEST(test_broken_session), UNIT_TEST(test_request_limits),
	   UNIT_TEST(test_check_reply));
