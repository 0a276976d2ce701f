// SPDX-License-Identifier: GPL-2.0-only
/* vhost-user front end: requests to a back end process, replies checked. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lkvm/vhost-user.h"

_Static_assert(sizeof(struct vu_state) == 8, "vhost_vring_state layout");
_Static_assert(sizeof(struct vu_vring_addr) == 40, "vhost_vring_addr layout");
_Static_assert(sizeof(struct vu_mem_table) == 8 + 32 * VU_MAX_REGIONS,
	       "VhostUserMemory layout");

/* The largest payload lkvm sends or takes. */
#define VU_PAYLOAD_MAX sizeof(struct vu_mem_table)

int vu_socket_setup(int sock)
{
	struct timeval tv = { .tv_sec = VU_TIMEOUT_MS / 1000,
			      .tv_usec = (VU_TIMEOUT_MS % 1000) * 1000 };
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len))
		return -errno;
	if (type != SOCK_STREAM)
		return -ENOTSOCK;
	type = fcntl(sock, F_GETFL);
	if (type < 0 || fcntl(sock, F_SETFL, type & ~O_NONBLOCK))
		return -errno;
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int vu_check_reply(const uint8_t hdr[VU_HDR_SIZE], enum vu_request req,
		   uint32_t reply_size)
{
	uint32_t flags = get32(hdr + 4);

	if (get32(hdr) != (uint32_t)req ||
	    (flags & VU_FLAG_VERSION_MASK) != VU_VERSION ||
	    !(flags & VU_FLAG_REPLY) || get32(hdr + 8) != reply_size)
		return -EPROTO;
	return 0;
}

/* errno of a failed send or receive, as vu_request() reports it. */
static int io_error(int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK)
		return -ETIMEDOUT;
	if (err == ECONNRESET || err == ENOTCONN)
		return -EPIPE;
	return -err;
}

/* Exactly len bytes, or an error (a short read is the back end gone). */
static int recv_all(int sock, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n =
			recv(sock, (char *)buf + got, len - got, MSG_WAITALL);

		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_error(errno);
		}
		got += (size_t)n;
	}
	return 0;
}

static int send_msg(int sock, const uint8_t *buf, size_t len, const int *fds,
		    unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_REGIONS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t off = 0;

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while (off < len) {
		ssize_t n;

		iov = (struct iovec){ (void *)(buf + off), len - off };
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_error(errno);
		}
		/* the descriptors went with the first bytes */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		off += (size_t)n;
	}
	return 0;
}

int vu_request(int sock, enum vu_request req, const void *payload,
	       uint32_t size, const int *fds, unsigned int nfds, bool ack,
	       void *reply, uint32_t reply_size)
{
	uint8_t buf[VU_HDR_SIZE + VU_PAYLOAD_MAX], hdr[VU_HDR_SIZE];
	uint32_t flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	uint32_t r = (uint32_t)req;
	uint64_t status;
	int ret;

	if (size > VU_PAYLOAD_MAX || nfds > VU_MAX_REGIONS || (ack && reply) ||
	    reply_size > VU_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(buf, &r, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + VU_HDR_SIZE, payload, size);
	ret = send_msg(sock, buf, VU_HDR_SIZE + size, fds, nfds);
	if (ret || (!reply && !ack))
		return ret;
	if (ack)
		reply_size = sizeof(status);
	ret = recv_all(sock, hdr, sizeof(hdr));
	if (!ret)
		ret = vu_check_reply(hdr, req, reply_size);
	if (!ret && reply_size)
		ret = recv_all(sock, ack ? (void *)&status : reply, reply_size);
	if (!ret && ack && status)
		ret = -EIO;
	return ret;
}
