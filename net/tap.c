// SPDX-License-Identifier: GPL-2.0-only
/* The tap backend: frames with the virtio-net header through /dev/net/tun. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "lkvm/net.h"

struct tap {
	struct net_backend be;
	char ifname[IFNAMSIZ];
	int down_pipe; /* write end: the down script runs when it closes */
	/* mq=N: the queues of an IFF_MULTI_QUEUE tap; qfd[0] is be.fd */
	int qfd[NET_MAX_PAIRS];
	unsigned int nq;
};

static struct tap *to_tap(struct net_backend *be)
{
	return (struct tap *)be;
}

static int tap_send(struct net_backend *be, const struct iovec *iov,
		    unsigned int iovcnt)
{
	ssize_t n;

	do
		n = writev(be->fd, iov, (int)iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EBADFD ? -EPIPE : -errno;
	return 0;
}

static ssize_t tap_recv(struct net_backend *be, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(be->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN
		       : errno == EBADFD    ? -EPIPE
					    : -errno;
	return n ? n : -EAGAIN;
}

static int tap_set_offload(struct net_backend *be, uint64_t f)
{
	unsigned int flags = 0;

	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		flags |= TUN_F_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			flags |= TUN_F_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			flags |= TUN_F_TSO6;
		if ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) &&
		    (f & (1ULL << VIRTIO_NET_F_GUEST_ECN)))
			flags |= TUN_F_TSO_ECN;
	}
	return ioctl(be->fd, TUNSETOFFLOAD, flags) ? -errno : 0;
}

static void tap_close(struct net_backend *be)
{
	struct tap *t = to_tap(be);

	unsigned int q;

	close(be->fd);
	for (q = 1; q < t->nq; q++)
		close(t->qfd[q]);
	if (t->down_pipe >= 0)
		close(t->down_pipe);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.send = tap_send,
	.recv = tap_recv,
	.set_offload = tap_set_offload,
	.close = tap_close,
};

static bool script_none(const char *s)
{
	return !*s || !strcmp(s, "none");
}

/* Run script IFNAME and wait for it. 0 or -1 with err set. */
static int run_script(const char *script, const char *ifname, char *err,
		      size_t errlen)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(err, errlen, "-n: cannot run %s: %s", script,
			 strerror(errno));
		return -1;
	}
	if (!pid) {
		/* only async-signal-safe calls after fork: threads exist */
		net_child_signals();
		execl(script, script, ifname, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "-n: %s %s failed (status %d)", script,
			 ifname, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/*
 * The down script runs when lkvm is gone (lkvm's own syscall filter
 * allows no new processes once the guest runs): a child started now
 * waits for the pipe to close, which happens when lkvm exits however it
 * exits.
 */
static int start_down_watcher(struct tap *t, const char *script, char *err,
			      size_t errlen)
{
	int p[2], fd;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC)) {
		snprintf(err, errlen, "-n: downscript: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "-n: downscript: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		setsid();
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		net_child_signals();
		execl(script, script, t->ifname, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	t->down_pipe = p[1];
	return 0;
}

/* The host side: host_ip/24, up (kvmtool's behaviour without a script). */
static int tap_config_host(const char *ifname, const char *ip, char *err,
			   size_t errlen)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *what = "socket";

	if (s < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	what = "SIOCSIFADDR";
	if (ioctl(s, SIOCSIFADDR, &ifr))
		goto fail;
	inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
	what = "SIOCSIFNETMASK";
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		goto fail;
	what = "SIOCGIFFLAGS";
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	what = "SIOCSIFFLAGS";
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		goto fail;
	close(s);
	return 0;
fail:
	snprintf(err, errlen, "-n: cannot give tap %s the address %s (%s): %s",
		 ifname, ip, what, strerror(errno));
	if (s >= 0)
		close(s);
	return -1;
}

/* Queues 1..nq-1 of a multi-queue tap, attached to it by name. */
static int tap_more_queues(struct tap *t, unsigned int nq, char *err,
			   size_t errlen)
{
	struct ifreq ifr;
	int fd;

	for (t->nq = 1; t->nq < nq; t->nq++) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags =
			IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
		memcpy(ifr.ifr_name, t->ifname, IFNAMSIZ);
		if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr)) {
			snprintf(err, errlen,
				 "-n mq=%u: tap %s: cannot open queue %u: %s",
				 nq, t->ifname, t->nq, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		t->qfd[t->nq] = fd;
	}
	return 0;
}

/* A new tap (or tapif attached to) with the 12-byte header. */
static int tap_create(struct tap *t, const struct net_spec *spec, char *err,
		      size_t errlen)
{
	/* more queues only for vhost, which serves each (lkvm's own data
	 * path serves one: frames the kernel put on others would be lost) */
	unsigned int nq = spec->vhost && spec->mq > 1 ? spec->mq : 1;
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (nq > NET_MAX_PAIRS)
		nq = NET_MAX_PAIRS;
	if (fd < 0) {
		snprintf(
			err, errlen,
			errno == ENOENT
				? "-n mode=tap: no /dev/net/tun (the host kernel needs CONFIG_TUN): %s"
				: "-n mode=tap: cannot open /dev/net/tun: %s",
			strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
			(nq > 1 ? IFF_MULTI_QUEUE : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", spec->tapif);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(
			err, errlen,
			errno == EPERM
				? "-n mode=tap: cannot create tap '%s': %s (lkvm needs CAP_NET_ADMIN)"
				: "-n mode=tap: cannot create tap '%s': %s",
			spec->tapif, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = 0;
	t->be.fd = fd;
	t->qfd[0] = fd;
	t->nq = 1;
	return nq > 1 ? tap_more_queues(t, nq, err, errlen) : 0;
}

/* fd=N: a tap opened by the caller; its header as it was set up. */
static int tap_adopt(struct tap *t, int fd, char *err, size_t errlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) || !(ifr.ifr_flags & IFF_TAP)) {
		snprintf(err, errlen, "-n fd=%d: not a tap device", fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		snprintf(err, errlen, "-n fd=%d: %s", fd, strerror(errno));
		return -1;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = 0;
	t->be.fd = fd;
	t->qfd[0] = fd;
	t->nq = 1;
	t->be.vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	return 0;
}

int net_tap_open(const struct net_spec *spec, struct net_backend **out,
		 char *err, size_t errlen)
{
	struct tap *t = calloc(1, sizeof(*t));
	int hdr = NET_HDR_LEN;
	unsigned int q;

	if (!t) {
		snprintf(err, errlen, "-n: out of memory");
		return -ENOMEM;
	}
	t->be.ops = &tap_ops;
	t->be.vnet_hdr = true;
	t->down_pipe = -1;
	if (spec->tapfd >= 0 ? tap_adopt(t, spec->tapfd, err, errlen)
			     : tap_create(t, spec, err, errlen)) {
		if (t->nq)
			tap_close(&t->be);
		else
			free(t);
		return -EINVAL;
	}
	snprintf(t->be.desc, sizeof(t->be.desc), "tap %s", t->ifname);
	for (q = 0; q < t->nq; q++)
		if (t->be.vnet_hdr &&
		    (ioctl(t->qfd[q], TUNSETVNETHDRSZ, &hdr) ||
		     ioctl(t->qfd[q], TUNSETOFFLOAD, 0))) {
			snprintf(err, errlen,
				 "-n: tap %s: cannot set its header: %s",
				 t->ifname, strerror(errno));
			goto fail;
		}
	if (!script_none(spec->script)) {
		if (run_script(spec->script, t->ifname, err, errlen))
			goto fail;
	} else if (spec->tapfd < 0 &&
		   tap_config_host(t->ifname, spec->host_ip, err, errlen)) {
		goto fail;
	}
	if (!script_none(spec->downscript) &&
	    start_down_watcher(t, spec->downscript, err, errlen))
		goto fail;
	*out = &t->be;
	return 0;
fail:
	tap_close(&t->be);
	return -EINVAL;
}

const char *net_tap_name(const struct net_backend *be)
{
	return be->ops == &tap_ops ? ((const struct tap *)be)->ifname : "";
}

unsigned int net_tap_queues(const struct net_backend *be)
{
	return be->ops == &tap_ops ? ((const struct tap *)be)->nq : 1;
}

int net_tap_queue_fd(const struct net_backend *be, unsigned int q)
{
	const struct tap *t = (const struct tap *)be;

	if (be->ops != &tap_ops)
		return q ? -1 : be->fd;
	return q < t->nq ? t->qfd[q] : -1;
}

int net_tap_queue_enable(struct net_backend *be, unsigned int q, bool on)
{
	struct tap *t = to_tap(be);
	struct ifreq ifr;

	if (be->ops != &tap_ops)
		return q ? -EINVAL : 0; /* one queue, always there */
	if (q >= t->nq)
		return -EINVAL;
	if (t->nq == 1)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(t->qfd[q], TUNSETQUEUE, &ifr) && errno != EINVAL)
		return -errno;
	return 0;
}
