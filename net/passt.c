// SPDX-License-Identifier: GPL-2.0-only
/*
 * User-mode networking through passt: its qemu socket framing, its
 * vhost-user socket, and its start.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/net.h"

/* Each direction buffers a few of the largest frames with their prefix. */
#define STREAM_BUF (4 * (4 + NET_FRAME_MAX))

struct stream {
	struct net_backend be;
	int pid;
	uint8_t *in; /* received bytes [in_off, in_len) not yet framed */
	size_t in_off, in_len;
	uint8_t *out; /* bytes [out_off, out_len) not yet written */
	size_t out_off, out_len;
	bool broken; /* the peer sent a frame too long to be one */
};

static struct stream *to_stream(struct net_backend *be)
{
	return (struct stream *)be;
}

/* Write what is buffered. 0 (perhaps some left), or -EPIPE. */
static int stream_flush(struct stream *s)
{
	while (s->out_off < s->out_len) {
		/* MSG_NOSIGNAL: a peer gone is EPIPE, never SIGPIPE */
		ssize_t n = send(s->be.fd, s->out + s->out_off,
				 s->out_len - s->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -EPIPE;
		s->out_off += (size_t)n;
	}
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
	return 0;
}

static bool stream_writable(struct net_backend *be)
{
	struct stream *s = to_stream(be);

	if (stream_flush(s))
		return true; /* send says -EPIPE */
	if (s->out_off && STREAM_BUF - s->out_len < 4 + NET_FRAME_MAX) {
		memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
		s->out_len -= s->out_off;
		s->out_off = 0;
	}
	return STREAM_BUF - s->out_len >= 4 + NET_FRAME_MAX;
}

static int stream_send(struct net_backend *be, const struct iovec *iov,
		       unsigned int iovcnt)
{
	struct stream *s = to_stream(be);
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > NET_FRAME_MAX)
		return -EMSGSIZE;
	if (!stream_writable(be))
		return -EAGAIN;
	s->out[s->out_len++] = (uint8_t)(len >> 24);
	s->out[s->out_len++] = (uint8_t)(len >> 16);
	s->out[s->out_len++] = (uint8_t)(len >> 8);
	s->out[s->out_len++] = (uint8_t)len;
	for (i = 0; i < iovcnt; i++) {
		memcpy(s->out + s->out_len, iov[i].iov_base, iov[i].iov_len);
		s->out_len += iov[i].iov_len;
	}
	return stream_flush(s);
}

static ssize_t stream_recv(struct net_backend *be, void *buf, size_t len)
{
	struct stream *s = to_stream(be);

	for (;;) {
		size_t have = s->in_len - s->in_off;
		uint32_t flen;
		ssize_t n;

		if (s->broken)
			return -EPIPE;
		if (have >= 4) {
			const uint8_t *p = s->in + s->in_off;

			flen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			       (uint32_t)p[2] << 8 | p[3];
			if (flen > NET_FRAME_MAX) {
				pr_warn("%s: a frame of %u bytes (limit %u): closing",
					be->desc, flen, NET_FRAME_MAX);
				s->broken = true;
				return -EPIPE;
			}
			if (have >= 4 + (size_t)flen) {
				memcpy(buf, p + 4, flen < len ? flen : len);
				s->in_off += 4 + (size_t)flen;
				if (!flen)
					continue;
				return flen < len ? flen : (ssize_t)len;
			}
		}
		if (s->in_off) {
			memmove(s->in, s->in + s->in_off, have);
			s->in_len = have;
			s->in_off = 0;
		}
		n = read(be->fd, s->in + s->in_len, STREAM_BUF - s->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return -EAGAIN;
		if (n <= 0)
			return -EPIPE;
		s->in_len += (size_t)n;
	}
}

static void stream_close(struct net_backend *be)
{
	struct stream *s = to_stream(be);

	close(be->fd);
	free(s->in);
	free(s->out);
	free(s);
}

static const struct net_backend_ops stream_ops = {
	.name = "stream",
	.send = stream_send,
	.writable = stream_writable,
	.recv = stream_recv,
	.close = stream_close,
};

int net_stream_open(int fd, int pid, struct net_backend **out)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s) {
		s->in = malloc(STREAM_BUF);
		s->out = malloc(STREAM_BUF);
	}
	if (!s || !s->in || !s->out) {
		if (s) {
			free(s->in);
			free(s->out);
		}
		free(s);
		return -ENOMEM;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	s->be.ops = &stream_ops;
	s->be.fd = fd;
	s->be.mtu = NET_PASST_MTU;
	s->pid = pid;
	if (pid)
		snprintf(s->be.desc, sizeof(s->be.desc), "passt (pid %d)", pid);
	else
		snprintf(s->be.desc, sizeof(s->be.desc), "stream socket");
	*out = &s->be;
	return 0;
}

/*
 * passt --vhost-user: the socket carries vhost-user requests (net/vhost.c),
 * never frames; passt reads and writes the rings itself. Its hang-up is
 * what the NIC's thread watches for.
 */
static int vu_send_frame(struct net_backend *be, const struct iovec *iov,
			 unsigned int iovcnt)
{
	(void)be;
	(void)iov;
	(void)iovcnt;
	return -EPIPE;
}

static ssize_t vu_recv_frame(struct net_backend *be, void *buf, size_t len)
{
	(void)be;
	(void)buf;
	(void)len;
	return -EPIPE;
}

static void vu_close(struct net_backend *be)
{
	close(be->fd);
	free(be);
}

static const struct net_backend_ops vhost_user_ops = {
	.name = "vhost-user",
	.send = vu_send_frame,
	.recv = vu_recv_frame,
	.close = vu_close,
};

int net_vhost_user_backend(int fd, int pid, struct net_backend **out)
{
	struct net_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->ops = &vhost_user_ops;
	be->fd = fd;
	be->mtu = NET_PASST_MTU;
	snprintf(be->desc, sizeof(be->desc), "passt vhost-user (pid %d)", pid);
	*out = be;
	return 0;
}

void net_child_signals(void)
{
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* passt on PATH, or NULL. */
static const char *find_passt(char *buf, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path ? path : "/usr/bin:/bin:/usr/sbin:/sbin"; *p; p = end) {
		size_t n;

		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n &&
		    (size_t)snprintf(buf, len, "%.*s/passt", (int)n, p) < len &&
		    !access(buf, X_OK))
			return buf;
		end = end ? end + 1 : p + n;
	}
	return NULL;
}

#define PASST_MAX_ARGS (19 + 2 * NET_MAX_HOSTFWD)
#define STR_(x) #x
#define STR(x) STR_(x)

int net_passt_start(const struct net_spec *spec, const char *passt_path,
		    struct net_backend **out, int *pid, char *err,
		    size_t errlen)
{
	char found[4096], fdarg[16], fwd[NET_MAX_HOSTFWD][16];
	const char *argv[PASST_MAX_ARGS];
	const char *bin = passt_path;
	unsigned int a = 0, i;
	int sv[2], child_fd, ret;
	pid_t p;

	if (!bin)
		bin = find_passt(found, sizeof(found));
	if (!bin || access(bin, X_OK)) {
		snprintf(
			err, errlen,
			"-n mode=user: %s%s (user-mode networking runs passt: install the Debian package 'passt', or give --passt PATH)",
			bin ? "cannot run " : "passt not found on PATH",
			bin ? bin : "");
		return -ENOENT;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "-n mode=user: socketpair: %s",
			 strerror(errno));
		return -errno;
	}
	child_fd = dup(sv[1]); /* without CLOEXEC: passt's --fd */
	if (child_fd < 0) {
		snprintf(err, errlen, "-n mode=user: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -EMFILE;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", child_fd);
	argv[a++] = bin;
	argv[a++] = "--foreground";
	argv[a++] = "--quiet";
	argv[a++] = "--one-off";
	argv[a++] = "--fd";
	argv[a++] = fdarg;
	argv[a++] = "--address";
	argv[a++] = spec->guest_ip;
	argv[a++] = "--mtu";
	argv[a++] = STR(NET_PASST_MTU);
	argv[a++] = "--netmask";
	argv[a++] = "24";
	argv[a++] = "--gateway";
	argv[a++] = spec->host_ip;
	if (spec->vhost)
		argv[a++] = "--vhost-user";
	for (i = 0; i < spec->nr_hostfwd; i++) {
		snprintf(fwd[i], sizeof(fwd[i]), "%u:%u",
			 spec->hostfwd[i].host_port,
			 spec->hostfwd[i].guest_port);
		argv[a++] = "-t";
		argv[a++] = fwd[i];
	}
	argv[a] = NULL;
	p = fork();
	if (!p) {
		/* async-signal-safe calls only: lkvm has threads */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		net_child_signals();
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(child_fd);
	close(sv[1]);
	if (p < 0) {
		snprintf(err, errlen, "-n mode=user: fork: %s",
			 strerror(errno));
		close(sv[0]);
		return -EAGAIN;
	}
	ret = spec->vhost ? net_vhost_user_backend(sv[0], p, out)
			  : net_stream_open(sv[0], p, out);
	if (ret) {
		snprintf(err, errlen, "-n mode=user: out of memory");
		close(sv[0]);
		return ret;
	}
	*pid = p;
	return 0;
}
