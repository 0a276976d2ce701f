// SPDX-License-Identifier: GPL-2.0-only
/*
 * One driver scenario over every transport (the core helpers, virtio-mmio,
 * virtio-pci), written once against tests/lib's vdrv; and the library's
 * own guest RAM and ring helpers, which every virtio test relies on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/virtio_config.h>
#include <linux/virtio_console.h>

#include "lkvm/compiler.h"
#include "lkvm/console.h"
#include "lkvm/virtio-devs.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define RING_GPA (GUEST_RAM_BASE + 0x10000)
#define BUF_GPA (GUEST_RAM_BASE + 0x20000)
#define QNUM 8
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)
#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_NR VIRTIO_CONFIG_S_NEEDS_RESET

static const enum vdrv_transport transports[] = { VDRV_CORE, VDRV_MMIO,
						  VDRV_PCI };

/* A device (virtio-rng, or virtio-console with con) over one transport. */
struct rig {
	struct guest g;
	struct virtio_dev *d;
	struct console *con;
	struct vdrv v;
	struct drvq q; /* queue 0 */
};

static void rig_close(struct rig *r)
{
	vdrv_close(&r->v);
	if (r->con)
		virtio_console_destroy(r->d);
	else
		virtio_rng_destroy(r->d);
	guest_destroy(&r->g);
}

/* Set r up on transport; fails the test (and says which) when it cannot. */
static bool rig_open(struct rig *r, enum vdrv_transport tr, struct console *con)
{
	*r = (struct rig){ .con = con };
	if (!CHECK_EQ(guest_init(&r->g, GUEST_RAM_BASE, GUEST_RAM_SIZE), 0))
		return false;
	if (!CHECK_EQ(con ? virtio_console_create(&r->g.mem,
						  (struct irq_line){ 0 }, con,
						  &r->d)
			  : virtio_rng_create(&r->g.mem, (struct irq_line){ 0 },
					      &r->d),
		      0)) {
		guest_destroy(&r->g);
		return false;
	}
	if (!CHECK_EQ(vdrv_open(&r->v, tr, r->d), 0)) {
		r->v = (struct vdrv){ 0 };
		rig_close(r);
		return false;
	}
	drvq_layout(&r->q, &r->g, QNUM, RING_GPA);
	return true;
}

static void say(const struct rig *r)
{
	fprintf(stderr, "    over %s\n", vdrv_name(&r->v));
}

/* Every feature offered, a two-buffer request, its interrupt. */
static void test_rng_round_trip(void)
{
	static const struct drvq_buf bufs[] = { { BUF_GPA, 40, true },
						{ BUF_GPA + 0x100, 24, true } };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(transports); i++) {
		uint32_t id = 0, len = 0;
		struct rig r;
		bool ok;

		if (!rig_open(&r, transports[i], NULL))
			return;
		ok = CHECK_EQ(vdrv_bring_up(&r.v, ~0ULL, &r.q, 1), 0) &&
		     CHECK_EQ(virtio_dev_driver_features(r.d),
			      vdrv_device_features(&r.v)) &&
		     CHECK(virtio_dev_live(r.d));
		drvq_post_chain(&r.q, 3, bufs, ARRAY_SIZE(bufs));
		CHECK_EQ(drvq_used_idx(&r.q), 0);
		vdrv_notify(&r.v, 0);
		ok = CHECK(drvq_pop_used(&r.q, &id, &len)) && ok;
		ok = CHECK_EQ(id, 3) && CHECK_EQ(len, 64) && ok;
		ok = CHECK(!drvq_pop_used(&r.q, NULL, NULL)) && ok;
		if (transports[i] == VDRV_PCI)
			ok = CHECK_EQ(r.v.intx, 1) && ok;
		ok = CHECK_EQ(vdrv_isr_ack(&r.v), VIRTIO_ISR_QUEUE) && ok;
		ok = CHECK_EQ(vdrv_isr_ack(&r.v), 0) && ok;
		ok = CHECK_EQ(r.v.intx, 0) && ok;
		if (!ok)
			say(&r);
		rig_close(&r);
	}
}

/* FEATURES_OK refused without VERSION_1; DRIVER_OK cannot follow. */
static void test_features_refused(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(transports); i++) {
		struct rig r;
		bool ok;

		if (!rig_open(&r, transports[i], NULL))
			return;
		ok = CHECK_EQ(vdrv_negotiate(&r.v, 0), -EIO) &&
		     CHECK_EQ(vdrv_status(&r.v), S_ACK | S_DRV) &&
		     CHECK_EQ(vdrv_driver_ok(&r.v), -EIO) &&
		     CHECK(!virtio_dev_live(r.d));
		vdrv_reset(&r.v);
		ok = CHECK_EQ(vdrv_status(&r.v), 0) && ok;
		ok = CHECK_EQ(vdrv_bring_up(&r.v, F_V1, &r.q, 1), 0) && ok;
		ok = CHECK_EQ(virtio_dev_driver_features(r.d), F_V1) && ok;
		if (!ok)
			say(&r);
		rig_close(&r);
	}
}

/* A queue size that is no power of two: refused, NEEDS_RESET, no
 * interrupt before DRIVER_OK; a reset recovers. */
static void test_queue_refused(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(transports); i++) {
		struct rig r;
		bool ok;

		if (!rig_open(&r, transports[i], NULL))
			return;
		ok = CHECK_EQ(vdrv_negotiate(&r.v, F_V1), 0) &&
		     CHECK_EQ(vdrv_queue_setup(&r.v, 0, 3, r.q.desc, r.q.avail,
					       r.q.used),
			      0) &&
		     CHECK(vdrv_status(&r.v) & S_NR) &&
		     CHECK_EQ(vdrv_isr_ack(&r.v), 0);
		vdrv_reset(&r.v);
		ok = CHECK_EQ(vdrv_status(&r.v), 0) && ok;
		ok = CHECK_EQ(vdrv_bring_up(&r.v, F_V1, &r.q, 1), 0) && ok;
		if (!ok)
			say(&r);
		rig_close(&r);
	}
}

/* A head out of range breaks the device: NEEDS_RESET and a configuration
 * interrupt; after a reset the same rings serve again. */
static void test_malformed_then_reset(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(transports); i++) {
		struct rig r;
		bool ok;

		if (!rig_open(&r, transports[i], NULL))
			return;
		ok = CHECK_EQ(vdrv_bring_up(&r.v, F_V1, &r.q, 1), 0);
		drvq_avail(&r.q, QNUM); /* head >= num */
		vdrv_notify(&r.v, 0);
		ok = CHECK_EQ(drvq_used_idx(&r.q), 0) && ok;
		ok = CHECK(vdrv_status(&r.v) & S_NR) && ok;
		ok = CHECK(!virtio_dev_live(r.d)) && ok;
		ok = CHECK(vdrv_isr_ack(&r.v) & VIRTIO_ISR_CONFIG) && ok;
		vdrv_reset(&r.v);
		ok = CHECK_EQ(vdrv_bring_up(&r.v, F_V1, &r.q, 1), 0) && ok;
		drvq_post_buf(&r.q, 0, BUF_GPA, 16, VRING_DESC_F_WRITE);
		vdrv_notify(&r.v, 0);
		ok = CHECK_EQ(drvq_used_idx(&r.q), 1) && ok;
		ok = CHECK_EQ(drvq_used_len(&r.q, 0), 16) && ok;
		if (!ok)
			say(&r);
		rig_close(&r);
	}
}

/* The device configuration (virtio-console's) reads alike everywhere. */
static void test_config_read(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(transports); i++) {
		struct console con;
		struct rig r;
		bool ok;

		console_init(&con, -1);
		if (!rig_open(&r, transports[i], &con)) {
			console_destroy(&con);
			return;
		}
		ok = CHECK_EQ(vdrv_config_read(&r.v, 0, 2), 0) && /* cols */
		     CHECK_EQ(vdrv_config_read(&r.v, 4, 4), 1) && /* ports */
		     CHECK_EQ(vdrv_config_read(&r.v, 0, 8), 0x100000000ULL) &&
		     CHECK_EQ(vdrv_config_read(&r.v, 10, 4), 0) && /* crosses */
		     CHECK_EQ(vdrv_config_read(
				      &r.v,
				      sizeof(struct virtio_console_config), 1),
			      0);
		if (!ok)
			say(&r);
		rig_close(&r);
		console_destroy(&con);
	}
}

/* tests/lib itself */

static void test_guest_ram(void)
{
	static const uint8_t le[] = { 0x08, 0x07, 0x06, 0x05,
				      0x04, 0x03, 0x02, 0x01 };
	struct guest g;
	uint8_t *p;

	REQUIRE(CHECK_EQ(guest_init(&g, GUEST_RAM_BASE, 0x2000), 0));
	REQUIRE(CHECK_EQ(guest_add_ram(&g, 0x1000, 0x1000), 0));
	CHECK_EQ(guest_add_ram(&g, GUEST_RAM_BASE + 0x1000, 0x10), -EINVAL);
	CHECK(g.ram == g.mem.r[0].host);
	CHECK_EQ(g.base, GUEST_RAM_BASE);
	CHECK_EQ(g.size, 0x2000);
	CHECK(guest_valid(&g, GUEST_RAM_BASE, 0x2000));
	CHECK(!guest_valid(&g, GUEST_RAM_BASE + 1, 0x2000));
	CHECK(!guest_valid(&g, GUEST_RAM_BASE - 1, 2));
	CHECK(guest_valid(&g, 0x1fff, 1));
	CHECK(!guest_valid(&g, 0x1fff, 2)); /* past the region's end */
	CHECK(!guest_valid(&g, UINT64_MAX, 2));
	/* little-endian, at any alignment */
	guest_put64(&g, GUEST_RAM_BASE + 3, 0x0102030405060708ULL);
	CHECK(!memcmp(guest_ptr(&g, GUEST_RAM_BASE + 3, 8), le, 8));
	CHECK_EQ(guest_get32(&g, GUEST_RAM_BASE + 3), 0x05060708);
	CHECK_EQ(guest_get16(&g, GUEST_RAM_BASE + 9), 0x0102);
	CHECK_EQ(guest_get8(&g, GUEST_RAM_BASE + 10), 0x01);
	guest_put16(&g, 0x1000, 0xa1b2);
	guest_put32(&g, 0x1ffc, 0xdeadbeef);
	CHECK_EQ(guest_get8(&g, 0x1000), 0xb2);
	CHECK_EQ(guest_load16_acquire(&g, 0x1000), 0xa1b2);
	guest_store16_release(&g, 0x1ffe, 0x1234);
	CHECK_EQ(guest_get32(&g, 0x1ffc), 0x1234beef);
	/* a fill stays inside its range */
	guest_fill(&g, GUEST_RAM_BASE + 4, 0xee, 2);
	CHECK_EQ(guest_get32(&g, GUEST_RAM_BASE + 3), 0x05eeee08);
	/* host addresses map back to exactly one region */
	p = guest_ptr(&g, GUEST_RAM_BASE + 0x1ff0, 0x10);
	CHECK(guest_owns(&g, p, 0x10));
	CHECK(!guest_owns(&g, p, 0x11));
	CHECK(guest_owns(&g, guest_ptr(&g, 0x1000, 0), 0x1000));
	CHECK(!guest_owns(&g, le, 1));
	guest_clear(&g);
	CHECK_EQ(guest_get64(&g, GUEST_RAM_BASE + 3), 0);
	CHECK_EQ(guest_get32(&g, 0x1ffc), 0);
	guest_destroy(&g);
	CHECK_EQ(g.mem.nr, 0);
}

static void test_drvq_rings(void)
{
	static const struct drvq_buf bufs[] = { { 0x100, 1, false },
						{ 0x200, 2, false },
						{ 0x300, 3, true } };
	struct vring_desc d;
	struct guest g;
	struct drvq q;
	uint32_t id, len;

	REQUIRE(CHECK_EQ(guest_init(&g, GUEST_RAM_BASE, 0x10000), 0));
	/* packed: 16-aligned table, avail after it, used 4-aligned */
	CHECK_EQ(drvq_layout(&q, &g, 4, GUEST_RAM_BASE + 1),
		 GUEST_RAM_BASE + 0x90);
	CHECK_EQ(q.desc, GUEST_RAM_BASE + 0x10);
	CHECK_EQ(q.avail, GUEST_RAM_BASE + 0x50);
	CHECK_EQ(q.used, GUEST_RAM_BASE + 0x60);
	CHECK_EQ(drvq_used_event_gpa(&q), q.avail + 12);
	CHECK_EQ(drvq_avail_event_gpa(&q), q.used + 36);
	/* a chain wraps round the table; only the last has no NEXT */
	CHECK_EQ(drvq_post_chain(&q, 3, bufs, 3), 3);
	d = drvq_get_desc(&q, 3);
	CHECK(d.addr == 0x100 && d.len == 1 && d.next == 0);
	CHECK_EQ(d.flags, VRING_DESC_F_NEXT);
	d = drvq_get_desc(&q, 0);
	CHECK(d.addr == 0x200 && d.next == 1);
	d = drvq_get_desc(&q, 1);
	CHECK(d.addr == 0x300 && d.len == 3 && d.next == 0);
	CHECK_EQ(d.flags, VRING_DESC_F_WRITE);
	CHECK_EQ(guest_get16(&g, q.avail + 2), 1);
	CHECK_EQ(guest_get16(&g, q.avail + 4), 3);
	/* added entries are published together */
	drvq_add_avail(&q, 2);
	drvq_add_avail(&q, 1);
	CHECK_EQ(guest_get16(&g, q.avail + 2), 1);
	drvq_publish(&q);
	CHECK_EQ(guest_get16(&g, q.avail + 2), 3);
	CHECK_EQ(guest_get16(&g, q.avail + 8), 1);
	drvq_set_avail_idx(&q, 0xffff);
	drvq_avail(&q, 7);
	CHECK_EQ(guest_get16(&g, q.avail + 4 + 2 * 3), 7);
	CHECK_EQ(guest_get16(&g, q.avail + 2), 0);
	/* the used ring, as a device writes it */
	guest_put32(&g, q.used + 4 + 8 * 1, 9);
	guest_put32(&g, q.used + 8 + 8 * 1, 77);
	guest_put16(&g, q.used + 2, 2);
	CHECK_EQ(drvq_used_idx(&q), 2);
	CHECK_EQ(drvq_used_id(&q, 5), 9); /* index 5 is slot 1 */
	CHECK(drvq_pop_used(&q, &id, &len));
	CHECK(drvq_pop_used(&q, &id, &len));
	CHECK(id == 9 && len == 77);
	CHECK(!drvq_pop_used(&q, &id, &len));
	drvq_set_avail_flags(&q, VRING_AVAIL_F_NO_INTERRUPT);
	drvq_set_used_event(&q, 0x4242);
	guest_put16(&g, drvq_avail_event_gpa(&q), 0x2424);
	CHECK_EQ(guest_get16(&g, q.avail), VRING_AVAIL_F_NO_INTERRUPT);
	CHECK_EQ(guest_get16(&g, drvq_used_event_gpa(&q)), 0x4242);
	CHECK_EQ(drvq_avail_event(&q), 0x2424);
	/* fresh rings: both indexes and the rings back to zero */
	drvq_reset(&q);
	CHECK(q.avail_idx == 0 && q.used_seen == 0);
	CHECK_EQ(guest_get16(&g, q.avail + 2), 0);
	CHECK_EQ(guest_get16(&g, drvq_used_event_gpa(&q)), 0);
	CHECK_EQ(drvq_used_idx(&q), 0);
	CHECK_EQ(drvq_avail_event(&q), 0);
	CHECK_EQ(drvq_get_desc(&q, 3).addr, 0x100); /* descriptors stay */
	guest_destroy(&g);
}

UNIT_SUITE(transports, UNIT_TEST(test_rng_round_trip),
	   UNIT_TEST(test_features_refused), UNIT_TEST(test_queue_refused),
	   UNIT_TEST(test_malformed_then_reset), UNIT_TEST(test_config_read),
	   UNIT_TEST(test_guest_ram), UNIT_TEST(test_drvq_rings));
