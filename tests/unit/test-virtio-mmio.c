// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/core.c and virtio/mmio.c, driven like a guest. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "lkvm/compiler.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define DESC_GPA (GUEST_RAM_BASE + 0x10000)
#define AVAIL_GPA (GUEST_RAM_BASE + 0x14000)
#define USED_GPA (GUEST_RAM_BASE + 0x15000)
#define BUF_GPA (GUEST_RAM_BASE + 0x20000)
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK
#define S_NR VIRTIO_CONFIG_S_NEEDS_RESET

/* The fake device: two queues of at most 16, 8 bytes of configuration. */
#define FAKE_ID 0x42
#define FAKE_QMAX 16

struct fake {
	uint8_t cfg[8];
	unsigned int notifies, last_q, resets;
};

/* An interrupt controller input that records what the device did. */
struct fake_irq {
	int level;
	unsigned int raises, lowers;
};

struct tv {
	struct guest g;
	struct virtio_dev *d;
	struct vdrv v; /* the driver, over virtio-mmio */
	struct drvq q; /* queue 0's rings, once brought up */
	bool rng;
	struct fake fake;
	struct fake_irq irq;
};

static uint64_t fake_config_read(struct virtio_dev *d, uint32_t off,
				 unsigned int size)
{
	struct fake *f = virtio_dev_priv(d);
	uint64_t v = 0;

	memcpy(&v, f->cfg + off, size);
	return v;
}

static void fake_config_write(struct virtio_dev *d, uint32_t off,
			      unsigned int size, uint64_t value)
{
	struct fake *f = virtio_dev_priv(d);

	memcpy(f->cfg + off, &value, size);
}

static bool fake_notify(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	struct fake *f = virtio_dev_priv(d);

	(void)budget;
	f->notifies++;
	f->last_q = q;
	return false;
}

static void fake_reset(struct virtio_dev *d)
{
	struct fake *f = virtio_dev_priv(d);

	f->resets++;
}

static const struct virtio_dev_ops fake_ops = {
	.name = "fake",
	.device_id = FAKE_ID,
	.nr_queues = 2,
	.queue_max = FAKE_QMAX,
	.config_size = sizeof(((struct fake *)0)->cfg),
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.notify = fake_notify,
	.reset = fake_reset,
};

static void irq_set(void *ctrl, unsigned int irq, int level)
{
	struct fake_irq *f = ctrl;

	(void)irq;
	if (level)
		f->raises++;
	else
		f->lowers++;
	f->level = level;
}

static struct tv *tv_new(bool rng)
{
	struct tv *t = calloc(1, sizeof(*t));
	struct irq_line irq;

	if (!t)
		return NULL;
	irq = (struct irq_line){ .set = irq_set, .ctrl = &t->irq, .irq = 7 };
	t->rng = rng;
	if (guest_init(&t->g, GUEST_RAM_BASE, GUEST_RAM_SIZE))
		goto fail;
	if (rng ? !virtio_rng_create(&t->g.mem, irq, &t->d)
		: !virtio_dev_new(&fake_ops, &t->fake, &t->g.mem, 0, irq,
				  &t->d)) {
		vdrv_init_mmio(&t->v, t->d);
		return t;
	}
fail:
	guest_destroy(&t->g);
	free(t);
	return NULL;
}

static void tv_free(struct tv *t)
{
	if (t->rng) {
		virtio_rng_destroy(t->d);
	} else {
		virtio_dev_free(t->d);
	}
	guest_destroy(&t->g);
	free(t);
}

static uint32_t rd(struct tv *t, uint64_t off)
{
	return (uint32_t)virtio_mmio_ops.read(t->d, off, 4);
}

static void wr(struct tv *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t->d, off, 4, v);
}

/* A driver's whole bring-up of queue 0 (num entries) with VERSION_1 only. */
static bool bring_up(struct tv *t, uint16_t num)
{
	drvq_init(&t->q, &t->g, num, DESC_GPA, AVAIL_GPA, USED_GPA);
	return CHECK_EQ(vdrv_bring_up(&t->v, F_V1, &t->q, 1), 0);
}

static void test_ids(void)
{
	struct tv *t = tv_new(true), *f = tv_new(false);

	REQUIRE(t && f);
	CHECK_EQ(rd(t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CHECK_EQ(rd(t, VIRTIO_MMIO_VERSION), 2);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	CHECK_EQ(rd(t, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	CHECK_EQ(rd(f, VIRTIO_MMIO_DEVICE_ID), FAKE_ID);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	CHECK_EQ(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), FAKE_QMAX);
	/* no shared memory regions: length reads as -1 (4.2.2) */
	CHECK_EQ(rd(t, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	CHECK_EQ(rd(t, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
	/* write-only and unimplemented registers read 0 */
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_ACK), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_PFN), 0);
	CHECK_EQ(rd(t, 0xf0), 0);
	tv_free(t);
	tv_free(f);
}

static void test_access_size(void)
{
	struct tv *t = tv_new(false);
	static const unsigned int sizes[] = { 1, 2, 8 };
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned int s = sizes[i];

		CHECK_EQ(virtio_mmio_ops.read(t->d, VIRTIO_MMIO_MAGIC_VALUE, s),
			 0);
		CHECK_EQ(virtio_mmio_ops.read(t->d, VIRTIO_MMIO_VERSION, s), 0);
		CHECK_EQ(virtio_mmio_ops.read(t->d, VIRTIO_MMIO_QUEUE_NUM_MAX,
					      s),
			 0);
		virtio_mmio_ops.write(t->d, VIRTIO_MMIO_STATUS, s, S_ACK);
		virtio_mmio_ops.write(t->d, VIRTIO_MMIO_QUEUE_SEL, s, 5);
		virtio_mmio_ops.write(t->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, s,
				      1);
	}
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(virtio_get_queue_sel(t->d), 0);
	CHECK_EQ(virtio_get_dev_features_sel(t->d), 0);
	/* unaligned offsets inside a register */
	CHECK_EQ(rd(t, VIRTIO_MMIO_MAGIC_VALUE + 1), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_VERSION + 2), 0);
	wr(t, VIRTIO_MMIO_STATUS + 1, S_ACK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	tv_free(t);
}

static void test_features_select(void)
{
	struct tv *t = tv_new(true);
	uint32_t lo;

	REQUIRE(t);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	CHECK(lo & 1u << VIRTIO_RING_F_INDIRECT_DESC);
	CHECK(lo & 1u << VIRTIO_RING_F_EVENT_IDX);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_FEATURES),
		 1u << (VIRTIO_F_VERSION_1 - 32));
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_DEVICE_FEATURES), lo);
	/* a driver feature word out of range is ignored */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	CHECK_EQ(virtio_dev_driver_features(t->d), 0);
	tv_free(t);
}

static void test_driver_features(void)
{
	struct tv *t = tv_new(true);
	uint64_t ev = 1ULL << VIRTIO_RING_F_EVENT_IDX;

	REQUIRE(t);
	vdrv_negotiate(&t->v, ev | F_V1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	CHECK_EQ(virtio_dev_driver_features(t->d),
		 ev | 1ULL << VIRTIO_F_VERSION_1);
	/* fixed once FEATURES_OK is set */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	CHECK_EQ(virtio_dev_driver_features(t->d),
		 ev | 1ULL << VIRTIO_F_VERSION_1);
	/* a later write replaces the word before FEATURES_OK */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)ev);
	CHECK_EQ(virtio_dev_driver_features(t->d), ev);
	tv_free(t);
}

static void test_features_ok_refused(void)
{
	static const struct {
		uint32_t lo, hi;
	} bad[] = {
		{ 0, 0 }, /* no VERSION_1 */
		{ 1u << VIRTIO_RING_F_EVENT_IDX, 0 },
		{ 1, 1 }, /* bit 0 not offered by virtio-rng */
		{ 0, 1 | 1u << (VIRTIO_F_ACCESS_PLATFORM - 32) },
		{ 0, 0x80000001 },
	};
	struct tv *t = tv_new(true);
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		wr(t, VIRTIO_MMIO_STATUS, 0);
		vdrv_negotiate(&t->v, (uint64_t)bad[i].hi << 32 | bad[i].lo);
		if (!CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV))
			fprintf(stderr, "    case %u\n", i);
		/* and DRIVER_OK cannot follow */
		wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
		CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	}
	/* fixing the features lets FEATURES_OK through */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	tv_free(t);
}

static void test_driver_ok_needs_features_ok(void)
{
	struct tv *t = tv_new(true);

	REQUIRE(t);
	wr(t, VIRTIO_MMIO_STATUS, S_DOK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_DOK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
	CHECK(!virtio_dev_live(t->d));
	/* both in one write, features acceptable: allowed */
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK(virtio_dev_live(t->d));
	tv_free(t);
}

static void test_status_no_clear(void)
{
	struct tv *t = tv_new(false);

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	/* the driver cannot set NEEDS_RESET itself; FAILED it may */
	wr(t, VIRTIO_MMIO_STATUS, S_NR);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS),
		 S_ACK | S_DRV | S_FOK | VIRTIO_CONFIG_S_FAILED);
	/* bits above the low byte are not status bits */
	wr(t, VIRTIO_MMIO_STATUS, 0x100);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS),
		 S_ACK | S_DRV | S_FOK | VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(t->fake.resets, 0);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(t->fake.resets, 1);
	tv_free(t);
}

static void test_queue_sel_range(void)
{
	static const uint32_t sels[] = { 2, 8, 9, 0xffffffff };
	struct tv *t = tv_new(false);
	unsigned int i;

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), FAKE_QMAX);
	for (i = 0; i < ARRAY_SIZE(sels); i++) {
		CHECK_EQ(vdrv_queue_setup(&t->v, sels[i], 8, DESC_GPA,
					  AVAIL_GPA, USED_GPA),
			 0);
		CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
		CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW), 0);
		CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_USED_HIGH), 0);
	}
	/* ignored, not an error: no NEEDS_RESET, nothing stored */
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		CHECK(!virtio_queue_copy(t->d, i).ready);
		virtio_set_queue_sel(t->d, i);
		CHECK_EQ(virtio_get_queue_num(t->d),
			 i < fake_ops.nr_queues ? FAKE_QMAX : 0);
		CHECK_EQ(virtio_get_queue_addr(t->d, 0, false), 0);
	}
	tv_free(t);
}

/* An invalid set-up refuses QueueReady and sets DEVICE_NEEDS_RESET. */
static bool setup_refused(struct tv *t, uint32_t num, uint64_t desc,
			  uint64_t avail, uint64_t used)
{
	uint32_t gen;
	bool ok;

	wr(t, VIRTIO_MMIO_STATUS, 0);
	vdrv_negotiate(&t->v, F_V1);
	gen = rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
	ok = CHECK_EQ(vdrv_queue_setup(&t->v, 0, num, desc, avail, used), 0) &&
	     CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS),
		      S_ACK | S_DRV | S_FOK | S_NR) &&
	     CHECK(!virtio_queue_copy(t->d, 0).ready) &&
	     CHECK(rd(t, VIRTIO_MMIO_CONFIG_GENERATION) != gen) &&
	     /* not yet DRIVER_OK: no interrupt */
	     CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0) &&
	     CHECK_EQ(t->irq.level, 0);
	if (!ok)
		fprintf(stderr, "    num %u rings 0x%llx 0x%llx 0x%llx\n", num,
			(unsigned long long)desc, (unsigned long long)avail,
			(unsigned long long)used);
	return ok;
}

static void test_queue_bad_num(void)
{
	static const uint32_t nums[] = { 0, 3, 12, 32, 1024, 0x10000, 0x10008 };
	struct tv *t = tv_new(false);
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < ARRAY_SIZE(nums); i++)
		setup_refused(t, nums[i], DESC_GPA, AVAIL_GPA, USED_GPA);
	tv_free(t);
}

static void test_queue_bad_rings(void)
{
	static const struct {
		uint64_t desc, avail, used;
	} bad[] = {
		{ 0, AVAIL_GPA, USED_GPA }, /* below RAM */
		{ DESC_GPA, 0x1000, USED_GPA },
		{ DESC_GPA, AVAIL_GPA, GUEST_RAM_END },
		{ DESC_GPA | 1ULL << 32, AVAIL_GPA, USED_GPA },
		{ DESC_GPA, AVAIL_GPA, USED_GPA | 0xffffffffULL << 32 },
		{ GUEST_RAM_END - 16 * 8 + 16, AVAIL_GPA,
		  USED_GPA }, /* straddles */
		{ DESC_GPA + 8, AVAIL_GPA, USED_GPA }, /* misaligned */
		{ DESC_GPA, AVAIL_GPA + 1, USED_GPA },
		{ DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
	};
	struct tv *t = tv_new(false);
	unsigned int i;

	REQUIRE(t);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		setup_refused(t, 8, bad[i].desc, bad[i].avail, bad[i].used);
	tv_free(t);
}

static void test_needs_reset_after_driver_ok(void)
{
	struct tv *t = tv_new(false);

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	CHECK_EQ(vdrv_queue_setup(&t->v, 1, 5, DESC_GPA, AVAIL_GPA, USED_GPA),
		 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS),
		 S_ACK | S_DRV | S_FOK | S_DOK | S_NR);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.level, 1);
	CHECK(!virtio_dev_live(t->d));
	/* a broken device takes no notifications */
	CHECK_EQ(vdrv_queue_setup(&t->v, 0, 8, DESC_GPA, AVAIL_GPA, USED_GPA),
		 1);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(t->fake.notifies, 0);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(t->irq.level, 0);
	/* still broken until reset */
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & S_NR);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	tv_free(t);
}

static void test_queue_ok(void)
{
	struct tv *t = tv_new(false);
	uint64_t used_hi = GUEST_RAM_END - (8 + 8 * FAKE_QMAX);

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	CHECK_EQ(vdrv_queue_setup(&t->v, 0, 1, DESC_GPA, AVAIL_GPA, USED_GPA),
		 1);
	CHECK_EQ(vdrv_queue_setup(&t->v, 1, FAKE_QMAX, GUEST_RAM_BASE,
				  AVAIL_GPA, used_hi),
		 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)GUEST_RAM_BASE);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW), (uint32_t)AVAIL_GPA);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_USED_LOW), (uint32_t)used_hi);
	CHECK(virtio_queue_copy(t->d, 1).ready);
	CHECK_EQ(virtio_queue_copy(t->d, 1).num, FAKE_QMAX);
	CHECK(virtio_queue_copy(t->d, 1).used == guest_ptr(&t->g, used_hi, 0));
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(virtio_queue_copy(t->d, 0).num, 1);
	/* high words are kept */
	wr(t, VIRTIO_MMIO_QUEUE_READY, 0);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x12345678);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0x12345678);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)DESC_GPA);
	tv_free(t);
}

static void test_queue_locked_while_ready(void)
{
	struct tv *t = tv_new(false);

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	REQUIRE(vdrv_queue_setup(&t->v, 0, 8, DESC_GPA, AVAIL_GPA, USED_GPA) ==
		1);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, 4);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 1);
	wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x1000);
	wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, 0x2000);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)DESC_GPA);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_HIGH), DESC_GPA >> 32);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW), (uint32_t)AVAIL_GPA);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_USED_LOW), (uint32_t)USED_GPA);
	CHECK_EQ(virtio_get_queue_num(t->d), 8);
	/* QueueReady=1 again changes nothing */
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(virtio_queue_copy(t->d, 0).num, 8);
	/* after QueueReady=0 the registers are writable again */
	wr(t, VIRTIO_MMIO_QUEUE_READY, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK(!virtio_queue_copy(t->d, 0).ready);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, 4);
	CHECK_EQ(virtio_get_queue_num(t->d), 4);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 1);
	CHECK_EQ(virtio_queue_copy(t->d, 0).num, 4);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
	tv_free(t);
}

/* Post one writable buffer of len bytes and notify queue 0. */
static void rng_request(struct tv *t, uint16_t head, uint32_t len)
{
	drvq_post_buf(&t->q, head, BUF_GPA + 0x1000ULL * head, len,
		      VRING_DESC_F_WRITE);
	vdrv_notify(&t->v, 0);
}

static void test_reset(void)
{
	struct tv *t = tv_new(true);
	unsigned int q;

	REQUIRE(t);
	REQUIRE(bring_up(t, 8));
	rng_request(t, 0, 16);
	REQUIRE(CHECK_EQ(t->irq.level, 1));
	wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(t->irq.level, 0);
	CHECK_EQ(t->irq.lowers, 1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_DESC_HIGH), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW), 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_QUEUE_USED_LOW), 0);
	CHECK_EQ(virtio_dev_driver_features(t->d), 0);
	CHECK_EQ(virtio_get_dev_features_sel(t->d), 0);
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		CHECK(!virtio_queue_copy(t->d, q).ready);
		virtio_set_queue_sel(t->d, q);
		/* size unwritten: reads as the maximum (0 for no queue) */
		CHECK_EQ(virtio_get_queue_num(t->d),
			 q < virtio_dev_ops(t->d)->nr_queues
				 ? virtio_dev_ops(t->d)->queue_max
				 : 0);
	}
	CHECK(!virtio_dev_live(t->d));
	/* a notification after reset does nothing */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* a second reset keeps the line low without toggling it */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(t->irq.lowers, 1);
	/* and the device comes back up, on fresh rings */
	REQUIRE(bring_up(t, 8));
	rng_request(t, 0, 16);
	CHECK_EQ(drvq_used_idx(&t->q), 1);
	tv_free(t);
}

static void test_interrupt_ack(void)
{
	struct tv *t = tv_new(true);

	REQUIRE(t);
	REQUIRE(bring_up(t, 8));
	CHECK_EQ(t->irq.raises, 0);
	rng_request(t, 0, 32);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 1);
	CHECK_EQ(t->irq.raises, 1);
	/* reading does not clear on mmio */
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	/* a second completion while pending does not re-raise */
	rng_request(t, 1, 32);
	CHECK_EQ(t->irq.raises, 1);
	/* acknowledging another bit keeps the line up */
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.level, 1);
	virtio_mmio_ops.write(t->d, VIRTIO_MMIO_INTERRUPT_ACK, 2,
			      VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 1);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(t->irq.level, 0);
	CHECK_EQ(t->irq.lowers, 1);
	/* both bits, acked in one write */
	virtio_dev_config_changed(t->d);
	rng_request(t, 2, 32);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.raises, 2);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	CHECK_EQ(t->irq.level, 0);
	/* the driver asked for no interrupts */
	drvq_set_avail_flags(&t->q, VRING_AVAIL_F_NO_INTERRUPT);
	rng_request(t, 3, 32);
	CHECK_EQ(drvq_used_idx(&t->q), 4);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	CHECK_EQ(t->irq.level, 0);
	tv_free(t);
}

/* vhost on an irqfd raises the line itself (and KVM never lowers it):
 * InterruptStatus shows the used-buffer bit always, and each acknowledge
 * lowers the line unless a bit of lkvm's own is still pending */
static void test_isr_hint(void)
{
	struct tv *t = tv_new(true);

	REQUIRE(t);
	REQUIRE(bring_up(t, 8));
	virtio_dev_set_isr_hint(t->d, VIRTIO_ISR_QUEUE);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 0);
	CHECK_EQ(t->irq.raises, 0);
	/* the other party raised it: the guest's acknowledge lowers it */
	t->irq.level = 1;
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 0);
	CHECK_EQ(t->irq.lowers, 1);
	CHECK_EQ(t->irq.raises, 0);
	/* a configuration change still drives the line; acknowledging the
	 * used-buffer bit alone leaves it up, the configuration bit lowers */
	virtio_dev_config_changed(t->d);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS),
		 VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.level, 1);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 1);
	CHECK_EQ(t->irq.lowers, 1);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.level, 0);
	/* a reset lowers it too */
	t->irq.level = 1;
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(t->irq.level, 0);
	/* without a hint, an acknowledge with nothing pending is no event */
	virtio_dev_set_isr_hint(t->d, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	t->irq.level = 1;
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 1);
	tv_free(t);
}

static void test_notify_invalid(void)
{
	struct tv *t = tv_new(false);

	REQUIRE(t);
	vdrv_negotiate(&t->v, F_V1);
	REQUIRE(vdrv_queue_setup(&t->v, 0, 8, DESC_GPA, AVAIL_GPA, USED_GPA) ==
		1);
	/* not yet DRIVER_OK */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(t->fake.notifies, 0);
	wr(t, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	/* queue 1 exists but is not ready; 2 and up do not exist */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MAX_QUEUES);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	virtio_mmio_ops.write(t->d, VIRTIO_MMIO_QUEUE_NOTIFY, 1, 0);
	CHECK_EQ(t->fake.notifies, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(t->fake.notifies, 1);
	CHECK_EQ(t->fake.last_q, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
	tv_free(t);
}

static void test_config_space(void)
{
	struct tv *t = tv_new(false), *r = tv_new(true);
	static const uint8_t cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const struct mmio_ops *o = &virtio_mmio_ops;

	REQUIRE(t && r);
	memcpy(t->fake.cfg, cfg, sizeof(cfg));
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG, 1), 1);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 7, 1), 8);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 2, 2), 0x0403);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 4, 4), 0x08070605);
	CHECK(o->read(t->d, VIRTIO_MMIO_CONFIG, 8) == 0x0807060504030201ULL);
	/* beyond or crossing the end */
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 8, 1), 0);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 6, 4), 0);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_CONFIG + 4, 8), 0);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_REGION_SIZE - 8, 8), 0);
	CHECK_EQ(o->read(t->d, VIRTIO_MMIO_REGION_SIZE - 1, 1), 0);
	/* writes inside land, outside do not */
	o->write(t->d, VIRTIO_MMIO_CONFIG + 1, 2, 0xaabb);
	CHECK_EQ(t->fake.cfg[1], 0xbb);
	CHECK_EQ(t->fake.cfg[2], 0xaa);
	o->write(t->d, VIRTIO_MMIO_CONFIG + 6, 4, 0xffffffff);
	o->write(t->d, VIRTIO_MMIO_CONFIG + 8, 8, ~0ULL);
	CHECK_EQ(t->fake.cfg[6], 7);
	CHECK_EQ(t->fake.cfg[7], 8);
	/* no configuration at all */
	CHECK_EQ(o->read(r->d, VIRTIO_MMIO_CONFIG, 1), 0);
	CHECK_EQ(o->read(r->d, VIRTIO_MMIO_CONFIG, 4), 0);
	o->write(r->d, VIRTIO_MMIO_CONFIG, 4, 1);
	tv_free(t);
	tv_free(r);
}

static void test_config_generation(void)
{
	struct tv *t = tv_new(false);
	uint32_t gen;

	REQUIRE(t);
	gen = rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
	vdrv_negotiate(&t->v, F_V1);
	CHECK_EQ(rd(t, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	/* a refused queue set-up sets NEEDS_RESET: a configuration change */
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, 3);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & S_NR);
	CHECK(rd(t, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	gen = rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_dev_config_changed(t->d);
	CHECK(rd(t, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	CHECK_EQ(t->irq.level, 1);
	CHECK_EQ(virtio_mmio_ops.read(t->d, VIRTIO_MMIO_CONFIG_GENERATION, 2),
		 0);
	tv_free(t);
}

static void test_rng_end_to_end(void)
{
	struct tv *t = tv_new(true);
	static const uint8_t zero[64];

	REQUIRE(t);
	REQUIRE(bring_up(t, 8));
	/* a two-buffer chain: 40 + 24 writable bytes */
	drvq_put_desc(&t->q, 3, BUF_GPA, 40,
		      VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	drvq_put_desc(&t->q, 5, BUF_GPA + 0x100, 24, VRING_DESC_F_WRITE, 0);
	drvq_avail(&t->q, 3);
	CHECK_EQ(drvq_used_idx(&t->q), 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(drvq_used_idx(&t->q), 1);
	CHECK_EQ(drvq_used_id(&t->q, 0), 3);
	CHECK_EQ(drvq_used_len(&t->q, 0), 64);
	/* 64 random bytes are not all zero (p = 2^-512) */
	CHECK(memcmp(guest_ptr(&t->g, BUF_GPA, 40), zero, 40) ||
	      memcmp(guest_ptr(&t->g, BUF_GPA + 0x100, 24), zero, 24));
	CHECK_EQ(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	CHECK_EQ(t->irq.level, 1);
	wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	/* a device-readable buffer gets nothing written */
	guest_fill(&t->g, BUF_GPA + 0x200, 0, 16);
	drvq_post_buf(&t->q, 1, BUF_GPA + 0x200, 16, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(drvq_used_idx(&t->q), 2);
	CHECK_EQ(drvq_used_id(&t->q, 1), 1);
	CHECK_EQ(drvq_used_len(&t->q, 1), 0);
	CHECK(!memcmp(guest_ptr(&t->g, BUF_GPA + 0x200, 16), zero, 16));
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
	tv_free(t);
}

/*
 * A chain of more buffers than e01647f's virtio-rng took (16) is legal
 * (up to the queue size): it is filled and returned, not consumed and
 * lost.
 */
static void test_rng_long_chain(void)
{
	struct tv *t = tv_new(true);
	struct drvq_buf b[24];
	uint16_t i;

	REQUIRE(t);
	REQUIRE(bring_up(t, 32));
	for (i = 0; i < 24; i++)
		b[i] = (struct drvq_buf){ BUF_GPA + 16ULL * i, 16, true };
	drvq_post_chain(&t->q, 0, b, 24);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(drvq_used_idx(&t->q), 1);
	CHECK_EQ(drvq_used_id(&t->q, 0), 0);
	CHECK_EQ(drvq_used_len(&t->q, 0), 24 * 16);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
	tv_free(t);
}

static void test_rng_malformed(void)
{
	struct tv *t = tv_new(true);
	uint32_t gen;

	REQUIRE(t);
	REQUIRE(bring_up(t, 8));
	gen = rd(t, VIRTIO_MMIO_CONFIG_GENERATION);
	drvq_avail(&t->q, 8); /* head >= num */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	CHECK_EQ(drvq_used_idx(&t->q), 0);
	CHECK(rd(t, VIRTIO_MMIO_STATUS) & S_NR);
	CHECK(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	CHECK(rd(t, VIRTIO_MMIO_CONFIG_GENERATION) != gen);
	CHECK_EQ(t->irq.level, 1);
	wr(t, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(t->irq.level, 0);
	CHECK_EQ(rd(t, VIRTIO_MMIO_STATUS), 0);
	tv_free(t);
}

/* A device model's mistakes are named, and *out is left alone. */
static void test_dev_new_errors(void)
{
	struct virtio_dev_ops ops = fake_ops;
	struct virtio_dev *d = NULL;

	ops.nr_queues = VIRTIO_MAX_QUEUES + 1;
	CHECK_EQ(
		virtio_dev_new(&ops, NULL, NULL, 0, (struct irq_line){ 0 }, &d),
		-EINVAL);
	ops = fake_ops;
	ops.queue_max = 0;
	CHECK_EQ(
		virtio_dev_new(&ops, NULL, NULL, 0, (struct irq_line){ 0 }, &d),
		-EINVAL);
	ops = fake_ops;
	ops.notify = NULL;
	CHECK_EQ(
		virtio_dev_new(&ops, NULL, NULL, 0, (struct irq_line){ 0 }, &d),
		-EINVAL);
	CHECK(!d);
	CHECK_EQ(virtio_dev_new(&fake_ops, NULL, NULL, 0,
				(struct irq_line){ 0 }, &d),
		 0);
	CHECK(d != NULL);
	virtio_dev_free(d);
}

UNIT_SUITE(vmmio, UNIT_TEST(test_dev_new_errors), UNIT_TEST(test_ids),
	   UNIT_TEST(test_access_size), UNIT_TEST(test_features_select),
	   UNIT_TEST(test_driver_features), UNIT_TEST(test_features_ok_refused),
	   UNIT_TEST(test_driver_ok_needs_features_ok),
	   UNIT_TEST(test_status_no_clear), UNIT_TEST(test_queue_sel_range),
	   UNIT_TEST(test_queue_bad_num), UNIT_TEST(test_queue_bad_rings),
	   UNIT_TEST(test_needs_reset_after_driver_ok),
	   UNIT_TEST(test_queue_ok), UNIT_TEST(test_queue_locked_while_ready),
	   UNIT_TEST(test_reset), UNIT_TEST(test_interrupt_ack),
	   UNIT_TEST(test_isr_hint), UNIT_TEST(test_notify_invalid),
	   UNIT_TEST(test_config_space), UNIT_TEST(test_config_generation),
	   UNIT_TEST(test_rng_end_to_end), UNIT_TEST(test_rng_long_chain),
	   UNIT_TEST(test_rng_malformed));
