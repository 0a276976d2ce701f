/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network backends: where a virtio-net device's frames go and come from
 * (net/tap.c, net/passt.c; the tests' fake in tests/lib/fake-net.c). A
 * backend moves whole Ethernet frames, with or without the 12-byte
 * virtio-net header in front (struct virtio_net_hdr_mrg_rxbuf, as the
 * guest sees it with VIRTIO_F_VERSION_1): with it (vnet_hdr, tap with
 * IFF_VNET_HDR), checksum and segmentation offloads pass through; without
 * it the device offers none and strips or adds the header itself.
 *
 * One thread at a time calls a backend's send and recv (the NIC's thread);
 * set_offload too. The backend's fd is what that thread polls for input.
 */
#ifndef LKVM_NET_H
#define LKVM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* The virtio-net header lkvm always uses (VERSION_1: num_buffers too). */
#define NET_HDR_LEN 12
/* The largest frame a backend carries, header excluded: a 64 KiB GSO
 * frame plus an Ethernet and a VLAN header. */
#define NET_FRAME_MAX (65536 + 14 + 4)
/* The MTU lkvm gives passt and offers the guest in user mode: passt's own
 * default, so one segment of the guest's TCP is one frame to passt. */
#define NET_PASST_MTU 65520

struct net_backend;

struct net_backend_ops {
	const char *name;
	/*
	 * Send one frame gathered from iov (the header first when vnet_hdr).
	 * Returns 0 when sent (or dropped by the backend, as a cable drops
	 * it), -EAGAIN when the backend cannot take it now (the caller keeps
	 * it and waits for POLLOUT on fd), -EPIPE when the peer is gone (the
	 * link is down for good), or another -errno for this frame only.
	 */
	int (*send)(struct net_backend *be, const struct iovec *iov,
		    unsigned int iovcnt);
	/*
	 * Flush what the backend buffered; true when send takes a frame of
	 * up to NET_FRAME_MAX now (false: wait for POLLOUT on fd). NULL: a
	 * backend that always takes frames (tap).
	 */
	bool (*writable)(struct net_backend *be);
	/*
	 * Receive one frame into buf (len >= NET_HDR_LEN + NET_FRAME_MAX;
	 * the header first when vnet_hdr). Returns its length, -EAGAIN when
	 * none is waiting, -EPIPE when the peer is gone, or another -errno
	 * (the frame, if any, is lost).
	 */
	ssize_t (*recv)(struct net_backend *be, void *buf, size_t len);
	/*
	 * The guest accepts these virtio-net offloads (VIRTIO_NET_F_GUEST_*
	 * bits of the negotiated features): the backend may hand frames that
	 * use them, and no others. 0 or -errno. NULL when the backend has no
	 * vnet_hdr.
	 */
	int (*set_offload)(struct net_backend *be, uint64_t guest_features);
	/* Close and free be. */
	void (*close)(struct net_backend *be);
};

/* The part of every backend the device sees; a backend embeds it first. */
struct net_backend {
	const struct net_backend_ops *ops;
	int fd; /* polled for input (POLLIN) and room (POLLOUT) */
	bool vnet_hdr; /* frames carry the virtio-net header */
	/* the largest MTU the backend carries, offered to the guest as
	 * VIRTIO_NET_F_MTU (its driver starts with it); 0: not offered */
	uint16_t mtu;
	char desc[64]; /* for messages: "tap lkvm0", "passt (pid 42)" */
};

static inline int net_send(struct net_backend *be, const struct iovec *iov,
			   unsigned int iovcnt)
{
	return be->ops->send(be, iov, iovcnt);
}

static inline ssize_t net_recv(struct net_backend *be, void *buf, size_t len)
{
	return be->ops->recv(be, buf, len);
}

/* Close be; NULL is ignored. */
static inline void net_close(struct net_backend *be)
{
	if (be)
		be->ops->close(be);
}

/* What -n asks for (kvmtool's keys), parsed by net_parse_spec(). */
enum net_mode { NET_MODE_NONE, NET_MODE_USER, NET_MODE_TAP };

#define NET_MAX_HOSTFWD 8
/* Queue pairs a NIC serves at most (mq=N; 2N + 1 queues <= 8). */
#define NET_MAX_PAIRS 3

struct net_hostfwd {
	uint16_t host_port, guest_port;
};

struct net_spec {
	int mode; /* enum net_mode */
	char tapif[16]; /* IFNAMSIZ; "" lets the kernel name it */
	char script[256], downscript[256]; /* "" or "none": none */
	char host_ip[16], guest_ip[16]; /* dotted quads, checked */
	uint8_t guest_mac[6], host_mac[6];
	bool guest_mac_set, host_mac_set;
	/* tap: vhost-net; user: passt's vhost-user (the default there) */
	bool vhost, vhost_set;
	int tapfd; /* fd=N: an open tap, -1 */
	int trans; /* -1 the VM's --virtio-transport, else 0 pci, 1 mmio */
	unsigned int mq; /* queue pairs asked for (1..NET_MAX_PAIRS) */
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
	unsigned int nr_hostfwd;
};

/*
 * Parse one -n argument: kvmtool's comma-separated key=value list (mode,
 * guest_ip, host_ip, guest_mac, host_mac, script, downscript, tapif,
 * vhost, fd, trans, mq) plus lkvm's hostfwd=tcp:HOSTPORT:GUESTPORT (user
 * mode, repeatable); "none" alone is mode=none. Defaults as kvmtool's:
 * mode user, host_ip 192.168.33.1, guest_ip 192.168.33.15, script none;
 * and vhost=1 in user mode (passt's vhost-user data path; vhost=0: lkvm's
 * own, over passt's socket framing).
 * Returns 0, or -EINVAL with one line in err naming the key or value.
 */
int net_parse_spec(const char *arg, struct net_spec *spec, char *err,
		   size_t errlen);

/*
 * The default guest MAC of NIC index in a VM named name (NULL: no name):
 * locally administered, unicast, derived from both, so the same VM gets
 * the same addresses run after run and its NICs differ.
 */
void net_default_mac(const char *name, unsigned int index, uint8_t mac[6]);

/*
 * Open a tap backend for spec: attach to spec->tapif (or a new one, or
 * the open fd=N), with IFF_VNET_HDR, a 12-byte header and no offloads
 * until set_offload; then run script (with the interface name as its
 * argument) or, with no script, give the host side host_ip/24 and bring
 * it up. With downscript, a child process waits for lkvm to exit and then
 * runs it with the interface name (lkvm itself may not start processes
 * once its syscall filter is on). Returns 0 with the backend in *out, or -errno with one line in
 * err (a missing /dev/net/tun or CAP_NET_ADMIN named as such).
 */
int net_tap_open(const struct net_spec *spec, struct net_backend **out,
		 char *err, size_t errlen);
/* The tap's name, "" for other backends. */
const char *net_tap_name(const struct net_backend *be);
/*
 * mq=N (N > 1) opens an IFF_MULTI_QUEUE tap with N queues, each its own
 * fd: queue 0's is be->fd. The number of queues (1 for other backends), the
 * fd of queue q (-1 beyond), and attaching or detaching queue q (the
 * kernel spreads frames over the attached ones only; another backend's
 * one queue 0 is always there): 0 or -errno.
 */
unsigned int net_tap_queues(const struct net_backend *be);
int net_tap_queue_fd(const struct net_backend *be, unsigned int q);
int net_tap_queue_enable(struct net_backend *be, unsigned int q, bool on);

/*
 * A backend over a connected stream socket speaking passt's qemu framing
 * (a 4-byte big-endian length before each frame, no virtio-net header).
 * Takes fd (non-blocking from here on). pid is the peer process's (for
 * messages; 0 when none). Returns 0 or -ENOMEM.
 */
int net_stream_open(int fd, int pid, struct net_backend **out);

/*
 * The backend of a vhost-user back end's connected socket fd (passt
 * --vhost-user; pid for messages): it carries no frames (send and recv
 * say -EPIPE), only net_vhost_user_open()'s requests; its fd hangs up
 * when the back end dies. Takes fd. 0 or -ENOMEM.
 */
int net_vhost_user_backend(int fd, int pid, struct net_backend **out);

/*
 * Start passt (at passt_path, or found on PATH when NULL) as a child on one
 * end of a socketpair (--fd), with spec's addresses and host forwards, and
 * return the stream backend on the other end, or with spec->vhost the
 * vhost-user one (passt --vhost-user); *pid is the child's. -errno with
 * one line in err (passt missing names the Debian package).
 */
int net_passt_start(const struct net_spec *spec, const char *passt_path,
		    struct net_backend **out, int *pid, char *err,
		    size_t errlen);

struct gmem;
struct net_vhost;

/* One ring handed to vhost: host addresses of the three parts (inside
 * guest RAM, checked when the driver enabled the queue), its size, the
 * index to start from, the eventfd the guest's doorbell signals, and the
 * one vhost signals for used buffers (-1: the ring's own call eventfd). */
struct net_vhost_ring {
	const void *desc, *avail, *used;
	unsigned int num, base;
	int kick_fd;
	int call_fd;
};

/*
 * vhost-net for a tap (tap_fd, with the 12-byte header already set):
 * open /dev/vhost-net, own it, give it guest RAM (mem's regions) and make
 * one call eventfd per ring. -errno with one line in err (no vhost-net in
 * the host kernel named as such).
 */
int net_vhost_open(const struct gmem *mem, int tap_fd, struct net_vhost **out,
		   char *err, size_t errlen);
/*
 * The same over a vhost-user back end's connected socket sock (passt
 * --vhost-user; the socket stays the caller's): features, protocol
 * features (REPLY_ACK only), ownership, and guest RAM by its memfds (every
 * region of mem must have one: -EINVAL otherwise). -errno with one line in
 * err.
 */
int net_vhost_user_open(const struct gmem *mem, int sock,
			struct net_vhost **out, char *err, size_t errlen);
/*
 * The virtio features the back end serves of those the device offers
 * (ring layout, header, offloads): all of them for vhost-net (the tap
 * carries the offloads), the back end's own for vhost-user. The device
 * offers no others.
 */
uint64_t net_vhost_features(const struct net_vhost *vh);
/* True for a vhost-user back end (its frames need no tap header). */
bool net_vhost_is_user(const struct net_vhost *vh);
/* The eventfd vhost signals when ring q (0 receive, 1 transmit) has used
 * buffers the driver wants to hear of. */
int net_vhost_call_fd(const struct net_vhost *vh, unsigned int q);
/*
 * Ring q (0, 1) of a started vhost signals fd from now on, or its own call
 * eventfd (net_vhost_call_fd()) for fd < 0. vhost signals the old one no
 * more once this returns (it swaps under the ring's lock). 0 or -errno.
 */
int net_vhost_set_call(struct net_vhost *vh, unsigned int q, int fd);
/*
 * Start the data path: the negotiated features (vhost's part of them), the
 * receive and transmit rings, the tap as backend. Then each kick eventfd
 * is signalled once. 0 or -errno.
 */
int net_vhost_start(struct net_vhost *vh, uint64_t features,
		    const struct net_vhost_ring r[2]);
/* Stop it (the tap detached from both rings): the rings are lkvm's again. */
void net_vhost_stop(struct net_vhost *vh);
/* Stop and free; NULL is ignored. */
void net_vhost_close(struct net_vhost *vh);

/*
 * In a child after fork(), before exec: the signal dispositions and mask
 * lkvm changed (SIGPIPE ignored, SIGINT/SIGTERM blocked) back to the
 * defaults. Async-signal-safe.
 */
void net_child_signals(void);

#endif
