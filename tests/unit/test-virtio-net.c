// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/net.c against the fake backend. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "lkvm/net.h"
#include "lkvm/virtio-devs.h"
#include "drvq.h"
#include "fake-net.h"
#include "fake-vu.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define QSIZE 256
#define RXQ 0
#define TXQ 1
#define CTRLQ 2
#define RING_GPA(q) (GUEST_RAM_BASE + 0x10000ULL * (q))
#define DESC_GPA(q) RING_GPA(q)
#define AVAIL_GPA(q) (RING_GPA(q) + 0x1000)
#define USED_GPA(q) (RING_GPA(q) + 0x2000)
#define BUF_GPA (GUEST_RAM_BASE + 0x40000)
#define BUF_SIZE 0x1000
#define BUF(i) (BUF_GPA + (uint64_t)BUF_SIZE * (i))
#define RAM_SIZE (0x40000 + 0x1000 * 300 + 0x20000)
#define BIG_GPA (GUEST_RAM_BASE + 0x40000 + 0x1000 * 300) /* 128 KiB */

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define BIT(b) (1ULL << (b))

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct tc {
	struct guest g;
	struct fake_net *f;
	struct virtio_dev *d;
	struct vdrv v;
	struct drvq q[5];
	unsigned int ctrlq;
};

static void tc_free(struct tc *t)
{
	if (!t)
		return;
	virtio_net_destroy(t->d);
	if (t->f)
		net_close(&t->f->be);
	guest_destroy(&t->g);
	free(t);
}

/* A device over a fake backend (with the header when hdr), brought up
 * with the offered features within mask. */
static struct tc *tc_new_pairs(bool hdr, uint64_t mask, unsigned int pairs)
{
	struct tc *t = calloc(1, sizeof(*t));
	unsigned int q;

	if (!t)
		return NULL;
	t->ctrlq = 2 * pairs;
	t->f = fake_net_new(hdr);
	if (!t->f || guest_init(&t->g, GUEST_RAM_BASE, RAM_SIZE) ||
	    virtio_net_create(&t->g.mem, (struct irq_line){ 0 }, &t->f->be,
			      test_mac, pairs, &t->d))
		goto fail;
	vdrv_init_core(&t->v, t->d);
	/* rings 0x10000 apart: queue 4's overlaps BUF(0..2), unused here */
	for (q = 0; q <= t->ctrlq; q++)
		drvq_init(&t->q[q], &t->g, QSIZE, DESC_GPA(q), AVAIL_GPA(q),
			  USED_GPA(q));
	if (!CHECK_EQ(vdrv_bring_up(&t->v, mask, t->q, t->ctrlq + 1), 0))
		goto fail;
	return t;
fail:
	tc_free(t);
	return NULL;
}

static struct tc *tc_new_mask(bool hdr, uint64_t mask)
{
	return tc_new_pairs(hdr, mask, 1);
}

static struct tc *tc_new(bool hdr)
{
	return tc_new_mask(hdr, ~0ULL);
}

/* Post a transmit chain: a 12-byte header h, then len bytes of pattern
 * seed, split into bufs buffers (the header may straddle them). */
static void tx_post(struct tc *t, uint16_t first, const void *h, uint32_t len,
		    uint8_t seed, unsigned int bufs)
{
	uint32_t total = NET_HDR_LEN + len, per = total / bufs, off = 0;
	uint64_t gpa = BIG_GPA + 128ULL * first; /* a place per chain */
	uint8_t *p = guest_ptr(&t->g, gpa, total);
	struct drvq_buf b[QSIZE];
	unsigned int i;

	memcpy(p, h, total < NET_HDR_LEN ? total : NET_HDR_LEN);
	for (i = NET_HDR_LEN; i < total; i++)
		p[i] = (uint8_t)(seed + i);
	for (i = 0; i < bufs; i++) {
		uint32_t l = i + 1 == bufs ? total - off : per;

		b[i] = (struct drvq_buf){ gpa + off, l, false };
		off += l;
	}
	drvq_post_chain(&t->q[TXQ], first, b, bufs);
}

static const struct virtio_net_hdr_mrg_rxbuf plain_hdr = { 0 };

static void test_identity(void)
{
	struct tc *t = tc_new(true);
	struct virtio_dev *d;
	struct tc *r;

	REQUIRE(t);
	d = t->d;
	CHECK_EQ(virtio_dev_ops(d)->device_id, VIRTIO_ID_NET);
	CHECK_EQ(virtio_dev_ops(d)->nr_queues, 3);
	CHECK(virtio_dev_features(d) & BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(virtio_dev_features(d) & BIT(VIRTIO_NET_F_CSUM));
	CHECK(virtio_dev_features(d) & BIT(VIRTIO_NET_F_GUEST_TSO4));
	CHECK(!(virtio_dev_features(d) & BIT(VIRTIO_NET_F_MQ)));
	for (unsigned int i = 0; i < 6; i++)
		CHECK_EQ(vdrv_config_read(&t->v, i, 1), test_mac[i]);
	CHECK_EQ(vdrv_config_read(&t->v, 6, 2), VIRTIO_NET_S_LINK_UP);
	CHECK_EQ(vdrv_config_read(&t->v, 8, 2), 1);
	CHECK_EQ(vdrv_config_read(&t->v, 10, 2), 0); /* no MTU */
	vdrv_config_write(&t->v, 0, 1, 0xff); /* ignored */
	CHECK_EQ(vdrv_config_read(&t->v, 0, 1), test_mac[0]);
	/* the offloads the guest took reach the backend with the first turn */
	virtio_net_poll(d);
	CHECK_EQ(t->f->offload_calls, 1);
	CHECK(t->f->offload & BIT(VIRTIO_NET_F_GUEST_TSO6));
	CHECK(!(t->f->offload & BIT(VIRTIO_NET_F_CSUM)));
	virtio_net_poll(d);
	CHECK_EQ(t->f->offload_calls, 1);
	tc_free(t);
	/* without the header: no offloads offered */
	r = tc_new(false);
	REQUIRE(r);
	CHECK(!(virtio_dev_features(r->d) & BIT(VIRTIO_NET_F_CSUM)));
	CHECK(!(virtio_dev_features(r->d) & BIT(VIRTIO_NET_F_GUEST_CSUM)));
	CHECK(virtio_dev_features(r->d) & BIT(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(!(virtio_dev_features(r->d) & BIT(VIRTIO_NET_F_MTU)));
	tc_free(r);
}

/* A backend with an MTU (passt's 65520) offers it: VIRTIO_NET_F_MTU and
 * the configuration's mtu, which the driver starts with. */
static void test_mtu(void)
{
	struct fake_net *f = fake_net_new(false);
	struct virtio_dev *d = NULL;
	struct guest g;
	struct vdrv v;

	REQUIRE(f);
	f->be.mtu = NET_PASST_MTU;
	REQUIRE(!guest_init(&g, GUEST_RAM_BASE, RAM_SIZE));
	REQUIRE(!virtio_net_create(&g.mem, (struct irq_line){ 0 }, &f->be,
				   test_mac, 1, &d));
	vdrv_init_core(&v, d);
	CHECK(virtio_dev_features(d) & BIT(VIRTIO_NET_F_MTU));
	CHECK_EQ(vdrv_config_read(&v, 10, 2), 65520);
	CHECK_EQ(vdrv_config_read(&v, 11, 1), 0xff);
	CHECK_EQ(vdrv_config_read(&v, 8, 2), 1);
	virtio_net_destroy(d);
	net_close(&f->be);
	guest_destroy(&g);
}

static void test_tx_header(void)
{
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };
	struct tc *t = tc_new(true), *r;

	REQUIRE(t);
	h.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.hdr.gso_size = 1448;
	h.hdr.csum_start = 34;
	h.hdr.csum_offset = 16;
	h.num_buffers = 7; /* not the device's to pass on */
	tx_post(t, 0, &h, 100, 1, 3); /* header split 4+4+... */
	virtio_notify(t->d, TXQ);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 1);
	CHECK_EQ(drvq_used_len(&t->q[TXQ], 0), 0);
	REQUIRE(t->f->nr_tx == 1);
	CHECK_EQ(t->f->tx[0].len, NET_HDR_LEN + 100);
	h.num_buffers = 0;
	CHECK(!memcmp(t->f->tx[0].data, &h, NET_HDR_LEN));
	CHECK_EQ(t->f->tx[0].data[NET_HDR_LEN], (uint8_t)(1 + NET_HDR_LEN));
	tc_free(t);

	/* a raw backend gets the frame without the header */
	r = tc_new(false);
	REQUIRE(r);
	tx_post(r, 0, &plain_hdr, 60, 9, 1);
	virtio_notify(r->d, TXQ);
	virtio_net_poll(r->d);
	REQUIRE(r->f->nr_tx == 1);
	CHECK_EQ(r->f->tx[0].len, 60);
	CHECK_EQ(r->f->tx[0].data[0], (uint8_t)(9 + NET_HDR_LEN));
	tc_free(r);
}

/* Headers asking for what was not negotiated are dropped and counted. */
static void test_tx_bad_header(void)
{
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };
	struct virtio_net_stats st;
	/* the guest took neither CSUM nor host TSO */
	struct tc *t = tc_new_mask(true, ~(BIT(VIRTIO_NET_F_CSUM) |
					   BIT(VIRTIO_NET_F_HOST_TSO4) |
					   BIT(VIRTIO_NET_F_HOST_TSO6)));

	REQUIRE(t);
	h.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	tx_post(t, 0, &h, 60, 0, 1);
	h.hdr.flags = 0;
	h.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	tx_post(t, 1, &h, 60, 0, 1);
	h.hdr.gso_type = VIRTIO_NET_HDR_GSO_ECN;
	tx_post(t, 2, &h, 60, 0, 1);
	h.hdr.gso_type = 0;
	h.hdr.flags = 0x80;
	tx_post(t, 3, &h, 60, 0, 1);
	tx_post(t, 4, &plain_hdr, 60, 0, 1); /* fine */
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 5);
	CHECK_EQ(t->f->nr_tx, 1);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.tx_dropped, 4);
	CHECK_EQ(st.tx_packets, 1);
	CHECK_EQ(st.tx_bytes, 60);
	CHECK(!(vdrv_status(&t->v) & VIRTIO_CONFIG_S_NEEDS_RESET));
	tc_free(t);
}

/* Chains at every limit: too short, the longest frame and one byte more,
 * a chain of queue-size buffers, one with writable buffers after. */
static void test_tx_limits(void)
{
	struct tc *t = tc_new(true);
	struct virtio_net_stats st;
	struct drvq_buf b[QSIZE];
	unsigned int i;

	REQUIRE(t);
	tx_post(t, 0, &plain_hdr, 0, 0, 1); /* a header alone: sent */
	drvq_post_buf(&t->q[TXQ], 1, BIG_GPA, NET_HDR_LEN - 1, 0);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 2);
	CHECK_EQ(t->f->nr_tx, 1);
	CHECK_EQ(t->f->tx[0].len, NET_HDR_LEN);
	tx_post(t, 2, &plain_hdr, NET_FRAME_MAX, 3, 17);
	tx_post(t, 20, &plain_hdr, NET_FRAME_MAX + 1, 3, 1);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 4);
	REQUIRE(t->f->nr_tx == 2);
	CHECK_EQ(t->f->tx[1].len, NET_HDR_LEN + NET_FRAME_MAX);
	/* QSIZE buffers in one chain (the whole table) */
	drvq_reset(&t->q[TXQ]);
	vdrv_reset(&t->v);
	REQUIRE(vdrv_bring_up(&t->v, ~0ULL, t->q, 3) == 0);
	for (i = 0; i < QSIZE; i++)
		b[i] = (struct drvq_buf){ BIG_GPA + i, 1, false };
	memset(guest_ptr(&t->g, BIG_GPA, 16), 0, 16);
	drvq_post_chain(&t->q[TXQ], 0, b, QSIZE);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 1);
	REQUIRE(t->f->nr_tx == 3);
	CHECK_EQ(t->f->tx[2].len, QSIZE);
	/* a writable tail is ignored */
	b[0] = (struct drvq_buf){ BIG_GPA, 40, false };
	b[1] = (struct drvq_buf){ BUF(0), 40, true };
	drvq_post_chain(&t->q[TXQ], 0, b, 2);
	virtio_net_poll(t->d);
	REQUIRE(t->f->nr_tx == 4);
	CHECK_EQ(t->f->tx[3].len, 40);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.tx_dropped, 2);
	/* no room in the backend: the chain stays in the ring */
	t->f->full = true;
	tx_post(t, 5, &plain_hdr, 20, 0, 1);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 2);
	t->f->full = false;
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 3);
	CHECK_EQ(t->f->nr_tx, 5);
	/* a send error is counted, the chain completes */
	t->f->send_err = -EIO;
	tx_post(t, 6, &plain_hdr, 20, 0, 1);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 4);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.tx_errors, 1);
	tc_free(t);
}

static void make_frame(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 7 + i);
}

/* Without MRG_RXBUF: one chain per frame, num_buffers 1. */
static void test_rx_single(void)
{
	struct tc *t = tc_new_mask(false, ~BIT(VIRTIO_NET_F_MRG_RXBUF));
	uint8_t frame[1514], hdr[NET_HDR_LEN];
	struct virtio_net_stats st;

	REQUIRE(t);
	make_frame(frame, sizeof(frame), 1);
	fake_net_inject(t->f, frame, sizeof(frame));
	drvq_post_buf(&t->q[RXQ], 0, BUF(0), 2048, F_WRITE);
	guest_fill(&t->g, BUF(0), 0xee, NET_HDR_LEN);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 0), NET_HDR_LEN + sizeof(frame));
	guest_read(&t->g, BUF(0), hdr, NET_HDR_LEN);
	CHECK_EQ(hdr[0], 0); /* flags */
	CHECK_EQ(hdr[1], 0); /* gso none */
	CHECK_EQ(hdr[10] | hdr[11] << 8, 1);
	CHECK(!memcmp(guest_ptr(&t->g, BUF(0) + NET_HDR_LEN, sizeof(frame)),
		      frame, sizeof(frame)));
	/* a frame larger than the one chain posted: dropped, chain kept */
	fake_net_inject(t->f, frame, sizeof(frame));
	drvq_post_buf(&t->q[RXQ], 1, BUF(1), 100, F_WRITE);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.rx_dropped, 1);
	CHECK_EQ(st.rx_packets, 1);
	fake_net_inject(t->f, frame, 60);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 2);
	CHECK_EQ(drvq_used_len(&t->q[RXQ], 1), NET_HDR_LEN + 60);
	tc_free(t);
}

/* With MRG_RXBUF: a frame spread over chains, all used together. */
static void test_rx_mergeable(void)
{
	struct tc *t = tc_new(true);
	static uint8_t frame[NET_HDR_LEN + 5000];
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)frame;
	uint8_t got[sizeof(frame)];
	struct virtio_net_stats st;
	uint16_t i;
	size_t off = 0;

	REQUIRE(t);
	make_frame(frame, sizeof(frame), 3);
	memset(h, 0, sizeof(*h));
	h->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h->num_buffers = 99; /* the device's to set */
	fake_net_inject(t->f, frame, sizeof(frame));
	/* 3 chains of 1500 bytes: not enough, the frame waits */
	for (i = 0; i < 3; i++)
		drvq_post_buf(&t->q[RXQ], i, BUF(i), 1500, F_WRITE);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.rx_waits, 1);
	CHECK_EQ(st.rx_dropped, 0);
	/* the driver was asked to notify at its next buffer */
	CHECK_EQ(drvq_avail_event(&t->q[RXQ]), 3);
	/* a fourth (two buffers in one chain) makes room */
	drvq_post_chain(&t->q[RXQ], 3,
			(struct drvq_buf[]){ { BUF(3), 400, true },
					     { BUF(4), 1500, true } },
			2);
	virtio_net_poll(t->d);
	REQUIRE(drvq_used_idx(&t->q[RXQ]) == 4);
	for (i = 0; i < 4; i++) {
		uint32_t len = drvq_used_len(&t->q[RXQ], i);

		CHECK_EQ(drvq_used_id(&t->q[RXQ], i), i);
		if (i < 3) {
			CHECK_EQ(len, 1500);
			guest_read(&t->g, BUF(i), got + off, len);
		} else {
			CHECK_EQ(len, sizeof(frame) - 4500);
			guest_read(&t->g, BUF(3), got + off, 400);
			guest_read(&t->g, BUF(4), got + off + 400, len - 400);
		}
		off += len;
	}
	CHECK_EQ(off, sizeof(frame));
	h->num_buffers = 4;
	CHECK(!memcmp(got, frame, sizeof(frame)));
	CHECK(virtio_isr_peek(t->d) & VIRTIO_ISR_QUEUE);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.rx_packets, 1);
	CHECK_EQ(st.rx_bytes, 5000);
	tc_free(t);
}

/* Many frames, more than one turn's budget, in order. */
static void test_rx_many(void)
{
	struct tc *t = tc_new(false);
	uint8_t frame[64];
	uint16_t i;

	REQUIRE(t);
	for (i = 0; i < FAKE_NET_FRAMES; i++) {
		memset(frame, i, sizeof(frame));
		fake_net_inject(t->f, frame, sizeof(frame));
	}
	for (i = 0; i < 100; i++)
		drvq_post_buf(&t->q[RXQ], i, BUF(i), 1536, F_WRITE);
	while (virtio_net_poll(t->d))
		;
	REQUIRE(drvq_used_idx(&t->q[RXQ]) == FAKE_NET_FRAMES);
	for (i = 0; i < FAKE_NET_FRAMES; i++) {
		CHECK_EQ(drvq_used_len(&t->q[RXQ], i), NET_HDR_LEN + 64);
		CHECK_EQ(guest_get8(&t->g, BUF(i) + NET_HDR_LEN + 5), i);
		CHECK_EQ(guest_get16(&t->g, BUF(i) + 10), 1);
	}
	tc_free(t);
}

/* Send one control command; returns the ack byte (0xee: none). */
static uint8_t ctrl(struct tc *t, uint8_t cls, uint8_t cmd, const void *data,
		    uint32_t len)
{
	uint8_t *p = guest_ptr(&t->g, BUF(10), 2 + len);
	uint16_t head = (uint16_t)(t->q[t->ctrlq].avail_idx * 2 % QSIZE);

	p[0] = cls;
	p[1] = cmd;
	if (len)
		memcpy(p + 2, data, len);
	guest_put8(&t->g, BUF(11), 0xee);
	drvq_post_chain(&t->q[t->ctrlq], head,
			(struct drvq_buf[]){ { BUF(10), 2 + len, false },
					     { BUF(11), 1, true } },
			2);
	virtio_notify(t->d, t->ctrlq);
	virtio_net_poll(t->d);
	return guest_get8(&t->g, BUF(11));
}

static void test_ctrl(void)
{
	struct tc *t = tc_new(true);
	const uint8_t mac[6] = { 2, 1, 2, 3, 4, 5 };
	uint8_t table[4 + 12 + 4 + 6] = { 2, 0, 0, 0 };
	struct virtio_net_stats st;
	uint8_t on2[2] = { 1, 1 }, *on = on2;

	REQUIRE(t);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, on, 1),
		 VIRTIO_NET_OK);
	CHECK_EQ(
		ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, on, 1),
		VIRTIO_NET_OK);
	CHECK_EQ(
		ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, on, 2),
		VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, on, 1),
		 VIRTIO_NET_ERR); /* RX_EXTRA not offered */
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac,
		      6),
		 VIRTIO_NET_OK);
	CHECK_EQ(vdrv_config_read(&t->v, 0, 1), 2);
	CHECK_EQ(vdrv_config_read(&t->v, 5, 1), 5);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac,
		      5),
		 VIRTIO_NET_ERR);
	table[16] = 1; /* 2 unicast, 1 multicast */
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
		      table, sizeof(table)),
		 VIRTIO_NET_OK);
	table[16] = 2; /* claims more than it holds */
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
		      table, sizeof(table)),
		 VIRTIO_NET_ERR);
	table[0] = 0xff;
	table[3] = 0xff;
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
		      table, sizeof(table)),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK,
		      NULL, 0),
		 VIRTIO_NET_OK);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_VLAN, 0, on, 1), VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, 0, on, 2), VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, 200, 0, NULL, 0), VIRTIO_NET_ERR);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.ctrl_ok, 5);
	CHECK_EQ(st.ctrl_err, 8);
	/* a command too short, and one without an ack byte: broken */
	CHECK_EQ(ctrl(t, 0, 0, NULL, 0), VIRTIO_NET_ERR);
	drvq_post_buf(&t->q[CTRLQ], 100, BUF(10), 3, 0);
	virtio_net_poll(t->d);
	CHECK(vdrv_status(&t->v) & VIRTIO_CONFIG_S_NEEDS_RESET);
	tc_free(t);
}

static void test_ctrl_not_negotiated(void)
{
	struct tc *t = tc_new_mask(true, ~(BIT(VIRTIO_NET_F_CTRL_RX) |
					   BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
					   BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)));
	const uint8_t mac[6] = { 2, 1, 2, 3, 4, 5 };
	uint8_t on = 1;

	REQUIRE(t);
	CHECK_EQ(
		ctrl(t, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
		VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac,
		      6),
		 VIRTIO_NET_ERR);
	CHECK_EQ(vdrv_config_read(&t->v, 0, 1), test_mac[0]);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK,
		      NULL, 0),
		 VIRTIO_NET_ERR);
	tc_free(t);
}

/* mq: pairs > 1 offer MQ, the control queue moves after the pairs;
 * VQ_PAIRS_SET needs MQ, 1..max pairs, and vhost serving them */
static void test_mq(void)
{
	struct tc *t = tc_new_pairs(true, ~0ULL, 2);
	const uint8_t two[2] = { 2, 0 }, one[2] = { 1, 0 };
	const uint8_t zero[2] = { 0, 0 }, three[2] = { 3, 0 };
	struct virtio_net_stats st;
	struct virtio_dev *d;

	REQUIRE(t);
	CHECK_EQ(virtio_dev_ops(t->d)->nr_queues, 5);
	CHECK(virtio_dev_features(t->d) & BIT(VIRTIO_NET_F_MQ));
	CHECK_EQ(vdrv_config_read(&t->v, 8, 2), 2);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      zero, 2),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      three, 2),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      one, 1),
		 VIRTIO_NET_ERR);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ,
		      VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET + 1, one, 2),
		 VIRTIO_NET_ERR);
	/* no vhost serves pair 1: refused, pair 0 stays the only one */
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      two, 2),
		 VIRTIO_NET_ERR);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.pairs, 2);
	CHECK_EQ(st.pairs_on, 1);
	CHECK_EQ(st.ctrl_ok, 0);
	tc_free(t);
	/* without MQ negotiated */
	t = tc_new_pairs(true, ~BIT(VIRTIO_NET_F_MQ), 2);
	REQUIRE(t);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		      one, 2),
		 VIRTIO_NET_ERR);
	/* out of range */
	CHECK_EQ(virtio_net_create(&t->g.mem, (struct irq_line){ 0 }, &t->f->be,
				   test_mac, 0, &d),
		 -EINVAL);
	CHECK_EQ(virtio_net_create(&t->g.mem, (struct irq_line){ 0 }, &t->f->be,
				   test_mac, NET_MAX_PAIRS + 1, &d),
		 -EINVAL);
	tc_free(t);
}

static void test_link(void)
{
	struct tc *t = tc_new(true);
	struct virtio_net_stats st;
	uint8_t frame[60] = { 0 };

	REQUIRE(t);
	vdrv_isr_ack(&t->v);
	virtio_net_set_link(t->d, false);
	CHECK_EQ(vdrv_config_read(&t->v, 6, 2), 0);
	CHECK(vdrv_isr_ack(&t->v) & VIRTIO_ISR_CONFIG);
	tx_post(t, 0, &plain_hdr, 60, 0, 1);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 1);
	CHECK_EQ(t->f->nr_tx, 0);
	/* up again: announced (GUEST_ANNOUNCE), then acked */
	virtio_net_set_link(t->d, true);
	CHECK_EQ(vdrv_config_read(&t->v, 6, 2),
		 VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	CHECK(vdrv_isr_ack(&t->v) & VIRTIO_ISR_CONFIG);
	CHECK_EQ(ctrl(t, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK,
		      NULL, 0),
		 VIRTIO_NET_OK);
	CHECK_EQ(vdrv_config_read(&t->v, 6, 2), VIRTIO_NET_S_LINK_UP);
	/* the backend's peer goes away: link down, the device still works */
	t->f->dead = true;
	fake_net_inject(t->f, frame, sizeof(frame));
	drvq_post_buf(&t->q[RXQ], 0, BUF(0), 2048, F_WRITE);
	virtio_net_poll(t->d);
	CHECK_EQ(vdrv_config_read(&t->v, 6, 2), 0);
	CHECK(vdrv_isr_ack(&t->v) & VIRTIO_ISR_CONFIG);
	tx_post(t, 1, &plain_hdr, 60, 0, 1);
	virtio_net_poll(t->d);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 2);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 0);
	virtio_net_get_stats(t->d, &st);
	CHECK_EQ(st.tx_dropped, 2);
	CHECK(!(vdrv_status(&t->v) & VIRTIO_CONFIG_S_NEEDS_RESET));
	tc_free(t);
}

/* The thread: frames in and out, then a prompt stop with work pending. */
static void test_thread(void)
{
	struct tc *t = tc_new(false);
	uint8_t frame[100];
	unsigned int i;

	REQUIRE(t);
	make_frame(frame, sizeof(frame), 5);
	/* before the thread starts: the fake backend has no lock */
	fake_net_inject(t->f, frame, sizeof(frame));
	fake_net_inject(t->f, frame, sizeof(frame));
	tx_post(t, 0, &plain_hdr, 60, 0, 1);
	REQUIRE(virtio_net_start(t->d, "net-test") == 0);
	virtio_notify(t->d, TXQ);
	for (i = 0; i < 2000 && drvq_used_idx(&t->q[TXQ]) != 1; i++)
		usleep(1000);
	CHECK_EQ(drvq_used_idx(&t->q[TXQ]), 1);
	/* the first frame waits for a buffer (and the thread polls) */
	usleep(30000);
	drvq_post_buf(&t->q[RXQ], 0, BUF(0), 2048, F_WRITE);
	virtio_notify(t->d, RXQ);
	for (i = 0; i < 2000 && drvq_used_idx(&t->q[RXQ]) != 1; i++)
		usleep(1000);
	CHECK_EQ(drvq_used_idx(&t->q[RXQ]), 1);
	/* the second is staged when the thread stops */
	virtio_net_stop(t->d);
	tc_free(t);
}

/*
 * A vhost-user back end (passt) serves the rings: the device offers only
 * what it serves besides lkvm's own configuration and control queue, and
 * hands it the rings at DRIVER_OK, where the driver put them, with the
 * negotiated features the back end has; a reset takes them back.
 */
static void vhost_user_case(uint64_t be_features)
{
	struct tc *t = calloc(1, sizeof(*t));
	struct fake_vu f = { 0 };
	struct net_vhost *vh = NULL;
	struct gmem shared = { 0 };
	int kick[2], memfd, i;
	uint64_t feat, want;
	uintptr_t ring[2][3];
	char err[256];
	void *ram;

	REQUIRE(t);
	t->ctrlq = 2;
	t->f = fake_net_new(false);
	REQUIRE(t->f && !guest_init(&t->g, GUEST_RAM_BASE, RAM_SIZE));
	REQUIRE(!virtio_net_create(&t->g.mem, (struct irq_line){ 0 }, &t->f->be,
				   test_mac, 1, &t->d));
	/* the back end's view of RAM: a memfd (what it maps is not what
	 * this test checks) */
	memfd = memfd_create("test-ram", MFD_CLOEXEC);
	REQUIRE(memfd >= 0 && !ftruncate(memfd, 4096));
	ram = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	REQUIRE(ram != MAP_FAILED);
	REQUIRE(!gmem_add_shared(&shared, GUEST_RAM_BASE, 4096, ram, memfd, 0));
	REQUIRE(!fake_vu_start(&f, be_features,
			       1ULL << VU_PROTOCOL_F_REPLY_ACK));
	REQUIRE(!net_vhost_user_open(&shared, f.sock, &vh, err, sizeof(err)));
	kick[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kick[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK_EQ(virtio_net_set_vhost(t->d, &vh, kick, 1), 0);
	feat = virtio_dev_features(t->d);
	/* lkvm's own */
	want = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
	       BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
	       BIT(VIRTIO_F_VERSION_1);
	CHECK_EQ(feat & want, want);
	/* the data path's: the back end's only */
	CHECK_EQ(!!(feat & BIT(VIRTIO_NET_F_MRG_RXBUF)),
		 !!(be_features & BIT(VIRTIO_NET_F_MRG_RXBUF)));
	CHECK_EQ(!!(feat & BIT(VIRTIO_RING_F_EVENT_IDX)),
		 !!(be_features & BIT(VIRTIO_RING_F_EVENT_IDX)));
	CHECK_EQ(!!(feat & BIT(VIRTIO_RING_F_INDIRECT_DESC)),
		 !!(be_features & BIT(VIRTIO_RING_F_INDIRECT_DESC)));
	CHECK(!(feat & BIT(VIRTIO_NET_F_CSUM)));
	CHECK(!(feat & BIT(VIRTIO_NET_F_GUEST_TSO4)));
	/* the driver takes everything offered, then resets */
	vdrv_init_core(&t->v, t->d);
	for (i = 0; i <= 2; i++)
		drvq_init(&t->q[i], &t->g, QSIZE, DESC_GPA(i), AVAIL_GPA(i),
			  USED_GPA(i));
	CHECK_EQ(vdrv_bring_up(&t->v, ~0ULL, t->q, 3), 0);
	vdrv_reset(&t->v);
	for (i = 0; i < 2; i++) {
		ring[i][0] = (uintptr_t)gmem_ptr(&t->g.mem, DESC_GPA(i), 0);
		ring[i][1] = (uintptr_t)gmem_ptr(&t->g.mem, AVAIL_GPA(i), 0);
		ring[i][2] = (uintptr_t)gmem_ptr(&t->g.mem, USED_GPA(i), 0);
	}
	tc_free(t);
	net_vhost_close(vh);
	fake_vu_stop(&f);

	i = fake_vu_find(&f, VU_SET_FEATURES, 0);
	REQUIRE(i >= 0);
	{
		uint64_t v;

		memcpy(&v, f.msgs[i].payload, sizeof(v));
		/* PROTOCOL_FEATURES too: the back end needs to know */
		CHECK_EQ(v, (feat & be_features) | BIT(VU_F_PROTOCOL_FEATURES));
	}
	for (i = 0; i < 2; i++) {
		int k = fake_vu_find(&f, VU_SET_VRING_ADDR, (unsigned int)i);
		struct vu_vring_addr a;

		REQUIRE(k >= 0);
		memcpy(&a, f.msgs[k].payload, sizeof(a));
		CHECK_EQ(a.index, i);
		CHECK_EQ(a.desc, ring[i][0]);
		CHECK_EQ(a.avail, ring[i][1]);
		CHECK_EQ(a.used, ring[i][2]);
	}
	/* the control queue stays lkvm's */
	CHECK_EQ(fake_vu_find(&f, VU_SET_VRING_ADDR, 2), -1);
	/* the reset took both rings back */
	CHECK(fake_vu_find(&f, VU_GET_VRING_BASE, 1) >= 0);
	fake_vu_free(&f);
	close(kick[0]);
	close(kick[1]);
	munmap(ram, 4096);
	close(memfd);
}

static void test_vhost_user(void)
{
	vhost_user_case(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
			BIT(VU_F_PROTOCOL_FEATURES));
	vhost_user_case(BIT(VIRTIO_F_VERSION_1) | BIT(VU_F_PROTOCOL_FEATURES));
	/* a back end that claims every feature: still taken (the device
	 * then offers all it has, and nothing it lacks) */
	vhost_user_case(~0ULL);
}

UNIT_SUITE(virtio_net, UNIT_TEST(test_identity), UNIT_TEST(test_mtu),
	   UNIT_TEST(test_tx_header), UNIT_TEST(test_tx_bad_header),
	   UNIT_TEST(test_tx_limits), UNIT_TEST(test_rx_single),
	   UNIT_TEST(test_rx_mergeable), UNIT_TEST(test_rx_many),
	   UNIT_TEST(test_ctrl), UNIT_TEST(test_ctrl_not_negotiated),
	   UNIT_TEST(test_mq), UNIT_TEST(test_link), UNIT_TEST(test_thread),
	   UNIT_TEST(test_vhost_user));
