// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/blk.c and disk/disk.c, on the fake disk backend:
 * every request completes inline or when the test says, no files. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "drvq.h"
#include "fake-disk.h"
#include "guest.h"
#include "lkvm/compiler.h"
#include "lkvm/disk.h"
#include "lkvm/virtio-devs.h"
#include "unit.h"
#include "vdrv.h"

#define DESC_GPA (GUEST_RAM_BASE + 0x10000)
#define AVAIL_GPA (GUEST_RAM_BASE + 0x14000)
#define USED_GPA (GUEST_RAM_BASE + 0x15000)
#define HDR_GPA (GUEST_RAM_BASE + 0x18000)
#define STATUS_GPA (GUEST_RAM_BASE + 0x19000)
#define BUF_GPA (GUEST_RAM_BASE + 0x20000) /* data buffers */
#define QSIZE 64
#define DISK_SIZE (1024 * 1024)
#define DISK_SECTORS (DISK_SIZE / 512)
#define SERIAL "lkvm-blk-unit-serial-0123456789" /* longer than 20 */
#define ALL_CAPS (DISK_CAP_DISCARD | DISK_CAP_WRITE_ZEROES)

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE

struct tb {
	struct guest g;
	struct drvq q; /* queue 0 */
	struct vdrv v; /* the driver, through the core helpers */
	struct disk *disk;
	uint8_t *data; /* the fake disk's bytes */
	struct virtio_dev *d;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

/* From a device fresh or reset: the offered features in mask, queue 0 on
 * fresh rings, DRIVER_OK. */
static bool tb_enable_mask(struct tb *t, uint64_t mask)
{
	return !vdrv_bring_up(&t->v, mask, &t->q, 1);
}

/* Negotiate every offered feature. */
static bool tb_enable(struct tb *t)
{
	return tb_enable_mask(t, ~0ULL);
}

static void tb_free(struct tb *t)
{
	if (!t)
		return;
	virtio_blk_destroy(t->d);
	disk_close(t->disk);
	guest_destroy(&t->g);
	free(t);
}

/* A device on a fake disk of DISK_SIZE bytes filled with pattern(). */
static struct tb *tb_new_disk(bool ro, unsigned int caps, uint32_t block_size)
{
	struct fake_disk_opts o = { .size = DISK_SIZE,
				    .block_size = block_size,
				    .ro = ro,
				    .caps = caps,
				    .serial = SERIAL };
	struct tb *t = calloc(1, sizeof(*t));
	uint64_t i;

	if (!t)
		return NULL;
	if (guest_init(&t->g, GUEST_RAM_BASE, GUEST_RAM_SIZE) ||
	    fake_disk_create(&o, &t->disk))
		goto fail;
	drvq_init(&t->q, &t->g, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA);
	t->data = fake_disk_data(t->disk);
	for (i = 0; i < DISK_SIZE; i++)
		t->data[i] = pattern(i);
	if (virtio_blk_create(&t->g.mem, (struct irq_line){ 0 }, t->disk,
			      &t->d))
		goto fail;
	vdrv_init_core(&t->v, t->d);
	if (!tb_enable(t))
		goto fail;
	return t;
fail:
	tb_free(t);
	return NULL;
}

static struct tb *tb_new_opts(bool ro)
{
	return tb_new_disk(ro, ro ? 0 : ALL_CAPS, 0);
}

static struct tb *tb_new(void)
{
	return tb_new_opts(false);
}

/* A request header (struct virtio_blk_outhdr) at gpa. */
static void put_hdr_at(struct tb *t, uint64_t gpa, uint32_t type,
		       uint64_t sector)
{
	guest_put32(&t->g, gpa, type);
	guest_put32(&t->g, gpa + 4, 0); /* ioprio */
	guest_put64(&t->g, gpa + 8, sector);
}

static void put_hdr(struct tb *t, uint32_t type, uint64_t sector)
{
	put_hdr_at(t, HDR_GPA, type, sector);
}

/*
 * One request: header, optional data at BUF_GPA (device-writable when in),
 * status. Returns the status byte (0xee when untouched) or -1 when the
 * device did not complete it within the notify (the fake completes
 * inline unless held); *written the used length.
 */
static int tb_req(struct tb *t, uint32_t type, uint64_t sector,
		  uint32_t data_len, bool in, uint32_t *written)
{
	const struct drvq_buf bufs[] = {
		{ HDR_GPA, 16, false },
		{ BUF_GPA, data_len, in },
		{ STATUS_GPA, 1, true },
	};
	uint16_t n = t->q.avail_idx;

	put_hdr(t, type, sector);
	guest_put8(&t->g, STATUS_GPA, 0xee);
	if (data_len) {
		drvq_post_chain(&t->q, 0, bufs, 3);
	} else {
		const struct drvq_buf nodata[] = { bufs[0], bufs[2] };

		drvq_post_chain(&t->q, 0, nodata, 2);
	}
	virtio_notify(t->d, 0);
	if (drvq_used_idx(&t->q) != (uint16_t)(n + 1))
		return -1;
	if (written)
		*written = drvq_used_len(&t->q, n);
	return guest_get8(&t->g, STATUS_GPA);
}

static bool disk_matches(struct tb *t, uint64_t off, const void *buf,
			 size_t len)
{
	return !memcmp(t->data + off, buf, len);
}

static bool disk_zero(struct tb *t, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (t->data[off + i])
			return false;
	return true;
}

static bool disk_pattern(struct tb *t, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (t->data[off + i] != pattern(off + i))
			return false;
	return true;
}

static void test_config(void)
{
	struct tb *t = tb_new();
	const struct virtio_dev_ops *ops;
	uint64_t f;

	REQUIRE(t);
	ops = virtio_dev_ops(t->d);
	f = virtio_dev_features(t->d);
	CHECK_EQ(ops->device_id, 2);
	CHECK_EQ(ops->queue_max, 256);
	CHECK_EQ(ops->config_read(t->d, 0, 8), DISK_SECTORS);
	CHECK_EQ(ops->config_read(t->d, 12, 4), 254);
	CHECK_EQ(ops->config_read(t->d, 20, 4), 512);
	CHECK(ops->config_read(t->d, 36, 4) > 0); /* max_discard_sectors */
	CHECK_EQ(ops->config_read(t->d, 0, 16), 0); /* bad size */
	CHECK(f & 1ULL << VIRTIO_BLK_F_FLUSH);
	CHECK(f & 1ULL << VIRTIO_BLK_F_SEG_MAX);
	CHECK(f & 1ULL << VIRTIO_BLK_F_DISCARD);
	CHECK(f & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_RO));
	tb_free(t);
}

static void test_read(void)
{
	struct tb *t = tb_new();
	uint32_t w = 0;
	unsigned int i;

	REQUIRE(t);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 3, 1024, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 1025);
	for (i = 0; i < 1024; i++)
		if (!CHECK_EQ(guest_get8(&t->g, BUF_GPA + i),
			      pattern(3 * 512 + i)))
			break;
	/* the last sector */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(guest_get8(&t->g, BUF_GPA + 511), pattern(DISK_SIZE - 1));
	tb_free(t);
}

static void test_write(void)
{
	struct tb *t = tb_new();
	struct fake_disk_counts c;
	uint8_t buf[1536];
	uint32_t w = 0;

	REQUIRE(t);
	memset(buf, 0xab, sizeof(buf));
	guest_write(&t->g, BUF_GPA, buf, sizeof(buf));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, sizeof(buf), false, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 1);
	CHECK(disk_matches(t, 5 * 512, buf, sizeof(buf)));
	CHECK(disk_pattern(t, 4 * 512, 512));
	CHECK(disk_pattern(t, 8 * 512, 512));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, false, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 1);
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.writes, 1);
	CHECK_EQ(c.flushes, 1);
	CHECK_EQ(c.dsync, 0); /* FLUSH negotiated: a write-back cache */
	/* direction mismatches */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, 512, true, &w),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(w, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 5, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* not a multiple of 512 */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, 100, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK(disk_matches(t, 5 * 512, buf, sizeof(buf)));
	/* the refused ones never reached the disk */
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.submitted, 2);
	tb_free(t);
}

/*
 * A driver without VIRTIO_BLK_F_FLUSH gets a write-through device (Virtio
 * 1.2, 5.2.6.2): every write is durable when it completes. With FLUSH,
 * writes are cached and a FLUSH syncs them.
 */
static void test_write_through(void)
{
	struct virtio_blk_discard_write_zeroes seg = { .sector = 40,
						       .num_sectors = 2 };
	struct tb *t = tb_new();
	struct virtio_blk_stats st;
	struct fake_disk_counts c;

	REQUIRE(t);
	vdrv_reset(&t->v);
	REQUIRE(tb_enable_mask(t, ~(1ULL << VIRTIO_BLK_F_FLUSH)));
	CHECK(!(virtio_dev_driver_features(t->d) & 1ULL << VIRTIO_BLK_F_FLUSH));
	guest_fill(&t->g, BUF_GPA, 0x5a, 1024);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 2, 1024, false, NULL),
		 VIRTIO_BLK_S_OK);
	virtio_blk_get_stats(t->d, &st);
	CHECK_EQ(st.writes, 1);
	CHECK_EQ(st.dsync_writes, 1);
	CHECK_EQ(st.flushes, 0);
	CHECK(disk_matches(t, 2 * 512, guest_ptr(&t->g, BUF_GPA, 1024), 1024));
	/* write-zeroes is write-through too; reads are not marked */
	guest_write(&t->g, BUF_GPA, &seg, sizeof(seg));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false,
			NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 0, 512, true, NULL),
		 VIRTIO_BLK_S_OK);
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.dsync, 2);
	/* with FLUSH: cached writes, and a FLUSH is an fdatasync */
	vdrv_reset(&t->v);
	REQUIRE(tb_enable(t));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 4, 512, false, NULL),
		 VIRTIO_BLK_S_OK);
	virtio_blk_get_stats(t->d, &st);
	CHECK_EQ(st.writes, 2);
	CHECK_EQ(st.dsync_writes, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL),
		 VIRTIO_BLK_S_OK);
	virtio_blk_get_stats(t->d, &st);
	CHECK_EQ(st.flushes, 1);
	CHECK(st.syncs >= 1);
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.dsync, 2);
	CHECK_EQ(c.flushes, 1);
	tb_free(t);
}

static void test_get_id(void)
{
	struct tb *t = tb_new();
	const char *base;
	char id[21] = { 0 };
	uint32_t w = 0;

	REQUIRE(t);
	base = SERIAL;
	CHECK(strlen(base) > 20);
	guest_fill(&t->g, BUF_GPA, 0x55, 64);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_GET_ID, 0, 64, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 21);
	guest_read(&t->g, BUF_GPA, id, 20);
	CHECK(!strncmp(id, base, 20));
	CHECK_STR(disk_serial(t->disk), id);
	CHECK_EQ(guest_get8(&t->g, BUF_GPA + 20), 0x55);
	/* a shorter buffer gets a prefix */
	guest_fill(&t->g, BUF_GPA, 0x55, 64);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_GET_ID, 0, 4, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 5);
	CHECK(!memcmp(guest_ptr(&t->g, BUF_GPA, 4), base, 4));
	CHECK_EQ(guest_get8(&t->g, BUF_GPA + 4), 0x55);
	tb_free(t);
}

static void test_range(void)
{
	struct tb *t = tb_new();
	uint32_t w = 0;

	REQUIRE(t);
	/* sector * 512 overflows 64 bits */
	CHECK_EQ(
		tb_req(t, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, true, &w),
		VIRTIO_BLK_S_IOERR);
	CHECK_EQ(w, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* offset + len overflows */
	CHECK_EQ(
		tb_req(t, VIRTIO_BLK_T_OUT, UINT64_MAX / 512, 512, false, NULL),
		VIRTIO_BLK_S_IOERR);
	/* beyond capacity, and straddling its end */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, true, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, 1024, false,
			NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK(disk_pattern(t, DISK_SIZE - 512, 512));
	CHECK(virtio_dev_live(t->d));
	tb_free(t);
}

static void test_ro(void)
{
	struct tb *t = tb_new_opts(true);
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0,
						       .num_sectors = 1 };

	REQUIRE(t);
	CHECK(virtio_dev_features(t->d) & 1ULL << VIRTIO_BLK_F_RO);
	CHECK(!(virtio_dev_features(t->d) & 1ULL << VIRTIO_BLK_F_DISCARD));
	guest_fill(&t->g, BUF_GPA, 0, 512);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 0, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	guest_write(&t->g, BUF_GPA, &seg, sizeof(seg));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false,
			NULL),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(disk_pattern(t, 0, 1024));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 0, 512, true, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(guest_get8(&t->g, BUF_GPA + 1), pattern(1));
	tb_free(t);
}

static void test_split_header(void)
{
	struct tb *t = tb_new();
	unsigned int i;

	REQUIRE(t);
	put_hdr(t, VIRTIO_BLK_T_IN, 7);
	guest_put8(&t->g, STATUS_GPA, 0xee);
	/* header in 5 + 7 + 4 bytes, data in two buffers, status shares the
	 * last data buffer */
	drvq_put_desc(&t->q, 0, HDR_GPA, 5, F_NEXT, 3);
	drvq_put_desc(&t->q, 3, HDR_GPA + 5, 7, F_NEXT, 5);
	drvq_put_desc(&t->q, 5, HDR_GPA + 12, 4, F_NEXT, 1);
	drvq_put_desc(&t->q, 1, BUF_GPA, 300, F_NEXT | F_WRITE, 2);
	drvq_put_desc(&t->q, 2, BUF_GPA + 1000, 213, F_WRITE, 0);
	drvq_avail(&t->q, 0);
	virtio_notify(t->d, 0);
	REQUIRE(drvq_used_idx(&t->q) == 1);
	CHECK_EQ(drvq_used_len(&t->q, 0), 513);
	CHECK_EQ(guest_get8(&t->g, BUF_GPA + 1000 + 212), VIRTIO_BLK_S_OK);
	for (i = 0; i < 300; i++)
		if (!CHECK_EQ(guest_get8(&t->g, BUF_GPA + i),
			      pattern(7 * 512 + i)))
			break;
	for (i = 0; i < 212; i++)
		if (!CHECK_EQ(guest_get8(&t->g, BUF_GPA + 1000 + i),
			      pattern(7 * 512 + 300 + i)))
			break;
	tb_free(t);
}

static void test_malformed(void)
{
	struct tb *t = tb_new();

	REQUIRE(t);
	/* no device-writable buffer: nowhere to put the status */
	put_hdr(t, VIRTIO_BLK_T_IN, 0);
	drvq_put_desc(&t->q, 0, HDR_GPA, 16, F_NEXT, 1);
	drvq_put_desc(&t->q, 1, BUF_GPA, 512, 0, 0);
	drvq_avail(&t->q, 0);
	virtio_notify(t->d, 0);
	REQUIRE(drvq_used_idx(&t->q) == 1);
	CHECK_EQ(drvq_used_len(&t->q, 0), 0);
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(!virtio_dev_live(t->d));
	/* reset, then a header shorter than 16 bytes */
	vdrv_reset(&t->v);
	REQUIRE(tb_enable(t));
	drvq_put_desc(&t->q, 0, HDR_GPA, 8, F_NEXT, 1);
	drvq_put_desc(&t->q, 1, STATUS_GPA, 1, F_WRITE, 0);
	guest_put8(&t->g, STATUS_GPA, 0xee);
	drvq_avail(&t->q, 0);
	virtio_notify(t->d, 0);
	REQUIRE(drvq_used_idx(&t->q) == 1);
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(guest_get8(&t->g, STATUS_GPA), 0xee);
	tb_free(t);
}

static void test_unsupp(void)
{
	struct tb *t = tb_new();
	uint32_t w = 0;

	REQUIRE(t);
	CHECK_EQ(tb_req(t, 0x99, 0, 0, false, &w), VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(w, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_SECURE_ERASE, 0, 0, false, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK_EQ(tb_req(t, 0x80000000u | VIRTIO_BLK_T_IN, 0, 512, true, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(virtio_dev_live(t->d));
	tb_free(t);
}

/* A DISCARD or WRITE_ZEROES with the given segments; returns the status. */
static int tb_dwz(struct tb *t, uint32_t type,
		  const struct virtio_blk_discard_write_zeroes *segs,
		  unsigned int n)
{
	guest_write(&t->g, BUF_GPA, segs, n * sizeof(*segs));
	return tb_req(t, type, 0, n * (uint32_t)sizeof(*segs), false, NULL);
}

static void test_discard_write_zeroes(void)
{
	struct virtio_blk_discard_write_zeroes segs[2] = {
		{ .sector = 8, .num_sectors = 8 },
		{ .sector = 32, .num_sectors = 2 },
	};
	struct virtio_blk_discard_write_zeroes seg;
	struct tb *t = tb_new();

	REQUIRE(t);
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_DISCARD, segs, 2), VIRTIO_BLK_S_OK);
	/* ext4 and tmpfs punch holes; elsewhere discard may keep data */
	CHECK(disk_zero(t, 8 * 512, 8 * 512));
	CHECK(disk_zero(t, 32 * 512, 2 * 512));
	CHECK(disk_pattern(t, 16 * 512, 512));
	segs[0].sector = 100;
	segs[1] = (struct virtio_blk_discard_write_zeroes){
		.sector = 200,
		.num_sectors = 3,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
	};
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, segs, 2),
		 VIRTIO_BLK_S_OK);
	CHECK(disk_zero(t, 100 * 512, 8 * 512));
	CHECK(disk_zero(t, 200 * 512, 3 * 512));
	CHECK(disk_pattern(t, 203 * 512, 512));
	CHECK(disk_pattern(t, 99 * 512, 512));

	/* flags: unmap only for write zeroes, reserved bits never */
	seg = (struct virtio_blk_discard_write_zeroes){
		.sector = 300,
		.num_sectors = 1,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
	};
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_UNSUPP);
	seg.flags = 2;
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(disk_pattern(t, 300 * 512, 512));
	/* ranges */
	seg = (struct virtio_blk_discard_write_zeroes){
		.sector = DISK_SECTORS - 1, .num_sectors = 2
	};
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_IOERR);
	seg.sector = UINT64_MAX / 256;
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_DISCARD, &seg, 1), VIRTIO_BLK_S_IOERR);
	seg = (struct virtio_blk_discard_write_zeroes){ .sector = 0,
							.num_sectors =
								UINT32_MAX };
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_IOERR);
	CHECK(disk_pattern(t, 0, 512));
	/* not a whole segment, or none */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_DISCARD, 0, 8, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_DISCARD, 0, 0, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* zero sectors: nothing to do */
	seg.num_sectors = 0;
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, &seg, 1),
		 VIRTIO_BLK_S_OK);
	tb_free(t);
}

/* The disk's geometry and caps become the device's config and features. */
static void test_config_from_disk(void)
{
	struct tb *t = tb_new_disk(false, 0, 4096);
	const struct virtio_dev_ops *ops;
	uint64_t f;

	REQUIRE(t);
	ops = virtio_dev_ops(t->d);
	f = virtio_dev_features(t->d);
	CHECK_EQ(ops->config_read(t->d, 0, 8), DISK_SECTORS);
	CHECK_EQ(ops->config_read(t->d, 20, 4), 4096);
	CHECK_EQ(ops->config_read(t->d, 36, 4), 0); /* no discard */
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_DISCARD));
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_RO));
	tb_free(t);

	t = tb_new_disk(false, DISK_CAP_DISCARD, 4096);
	REQUIRE(t);
	ops = virtio_dev_ops(t->d);
	f = virtio_dev_features(t->d);
	CHECK(f & 1ULL << VIRTIO_BLK_F_DISCARD);
	CHECK(!(f & 1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(ops->config_read(t->d, 36, 4) > 0); /* max_discard_sectors */
	CHECK_EQ(ops->config_read(t->d, 44, 4), 8); /* sector alignment */
	CHECK_EQ(ops->config_read(t->d, 48, 4), 0); /* no write zeroes */
	tb_free(t);
}

/* A request the disk cannot do is UNSUPP and never reaches it. */
static void test_no_caps(void)
{
	struct virtio_blk_discard_write_zeroes seg = { .sector = 8,
						       .num_sectors = 1 };
	struct tb *t = tb_new_disk(false, DISK_CAP_WRITE_ZEROES, 0);
	struct fake_disk_counts c;

	REQUIRE(t);
	guest_write(&t->g, BUF_GPA, &seg, sizeof(seg));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg), false, NULL),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(disk_pattern(t, 8 * 512, 512));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false,
			NULL),
		 VIRTIO_BLK_S_OK);
	CHECK(disk_zero(t, 8 * 512, 512));
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.submitted, 1);
	CHECK_EQ(c.discards, 0);
	CHECK_EQ(c.write_zeroes, 1);
	tb_free(t);
}

/* A disk error, or a refusal, is an IOERR for that request only. */
static void test_disk_errors(void)
{
	struct virtio_blk_discard_write_zeroes segs[2] = {
		{ .sector = 10, .num_sectors = 1 },
		{ .sector = 20, .num_sectors = 1 },
	};
	struct tb *t = tb_new();
	struct virtio_blk_stats st;
	struct fake_disk_counts c;
	uint32_t w = 0;

	REQUIRE(t);
	fake_disk_fail(t->disk, FAKE_DISK_OP(DISK_OP_READ), -EIO, 1);
	guest_fill(&t->g, BUF_GPA, 0x77, 512);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 1, 512, true, &w),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(w, 1); /* only the status byte */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 1, 512, true, &w), VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 513);
	CHECK_EQ(guest_get8(&t->g, BUF_GPA), pattern(512));
	fake_disk_fail(t->disk, FAKE_DISK_OP(DISK_OP_FLUSH), -ENOSPC, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	fake_disk_refuse(t->disk, -ENOMEM, 1);
	guest_fill(&t->g, BUF_GPA, 0x33, 512);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 1, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK(disk_pattern(t, 512, 512));
	/* one of two segments failing fails the request; the other ran */
	fake_disk_fail(t->disk, FAKE_DISK_OP(DISK_OP_WRITE_ZEROES), -EIO, 1);
	guest_write(&t->g, BUF_GPA, segs, sizeof(segs));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(segs), false,
			NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK(disk_pattern(t, 10 * 512, 512));
	CHECK(disk_zero(t, 20 * 512, 512));
	/* only what succeeded is counted; the device stays live */
	virtio_blk_get_stats(t->d, &st);
	CHECK_EQ(st.reads, 1);
	CHECK_EQ(st.writes, 0);
	CHECK_EQ(st.flushes, 0);
	fake_disk_counts(t->disk, &c);
	CHECK_EQ(c.failed, 3);
	CHECK_EQ(c.refused, 1);
	CHECK(virtio_dev_live(t->d));
	tb_free(t);
}

/* Post n reads of 4 KiB, request i at sector i, status at STATUS_GPA + i. */
static void post_reads(struct tb *t, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct drvq_buf bufs[] = {
			{ HDR_GPA + 16ULL * i, 16, false },
			{ BUF_GPA + 4096ULL * i, 4096, true },
			{ STATUS_GPA + i, 1, true },
		};

		put_hdr_at(t, HDR_GPA + 16ULL * i, VIRTIO_BLK_T_IN, i);
		guest_put8(&t->g, STATUS_GPA + i, 0xee);
		drvq_post_chain(&t->q, (uint16_t)(3 * i), bufs, 3);
	}
}

/* Requests stay in flight while the disk holds them, and complete in the
 * order the disk finishes them, not the order they came in. */
static void test_out_of_order(void)
{
	struct tb *t = tb_new();
	unsigned int i;

	REQUIRE(t);
	fake_disk_hold(t->disk, true);
	post_reads(t, 3);
	virtio_notify(t->d, 0);
	CHECK_EQ(fake_disk_held(t->disk), 3);
	CHECK_EQ(drvq_used_idx(&t->q), 0);
	CHECK_EQ(guest_get8(&t->g, STATUS_GPA + 1), 0xee);
	REQUIRE(fake_disk_complete(t->disk, 1)); /* the second */
	CHECK_EQ(drvq_used_idx(&t->q), 1);
	CHECK_EQ(drvq_used_id(&t->q, 0), 3); /* its head */
	CHECK_EQ(drvq_used_len(&t->q, 0), 4097);
	CHECK_EQ(guest_get8(&t->g, STATUS_GPA + 1), VIRTIO_BLK_S_OK);
	CHECK_EQ(guest_get8(&t->g, STATUS_GPA), 0xee);
	REQUIRE(fake_disk_complete(t->disk, 1)); /* now the third */
	REQUIRE(fake_disk_complete(t->disk, 0));
	CHECK(!fake_disk_complete(t->disk, 0));
	CHECK_EQ(drvq_used_idx(&t->q), 3);
	CHECK_EQ(drvq_used_id(&t->q, 1), 6);
	CHECK_EQ(drvq_used_id(&t->q, 2), 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(guest_get8(&t->g, STATUS_GPA + i), VIRTIO_BLK_S_OK);
		CHECK_EQ(guest_get8(&t->g, BUF_GPA + 4096 * i + 9),
			 pattern(512 * i + 9));
	}
	tb_free(t);
}

struct resetter {
	struct virtio_dev *d;
	bool done; /* atomic */
};

static void *reset_thread(void *arg)
{
	struct resetter *r = arg;

	virtio_set_status(r->d, 0);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Many requests at once, completed out of order, and a reset that must
 * wait for the last of them. */
static void test_batch_reset(void)
{
	struct tb *t = tb_new();
	struct resetter r;
	pthread_t th;
	unsigned int i;

	REQUIRE(t);
	fake_disk_hold(t->disk, true);
	post_reads(t, 16);
	virtio_notify(t->d, 0);
	CHECK_EQ(fake_disk_held(t->disk), 16);
	for (i = 0; i < 8; i++) /* every other one */
		REQUIRE(fake_disk_complete(t->disk, i));
	CHECK_EQ(drvq_used_idx(&t->q), 8);
	r = (struct resetter){ .d = t->d };
	REQUIRE(!pthread_create(&th, NULL, reset_thread, &r));
	while (fake_disk_held(t->disk) > 1)
		fake_disk_complete(t->disk, 0);
	/* one chain is still in flight: the reset cannot have finished */
	CHECK(!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));
	REQUIRE(fake_disk_complete(t->disk, 0));
	pthread_join(th, NULL);
	CHECK(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE));
	CHECK_EQ(drvq_used_idx(&t->q), 16);
	for (i = 0; i < 16; i++) {
		CHECK_EQ(guest_get8(&t->g, STATUS_GPA + i), VIRTIO_BLK_S_OK);
		CHECK_EQ(guest_get8(&t->g, BUF_GPA + 4096 * i + 9),
			 pattern(512 * i + 9));
	}
	tb_free(t);
}

static void check_done(struct disk_req *r, int status)
{
	*(int *)r->opaque = status;
}

/* disk_submit() refuses, for every backend, what breaks the rules. */
static void test_disk_checks(void)
{
	struct fake_disk_opts o = { .size = 8192, .caps = DISK_CAP_DISCARD };
	uint8_t buf[1024];
	struct iovec v[2] = { { buf, 512 }, { buf + 512, 512 } };
	struct disk_req r;
	struct fake_disk_counts c;
	struct disk_stats st;
	struct disk *d, *ro;
	int status = 1;

	REQUIRE(!fake_disk_create(&o, &d));
	o.ro = true;
	REQUIRE(!fake_disk_create(&o, &ro));
	CHECK_STR(d->ops->name, "fake");
	CHECK_STR(disk_serial(d), "fake-disk");
	r = (struct disk_req){ .op = DISK_OP_READ,
			       .iov = v,
			       .iovcnt = 2,
			       .offset = 4096,
			       .len = 1024,
			       .done = check_done,
			       .opaque = &status };
	CHECK_EQ(disk_submit(d, &r), 0);
	CHECK_EQ(status, 0); /* inline */
	r.len = 1000; /* not the iovecs' total */
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.len = 1024;
	r.iovcnt = 0;
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.iovcnt = 2;
	r.offset = 8192 - 512; /* past the end */
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.offset = UINT64_MAX - 511; /* offset + len overflows */
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.offset = 0;
	r.flags = 2;
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.flags = 0;
	r.done = NULL;
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.done = check_done;
	r.op = 99;
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.op = DISK_OP_WRITE;
	CHECK_EQ(disk_submit(ro, &r), -EROFS);
	r = (struct disk_req){ .op = DISK_OP_WRITE_ZEROES,
			       .offset = 0,
			       .len = 512,
			       .done = check_done,
			       .opaque = &status };
	CHECK_EQ(disk_submit(d, &r), -EOPNOTSUPP);
	r.op = DISK_OP_DISCARD;
	CHECK_EQ(disk_submit(ro, &r), -EROFS);
	r.len = (uint64_t)DISK_REQ_MAX_LEN + 1;
	CHECK_EQ(disk_submit(d, &r), -EINVAL);
	r.len = 512;
	status = 1;
	CHECK_EQ(disk_submit(d, &r), 0);
	CHECK_EQ(status, 0);
	r = (struct disk_req){ .op = DISK_OP_FLUSH,
			       .done = check_done,
			       .opaque = &status };
	CHECK_EQ(disk_submit(ro, &r), 0); /* a flush changes nothing */
	CHECK_EQ(disk_flush(d), 0);
	fake_disk_counts(d, &c);
	CHECK_EQ(c.submitted, 2);
	CHECK_EQ(c.reads, 1);
	CHECK_EQ(c.discards, 1);
	CHECK_EQ(c.flushes, 1);
	disk_get_stats(d, &st);
	CHECK_EQ(st.reads, 1);
	CHECK_EQ(st.syncs, 1);
	disk_close(d);
	disk_close(ro);
	disk_close(NULL);
	/* the fake's own limits */
	o = (struct fake_disk_opts){ .size = 1000 };
	CHECK_EQ(fake_disk_create(&o, &d), -EINVAL);
	o = (struct fake_disk_opts){ .size = 4096, .block_size = 1024 + 512 };
	CHECK_EQ(fake_disk_create(&o, &d), -EINVAL);
}

UNIT_SUITE(blk, UNIT_TEST(test_config), UNIT_TEST(test_read),
	   UNIT_TEST(test_write), UNIT_TEST(test_write_through),
	   UNIT_TEST(test_get_id), UNIT_TEST(test_range), UNIT_TEST(test_ro),
	   UNIT_TEST(test_split_header), UNIT_TEST(test_malformed),
	   UNIT_TEST(test_unsupp), UNIT_TEST(test_discard_write_zeroes),
	   UNIT_TEST(test_config_from_disk), UNIT_TEST(test_no_caps),
	   UNIT_TEST(test_disk_errors), UNIT_TEST(test_out_of_order),
	   UNIT_TEST(test_batch_reset), UNIT_TEST(test_disk_checks));
