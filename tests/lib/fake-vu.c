// SPDX-License-Identifier: GPL-2.0-only
/* A fake vhost-user back end thread for tests (see fake-vu.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-vu.h"

/* One request: header, descriptors, payload. false at EOF or garbage. */
static bool read_msg(int fd, struct fake_vu_msg *m)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_REGIONS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &mh, MSG_WAITALL);

	if (n != (ssize_t)sizeof(hdr))
		return false;
	memset(m, 0, sizeof(*m));
	m->req = hdr[0];
	m->flags = hdr[1];
	m->size = hdr[2];
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			m->nfds = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) /
						 sizeof(int));
			memcpy(m->fds, CMSG_DATA(c), m->nfds * sizeof(int));
		}
	if (m->size > sizeof(m->payload))
		return false;
	return !m->size ||
	       recv(fd, m->payload, m->size, MSG_WAITALL) == (ssize_t)m->size;
}

static void reply(struct fake_vu *f, const struct fake_vu_msg *m,
		  const void *payload, uint32_t size)
{
	uint8_t buf[VU_HDR_SIZE + 16];
	uint32_t hdr[3] = { m->req, VU_VERSION | VU_FLAG_REPLY, size };

	if (f->fault_req == m->req && f->fault == FAKE_VU_WRONG_REQ)
		hdr[0] = m->req + 1;
	if (f->fault_req == m->req && f->fault == FAKE_VU_WRONG_SIZE)
		hdr[2] = size + 4;
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + VU_HDR_SIZE, payload, size);
	memset(buf + VU_HDR_SIZE + size, 0, 4);
	if (send(f->peer, buf, VU_HDR_SIZE + size + (hdr[2] - size),
		 MSG_NOSIGNAL) < 0)
		return;
}

static void *fake_vu_thread(void *arg)
{
	struct fake_vu *f = arg;
	struct fake_vu_msg m;

	while (read_msg(f->peer, &m)) {
		uint64_t v = 0;
		bool has_reply = true;

		if (f->nr_msgs < FAKE_VU_MSGS)
			f->msgs[f->nr_msgs++] = m;
		else
			for (unsigned int i = 0; i < m.nfds; i++)
				close(m.fds[i]);
		if (f->fault_req == m.req && f->fault == FAKE_VU_HANGUP)
			break;
		if (f->fault_req == m.req && f->fault == FAKE_VU_SILENT)
			continue;
		if (m.req == VU_GET_FEATURES) {
			v = f->features;
		} else if (m.req == VU_GET_PROTOCOL_FEATURES) {
			v = f->protocol_features;
		} else if (m.req == VU_GET_VRING_BASE) {
			/* the index, and the ring's next one: 7 */
			uint32_t st[2];

			memcpy(st, m.payload, sizeof(st));
			st[1] = 7;
			reply(f, &m, st, sizeof(st));
			continue;
		} else {
			has_reply = m.flags & VU_FLAG_NEED_REPLY;
			v = f->fault_req == m.req && f->fault == FAKE_VU_NACK;
		}
		if (has_reply)
			reply(f, &m, &v, sizeof(v));
	}
	close(f->peer);
	f->peer = -1;
	return NULL;
}

int fake_vu_start(struct fake_vu *f, uint64_t features, uint64_t protocol)
{
	int sv[2], ret;

	f->features = features;
	f->protocol_features = protocol;
	f->nr_msgs = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	f->sock = sv[0];
	f->peer = sv[1];
	ret = pthread_create(&f->thread, NULL, fake_vu_thread, f);
	if (ret) {
		close(sv[0]);
		close(sv[1]);
		return -ret;
	}
	return 0;
}

void fake_vu_stop(struct fake_vu *f)
{
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	pthread_join(f->thread, NULL);
}

void fake_vu_free(struct fake_vu *f)
{
	unsigned int i, k;

	for (i = 0; i < f->nr_msgs; i++)
		for (k = 0; k < f->msgs[i].nfds; k++)
			if (f->msgs[i].fds[k] >= 0)
				close(f->msgs[i].fds[k]);
}

int fake_vu_find(const struct fake_vu *f, uint32_t req, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < f->nr_msgs; i++)
		if (f->msgs[i].req == req && !n--)
			return (int)i;
	return -1;
}
