// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for net/: -n parsing, default MACs, passt's stream framing. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/net.h"
#include "unit.h"

static int parse(const char *arg, struct net_spec *s, char *err)
{
	err[0] = 0;
	return net_parse_spec(arg, s, err, 256);
}

static void test_spec_defaults(void)
{
	struct net_spec s;
	char err[256];

	CHECK_EQ(parse("mode=user", &s, err), 0);
	CHECK_EQ(s.mode, NET_MODE_USER);
	CHECK_STR(s.host_ip, "192.168.33.1");
	CHECK_STR(s.guest_ip, "192.168.33.15");
	CHECK(!s.guest_mac_set);
	CHECK_EQ(s.tapfd, -1);
	CHECK_EQ(s.trans, -1);
	/* user mode: passt's vhost-user unless vhost=0, in any order */
	CHECK(s.vhost);
	CHECK_EQ(parse("mode=user,vhost=0", &s, err), 0);
	CHECK(!s.vhost);
	CHECK_EQ(parse("vhost=0,mode=user", &s, err), 0);
	CHECK(!s.vhost);
	CHECK_EQ(parse("mode=tap", &s, err), 0);
	CHECK(!s.vhost);
	CHECK_EQ(parse("none", &s, err), 0);
	CHECK_EQ(s.mode, NET_MODE_NONE);
	CHECK_EQ(parse("mode=none", &s, err), 0);
	CHECK_EQ(s.mode, NET_MODE_NONE);
	/* an empty argument: kvmtool's default, user mode */
	CHECK_EQ(parse("", &s, err), 0);
	CHECK_EQ(s.mode, NET_MODE_USER);
}

static void test_spec_keys(void)
{
	struct net_spec s;
	char err[256];

	CHECK_EQ(parse("mode=tap,tapif=lkvm0,script=none,downscript=/bin/x,"
		       "host_ip=10.0.0.1,guest_ip=10.0.0.2,"
		       "guest_mac=02:aa:bb:cc:dd:ee,host_mac=02:01:01:01:01:01,"
		       "vhost=0,trans=mmio,mq=2",
		       &s, err),
		 0);
	CHECK_EQ(s.mode, NET_MODE_TAP);
	CHECK_STR(s.tapif, "lkvm0");
	CHECK_STR(s.script, "none");
	CHECK_STR(s.downscript, "/bin/x");
	CHECK_STR(s.host_ip, "10.0.0.1");
	CHECK_STR(s.guest_ip, "10.0.0.2");
	CHECK(s.guest_mac_set);
	CHECK_EQ(s.guest_mac[1], 0xaa);
	CHECK_EQ(s.guest_mac[5], 0xee);
	CHECK(s.host_mac_set);
	CHECK_EQ(s.trans, 1);
	CHECK_EQ(s.mq, 2);
	CHECK_EQ(parse("mode=tap,fd=7,vhost=1", &s, err), 0);
	CHECK_EQ(s.tapfd, 7);
	CHECK(s.vhost);
	CHECK_EQ(parse("mode=user,hostfwd=tcp:2222:22,hostfwd=tcp:8080:80", &s,
		       err),
		 0);
	CHECK_EQ(s.nr_hostfwd, 2);
	CHECK_EQ(s.hostfwd[1].host_port, 8080);
	CHECK_EQ(s.hostfwd[1].guest_port, 80);
}

static void test_spec_errors(void)
{
	static const char *const bad[][2] = {
		{ "mode=tap,colour=blue", "unknown key 'colour'" },
		{ "mode=bridge", "bad value for mode: 'bridge'" },
		{ "mode=tap,host_ip=1.2.3", "bad value for host_ip" },
		{ "mode=tap,guest_ip=1.2.3.256", "bad value for guest_ip" },
		{ "guest_mac=02:aa:bb:cc:dd", "bad value for guest_mac" },
		{ "guest_mac=02:aa:bb:cc:dd:eeff", "bad value for guest_mac" },
		{ "mode=tap,vhost=2", "bad value for vhost" },
		{ "mode=tap,fd=-1", "bad value for fd" },
		{ "mode=tap,fd=x", "bad value for fd" },
		{ "trans=virtio", "bad value for trans" },
		{ "mq=0", "bad value for mq" },
		{ "mode=tap,tapif=0123456789abcdef", "bad value for tapif" },
		{ "hostfwd=udp:1:2", "bad value for hostfwd" },
		{ "hostfwd=tcp:0:2", "bad value for hostfwd" },
		{ "hostfwd=tcp:70000:2", "bad value for hostfwd" },
		{ "hostfwd=tcp:1", "bad value for hostfwd" },
		{ "mode=tap,hostfwd=tcp:1:2", "hostfwd needs mode=user" },
		{ "mode=user,fd=3", "fd needs mode=tap" },
		{ "mode=none,vhost=1", "vhost=1 needs mode=tap or mode=user" },
		{ "mode", "is not key=value" },
	};
	struct net_spec s;
	char err[256];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(parse(bad[i][0], &s, err), -EINVAL);
		if (!CHECK(strstr(err, bad[i][1])))
			fprintf(stderr, "    %s: %s\n", bad[i][0], err);
		CHECK(!strchr(err, '\n'));
	}
}

static void test_default_mac(void)
{
	uint8_t a[6], b[6], c[6], d[6];

	net_default_mac("vm1", 0, a);
	net_default_mac("vm1", 0, b);
	net_default_mac("vm1", 1, c);
	net_default_mac("vm2", 0, d);
	CHECK(!memcmp(a, b, 6)); /* stable */
	CHECK(memcmp(a, c, 6)); /* per NIC */
	CHECK(memcmp(a, d, 6)); /* per VM */
	CHECK_EQ(a[0], 0x02); /* locally administered unicast */
	net_default_mac(NULL, 0, b);
	net_default_mac("", 0, c);
	CHECK(!memcmp(b, c, 6));
}

/* passt's framing: a 4-byte big-endian length, then the frame. */
static void test_stream(void)
{
	struct net_backend *be;
	uint8_t buf[NET_HDR_LEN + NET_FRAME_MAX], wire[64];
	struct iovec iov[2] = { { (void *)"abc", 3 }, { (void *)"de", 2 } };
	int sv[2];
	ssize_t n;

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	REQUIRE(net_stream_open(sv[0], 0, &be) == 0);
	CHECK(!be->vnet_hdr);
	CHECK(!be->ops->set_offload);
	CHECK_EQ(be->mtu, NET_PASST_MTU); /* passt's, offered to the guest */
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), -EAGAIN);
	CHECK(be->ops->writable(be));
	CHECK_EQ(net_send(be, iov, 2), 0);
	CHECK_EQ(read(sv[1], wire, sizeof(wire)), 9);
	CHECK(!memcmp(wire, "\0\0\0\5abcde", 9));
	/* two frames and a half, in pieces; an empty frame is skipped */
	CHECK_EQ(write(sv[1], "\0\0\0\3xyz\0\0\0\0\0\0", 13), 13);
	n = net_recv(be, buf, sizeof(buf));
	CHECK_EQ(n, 3);
	CHECK(!memcmp(buf, "xyz", 3));
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), -EAGAIN);
	CHECK_EQ(write(sv[1], "\0\2hi", 4), 4);
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), 2);
	CHECK(!memcmp(buf, "hi", 2));
	/* a length beyond any frame: the peer is broken */
	CHECK_EQ(write(sv[1], "\0\2\0\0", 4), 4);
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), -EPIPE);
	net_close(be);
	close(sv[1]);
}

static void test_stream_peer_gone(void)
{
	struct net_backend *be;
	uint8_t buf[NET_HDR_LEN + NET_FRAME_MAX];
	struct iovec iov = { buf, 1000 };
	int sv[2], i, ret = 0;

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	REQUIRE(net_stream_open(sv[0], 0, &be) == 0);
	/* a peer that does not read: the backend fills, then says so */
	for (i = 0; i < 2000 && be->ops->writable(be); i++)
		CHECK_EQ(net_send(be, &iov, 1), 0);
	CHECK(!be->ops->writable(be));
	close(sv[1]);
	/* gone: EPIPE, not SIGPIPE (lkvm ignores it; so does this) */
	for (i = 0; i < 4 && !ret; i++)
		ret = net_send(be, &iov, 1);
	CHECK_EQ(ret, -EPIPE);
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), -EPIPE);
	net_close(be);
}

static void test_tap_errors(void)
{
	struct net_spec s;
	struct net_backend *be;
	char err[256];

	/* an fd that is not a tap: one line naming it */
	CHECK_EQ(parse("mode=tap,fd=0", &s, err), 0);
	CHECK(net_tap_open(&s, &be, err, sizeof(err)) < 0);
	CHECK(strstr(err, "-n fd=0: not a tap device"));
	/* passt missing: the line names the package */
	CHECK_EQ(parse("mode=user", &s, err), 0);
	CHECK(net_passt_start(&s, "/nonexistent/passt", &be, &(int){ 0 }, err,
			      sizeof(err)) < 0);
	CHECK(strstr(err, "Debian package 'passt'"));
}

/* passt's vhost-user socket as a backend: no frames, one queue that is
 * always attached (DRIVER_OK attaches it without a complaint), MTU */
static void test_vhost_user_backend(void)
{
	struct net_backend *be = NULL;
	uint8_t buf[NET_HDR_LEN + NET_FRAME_MAX];
	struct iovec iov = { buf, 64 };
	int sv[2];

	REQUIRE(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	REQUIRE(!net_vhost_user_backend(sv[0], 42, &be));
	CHECK_EQ(be->fd, sv[0]);
	CHECK(!be->vnet_hdr);
	CHECK_EQ(be->mtu, NET_PASST_MTU);
	CHECK(strstr(be->desc, "pid 42"));
	CHECK_EQ(net_send(be, &iov, 1), -EPIPE);
	CHECK_EQ(net_recv(be, buf, sizeof(buf)), -EPIPE);
	CHECK_EQ(net_tap_queues(be), 1);
	CHECK_EQ(net_tap_queue_enable(be, 0, true), 0);
	CHECK_EQ(net_tap_queue_enable(be, 1, true), -EINVAL);
	net_close(be); /* closes sv[0]: the peer sees the hang-up */
	CHECK_EQ(read(sv[1], buf, 1), 0);
	close(sv[1]);
}

UNIT_SUITE(net, UNIT_TEST(test_vhost_user_backend),
	   UNIT_TEST(test_spec_defaults), UNIT_TEST(test_spec_keys),
	   UNIT_TEST(test_spec_errors), UNIT_TEST(test_default_mac),
	   UNIT_TEST(test_stream), UNIT_TEST(test_stream_peer_gone),
	   UNIT_TEST(test_tap_errors));
