// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost: another party moves the frames to and from the guest's rings:
 * the kernel's vhost-net for a tap, or a vhost-user back end (passt) over
 * its socket. The same steps either way: own it, give it guest RAM, hand
 * it the rings at DRIVER_OK and take them back at a reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "lkvm/guest-mem.h"
#include "lkvm/net.h"
#include "lkvm/vhost-user.h"

/* What vhost-net handles of the ring and the virtio-net header. */
#define VHOST_RING_FEATURES                      \
	((1ULL << VIRTIO_NET_F_MRG_RXBUF) |      \
	 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_F_VERSION_1))

/* What a vhost-user back end must have: virtio 1 (passt refuses less). */
#define VU_NEEDS (1ULL << VIRTIO_F_VERSION_1)

struct net_vhost {
	int fd; /* /dev/vhost-net; or the vhost-user socket (not ours) */
	bool user; /* vhost-user */
	bool ack; /* vhost-user: REPLY_ACK negotiated */
	/* vhost-user: the back end hung up, timed out or answered out of
	 * turn: no request goes to it again (each would wait its timeout,
	 * or read a stale reply) */
	bool broken;
	int call[2]; /* eventfds vhost signals for used buffers */
	int tap_fd;
	uint64_t features; /* VHOST_GET_FEATURES, or the back end's */
	bool running;
};

static int set_mem_table(struct net_vhost *vh, const struct gmem *mem)
{
	struct vhost_memory *m;
	unsigned int i;
	int ret = 0;

	m = calloc(1, sizeof(*m) + mem->nr * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = mem->nr;
	for (i = 0; i < mem->nr; i++) {
		m->regions[i].guest_phys_addr = mem->r[i].gpa;
		m->regions[i].memory_size = mem->r[i].size;
		m->regions[i].userspace_addr = (uintptr_t)mem->r[i].host;
	}
	if (ioctl(vh->fd, VHOST_SET_MEM_TABLE, m))
		ret = -errno;
	free(m);
	return ret;
}

int net_vhost_open(const struct gmem *mem, int tap_fd, struct net_vhost **out,
		   char *err, size_t errlen)
{
	struct net_vhost *vh = calloc(1, sizeof(*vh));
	const char *what = "open";
	int ret;

	if (!vh) {
		snprintf(err, errlen, "-n vhost=1: out of memory");
		return -ENOMEM;
	}
	vh->call[0] = vh->call[1] = -1;
	vh->tap_fd = tap_fd;
	vh->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (vh->fd < 0) {
		ret = -errno;
		snprintf(
			err, errlen,
			ret == -ENOENT
				? "-n vhost=1: no /dev/vhost-net (the host kernel needs CONFIG_VHOST_NET): %s"
				: "-n vhost=1: cannot open /dev/vhost-net: %s",
			strerror(-ret));
		free(vh);
		return ret;
	}
	what = "VHOST_SET_OWNER";
	if (ioctl(vh->fd, VHOST_SET_OWNER))
		goto fail;
	what = "VHOST_GET_FEATURES";
	if (ioctl(vh->fd, VHOST_GET_FEATURES, &vh->features))
		goto fail;
	what = "VHOST_SET_MEM_TABLE";
	ret = set_mem_table(vh, mem);
	if (ret) {
		errno = -ret;
		goto fail;
	}
	what = "eventfd";
	vh->call[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vh->call[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vh->call[0] < 0 || vh->call[1] < 0)
		goto fail;
	if ((vh->features & VHOST_RING_FEATURES) != VHOST_RING_FEATURES) {
		snprintf(
			err, errlen,
			"-n vhost=1: vhost-net lacks ring features (has 0x%llx, needs 0x%llx)",
			(unsigned long long)vh->features,
			(unsigned long long)VHOST_RING_FEATURES);
		net_vhost_close(vh);
		return -EOPNOTSUPP;
	}
	*out = vh;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "-n vhost=1: %s: %s", what, strerror(errno));
	net_vhost_close(vh);
	return ret;
}

/* One vhost-user request (vu_request()), unless the session is broken;
 * a failure that leaves the stream out of step breaks it. */
static int vu_call(struct net_vhost *vh, enum vu_request req,
		   const void *payload, uint32_t size, const int *fds,
		   unsigned int nfds, bool ack, void *reply,
		   uint32_t reply_size)
{
	int ret;

	if (vh->broken)
		return -EPIPE;
	ret = vu_request(vh->fd, req, payload, size, fds, nfds, ack, reply,
			 reply_size);
	if (ret == -EPIPE || ret == -ETIMEDOUT || ret == -EPROTO)
		vh->broken = true;
	return ret;
}

/* vhost-user: guest RAM as the back end maps it, each region's memfd. */
static int vu_set_mem_table(struct net_vhost *vh, const struct gmem *mem,
			    char *err, size_t errlen)
{
	struct vu_mem_table t = { .nregions = mem->nr };
	int fds[VU_MAX_REGIONS];
	unsigned int i;

	if (mem->nr > VU_MAX_REGIONS)
		return -E2BIG;
	for (i = 0; i < mem->nr; i++) {
		if (mem->r[i].fd < 0) {
			snprintf(err, errlen,
				 "-n vhost=1: guest RAM is not shareable");
			return -EINVAL;
		}
		t.r[i] = (struct vu_region){ mem->r[i].gpa, mem->r[i].size,
					     (uintptr_t)mem->r[i].host,
					     mem->r[i].fd_offset };
		fds[i] = mem->r[i].fd;
	}
	return vu_call(vh, VU_SET_MEM_TABLE, &t,
		       (uint32_t)(8 + mem->nr * sizeof(t.r[0])), fds, mem->nr,
		       vh->ack, NULL, 0);
}

int net_vhost_user_open(const struct gmem *mem, int sock,
			struct net_vhost **out, char *err, size_t errlen)
{
	struct net_vhost *vh = calloc(1, sizeof(*vh));
	const char *what = "socket";
	uint64_t proto = 0;
	int ret;

	if (!vh) {
		snprintf(err, errlen, "-n vhost=1: out of memory");
		return -ENOMEM;
	}
	*err = 0;
	vh->user = true;
	vh->fd = sock;
	vh->tap_fd = -1;
	vh->call[0] = vh->call[1] = -1;
	ret = vu_socket_setup(sock);
	if (!ret) {
		what = "GET_FEATURES";
		ret = vu_call(vh, VU_GET_FEATURES, NULL, 0, NULL, 0, false,
			      &vh->features, sizeof(vh->features));
	}
	if (!ret && (vh->features & VU_NEEDS) != VU_NEEDS) {
		snprintf(
			err, errlen,
			"-n vhost=1: the vhost-user back end lacks virtio 1 (features 0x%llx)",
			(unsigned long long)vh->features);
		ret = -EOPNOTSUPP;
	}
	if (!ret && vh->features & 1ULL << VU_F_PROTOCOL_FEATURES) {
		what = "GET_PROTOCOL_FEATURES";
		ret = vu_call(vh, VU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0,
			      false, &proto, sizeof(proto));
		proto &= 1ULL << VU_PROTOCOL_F_REPLY_ACK;
		if (!ret) {
			what = "SET_PROTOCOL_FEATURES";
			ret = vu_call(vh, VU_SET_PROTOCOL_FEATURES, &proto,
				      sizeof(proto), NULL, 0, false, NULL, 0);
		}
		vh->ack = proto != 0;
	}
	if (!ret) {
		what = "SET_OWNER";
		ret = vu_call(vh, VU_SET_OWNER, NULL, 0, NULL, 0, vh->ack, NULL,
			      0);
	}
	if (!ret) {
		what = "SET_MEM_TABLE";
		ret = vu_set_mem_table(vh, mem, err, errlen);
	}
	if (!ret) {
		what = "eventfd";
		vh->call[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vh->call[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vh->call[0] < 0 || vh->call[1] < 0)
			ret = -errno;
	}
	if (ret) {
		if (!*err)
			snprintf(err, errlen, "-n vhost=1: vhost-user %s: %s",
				 what, strerror(-ret));
		net_vhost_close(vh);
		return ret;
	}
	*out = vh;
	return 0;
}

bool net_vhost_is_user(const struct net_vhost *vh)
{
	return vh->user;
}

uint64_t net_vhost_features(const struct net_vhost *vh)
{
	/* vhost-net serves every ring feature the device offers (checked
	 * at open); the offloads are the tap's */
	return vh->user ? vh->features : ~0ULL;
}

int net_vhost_call_fd(const struct net_vhost *vh, unsigned int q)
{
	return q < 2 ? vh->call[q] : -1;
}

/* vhost-user: a ring's kick or call eventfd (no reply of its own). */
static int vu_set_fd(struct net_vhost *vh, enum vu_request req, unsigned int q,
		     int fd, bool ack)
{
	uint64_t v = q;

	return vu_call(vh, req, &v, sizeof(v), &fd, 1, ack && vh->ack, NULL, 0);
}

int net_vhost_set_call(struct net_vhost *vh, unsigned int q, int fd)
{
	struct vhost_vring_file call = { .index = q, .fd = fd };

	if (q >= 2)
		return -EINVAL;
	if (fd < 0)
		call.fd = vh->call[q];
	if (vh->user)
		return vu_set_fd(vh, VU_SET_VRING_CALL, q, call.fd, true);
	if (ioctl(vh->fd, VHOST_SET_VRING_CALL, &call))
		return -errno;
	return 0;
}

static int ring_setup(struct net_vhost *vh, unsigned int q,
		      const struct net_vhost_ring *r)
{
	struct vhost_vring_state num = { .index = q, .num = r->num };
	struct vhost_vring_state base = { .index = q, .num = r->base };
	struct vhost_vring_addr addr = {
		.index = q,
		.desc_user_addr = (uintptr_t)r->desc,
		.avail_user_addr = (uintptr_t)r->avail,
		.used_user_addr = (uintptr_t)r->used,
	};
	struct vhost_vring_file kick = { .index = q, .fd = r->kick_fd };
	struct vhost_vring_file call = {
		.index = q,
		.fd = r->call_fd >= 0 ? r->call_fd : vh->call[q],
	};

	if (vh->user) {
		struct vu_state n = { q, r->num }, b = { q, r->base };
		struct vu_vring_addr a = { .index = q,
					   .desc = addr.desc_user_addr,
					   .used = addr.used_user_addr,
					   .avail = addr.avail_user_addr };
		int ret;

		ret = vu_call(vh, VU_SET_VRING_NUM, &n, sizeof(n), NULL, 0,
			      false, NULL, 0);
		if (!ret)
			ret = vu_call(vh, VU_SET_VRING_BASE, &b, sizeof(b),
				      NULL, 0, false, NULL, 0);
		if (!ret)
			ret = vu_call(vh, VU_SET_VRING_ADDR, &a, sizeof(a),
				      NULL, 0, false, NULL, 0);
		if (!ret)
			ret = vu_set_fd(vh, VU_SET_VRING_KICK, q, kick.fd,
					false);
		if (!ret)
			ret = vu_set_fd(vh, VU_SET_VRING_CALL, q, call.fd,
					false);
		/* with protocol features a ring starts disabled; the
		 * acknowledgement says the back end took all of it */
		if (!ret && vh->features & 1ULL << VU_F_PROTOCOL_FEATURES) {
			struct vu_state on = { q, 1 };

			ret = vu_call(vh, VU_SET_VRING_ENABLE, &on, sizeof(on),
				      NULL, 0, vh->ack, NULL, 0);
		}
		return ret;
	}
	if (ioctl(vh->fd, VHOST_SET_VRING_NUM, &num) ||
	    ioctl(vh->fd, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(vh->fd, VHOST_SET_VRING_ADDR, &addr) ||
	    ioctl(vh->fd, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(vh->fd, VHOST_SET_VRING_CALL, &call))
		return -errno;
	return 0;
}

int net_vhost_start(struct net_vhost *vh, uint64_t features,
		    const struct net_vhost_ring r[2])
{
	uint64_t f = features & vh->features;
	struct vhost_vring_file be;
	unsigned int q;
	uint64_t one = 1;
	int ret;

	if (vh->user) {
		/* the protocol features bit stays: it says rings start
		 * disabled until SET_VRING_ENABLE */
		f |= vh->features & 1ULL << VU_F_PROTOCOL_FEATURES;
		ret = vu_call(vh, VU_SET_FEATURES, &f, sizeof(f), NULL, 0,
			      false, NULL, 0);
	} else if (ioctl(vh->fd, VHOST_SET_FEATURES, &f)) {
		ret = -errno;
	} else {
		ret = 0;
	}
	if (ret)
		return ret;
	for (q = 0; q < 2; q++) {
		ret = ring_setup(vh, q, &r[q]);
		if (ret)
			return ret;
	}
	for (q = 0; q < 2 && !vh->user; q++) {
		be = (struct vhost_vring_file){ .index = q, .fd = vh->tap_fd };
		if (ioctl(vh->fd, VHOST_NET_SET_BACKEND, &be)) {
			ret = -errno;
			net_vhost_stop(vh);
			return ret;
		}
	}
	vh->running = true;
	/* a kick the I/O thread consumed before vhost polled: look now */
	for (q = 0; q < 2; q++)
		if (write(r[q].kick_fd, &one, sizeof(one)) < 0)
			return -errno;
	return 0;
}

void net_vhost_stop(struct net_vhost *vh)
{
	struct vhost_vring_file be;
	unsigned int q;

	/* vhost-user: GET_VRING_BASE stops a ring (the index it returns is
	 * of no use: a reset starts the rings from 0) */
	for (q = 0; q < 2 && vh->user; q++) {
		struct vu_state st = { q, 0 };

		if (vu_call(vh, VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0,
			    false, &st, sizeof(st)))
			break; /* the back end is gone or broken */
	}
	for (q = 0; q < 2 && !vh->user; q++) {
		be = (struct vhost_vring_file){ .index = q, .fd = -1 };
		ioctl(vh->fd, VHOST_NET_SET_BACKEND, &be);
	}
	vh->running = false;
}

void net_vhost_close(struct net_vhost *vh)
{
	if (!vh)
		return;
	if (vh->running)
		net_vhost_stop(vh);
	if (vh->call[0] >= 0)
		close(vh->call[0]);
	if (vh->call[1] >= 0)
		close(vh->call[1]);
	if (!vh->user)
		close(vh->fd);
	free(vh);
}
