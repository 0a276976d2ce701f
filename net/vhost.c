// SPDX-License-Identifier: GPL-2.0-only
/* vhost-net: the kernel moves a tap's frames to and from the guest's rings. */
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

/* What vhost-net handles of the ring and the virtio-net header. */
#define VHOST_RING_FEATURES                      \
	((1ULL << VIRTIO_NET_F_MRG_RXBUF) |      \
	 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
	 (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_F_VERSION_1))

struct net_vhost {
	int fd; /* /dev/vhost-net */
	int call[2]; /* eventfds vhost signals for used buffers */
	int tap_fd;
	uint64_t features; /* VHOST_GET_FEATURES */
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

int net_vhost_call_fd(const struct net_vhost *vh, unsigned int q)
{
	return q < 2 ? vh->call[q] : -1;
}

int net_vhost_set_call(struct net_vhost *vh, unsigned int q, int fd)
{
	struct vhost_vring_file call = { .index = q, .fd = fd };

	if (q >= 2)
		return -EINVAL;
	if (fd < 0)
		call.fd = vh->call[q];
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

	if (ioctl(vh->fd, VHOST_SET_FEATURES, &f))
		return -errno;
	for (q = 0; q < 2; q++) {
		ret = ring_setup(vh, q, &r[q]);
		if (ret)
			return ret;
	}
	for (q = 0; q < 2; q++) {
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

	for (q = 0; q < 2; q++) {
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
	close(vh->fd);
	free(vh);
}
