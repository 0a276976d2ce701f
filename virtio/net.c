// SPDX-License-Identifier: GPL-2.0-only
/* virtio-net: queue pairs and a control queue over a net backend. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "lkvm/compiler.h"
#include "lkvm/iov.h"
#include "lkvm/net.h"
#include "lkvm/seccomp.h"
#include "lkvm/virtio-devs.h"

#define NET_QUEUE_SIZE 256
/* a chain holds at most queue-size buffers: every legal chain fits */
#define NET_MAX_IOV NET_QUEUE_SIZE
/* lkvm's own data path serves pair 0; with vhost, pair p is receiveq 2p
 * and transmitq 2p + 1; the control queue comes after the pairs */
#define NET_RXQ 0
#define NET_TXQ 1
#define NET_MAX_DATAQ (2 * NET_MAX_PAIRS)
/* frames (or chains) one turn of each queue serves */
#define NET_BUDGET 64
/* the largest control command taken: a MAC table of 2 x 512 entries */
#define NET_CTRL_MAX (2 * (4 + 6 * 512) + 2)
/* the configuration shown: mac, status, max_virtqueue_pairs, mtu */
#define NET_CONFIG_SIZE 12
#define NET_RXBUF_SIZE (NET_HDR_LEN + NET_FRAME_MAX)
/* poll period while a received frame waits for buffers (the driver's
 * notification is what normally ends the wait) */
#define NET_RX_WAIT_MS 20

_Static_assert(sizeof(struct virtio_net_hdr_mrg_rxbuf) == NET_HDR_LEN,
	       "virtio_net_hdr_mrg_rxbuf layout (Virtio 1.2, 5.1.6)");
_Static_assert(offsetof(struct virtio_net_config, mtu) + 2 == NET_CONFIG_SIZE,
	       "virtio_net_config layout (Virtio 1.2, 5.1.4)");

/* Offered always; the offloads only with a backend that carries them. */
#define NET_FEATURES                                                         \
	((1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |        \
	 (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CTRL_VQ) | \
	 (1ULL << VIRTIO_NET_F_CTRL_RX) |                                    \
	 (1ULL << VIRTIO_NET_F_CTRL_MAC_ADDR) |                              \
	 (1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE))
#define NET_F_MQ (1ULL << VIRTIO_NET_F_MQ)
/* What lkvm itself serves with a vhost back end: configuration, control
 * queue, virtio 1 */
#define NET_FRONTEND_FEATURES                                            \
	((NET_FEATURES & ~(1ULL << VIRTIO_NET_F_MRG_RXBUF)) | NET_F_MQ | \
	 (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_F_VERSION_1))
#define NET_OFFLOADS                                                           \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |     \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN))
#define NET_GUEST_OFFLOADS                   \
	((1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN))

struct vnet {
	struct virtio_dev *vdev;
	struct net_backend *be;
	/* vhost=1: the kernel serves receiveq and transmitq; set before the
	 * thread starts, started and stopped under the register lock */
	struct net_vhost *vh[NET_MAX_PAIRS]; /* vh[0] NULL: lkvm's data path */
	int vh_kick[NET_MAX_DATAQ];
	unsigned int pairs; /* offered (max_virtqueue_pairs); > 1: vhost */
	unsigned int ctrlq; /* the control queue's index, 2 * pairs */
	/*
	 * vhost's interrupts: each ring signals the eventfd KVM injects its
	 * interrupt from (irqfd_of(), the machine's) while there is one, else
	 * its own call eventfd, which the NIC's thread relays. call_lock
	 * (innermost: taken under the register lock and the MSI-X table's,
	 * takes nothing) guards vh_on, vh_started, pairs_on and call_cur.
	 */
	pthread_mutex_t call_lock;
	int (*irqfd_of)(void *opaque, unsigned int q);
	void *irqfd_opaque;
	int call_cur[NET_MAX_DATAQ]; /* the fd vhost signals, -1: its own */
	bool vh_on;
	bool vh_started[NET_MAX_PAIRS];
	unsigned int pairs_on; /* VQ_PAIRS_SET: the tap queues attached */
	int kick_fd; /* eventfd: a queue was notified, or the link changed */
	int stop_fd; /* eventfd: the thread returns */
	pthread_t thread;
	bool thread_started;
	char thread_name[16];

	/* the configuration the guest reads; cfg_lock */
	pthread_mutex_t cfg_lock;
	uint8_t mac[6];
	uint16_t status; /* VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE */
	/* the receive filter the driver set: kept, not applied (every
	 * frame is delivered; the guest's stack filters); cfg_lock */
	bool promisc, allmulti;
	uint32_t mac_uc, mac_mc;

	/*
	 * The NIC's thread only (or the caller of virtio_net_poll() when
	 * there is no thread): the frame received and not yet delivered
	 * (rx_len bytes, header included, 0 for none), the offloads the
	 * backend was last told, the backend's state.
	 */
	uint8_t *rxbuf;
	size_t rx_len;
	uint64_t offload_applied;
	bool offload_valid;
	bool be_dead; /* the peer went away: the link stays down */
	bool tx_blocked; /* the backend had no room: wait for POLLOUT */
	bool rx_waiting; /* the staged frame already counted in rx_waits */
	struct vring_used_elem used[NET_QUEUE_SIZE];

	struct {
		atomic_uint_fast64_t rx_packets, rx_bytes, rx_dropped, rx_waits;
		atomic_uint_fast64_t tx_packets, tx_bytes, tx_dropped,
			tx_errors;
		atomic_uint_fast64_t ctrl_ok, ctrl_err;
		atomic_uint_fast64_t irq_relayed;
	} st;
	struct ratelimit rl;
};

static struct vnet *to_vnet(struct virtio_dev *d)
{
	return virtio_dev_priv(d);
}

static void stat_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static bool has_feature(struct vnet *v, unsigned int bit)
{
	return virtio_dev_driver_features(v->vdev) & (1ULL << bit);
}

static void vnet_wake(struct vnet *v)
{
	uint64_t one = 1;

	if (v->kick_fd >= 0 && write(v->kick_fd, &one, sizeof(one)) < 0)
		pr_warn_ratelimited(&v->rl, "virtio-net: cannot wake: %s",
				    strerror(errno));
}

/* Tell the backend which offloads the driver accepted, once per change. */
static void vnet_apply_offload(struct vnet *v)
{
	uint64_t f = virtio_dev_driver_features(v->vdev) & NET_GUEST_OFFLOADS;

	if (!v->be->ops->set_offload ||
	    (v->offload_valid && f == v->offload_applied))
		return;
	if (v->be->ops->set_offload(v->be, f))
		pr_warn_ratelimited(
			&v->rl, "virtio-net: %s: cannot set offloads 0x%llx",
			v->be->desc, (unsigned long long)f);
	v->offload_applied = f;
	v->offload_valid = true;
}

static void vnet_link_set(struct vnet *v, bool up, bool announce)
{
	uint16_t s;

	pthread_mutex_lock(&v->cfg_lock);
	s = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (up && announce)
		s |= VIRTIO_NET_S_ANNOUNCE;
	if (!up)
		s = 0;
	if (s == v->status) {
		pthread_mutex_unlock(&v->cfg_lock);
		return;
	}
	v->status = s;
	pthread_mutex_unlock(&v->cfg_lock);
	virtio_dev_config_changed(v->vdev);
}

void virtio_net_set_link(struct virtio_dev *d, bool up)
{
	struct vnet *v = to_vnet(d);

	vnet_link_set(v, up, up && has_feature(v, VIRTIO_NET_F_GUEST_ANNOUNCE));
	vnet_wake(v);
}

static bool vnet_link_up(struct vnet *v)
{
	bool up;

	pthread_mutex_lock(&v->cfg_lock);
	up = v->status & VIRTIO_NET_S_LINK_UP;
	pthread_mutex_unlock(&v->cfg_lock);
	return up;
}

/* The backend's peer went away: link down for good, said once. */
static void vnet_backend_dead(struct vnet *v)
{
	if (v->be_dead)
		return;
	v->be_dead = true;
	v->rx_len = 0;
	pr_warn("virtio-net: %s went away: link down", v->be->desc);
	vnet_link_set(v, false, false);
}

/* ---- transmit ---- */

/*
 * The guest's header, checked against what it negotiated: checksum
 * offload only with CSUM, segmentation only of the kinds offered. 0 or a
 * reason.
 */
static const char *tx_check_hdr(struct vnet *v, const struct virtio_net_hdr *h)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return "header flags";
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !has_feature(v, VIRTIO_NET_F_CSUM))
		return "checksum offload not negotiated";
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type & VIRTIO_NET_HDR_GSO_ECN ? "ECN without GSO"
							    : NULL;
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return "segmentation without checksum offload";
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    has_feature(v, VIRTIO_NET_F_HOST_TSO4))
		goto ecn;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
	    has_feature(v, VIRTIO_NET_F_HOST_TSO6))
		goto ecn;
	return "segmentation kind not negotiated";
ecn:
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !has_feature(v, VIRTIO_NET_F_HOST_ECN))
		return "ECN segmentation not negotiated";
	return NULL;
}

/*
 * One transmit chain to the backend. The frame is the device-readable
 * part: the header (copied once and checked), then the packet, which the
 * backend reads from guest memory as it is.
 */
static void tx_chain(struct vnet *v, const struct virtq_chain *c,
		     const struct iovec *iov)
{
	struct iovec out[NET_MAX_IOV + 1];
	struct virtio_net_hdr_mrg_rxbuf hdr;
	unsigned int i, n = 0;
	size_t skip = NET_HDR_LEN;
	const char *why;
	int ret;

	if (c->out_len < NET_HDR_LEN ||
	    c->out_len > NET_HDR_LEN + NET_FRAME_MAX) {
		stat_add(&v->st.tx_dropped, 1);
		pr_warn_ratelimited(
			&v->rl,
			"virtio-net: transmit chain of %llu bytes (%u..%u): dropped",
			(unsigned long long)c->out_len, NET_HDR_LEN,
			NET_HDR_LEN + NET_FRAME_MAX);
		return;
	}
	iov_to_buf(iov, c->nout, 0, &hdr, sizeof(hdr));
	why = tx_check_hdr(v, &hdr.hdr);
	if (why) {
		stat_add(&v->st.tx_dropped, 1);
		pr_warn_ratelimited(&v->rl, "virtio-net: transmit: %s: dropped",
				    why);
		return;
	}
	if (v->be_dead || !vnet_link_up(v)) {
		stat_add(&v->st.tx_dropped, 1);
		return;
	}
	if (v->be->vnet_hdr) {
		hdr.num_buffers = 0;
		out[n++] = (struct iovec){ &hdr, sizeof(hdr) };
	}
	for (i = 0; i < c->nout; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		out[n++] = (struct iovec){ (uint8_t *)iov[i].iov_base + skip,
					   l - skip };
		skip = 0;
	}
	ret = net_send(v->be, out, n);
	if (ret == -EPIPE) {
		vnet_backend_dead(v);
		stat_add(&v->st.tx_dropped, 1);
	} else if (ret) {
		stat_add(&v->st.tx_errors, 1);
	} else {
		stat_add(&v->st.tx_packets, 1);
		stat_add(&v->st.tx_bytes, c->out_len - NET_HDR_LEN);
	}
}

/* Up to NET_BUDGET transmit chains; true when more are waiting. */
static bool vnet_tx(struct vnet *v)
{
	struct iovec iov[NET_MAX_IOV];
	struct virtq_chain c;
	unsigned int budget = NET_BUDGET;

	v->tx_blocked = false;
	while (budget--) {
		if (!v->be_dead && v->be->ops->writable &&
		    !v->be->ops->writable(v->be)) {
			v->tx_blocked = true;
			return false;
		}
		if (virtio_queue_pop(v->vdev, NET_TXQ, &c, iov, NET_MAX_IOV) <=
		    0)
			return false;
		tx_chain(v, &c, iov);
		virtio_queue_push(v->vdev, NET_TXQ, c.head, 0);
	}
	return virtio_queue_has_work(v->vdev, NET_TXQ);
}

/* ---- receive ---- */

/* Take a frame from the backend into rxbuf. 1 staged, 0 none, -1 lost. */
static int rx_stage(struct vnet *v)
{
	size_t off = v->be->vnet_hdr ? 0 : NET_HDR_LEN;
	ssize_t n;

	if (v->rx_len)
		return 1;
	if (v->be_dead)
		return 0;
	n = net_recv(v->be, v->rxbuf + off, NET_RXBUF_SIZE - off);
	if (n == -EAGAIN)
		return 0;
	if (n == -EPIPE) {
		vnet_backend_dead(v);
		return 0;
	}
	if (n < 0 || (size_t)n + off < NET_HDR_LEN) {
		stat_add(&v->st.rx_dropped, 1);
		return -1;
	}
	if (!v->be->vnet_hdr)
		memset(v->rxbuf, 0, NET_HDR_LEN);
	v->rx_len = (size_t)n + off;
	return 1;
}

/* Write num_buffers into the header at the start of a chain's buffers. */
static void rx_set_num_buffers(const struct iovec *iov, unsigned int n,
			       uint16_t nb)
{
	size_t off = offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers);
	uint8_t b[2] = { (uint8_t)nb, (uint8_t)(nb >> 8) };
	unsigned int i, k = 0;

	for (i = 0; i < n && k < 2; i++) {
		while (k < 2 && off < iov[i].iov_len)
			((uint8_t *)iov[i].iov_base)[off++] = b[k++];
		off = off >= iov[i].iov_len ? off - iov[i].iov_len : off;
	}
}

/*
 * Deliver the staged frame into receive chains: one chain, or with
 * MRG_RXBUF as many as it takes, all handed back together. False when the
 * ring lacks the room (the frame stays staged and the driver is asked to
 * notify at its next buffer).
 */
static bool rx_deliver(struct vnet *v)
{
	bool mrg = has_feature(v, VIRTIO_NET_F_MRG_RXBUF);
	struct iovec first[NET_MAX_IOV], iov[NET_MAX_IOV];
	unsigned int want, got = 0, nfirst = 0;
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)v->rxbuf;
	size_t done = 0;

	want = virtio_queue_peek_room(v->vdev, NET_RXQ, v->rx_len,
				      mrg ? NET_QUEUE_SIZE : 1, true);
	if (!want) {
		if (!mrg &&
		    virtio_queue_peek_room(v->vdev, NET_RXQ, 1, 1, false)) {
			/* one chain must hold it all and the next cannot */
			stat_add(&v->st.rx_dropped, 1);
			v->rx_len = 0;
			return true;
		}
		if (!v->rx_waiting)
			stat_add(&v->st.rx_waits, 1);
		v->rx_waiting = true;
		return false;
	}
	v->rx_waiting = false;
	h->num_buffers = (uint16_t)want;
	while (got < want && done < v->rx_len) {
		struct virtq_chain c;
		struct iovec *w = got ? iov : first;
		size_t put;

		if (virtio_queue_pop(v->vdev, NET_RXQ, &c, w, NET_MAX_IOV) <= 0)
			break;
		put = iov_from_buf(w + c.nout, c.niov - c.nout, 0,
				   v->rxbuf + done, v->rx_len - done);
		if (!got) {
			memmove(first, first + c.nout,
				(c.niov - c.nout) * sizeof(*first));
			nfirst = c.niov - c.nout;
		}
		v->used[got].id = c.head;
		v->used[got].len = (uint32_t)put;
		done += put;
		got++;
	}
	if (!got)
		return false; /* reset meanwhile: keep the frame */
	if (got != want)
		rx_set_num_buffers(first, nfirst, (uint16_t)got);
	virtio_queue_push_n(v->vdev, NET_RXQ, v->used, got);
	if (done < v->rx_len) {
		/* the guest took back room it had posted */
		stat_add(&v->st.rx_dropped, 1);
	} else {
		stat_add(&v->st.rx_packets, 1);
		stat_add(&v->st.rx_bytes, v->rx_len - NET_HDR_LEN);
	}
	v->rx_len = 0;
	return true;
}

/* Up to NET_BUDGET frames in; true when more may be waiting. */
static bool vnet_rx(struct vnet *v)
{
	unsigned int budget = NET_BUDGET;
	int r;

	if (!virtio_dev_live(v->vdev))
		return false;
	vnet_apply_offload(v);
	while (budget--) {
		r = rx_stage(v);
		if (r < 0)
			continue;
		if (!r || !rx_deliver(v))
			return false;
	}
	return true;
}

/* ---- control ---- */

/* A MAC table: two lists (unicast, multicast), each a count then MACs. */
static bool ctrl_mac_table(struct vnet *v, const uint8_t *p, size_t len)
{
	uint32_t n[2];
	unsigned int t;

	for (t = 0; t < 2; t++) {
		if (len < 4)
			return false;
		memcpy(&n[t], p, 4);
		p += 4;
		len -= 4;
		if (n[t] > len / 6)
			return false;
		p += (size_t)n[t] * 6;
		len -= (size_t)n[t] * 6;
	}
	if (len)
		return false;
	pthread_mutex_lock(&v->cfg_lock);
	v->mac_uc = n[0];
	v->mac_mc = n[1];
	pthread_mutex_unlock(&v->cfg_lock);
	return true;
}

/* Attach the tap queues of the first n pairs, detach the others (the
 * kernel then spreads received frames over those only). call_lock held. */
static void vnet_pairs_apply(struct vnet *v, unsigned int n)
{
	unsigned int p;
	int ret;

	v->pairs_on = n;
	for (p = 0; p < v->pairs; p++) {
		ret = net_tap_queue_enable(v->be, p, p < n);
		if (ret)
			pr_warn_ratelimited(
				&v->rl,
				"virtio-net: %s: cannot %s queue %u: %s",
				v->be->desc, p < n ? "attach" : "detach", p,
				strerror(-ret));
	}
}

/* VQ_PAIRS_SET (Virtio 1.2, 5.1.6.5.5): 1..max_virtqueue_pairs, and
 * only pairs vhost serves (the driver set them up). */
static uint8_t ctrl_mq(struct vnet *v, uint8_t cmd, const uint8_t *p,
		       size_t len)
{
	unsigned int n;
	uint8_t ack = VIRTIO_NET_ERR;

	if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2 ||
	    !has_feature(v, VIRTIO_NET_F_MQ))
		return VIRTIO_NET_ERR;
	n = (unsigned int)p[0] | (unsigned int)p[1] << 8;
	if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > v->pairs)
		return VIRTIO_NET_ERR;
	pthread_mutex_lock(&v->call_lock);
	if (v->vh_on && v->vh_started[n - 1]) {
		vnet_pairs_apply(v, n);
		ack = VIRTIO_NET_OK;
	}
	pthread_mutex_unlock(&v->call_lock);
	return ack;
}

/* One command: class, command and data as copied; VIRTIO_NET_OK/ERR. */
static uint8_t ctrl_command(struct vnet *v, uint8_t cls, uint8_t cmd,
			    const uint8_t *p, size_t len)
{
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		if (!has_feature(v, VIRTIO_NET_F_CTRL_RX) || len != 1 ||
		    cmd > VIRTIO_NET_CTRL_RX_ALLMULTI)
			return VIRTIO_NET_ERR;
		pthread_mutex_lock(&v->cfg_lock);
		if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
			v->promisc = p[0];
		else
			v->allmulti = p[0];
		pthread_mutex_unlock(&v->cfg_lock);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
		    has_feature(v, VIRTIO_NET_F_CTRL_RX))
			return ctrl_mac_table(v, p, len) ? VIRTIO_NET_OK
							 : VIRTIO_NET_ERR;
		if (cmd != VIRTIO_NET_CTRL_MAC_ADDR_SET ||
		    !has_feature(v, VIRTIO_NET_F_CTRL_MAC_ADDR) || len != 6)
			return VIRTIO_NET_ERR;
		pthread_mutex_lock(&v->cfg_lock);
		memcpy(v->mac, p, 6);
		pthread_mutex_unlock(&v->cfg_lock);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_ANNOUNCE:
		if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len ||
		    !has_feature(v, VIRTIO_NET_F_GUEST_ANNOUNCE))
			return VIRTIO_NET_ERR;
		pthread_mutex_lock(&v->cfg_lock);
		v->status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
		pthread_mutex_unlock(&v->cfg_lock);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MQ:
		return ctrl_mq(v, cmd, p, len);
	default: /* VLAN, guest offloads: not offered */
		return VIRTIO_NET_ERR;
	}
}

/*
 * One control chain: the readable part is class, command and data; the
 * ack is the last device-writable byte. A chain without room for the ack
 * breaks the queue (there is no other way to answer it).
 */
static void ctrl_chain(struct vnet *v, const struct virtq_chain *c,
		       const struct iovec *iov)
{
	static _Thread_local uint8_t buf[NET_CTRL_MAX];
	const struct iovec *last = &iov[c->niov - 1];
	uint8_t ack = VIRTIO_NET_ERR;

	if (!c->in_len || c->niov == c->nout) {
		virtio_queue_push_broken(v->vdev, v->ctrlq, c->head,
					 "control command without an ack byte");
		return;
	}
	if (c->out_len >= 2 && c->out_len <= sizeof(buf)) {
		iov_to_buf(iov, c->nout, 0, buf, (size_t)c->out_len);
		ack = ctrl_command(v, buf[0], buf[1], buf + 2,
				   (size_t)c->out_len - 2);
	}
	stat_add(ack == VIRTIO_NET_OK ? &v->st.ctrl_ok : &v->st.ctrl_err, 1);
	((uint8_t *)last->iov_base)[last->iov_len - 1] = ack;
	virtio_queue_push(v->vdev, v->ctrlq, c->head, 1);
}

static bool vnet_ctrl(struct vnet *v)
{
	struct iovec iov[NET_MAX_IOV];
	struct virtq_chain c;
	unsigned int budget = NET_BUDGET;

	while (budget--) {
		if (virtio_queue_pop(v->vdev, v->ctrlq, &c, iov, NET_MAX_IOV) <=
		    0)
			return false;
		ctrl_chain(v, &c, iov);
	}
	return virtio_queue_has_work(v->vdev, v->ctrlq);
}

bool virtio_net_poll(struct virtio_dev *d)
{
	struct vnet *v = to_vnet(d);
	bool more;

	more = vnet_ctrl(v);
	if (v->vh[0])
		return more;
	more |= vnet_tx(v);
	more |= vnet_rx(v);
	return more;
}

/* ---- the device ---- */

static uint64_t vnet_config_read(struct virtio_dev *d, uint32_t off,
				 unsigned int size)
{
	struct vnet *v = to_vnet(d);
	uint8_t cfg[NET_CONFIG_SIZE];
	uint64_t val = 0;

	pthread_mutex_lock(&v->cfg_lock);
	memcpy(cfg, v->mac, 6);
	cfg[6] = (uint8_t)v->status;
	cfg[7] = (uint8_t)(v->status >> 8);
	pthread_mutex_unlock(&v->cfg_lock);
	cfg[8] = (uint8_t)v->pairs; /* max_virtqueue_pairs */
	cfg[9] = 0;
	cfg[10] = (uint8_t)v->be->mtu; /* mtu: set only with VIRTIO_NET_F_MTU */
	cfg[11] = (uint8_t)(v->be->mtu >> 8);
	memcpy(&val, cfg + off, size); /* core: off + size <= config_size */
	return val;
}

/* The driver may not write the configuration (Virtio 1.2, 5.1.4.2). */
static void vnet_config_write(struct virtio_dev *d, uint32_t off,
			      unsigned int size, uint64_t value)
{
	(void)d;
	(void)off;
	(void)size;
	(void)value;
}

/* Queue work belongs to the NIC's thread (or to vhost): wake it. */
static bool vnet_notify(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	struct vnet *v = to_vnet(d);

	(void)budget;
	if (!v->vh[0] || q == v->ctrlq)
		vnet_wake(v);
	return false;
}

/*
 * Point each running vhost ring at the irqfd of its interrupt, or back at
 * its own call eventfd (relayed). call_lock held. A signal vhost gave the
 * old fd is not lost: KVM injected it, or the NIC's thread relays it.
 */
static void vnet_calls_update(struct vnet *v)
{
	unsigned int q;
	int fd, ret;

	if (!v->vh_on)
		return;
	for (q = 0; q < 2 * v->pairs; q++) {
		if (!v->vh_started[q / 2])
			continue;
		fd = v->irqfd_of ? v->irqfd_of(v->irqfd_opaque, q) : -1;
		if (fd == v->call_cur[q])
			continue;
		ret = net_vhost_set_call(v->vh[q / 2], q % 2, fd);
		if (ret) {
			pr_warn_ratelimited(
				&v->rl,
				"virtio-net: vhost: queue %u: cannot change its interrupt eventfd: %s",
				q, strerror(-ret));
			continue;
		}
		v->call_cur[q] = fd;
	}
}

void virtio_net_set_irqfds(struct virtio_dev *d,
			   int (*irqfd_of)(void *opaque, unsigned int q),
			   void *opaque)
{
	struct vnet *v = to_vnet(d);

	v->irqfd_of = irqfd_of;
	v->irqfd_opaque = opaque;
}

void virtio_net_irqfds_changed(struct virtio_dev *d)
{
	struct vnet *v = to_vnet(d);

	pthread_mutex_lock(&v->call_lock);
	vnet_calls_update(v);
	pthread_mutex_unlock(&v->call_lock);
}

/* Stop every started vhost. call_lock held. */
static void vnet_vhost_stop_all(struct vnet *v)
{
	unsigned int p;

	for (p = 0; p < v->pairs; p++) {
		if (v->vh_started[p])
			net_vhost_stop(v->vh[p]);
		v->vh_started[p] = false;
		v->call_cur[2 * p] = v->call_cur[2 * p + 1] = -1;
	}
	v->vh_on = false;
}

/* Pair p to vhost: its rings, on their irqfds where there are some (no
 * interrupt is relayed first). call_lock held. 0, 1 when the driver did
 * not set the pair up, or -errno. */
static int vnet_vhost_start_pair(struct vnet *v, unsigned int p, uint64_t f)
{
	struct net_vhost_ring r[2];
	unsigned int i, q;
	int ret;

	for (i = 0; i < 2; i++) {
		struct virtq vq;

		q = 2 * p + i;
		vq = virtio_queue_copy(v->vdev, q);
		if (!vq.ready)
			return 1;
		r[i] = (struct net_vhost_ring){
			vq.desc,
			vq.avail,
			vq.used,
			vq.num,
			vq.last_avail,
			v->vh_kick[q],
			v->irqfd_of ? v->irqfd_of(v->irqfd_opaque, q) : -1
		};
	}
	ret = net_vhost_start(v->vh[p], f, r);
	if (ret)
		return ret;
	v->vh_started[p] = true;
	v->call_cur[2 * p] = r[0].call_fd;
	v->call_cur[2 * p + 1] = r[1].call_fd;
	return 0;
}

/*
 * vhost takes the pairs' rings at DRIVER_OK, lets go at a reset. Only the
 * first pair carries frames until the driver sets more (VQ_PAIRS_SET);
 * a pair the driver did not set up is left out.
 */
static void vnet_live(struct virtio_dev *d, bool on)
{
	struct vnet *v = to_vnet(d);
	uint64_t f = virtio_dev_driver_features(d);
	unsigned int p;
	int ret = 0;

	if (!v->vh[0])
		return;
	pthread_mutex_lock(&v->call_lock);
	vnet_vhost_stop_all(v);
	if (!on) {
		pthread_mutex_unlock(&v->call_lock);
		return;
	}
	if (v->be->ops->set_offload)
		v->be->ops->set_offload(v->be, f & NET_GUEST_OFFLOADS);
	vnet_pairs_apply(v, 1);
	for (p = 0; p < v->pairs; p++) {
		ret = vnet_vhost_start_pair(v, p, f);
		if (ret < 0)
			break;
		if (ret > 0 && !p)
			pr_warn_ratelimited(
				&v->rl,
				"virtio-net: vhost: queue pair 0 not set up at DRIVER_OK");
	}
	v->vh_on = v->vh_started[0] && ret >= 0;
	if (ret < 0)
		vnet_vhost_stop_all(v);
	pthread_mutex_unlock(&v->call_lock);
	if (ret < 0) {
		/* the guest may retry (reset, DRIVER_OK) as often as it likes */
		pr_warn_ratelimited(
			&v->rl,
			"virtio-net: vhost: cannot start: %s: link down",
			strerror(-ret));
		vnet_link_set(v, false, false);
	}
}

int virtio_net_set_vhost(struct virtio_dev *d, struct net_vhost *const vh[],
			 const int kick_fd[], unsigned int pairs)
{
	struct vnet *v = to_vnet(d);
	uint64_t serves = net_vhost_features(vh[0]);
	unsigned int q;

	/* vhost-net needs the tap's header; a vhost-user back end has its
	 * own frames, and offers only what it serves */
	if ((!v->be->vnet_hdr && !net_vhost_is_user(vh[0])) ||
	    pairs != v->pairs)
		return -EINVAL;
	for (q = 0; q < 2 * pairs; q++) {
		v->vh[q / 2] = vh[q / 2];
		v->vh_kick[q] = kick_fd[q];
	}
	virtio_dev_mask_features(d, NET_FRONTEND_FEATURES | serves);
	return 0;
}

static void vnet_reset(struct virtio_dev *d)
{
	struct vnet *v = to_vnet(d);

	pthread_mutex_lock(&v->cfg_lock);
	v->promisc = v->allmulti = false;
	v->mac_uc = v->mac_mc = 0;
	v->status &= (uint16_t)~VIRTIO_NET_S_ANNOUNCE;
	pthread_mutex_unlock(&v->cfg_lock);
}

#define VNET_OPS(n)                                                       \
	{                                                                 \
		.name = "virtio-net", .device_id = VIRTIO_ID_NET,         \
		.nr_queues = 2 * (n) + 1, .queue_max = NET_QUEUE_SIZE,    \
		.config_size = NET_CONFIG_SIZE,                           \
		.config_read = vnet_config_read,                          \
		.config_write = vnet_config_write, .notify = vnet_notify, \
		.reset = vnet_reset, .live = vnet_live,                   \
	}

/* One set per number of pairs: the queue count is the ops'. */
static const struct virtio_dev_ops vnet_ops[NET_MAX_PAIRS] = {
	VNET_OPS(1),
	VNET_OPS(2),
	VNET_OPS(3),
};
_Static_assert(NET_MAX_PAIRS == 3 && 2 * NET_MAX_PAIRS + 1 <= VIRTIO_MAX_QUEUES,
	       "one vnet_ops per pair count, queues within the core's");

int virtio_net_create(const struct gmem *mem, struct irq_line irq,
		      struct net_backend *be, const uint8_t mac[6],
		      unsigned int pairs, struct virtio_dev **out)
{
	uint64_t features = NET_FEATURES | (be->vnet_hdr ? NET_OFFLOADS : 0) |
			    (pairs > 1 ? NET_F_MQ : 0) |
			    (be->mtu ? 1ULL << VIRTIO_NET_F_MTU : 0);
	struct vnet *v;
	unsigned int q;
	int ret = -ENOMEM;

	if (!pairs || pairs > NET_MAX_PAIRS)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->pairs = pairs;
	v->ctrlq = 2 * pairs;
	v->pairs_on = 1;
	v->be = be;
	v->stop_fd = -1;
	memcpy(v->mac, mac, 6);
	v->status = VIRTIO_NET_S_LINK_UP;
	v->rl = (struct ratelimit){ .interval = 5, .burst = 5 };
	pthread_mutex_init(&v->cfg_lock, NULL);
	pthread_mutex_init(&v->call_lock, NULL);
	for (q = 0; q < NET_MAX_DATAQ; q++)
		v->call_cur[q] = -1;
	v->rxbuf = malloc(NET_RXBUF_SIZE);
	v->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->kick_fd < 0 || v->stop_fd < 0)
		ret = -errno;
	else if (v->rxbuf)
		ret = virtio_dev_new(&vnet_ops[pairs - 1], v, mem, features,
				     irq, &v->vdev);
	if (ret) {
		if (v->kick_fd >= 0)
			close(v->kick_fd);
		if (v->stop_fd >= 0)
			close(v->stop_fd);
		free(v->rxbuf);
		pthread_mutex_destroy(&v->cfg_lock);
		pthread_mutex_destroy(&v->call_lock);
		free(v);
		return ret;
	}
	*out = v->vdev;
	return 0;
}

/* The NIC's thread: queue work and backend input, until stopped. */
static void *vnet_thread(void *arg)
{
	struct vnet *v = arg;
	uint64_t cnt;
	bool more = true;

	seccomp_thread_start(SECCOMP_THREAD_NET, v->thread_name);
	for (;;) {
		struct pollfd p[3 + NET_MAX_DATAQ] = {
			{ .fd = v->stop_fd, .events = POLLIN },
			{ .fd = v->kick_fd, .events = POLLIN },
			{ .fd = -1 },
		};
		unsigned int q, nfd = 3;
		int timeout = more ? 0 : v->rx_len ? NET_RX_WAIT_MS : -1;

		/* backend input only for a live device: it stays queued in
		 * the backend until the driver is ready */
		if (v->vh[0]) {
			/* the back end's hang-up (passt's socket: a dead
			 * vhost-user back end), and vhost's used-buffer
			 * signals, relayed */
			if (!v->be_dead)
				p[2].fd = v->be->fd;
			for (q = 0; q < 2 * v->pairs; q++)
				p[nfd++] = (struct pollfd){
					.fd = net_vhost_call_fd(v->vh[q / 2],
								q % 2),
					.events = POLLIN
				};
		} else if (!v->be_dead && virtio_dev_live(v->vdev)) {
			p[2].fd = v->be->fd;
			p[2].events = (short)((v->rx_len ? 0 : POLLIN) |
					      (v->tx_blocked ? POLLOUT : 0));
		}
		if (poll(p, nfd, timeout) < 0 && errno != EINTR)
			break;
		seccomp_thread_update();
		if (p[0].revents)
			break;
		if (p[1].revents && read(v->kick_fd, &cnt, sizeof(cnt)) < 0 &&
		    errno != EAGAIN)
			break;
		for (q = 0; q + 3 < nfd; q++)
			if (p[3 + q].revents &&
			    read(p[3 + q].fd, &cnt, sizeof(cnt)) ==
				    sizeof(cnt)) {
				stat_add(&v->st.irq_relayed, 1);
				virtio_queue_interrupt(v->vdev, q);
			}
		if (p[2].revents & (POLLHUP | POLLERR) &&
		    !(p[2].revents & POLLIN))
			vnet_backend_dead(v);
		more = virtio_net_poll(v->vdev);
	}
	return NULL;
}

int virtio_net_start(struct virtio_dev *d, const char *name)
{
	struct vnet *v = to_vnet(d);
	int ret;

	snprintf(v->thread_name, sizeof(v->thread_name), "%s", name);
	ret = pthread_create(&v->thread, NULL, vnet_thread, v);
	if (ret)
		return -ret;
	v->thread_started = true;
	return 0;
}

void virtio_net_stop(struct virtio_dev *d)
{
	struct vnet *v;
	uint64_t one = 1;

	if (!d)
		return;
	v = to_vnet(d);
	if (!v->thread_started)
		return;
	if (write(v->stop_fd, &one, sizeof(one)) < 0)
		pr_err("virtio-net: cannot stop its thread: %s",
		       strerror(errno));
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}

void virtio_net_destroy(struct virtio_dev *d)
{
	struct vnet *v;

	if (!d)
		return;
	v = to_vnet(d);
	virtio_net_stop(d);
	virtio_dev_free(d);
	close(v->kick_fd);
	close(v->stop_fd);
	free(v->rxbuf);
	pthread_mutex_destroy(&v->cfg_lock);
	pthread_mutex_destroy(&v->call_lock);
	free(v);
}

void virtio_net_get_stats(struct virtio_dev *d, struct virtio_net_stats *s)
{
	struct vnet *v = to_vnet(d);
	unsigned int q;

	s->rx_packets = v->st.rx_packets;
	s->rx_bytes = v->st.rx_bytes;
	s->rx_dropped = v->st.rx_dropped;
	s->rx_waits = v->st.rx_waits;
	s->tx_packets = v->st.tx_packets;
	s->tx_bytes = v->st.tx_bytes;
	s->tx_dropped = v->st.tx_dropped;
	s->tx_errors = v->st.tx_errors;
	s->ctrl_ok = v->st.ctrl_ok;
	s->ctrl_err = v->st.ctrl_err;
	s->irq_relayed = v->st.irq_relayed;
	pthread_mutex_lock(&v->call_lock);
	s->irq_direct = 0;
	for (q = 0; q < 2 * v->pairs; q++)
		s->irq_direct += v->call_cur[q] >= 0;
	s->irq_rings = v->vh[0] ? 2 * v->pairs : 0;
	s->pairs = v->pairs;
	s->pairs_on = v->pairs_on;
	pthread_mutex_unlock(&v->call_lock);
}
