// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for virtio/blk.c, disk/disk.c and the blkio engines. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "disk/blkio-priv.h"
#include "lkvm/blkio.h"
#include "lkvm/compiler.h"
#include "lkvm/disk.h"
#include "lkvm/virtio-devs.h"
#include "unit.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x200000ULL
#define DESC_GPA (RAM_BASE + 0x10000)
#define AVAIL_GPA (RAM_BASE + 0x14000)
#define USED_GPA (RAM_BASE + 0x15000)
#define HDR_GPA (RAM_BASE + 0x18000)
#define STATUS_GPA (RAM_BASE + 0x19000)
#define BUF_GPA (RAM_BASE + 0x20000) /* data buffers */
#define QSIZE 64
#define DISK_SIZE (1024 * 1024)
#define DISK_SECTORS (DISK_SIZE / 512)
#define WAIT_MS 5000

#define F_NEXT VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE

struct tb {
	struct gmem mem;
	uint8_t *ram;
	char path[64];
	struct disk *disk;
	struct virtio_dev *d;
	uint16_t avail_idx;
};

/* A temporary disk image of size bytes, filled with pattern(offset). */
static int make_image(char *path, size_t len, uint64_t size)
{
	uint8_t buf[4096];
	uint64_t off;
	int fd;
	size_t i;

	snprintf(path, len, "/tmp/lkvm-blk-unit-image-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	for (off = 0; off < size; off += sizeof(buf)) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)((off + i) * 7 + (off + i) / 512);
		if (pwrite(fd, buf,
			   size - off < sizeof(buf) ? size - off : sizeof(buf),
			   (off_t)off) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static uint8_t *host(struct tb *t, uint64_t gpa)
{
	return t->ram + (gpa - RAM_BASE);
}

static uint16_t get16(struct tb *t, uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, host(t, gpa), sizeof(v));
	return v;
}

static uint32_t get32(struct tb *t, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, host(t, gpa), sizeof(v));
	return v;
}

/* Negotiate the offered features in mask and enable queue 0. */
static bool tb_enable_mask(struct tb *t, uint64_t mask)
{
	struct virtio_dev *d = t->d;
	uint64_t f = virtio_dev_features(d) & mask;

	/* fresh rings, as a driver allocates them */
	memset(host(t, AVAIL_GPA), 0, 6 + 2 * QSIZE);
	memset(host(t, USED_GPA), 0, 6 + 8 * QSIZE);

	virtio_set_status(d,
			  VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	virtio_set_drv_features_sel(d, 0);
	virtio_set_drv_features(d, (uint32_t)f);
	virtio_set_drv_features_sel(d, 1);
	virtio_set_drv_features(d, (uint32_t)(f >> 32));
	virtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				     VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK);
	virtio_set_queue_sel(d, 0);
	virtio_set_queue_num(d, QSIZE);
	virtio_set_queue_addr(d, 0, false, (uint32_t)DESC_GPA);
	virtio_set_queue_addr(d, 1, false, (uint32_t)AVAIL_GPA);
	virtio_set_queue_addr(d, 2, false, (uint32_t)USED_GPA);
	virtio_set_queue_ready(d, 1);
	virtio_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				     VIRTIO_CONFIG_S_DRIVER |
				     VIRTIO_CONFIG_S_FEATURES_OK |
				     VIRTIO_CONFIG_S_DRIVER_OK);
	t->avail_idx = 0;
	return virtio_queue_ready(d) && virtio_dev_live(d);
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
	if (t->path[0])
		unlink(t->path);
	free(t->ram);
	free(t);
}

static struct tb *tb_new_opts(bool ro, bool direct, bool aio)
{
	struct tb *t = calloc(1, sizeof(*t));
	char err[256];
	void *ram;

	if (!t)
		return NULL;
	if (posix_memalign(&ram, 4096, RAM_SIZE))
		goto fail;
	t->ram = ram;
	memset(t->ram, 0, RAM_SIZE);
	if (gmem_add(&t->mem, RAM_BASE, RAM_SIZE, t->ram) ||
	    make_image(t->path, sizeof(t->path), DISK_SIZE) ||
	    disk_open(&t->disk, t->path, ro, direct, err, sizeof(err)))
		goto fail;
	t->d = virtio_blk_create(&t->mem, (struct irq_line){ 0 }, t->disk, aio);
	if (!t->d || !tb_enable(t))
		goto fail;
	return t;
fail:
	tb_free(t);
	return NULL;
}

static struct tb *tb_new(void)
{
	return tb_new_opts(false, false, false);
}

static void tb_desc(struct tb *t, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = addr, .len = len, .flags = flags, .next = next
	};

	memcpy(host(t, DESC_GPA + 16ULL * i), &d, sizeof(d));
}

static void tb_avail(struct tb *t, uint16_t head)
{
	uint16_t idx;

	memcpy(host(t, AVAIL_GPA + 4 + 2 * (t->avail_idx % QSIZE)), &head, 2);
	idx = ++t->avail_idx;
	__atomic_store_n((uint16_t *)(void *)host(t, AVAIL_GPA + 2), idx,
			 __ATOMIC_RELEASE);
}

/* Wait (bounded) until used->idx reaches idx. */
static bool tb_wait_used(struct tb *t, uint16_t idx)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		if (__atomic_load_n((uint16_t *)(void *)host(t, USED_GPA + 2),
				    __ATOMIC_ACQUIRE) == idx)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* The used element of the n-th completion. */
static uint32_t used_len(struct tb *t, uint16_t n)
{
	return get32(t, USED_GPA + 4 + 8 * (n % QSIZE) + 4);
}

static void put_hdr(struct tb *t, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };

	memcpy(host(t, HDR_GPA), &h, sizeof(h));
}

/*
 * One request: header, optional data at BUF_GPA (device-writable when in),
 * status. Returns the status byte (0xee when untouched) or -1 when the
 * device did not complete it in time; *written the used length.
 */
static int tb_req(struct tb *t, uint32_t type, uint64_t sector,
		  uint32_t data_len, bool in, uint32_t *written)
{
	uint16_t n = t->avail_idx;

	put_hdr(t, type, sector);
	*host(t, STATUS_GPA) = 0xee;
	if (data_len) {
		tb_desc(t, 0, HDR_GPA, 16, F_NEXT, 1);
		tb_desc(t, 1, BUF_GPA, data_len, F_NEXT | (in ? F_WRITE : 0),
			2);
		tb_desc(t, 2, STATUS_GPA, 1, F_WRITE, 0);
	} else {
		tb_desc(t, 0, HDR_GPA, 16, F_NEXT, 1);
		tb_desc(t, 1, STATUS_GPA, 1, F_WRITE, 0);
	}
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	if (!tb_wait_used(t, (uint16_t)(n + 1)))
		return -1;
	if (written)
		*written = used_len(t, n);
	return *host(t, STATUS_GPA);
}

static bool file_matches(const char *path, uint64_t off, const void *buf,
			 size_t len)
{
	uint8_t tmp[8192];
	int fd = open(path, O_RDONLY);
	bool ok;

	if (fd < 0 || len > sizeof(tmp))
		return false;
	ok = pread(fd, tmp, len, (off_t)off) == (ssize_t)len &&
	     !memcmp(tmp, buf, len);
	close(fd);
	return ok;
}

static bool file_zero(const char *path, uint64_t off, size_t len)
{
	static const uint8_t zero[8192];

	return file_matches(path, off, zero, len);
}

static bool file_pattern(const char *path, uint64_t off, size_t len)
{
	uint8_t buf[8192];
	size_t i;

	for (i = 0; i < len && i < sizeof(buf); i++)
		buf[i] = pattern(off + i);
	return file_matches(path, off, buf, len);
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
		if (!CHECK_EQ(*host(t, BUF_GPA + i), pattern(3 * 512 + i)))
			break;
	/* the last sector */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(*host(t, BUF_GPA + 511), pattern(DISK_SIZE - 1));
	tb_free(t);
}

static void test_write(void)
{
	struct tb *t = tb_new();
	uint8_t buf[1536];
	uint32_t w = 0;

	REQUIRE(t);
	memset(buf, 0xab, sizeof(buf));
	memcpy(host(t, BUF_GPA), buf, sizeof(buf));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, sizeof(buf), false, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 1);
	CHECK(file_matches(t->path, 5 * 512, buf, sizeof(buf)));
	CHECK(file_pattern(t->path, 4 * 512, 512));
	CHECK(file_pattern(t->path, 8 * 512, 512));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, false, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 1);
	/* direction mismatches */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, 512, true, &w),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(w, 1);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 5, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	/* not a multiple of 512 */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 5, 100, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	CHECK(file_matches(t->path, 5 * 512, buf, sizeof(buf)));
	tb_free(t);
}

/*
 * A driver without VIRTIO_BLK_F_FLUSH gets a write-through device (Virtio
 * 1.2, 5.2.6.2): every write is durable when it completes. With FLUSH,
 * writes are cached and a FLUSH syncs them.
 */
static void test_write_through(void)
{
	struct tb *t = tb_new();
	struct virtio_blk_stats st;

	REQUIRE(t);
	virtio_set_status(t->d, 0);
	REQUIRE(tb_enable_mask(t, ~(1ULL << VIRTIO_BLK_F_FLUSH)));
	CHECK(!(virtio_dev_driver_features(t->d) & 1ULL << VIRTIO_BLK_F_FLUSH));
	memset(host(t, BUF_GPA), 0x5a, 1024);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 2, 1024, false, NULL),
		 VIRTIO_BLK_S_OK);
	virtio_blk_get_stats(t->d, &st);
	CHECK_EQ(st.writes, 1);
	CHECK_EQ(st.dsync_writes, 1);
	CHECK_EQ(st.flushes, 0);
	CHECK(file_matches(t->path, 2 * 512, host(t, BUF_GPA), 1024));
	/* with FLUSH: cached writes, and a FLUSH is an fdatasync */
	virtio_set_status(t->d, 0);
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
	tb_free(t);
}

static void test_get_id(void)
{
	struct tb *t = tb_new();
	const char *base;
	char id[21] = { 0 };
	uint32_t w = 0;

	REQUIRE(t);
	base = strrchr(t->path, '/') + 1;
	CHECK(strlen(base) > 20);
	memset(host(t, BUF_GPA), 0x55, 64);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_GET_ID, 0, 64, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 21);
	memcpy(id, host(t, BUF_GPA), 20);
	CHECK(!strncmp(id, base, 20));
	CHECK_STR(disk_serial(t->disk), id);
	CHECK_EQ(*host(t, BUF_GPA + 20), 0x55);
	/* a shorter buffer gets a prefix */
	memset(host(t, BUF_GPA), 0x55, 64);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_GET_ID, 0, 4, true, &w),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(w, 5);
	CHECK(!memcmp(host(t, BUF_GPA), base, 4));
	CHECK_EQ(*host(t, BUF_GPA + 4), 0x55);
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
	CHECK(file_pattern(t->path, DISK_SIZE - 512, 512));
	CHECK(virtio_dev_live(t->d));
	tb_free(t);
}

static void test_ro(void)
{
	struct tb *t = tb_new_opts(true, false, false);
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0,
						       .num_sectors = 1 };

	REQUIRE(t);
	CHECK(virtio_dev_features(t->d) & 1ULL << VIRTIO_BLK_F_RO);
	CHECK(!(virtio_dev_features(t->d) & 1ULL << VIRTIO_BLK_F_DISCARD));
	memset(host(t, BUF_GPA), 0, 512);
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_OUT, 0, 512, false, NULL),
		 VIRTIO_BLK_S_IOERR);
	memcpy(host(t, BUF_GPA), &seg, sizeof(seg));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg), false,
			NULL),
		 VIRTIO_BLK_S_UNSUPP);
	CHECK(file_pattern(t->path, 0, 1024));
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 0, 512, true, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(*host(t, BUF_GPA + 1), pattern(1));
	tb_free(t);
}

static void test_split_header(void)
{
	struct tb *t = tb_new();
	unsigned int i;

	REQUIRE(t);
	put_hdr(t, VIRTIO_BLK_T_IN, 7);
	*host(t, STATUS_GPA) = 0xee;
	/* header in 5 + 7 + 4 bytes, data in two buffers, status shares the
	 * last data buffer */
	tb_desc(t, 0, HDR_GPA, 5, F_NEXT, 3);
	tb_desc(t, 3, HDR_GPA + 5, 7, F_NEXT, 5);
	tb_desc(t, 5, HDR_GPA + 12, 4, F_NEXT, 1);
	tb_desc(t, 1, BUF_GPA, 300, F_NEXT | F_WRITE, 2);
	tb_desc(t, 2, BUF_GPA + 1000, 213, F_WRITE, 0);
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	REQUIRE(tb_wait_used(t, 1));
	CHECK_EQ(used_len(t, 0), 513);
	CHECK_EQ(*host(t, BUF_GPA + 1000 + 212), VIRTIO_BLK_S_OK);
	for (i = 0; i < 300; i++)
		if (!CHECK_EQ(*host(t, BUF_GPA + i), pattern(7 * 512 + i)))
			break;
	for (i = 0; i < 212; i++)
		if (!CHECK_EQ(*host(t, BUF_GPA + 1000 + i),
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
	tb_desc(t, 0, HDR_GPA, 16, F_NEXT, 1);
	tb_desc(t, 1, BUF_GPA, 512, 0, 0);
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	REQUIRE(tb_wait_used(t, 1));
	CHECK_EQ(used_len(t, 0), 0);
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(!virtio_dev_live(t->d));
	/* reset, then a header shorter than 16 bytes */
	virtio_set_status(t->d, 0);
	memset(host(t, USED_GPA), 0, 0x1000);
	memset(host(t, AVAIL_GPA), 0, 0x1000);
	REQUIRE(tb_enable(t));
	tb_desc(t, 0, HDR_GPA, 8, F_NEXT, 1);
	tb_desc(t, 1, STATUS_GPA, 1, F_WRITE, 0);
	*host(t, STATUS_GPA) = 0xee;
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	REQUIRE(tb_wait_used(t, 1));
	CHECK(virtio_get_status(t->d) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK_EQ(*host(t, STATUS_GPA), 0xee);
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
	memcpy(host(t, BUF_GPA), segs, n * sizeof(*segs));
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
	CHECK(file_zero(t->path, 8 * 512, 8 * 512));
	CHECK(file_zero(t->path, 32 * 512, 2 * 512));
	CHECK(file_pattern(t->path, 16 * 512, 512));
	segs[0].sector = 100;
	segs[1] = (struct virtio_blk_discard_write_zeroes){
		.sector = 200,
		.num_sectors = 3,
		.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
	};
	CHECK_EQ(tb_dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, segs, 2),
		 VIRTIO_BLK_S_OK);
	CHECK(file_zero(t->path, 100 * 512, 8 * 512));
	CHECK(file_zero(t->path, 200 * 512, 3 * 512));
	CHECK(file_pattern(t->path, 203 * 512, 512));
	CHECK(file_pattern(t->path, 99 * 512, 512));

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
	CHECK(file_pattern(t->path, 300 * 512, 512));
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
	CHECK(file_pattern(t->path, 0, 512));
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

static void test_direct_unaligned(void)
{
	struct tb *t = tb_new_opts(false, true, false);
	uint8_t buf[1024];
	unsigned int i;

	REQUIRE(t);
	CHECK(disk_direct(t->disk));
	if (disk_block_size(t->disk) != 512) {
		/* the sector-sized requests below need a 512-byte host */
		fprintf(stderr, "    skipped: /tmp needs %u-byte direct I/O\n",
			disk_block_size(t->disk));
		tb_free(t);
		return;
	}
	/* aligned buffer: no bounce */
	CHECK_EQ(tb_req(t, VIRTIO_BLK_T_IN, 2, 1024, true, NULL),
		 VIRTIO_BLK_S_OK);
	CHECK_EQ(*host(t, BUF_GPA + 700), pattern(2 * 512 + 700));
	/* unaligned buffers are bounced */
	put_hdr(t, VIRTIO_BLK_T_IN, 4);
	tb_desc(t, 0, HDR_GPA, 16, F_NEXT, 1);
	tb_desc(t, 1, BUF_GPA + 3, 100, F_NEXT | F_WRITE, 2);
	tb_desc(t, 2, BUF_GPA + 2001, 412, F_NEXT | F_WRITE, 3);
	tb_desc(t, 3, STATUS_GPA, 1, F_WRITE, 0);
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	REQUIRE(tb_wait_used(t, 2));
	CHECK_EQ(*host(t, STATUS_GPA), VIRTIO_BLK_S_OK);
	CHECK_EQ(used_len(t, 1), 513);
	for (i = 0; i < 100; i++)
		if (!CHECK_EQ(*host(t, BUF_GPA + 3 + i), pattern(4 * 512 + i)))
			break;
	for (i = 0; i < 412; i++)
		if (!CHECK_EQ(*host(t, BUF_GPA + 2001 + i),
			      pattern(4 * 512 + 100 + i)))
			break;
	/* an unaligned write */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x3c);
	memcpy(host(t, BUF_GPA + 5), buf, sizeof(buf));
	put_hdr(t, VIRTIO_BLK_T_OUT, 9);
	tb_desc(t, 0, HDR_GPA, 16, F_NEXT, 1);
	tb_desc(t, 1, BUF_GPA + 5, sizeof(buf), F_NEXT, 2);
	tb_desc(t, 2, STATUS_GPA, 1, F_WRITE, 0);
	tb_avail(t, 0);
	virtio_notify(t->d, 0);
	REQUIRE(tb_wait_used(t, 3));
	CHECK_EQ(*host(t, STATUS_GPA), VIRTIO_BLK_S_OK);
	CHECK(file_matches(t->path, 9 * 512, buf, sizeof(buf)));
	tb_free(t);
}

/* Many requests at once, completed out of order, then a reset that must
 * wait for them. */
static void test_batch_reset(void)
{
	struct tb *t = tb_new_opts(false, false, true);
	unsigned int i;

	REQUIRE(t);
	put_hdr(t, VIRTIO_BLK_T_IN, 1);
	for (i = 0; i < 16; i++) {
		tb_desc(t, (uint16_t)(3 * i), HDR_GPA, 16, F_NEXT,
			(uint16_t)(3 * i + 1));
		tb_desc(t, (uint16_t)(3 * i + 1), BUF_GPA + 4096ULL * i, 4096,
			F_NEXT | F_WRITE, (uint16_t)(3 * i + 2));
		tb_desc(t, (uint16_t)(3 * i + 2), STATUS_GPA + i, 1, F_WRITE,
			0);
		*host(t, STATUS_GPA + i) = 0xee;
		tb_avail(t, (uint16_t)(3 * i));
	}
	virtio_notify(t->d, 0);
	virtio_set_status(t->d, 0); /* waits for in-flight requests */
	CHECK_EQ(get16(t, USED_GPA + 2), 16);
	for (i = 0; i < 16; i++)
		CHECK_EQ(*host(t, STATUS_GPA + i), VIRTIO_BLK_S_OK);
	CHECK_EQ(*host(t, BUF_GPA + 4096 * 15 + 9), pattern(512 + 9));
	tb_free(t);
}

static void engine_done(struct blkio_req *r, int result)
{
	int *res = r->opaque;

	__atomic_store_n(res, result, __ATOMIC_RELEASE);
}

static bool engine_wait(int *res)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		if (__atomic_load_n(res, __ATOMIC_ACQUIRE) != INT32_MIN)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Run one request with flags on b and wait for it: its result, or
 * INT32_MIN. */
static int engine_run_f(struct blkio *b, int op, unsigned int flags,
			struct iovec *iov, int cnt, uint64_t off, uint64_t len)
{
	int res = INT32_MIN;
	struct blkio_req r = { .op = op,
			       .flags = flags,
			       .iov = iov,
			       .iovcnt = cnt,
			       .offset = off,
			       .len = len,
			       .done = engine_done,
			       .opaque = &res };

	if (blkio_submit(b, &r))
		return -1000;
	return engine_wait(&res) ? res : INT32_MIN;
}

static int engine_run(struct blkio *b, int op, struct iovec *iov, int cnt,
		      uint64_t off, uint64_t len)
{
	return engine_run_f(b, op, 0, iov, cnt, off, len);
}

static void engine_test(enum blkio_engine engine)
{
	char path[64];
	uint8_t a[1000], c[24], back[1024];
	struct iovec iov[2] = { { a, sizeof(a) }, { c, sizeof(c) } };
	struct iovec rd = { back, sizeof(back) };
	int res[64];
	struct blkio_req reqs[64];
	static uint8_t many[64][512];
	struct iovec many_iov[64];
	struct blkio *b;
	unsigned int i;
	int fd;

	REQUIRE(!make_image(path, sizeof(path), 65536));
	fd = open(path, O_RDWR);
	unlink(path);
	REQUIRE(fd >= 0);
	if (!CHECK_EQ(blkio_create(&b, fd, engine, 4), 0)) {
		close(fd);
		return;
	}
	memset(a, 0x11, sizeof(a));
	memset(c, 0x22, sizeof(c));
	CHECK_EQ(engine_run(b, BLKIO_WRITE, iov, 2, 4096, 1024), 1024);
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 1, 4096, 1024), 1024);
	CHECK_EQ(back[999], 0x11);
	CHECK_EQ(back[1000], 0x22);
	CHECK_EQ(engine_run(b, BLKIO_FLUSH, NULL, 0, 0, 0), 0);
	CHECK_EQ(engine_run(b, BLKIO_WRITE_ZEROES, NULL, 0, 4096, 512), 0);
	CHECK_EQ(engine_run(b, BLKIO_DISCARD, NULL, 0, 4608, 512), 0);
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 1, 4096, 1024), 1024);
	for (i = 0; i < sizeof(back); i++)
		if (!CHECK_EQ(back[i], 0))
			break;
	/* reading past the end of the file is an error, not a hang */
	CHECK(engine_run(b, BLKIO_READ, &rd, 1, 65536 - 512, 1024) < 0);
	/* malformed requests are refused without a callback */
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 1, 0, 1000), -1000);
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 0, 0, 0), -1000);
	CHECK_EQ(engine_run(b, 42, NULL, 0, 0, 0), -1000);
	/* many at once; destroy drains them */
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		res[i] = INT32_MIN;
		many_iov[i] = (struct iovec){ many[i], sizeof(many[i]) };
		reqs[i] = (struct blkio_req){ .op = BLKIO_READ,
					      .iov = &many_iov[i],
					      .iovcnt = 1,
					      .offset = 512ULL * i,
					      .len = 512,
					      .done = engine_done,
					      .opaque = &res[i] };
		CHECK_EQ(blkio_submit(b, &reqs[i]), 0);
	}
	blkio_destroy(b);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		CHECK_EQ(res[i], 512);
		/* [4096, 5120) was zeroed above */
		CHECK_EQ(many[i][3],
			 i == 8 || i == 9 ? 0 : pattern(512 * i + 3));
	}
	close(fd);
}

static void test_engine_threads(void)
{
	engine_test(BLKIO_ENGINE_THREADS);
}

static void test_engine_aio(void)
{
	struct blkio *b;

	if (!blkio_have_aio()) {
		CHECK_EQ(blkio_create(&b, 0, BLKIO_ENGINE_AIO, 0), -ENOTSUP);
		return;
	}
	engine_test(BLKIO_ENGINE_AIO);
}

/* Counting stand-ins for the engine's sync calls (disk/blkio-priv.h). */
static unsigned int hook_syncs, hook_dsync_writes, hook_plain_writes;
static int hook_errno; /* pwritev2 fails with it when non-zero */

static int count_sync(int fd)
{
	__atomic_add_fetch(&hook_syncs, 1, __ATOMIC_RELAXED);
	return fdatasync(fd);
}

static ssize_t count_pwritev2(int fd, const struct iovec *iov, int cnt,
			      off_t off, int flags)
{
	if (!(flags & RWF_DSYNC))
		__atomic_add_fetch(&hook_plain_writes, 1, __ATOMIC_RELAXED);
	if (hook_errno) {
		errno = hook_errno;
		return -1;
	}
	__atomic_add_fetch(&hook_dsync_writes, 1, __ATOMIC_RELAXED);
	return pwritev2(fd, iov, cnt, off, flags);
}

/* A new engine on a fresh 64 KiB file, with the counting hooks. */
static struct blkio *dsync_engine(enum blkio_engine engine, int *fd)
{
	char path[64];
	struct blkio *b;

	hook_syncs = hook_dsync_writes = hook_plain_writes = 0;
	hook_errno = 0;
	if (make_image(path, sizeof(path), 65536))
		return NULL;
	*fd = open(path, O_RDWR);
	unlink(path);
	if (*fd < 0)
		return NULL;
	if (blkio_create(&b, *fd, engine, 2)) {
		close(*fd);
		return NULL;
	}
	b->hooks.sync = count_sync;
	b->hooks.pwritev2 = count_pwritev2;
	return b;
}

/*
 * FLUSH is one fdatasync; a WRITE with BLKIO_F_DSYNC is written with
 * RWF_DSYNC or followed by an fdatasync, never left in the page cache;
 * plain writes are neither. The counters say so.
 */
static void dsync_test(enum blkio_engine engine)
{
	uint8_t a[4096], back[4096];
	struct iovec w = { a, sizeof(a) }, rd = { back, sizeof(back) };
	struct blkio_stats st;
	struct blkio *b;
	int fd;

	b = dsync_engine(engine, &fd);
	REQUIRE(b);
	memset(a, 0x5a, sizeof(a));
	CHECK_EQ(engine_run(b, BLKIO_WRITE, &w, 1, 0, 4096), 4096);
	CHECK_EQ(hook_syncs + hook_dsync_writes, 0);
	CHECK_EQ(engine_run(b, BLKIO_FLUSH, NULL, 0, 0, 0), 0);
	CHECK_EQ(hook_syncs, 1);
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, BLKIO_F_DSYNC, &w, 1, 8192, 4096),
		 4096);
	/* threads: pwritev2(RWF_DSYNC); AIO: the iocb's RWF_DSYNC, or a
	 * worker's pwritev2 where the kernel refused it */
	if (engine == BLKIO_ENGINE_THREADS)
		CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_plain_writes, 0);
	CHECK_EQ(hook_syncs, 1);
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 1, 8192, 4096), 4096);
	CHECK(!memcmp(a, back, sizeof(a)));
	/* write-zeroes and discard are followed by an fdatasync */
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE_ZEROES, BLKIO_F_DSYNC, NULL, 0,
			      8192, 512),
		 0);
	CHECK_EQ(engine_run_f(b, BLKIO_DISCARD, BLKIO_F_DSYNC, NULL, 0, 12288,
			      4096),
		 0);
	CHECK_EQ(hook_syncs, 3);
	/* READ and FLUSH ignore the flag; unknown flags are refused */
	CHECK_EQ(engine_run_f(b, BLKIO_READ, BLKIO_F_DSYNC, &rd, 1, 0, 4096),
		 4096);
	CHECK_EQ(engine_run_f(b, BLKIO_FLUSH, BLKIO_F_DSYNC, NULL, 0, 0, 0), 0);
	CHECK_EQ(hook_syncs, 4);
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, 2, &w, 1, 0, 4096), -1000);
	blkio_get_stats(b, &st);
	CHECK_EQ(st.reads, 2);
	CHECK_EQ(st.writes, 2);
	CHECK_EQ(st.flushes, 2);
	CHECK_EQ(st.dsync_writes, 1);
	CHECK_EQ(st.syncs, hook_syncs);
	blkio_destroy(b);
	close(fd);
}

static void test_dsync_threads(void)
{
	dsync_test(BLKIO_ENGINE_THREADS);
}

static void test_dsync_aio(void)
{
	if (blkio_have_aio())
		dsync_test(BLKIO_ENGINE_AIO);
}

/* A host without RWF_DSYNC: a plain write and an fdatasync per request,
 * and pwritev2 is not tried again after EOPNOTSUPP. EINVAL (which may be
 * the request's own fault) falls back once but is tried again. */
static void test_dsync_fallback(void)
{
	uint8_t a[4096], back[4096];
	struct iovec w = { a, sizeof(a) }, rd = { back, sizeof(back) };
	struct blkio_stats st;
	struct blkio *b;
	int fd;

	b = dsync_engine(BLKIO_ENGINE_THREADS, &fd);
	REQUIRE(b);
	memset(a, 0xa5, sizeof(a));
	hook_errno = EINVAL;
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, BLKIO_F_DSYNC, &w, 1, 0, 4096),
		 4096);
	CHECK_EQ(hook_syncs, 1);
	hook_errno = 0;
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, BLKIO_F_DSYNC, &w, 1, 0, 4096),
		 4096);
	CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_syncs, 1);
	hook_errno = EOPNOTSUPP;
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, BLKIO_F_DSYNC, &w, 1, 4096, 4096),
		 4096);
	CHECK_EQ(hook_syncs, 2);
	hook_errno = 0; /* remembered: no more pwritev2 */
	CHECK_EQ(engine_run_f(b, BLKIO_WRITE, BLKIO_F_DSYNC, &w, 1, 8192, 4096),
		 4096);
	CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_syncs, 3);
	CHECK_EQ(engine_run(b, BLKIO_READ, &rd, 1, 8192, 4096), 4096);
	CHECK(!memcmp(a, back, sizeof(a)));
	blkio_get_stats(b, &st);
	CHECK_EQ(st.dsync_writes, 4);
	CHECK_EQ(st.syncs, 3);
	blkio_destroy(b);
	close(fd);
}

static void test_disk_open_errors(void)
{
	char path[64], err[256];
	struct disk *d1 = NULL, *d2 = NULL;
	int fd;

	CHECK_EQ(disk_open(&d1, "/nonexistent/lkvm.img", false, false, err,
			   sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/lkvm.img"));
	CHECK(!strchr(err, '\n'));

	snprintf(path, sizeof(path), "/tmp/lkvm-blk-odd-XXXXXX");
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	CHECK_EQ(ftruncate(fd, 1000), 0);
	close(fd);
	CHECK_EQ(disk_open(&d1, path, false, false, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "multiple of 512"));
	unlink(path);

	REQUIRE(!make_image(path, sizeof(path), 4096));
	REQUIRE(!disk_open(&d1, path, false, false, err, sizeof(err)));
	CHECK_EQ(disk_size(d1), 4096);
	CHECK(!disk_ro(d1) && !disk_direct(d1) && disk_fd(d1) >= 0);
	CHECK_EQ(disk_open(&d2, path, false, false, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "is in use by"));
	CHECK(strstr(err, path));
	CHECK_EQ(disk_open(&d2, path, true, false, err, sizeof(err)), -EBUSY);
	disk_close(d1);
	/* readers share */
	REQUIRE(!disk_open(&d1, path, true, false, err, sizeof(err)));
	CHECK_EQ(disk_open(&d2, path, true, false, err, sizeof(err)), 0);
	CHECK(disk_ro(d2));
	disk_close(d2);
	CHECK_EQ(disk_open(&d2, path, false, false, err, sizeof(err)), -EBUSY);
	disk_close(d1);
	unlink(path);
}

static void test_dio_align_rule(void)
{
	static const struct {
		struct disk_dio_probe p;
		uint32_t want;
	} c[] = {
		{ { 512, 512, 0 }, 512 },
		{ { 512, 4096, 512 }, 4096 }, /* statx wins over the device */
		{ { 4, 4096, 0 }, 4096 },
		{ { 8192, 4096, 0 }, 8192 }, /* the larger of the two */
		{ { 0, 4096, 0 }, 4096 },
		{ { 4, 64, 0 }, 512 }, /* never below a sector */
		{ { 0, 0, 4096 }, 4096 }, /* statx silent: the device */
		{ { 0, 0, 512 }, 512 },
		{ { 512, 0, 4096 }, 4096 }, /* offset 0: no direct I/O info */
		{ { 512, 3000, 0 }, 4096 }, /* not a power of two: ignored */
		{ { 3, 512, 1000 }, 4096 },
		{ { 0, 0, 0 }, DISK_DIO_FALLBACK },
	};
	unsigned int i;

	CHECK_EQ(DISK_DIO_FALLBACK, 4096);
	for (i = 0; i < ARRAY_SIZE(c); i++)
		if (!CHECK_EQ(disk_dio_align(&c[i].p), c[i].want))
			fprintf(stderr, "    case %u\n", i);
}

/* What the host says O_DIRECT on path needs, or 0 when it says nothing
 * and the file system has no block device under it (tmpfs). */
static uint32_t host_dio_align(const char *path, bool *known)
{
	struct statx stx;

	*known = false;
	if (statx(AT_FDCWD, path, 0, STATX_DIOALIGN, &stx))
		return 0;
	if ((stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		uint32_t a = stx.stx_dio_offset_align > stx.stx_dio_mem_align
				     ? stx.stx_dio_offset_align
				     : stx.stx_dio_mem_align;

		*known = true;
		return a < 512 ? 512 : a;
	}
	*known = stx.stx_dev_major == 0;
	return 0;
}

/* A direct image's block size is what the host needs, not a fixed 512. */
static void test_direct_file_align(void)
{
	static const char *const dirs[] = { "/tmp", "/dev/shm" };
	char path[64], err[256];
	struct disk *d;
	unsigned int i, tried = 0;
	uint32_t want;
	bool known;
	int fd;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/lkvm-blk-dio-XXXXXX", dirs[i]);
		fd = mkstemp(path);
		if (fd < 0)
			continue;
		CHECK_EQ(ftruncate(fd, 1 << 20), 0);
		close(fd);
		want = host_dio_align(path, &known);
		if (!known ||
		    disk_open(&d, path, false, true, err, sizeof(err))) {
			unlink(path); /* no O_DIRECT here, or not knowable */
			continue;
		}
		tried++;
		/* tmpfs says nothing and has no device: the safe 4096 */
		if (!CHECK_EQ(disk_block_size(d), want ? want : 4096))
			fprintf(stderr, "    on %s\n", dirs[i]);
		disk_close(d);
		/* without direct nothing is needed beyond a sector */
		REQUIRE(!disk_open(&d, path, false, false, err, sizeof(err)));
		CHECK_EQ(disk_block_size(d), 512);
		disk_close(d);
		unlink(path);
	}
	CHECK(tried > 0);
}

UNIT_SUITE(blk, UNIT_TEST(test_config), UNIT_TEST(test_read),
	   UNIT_TEST(test_write), UNIT_TEST(test_write_through),
	   UNIT_TEST(test_get_id), UNIT_TEST(test_range), UNIT_TEST(test_ro),
	   UNIT_TEST(test_split_header), UNIT_TEST(test_malformed),
	   UNIT_TEST(test_unsupp), UNIT_TEST(test_discard_write_zeroes),
	   UNIT_TEST(test_direct_unaligned), UNIT_TEST(test_batch_reset),
	   UNIT_TEST(test_engine_threads), UNIT_TEST(test_engine_aio),
	   UNIT_TEST(test_disk_open_errors), UNIT_TEST(test_dio_align_rule),
	   UNIT_TEST(test_direct_file_align), UNIT_TEST(test_dsync_threads),
	   UNIT_TEST(test_dsync_aio), UNIT_TEST(test_dsync_fallback));
