// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the raw disk backend (disk/raw.c) and its blkio engines,
 * on small temporary files. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/blkio-priv.h"
#include "lkvm/blkio.h"
#include "lkvm/compiler.h"
#include "lkvm/disk-raw.h"
#include "unit.h"

#define WAIT_S 5 /* a completion later than this is a hang */

/* A temporary disk image of size bytes, filled with pattern(offset). */
static int make_image(char *path, size_t len, uint64_t size)
{
	uint8_t buf[4096];
	uint64_t off;
	int fd;
	size_t i;

	snprintf(path, len, "/tmp/lkvm-disk-raw-unit-XXXXXX");
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

/* Completions arrive on engine threads: each stores its status in the
 * int its opaque points to (INT32_MIN until then) and wakes the waiter. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static void engine_done(struct disk_req *r, int status)
{
	int *res = r->opaque;

	pthread_mutex_lock(&done_lock);
	*res = status;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

/* Block (no polling) until *res is set, at most WAIT_S seconds. */
static bool engine_wait(int *res)
{
	struct timespec dl;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_S;
	pthread_mutex_lock(&done_lock);
	while (*res == INT32_MIN && ok)
		ok = pthread_cond_timedwait(&done_cond, &done_lock, &dl) == 0;
	ok = *res != INT32_MIN;
	pthread_mutex_unlock(&done_lock);
	return ok;
}

/* Run one request with flags on b and wait for it: its status, -1000 when
 * refused, or INT32_MIN when it did not complete in time. */
static int engine_run_f(struct blkio *b, int op, unsigned int flags,
			struct iovec *iov, int cnt, uint64_t off, uint64_t len)
{
	int res = INT32_MIN;
	struct disk_req r = { .op = op,
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
	struct disk_req reqs[64];
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
	CHECK_EQ(engine_run(b, DISK_OP_WRITE, iov, 2, 4096, 1024), 0);
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 1, 4096, 1024), 0);
	CHECK_EQ(back[999], 0x11);
	CHECK_EQ(back[1000], 0x22);
	CHECK_EQ(engine_run(b, DISK_OP_FLUSH, NULL, 0, 0, 0), 0);
	CHECK_EQ(engine_run(b, DISK_OP_WRITE_ZEROES, NULL, 0, 4096, 512), 0);
	CHECK_EQ(engine_run(b, DISK_OP_DISCARD, NULL, 0, 4608, 512), 0);
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 1, 4096, 1024), 0);
	for (i = 0; i < sizeof(back); i++)
		if (!CHECK_EQ(back[i], 0))
			break;
	/* reading past the end of the file is an error, not a hang */
	CHECK(engine_run(b, DISK_OP_READ, &rd, 1, 65536 - 512, 1024) < 0);
	/* malformed requests are refused without a callback */
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 1, 0, 1000), -1000);
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 0, 0, 0), -1000);
	CHECK_EQ(engine_run(b, 42, NULL, 0, 0, 0), -1000);
	/* many at once; destroy drains them */
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		res[i] = INT32_MIN;
		many_iov[i] = (struct iovec){ many[i], sizeof(many[i]) };
		reqs[i] = (struct disk_req){ .op = DISK_OP_READ,
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
		CHECK_EQ(res[i], 0);
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
 * FLUSH is one fdatasync; a WRITE with DISK_REQ_DSYNC is written with
 * RWF_DSYNC or followed by an fdatasync, never left in the page cache;
 * plain writes are neither. The counters say so.
 */
static void dsync_test(enum blkio_engine engine)
{
	uint8_t a[4096], back[4096];
	struct iovec w = { a, sizeof(a) }, rd = { back, sizeof(back) };
	struct disk_stats st;
	struct blkio *b;
	int fd;

	b = dsync_engine(engine, &fd);
	REQUIRE(b);
	memset(a, 0x5a, sizeof(a));
	CHECK_EQ(engine_run(b, DISK_OP_WRITE, &w, 1, 0, 4096), 0);
	CHECK_EQ(hook_syncs + hook_dsync_writes, 0);
	CHECK_EQ(engine_run(b, DISK_OP_FLUSH, NULL, 0, 0, 0), 0);
	CHECK_EQ(hook_syncs, 1);
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, DISK_REQ_DSYNC, &w, 1, 8192,
			      4096),
		 0);
	/* threads: pwritev2(RWF_DSYNC); AIO: the iocb's RWF_DSYNC, or a
	 * worker's pwritev2 where the kernel refused it */
	if (engine == BLKIO_ENGINE_THREADS)
		CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_plain_writes, 0);
	CHECK_EQ(hook_syncs, 1);
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 1, 8192, 4096), 0);
	CHECK(!memcmp(a, back, sizeof(a)));
	/* write-zeroes and discard are followed by an fdatasync */
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE_ZEROES, DISK_REQ_DSYNC, NULL, 0,
			      8192, 512),
		 0);
	CHECK_EQ(engine_run_f(b, DISK_OP_DISCARD, DISK_REQ_DSYNC, NULL, 0,
			      12288, 4096),
		 0);
	CHECK_EQ(hook_syncs, 3);
	/* READ and FLUSH ignore the flag; unknown flags are refused */
	CHECK_EQ(engine_run_f(b, DISK_OP_READ, DISK_REQ_DSYNC, &rd, 1, 0, 4096),
		 0);
	CHECK_EQ(engine_run_f(b, DISK_OP_FLUSH, DISK_REQ_DSYNC, NULL, 0, 0, 0),
		 0);
	CHECK_EQ(hook_syncs, 4);
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, 2, &w, 1, 0, 4096), -1000);
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
	struct disk_stats st;
	struct blkio *b;
	int fd;

	b = dsync_engine(BLKIO_ENGINE_THREADS, &fd);
	REQUIRE(b);
	memset(a, 0xa5, sizeof(a));
	hook_errno = EINVAL;
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, DISK_REQ_DSYNC, &w, 1, 0, 4096),
		 0);
	CHECK_EQ(hook_syncs, 1);
	hook_errno = 0;
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, DISK_REQ_DSYNC, &w, 1, 0, 4096),
		 0);
	CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_syncs, 1);
	hook_errno = EOPNOTSUPP;
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, DISK_REQ_DSYNC, &w, 1, 4096,
			      4096),
		 0);
	CHECK_EQ(hook_syncs, 2);
	hook_errno = 0; /* remembered: no more pwritev2 */
	CHECK_EQ(engine_run_f(b, DISK_OP_WRITE, DISK_REQ_DSYNC, &w, 1, 8192,
			      4096),
		 0);
	CHECK_EQ(hook_dsync_writes, 1);
	CHECK_EQ(hook_syncs, 3);
	CHECK_EQ(engine_run(b, DISK_OP_READ, &rd, 1, 8192, 4096), 0);
	CHECK(!memcmp(a, back, sizeof(a)));
	blkio_get_stats(b, &st);
	CHECK_EQ(st.dsync_writes, 4);
	CHECK_EQ(st.syncs, 3);
	blkio_destroy(b);
	close(fd);
}

static int raw_open_engine(struct disk **d, const char *path, bool ro,
			   bool direct, enum blkio_engine engine, char *err,
			   size_t errlen)
{
	struct disk_raw_opts o = { .ro = ro,
				   .direct = direct,
				   .engine = engine };

	return disk_raw_open(d, path, &o, err, errlen);
}

static int raw_open(struct disk **d, const char *path, bool ro, bool direct,
		    char *err, size_t errlen)
{
	return raw_open_engine(d, path, ro, direct, BLKIO_ENGINE_THREADS, err,
			       errlen);
}

static void test_disk_open_errors(void)
{
	char path[64], err[256];
	struct disk *d1 = NULL, *d2 = NULL;
	int fd;

	CHECK_EQ(raw_open(&d1, "/nonexistent/lkvm.img", false, false, err,
			  sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/lkvm.img"));
	CHECK(!strchr(err, '\n'));

	snprintf(path, sizeof(path), "/tmp/lkvm-blk-odd-XXXXXX");
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	CHECK_EQ(ftruncate(fd, 1000), 0);
	close(fd);
	CHECK_EQ(raw_open(&d1, path, false, false, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "multiple of 512"));
	unlink(path);

	REQUIRE(!make_image(path, sizeof(path), 4096));
	REQUIRE(!raw_open(&d1, path, false, false, err, sizeof(err)));
	CHECK_EQ(disk_size(d1), 4096);
	CHECK(!disk_ro(d1) && !disk_raw_direct(d1));
	CHECK_EQ(disk_caps(d1), DISK_CAP_DISCARD | DISK_CAP_WRITE_ZEROES);
	/* the basename, cut to 20 bytes */
	CHECK_EQ(strlen(disk_serial(d1)), 20);
	CHECK(!strncmp(disk_serial(d1), strrchr(path, '/') + 1, 20));
	CHECK_EQ(raw_open(&d2, path, false, false, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "is in use by"));
	CHECK(strstr(err, path));
	CHECK_EQ(raw_open(&d2, path, true, false, err, sizeof(err)), -EBUSY);
	disk_close(d1);
	/* readers share */
	REQUIRE(!raw_open(&d1, path, true, false, err, sizeof(err)));
	CHECK_EQ(raw_open(&d2, path, true, false, err, sizeof(err)), 0);
	CHECK(disk_ro(d2));
	CHECK_EQ(disk_caps(d2), 0);
	disk_close(d2);
	CHECK_EQ(raw_open(&d2, path, false, false, err, sizeof(err)), -EBUSY);
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
		    raw_open(&d, path, false, true, err, sizeof(err))) {
			unlink(path); /* no O_DIRECT here, or not knowable */
			continue;
		}
		tried++;
		/* tmpfs says nothing and has no device: the safe 4096 */
		if (!CHECK_EQ(disk_block_size(d), want ? want : 4096))
			fprintf(stderr, "    on %s\n", dirs[i]);
		disk_close(d);
		/* without direct nothing is needed beyond a sector */
		REQUIRE(!raw_open(&d, path, false, false, err, sizeof(err)));
		CHECK_EQ(disk_block_size(d), 512);
		disk_close(d);
		unlink(path);
	}
	CHECK(tried > 0);
}

/* Run r on d and wait for it: its status, the refusal, or INT32_MIN. */
static int raw_run(struct disk *d, int op, unsigned int flags,
		   struct iovec *iov, int cnt, uint64_t off, uint64_t len)
{
	int res = INT32_MIN, ret;
	struct disk_req r = { .op = op,
			      .flags = flags,
			      .iov = iov,
			      .iovcnt = cnt,
			      .offset = off,
			      .len = len,
			      .done = engine_done,
			      .opaque = &res };

	ret = disk_submit(d, &r);
	if (ret)
		return ret;
	return engine_wait(&res) ? res : INT32_MIN;
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

/* The raw backend through the disk interface, on either engine. */
static void raw_interface_test(enum blkio_engine engine)
{
	static uint8_t many[16][512];
	uint8_t a[1000], c[24], back[1024];
	struct iovec iov[2] = { { a, sizeof(a) }, { c, sizeof(c) } };
	struct iovec rd = { back, sizeof(back) }, many_iov[16];
	struct disk_req reqs[16];
	char path[64], err[256];
	struct disk_stats st;
	struct disk *d;
	int res[16];
	unsigned int i;

	REQUIRE(!make_image(path, sizeof(path), 65536));
	if (!CHECK_EQ(raw_open_engine(&d, path, false, false, engine, err,
				      sizeof(err)),
		      0)) {
		unlink(path);
		return;
	}
	CHECK_STR(d->ops->name, "raw");
	memset(a, 0x11, sizeof(a));
	memset(c, 0x22, sizeof(c));
	CHECK_EQ(raw_run(d, DISK_OP_WRITE, 0, iov, 2, 4096, 1024), 0);
	CHECK(file_matches(path, 4096, a, sizeof(a)));
	CHECK(file_matches(path, 4096 + sizeof(a), c, sizeof(c)));
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, &rd, 1, 4096, 1024), 0);
	CHECK_EQ(back[999], 0x11);
	CHECK_EQ(back[1000], 0x22);
	CHECK_EQ(raw_run(d, DISK_OP_FLUSH, 0, NULL, 0, 0, 0), 0);
	CHECK_EQ(disk_flush(d), 0);
	CHECK_EQ(raw_run(d, DISK_OP_WRITE_ZEROES, DISK_REQ_DSYNC, NULL, 0, 4096,
			 512),
		 0);
	CHECK_EQ(raw_run(d, DISK_OP_DISCARD, 0, NULL, 0, 4608, 512), 0);
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, &rd, 1, 4096, 1024), 0);
	for (i = 0; i < sizeof(back); i++)
		if (!CHECK_EQ(back[i], 0))
			break;
	/* the checks every backend gets: range, buffers, op */
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, &rd, 1, 65536 - 512, 1024),
		 -EINVAL);
	CHECK_EQ(raw_run(d, DISK_OP_DISCARD, 0, NULL, 0, UINT64_MAX - 511, 512),
		 -EINVAL);
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, &rd, 1, 0, 512), -EINVAL);
	CHECK_EQ(raw_run(d, 7, 0, NULL, 0, 0, 0), -EINVAL);
	disk_get_stats(d, &st);
	CHECK_EQ(st.reads, 2);
	CHECK_EQ(st.writes, 1);
	CHECK_EQ(st.flushes, 1);
	CHECK_EQ(st.syncs, 3); /* FLUSH, disk_flush(), WRITE_ZEROES+DSYNC */
	CHECK_EQ(st.dsync_writes, 0);
	/* closing waits for the requests in flight */
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		res[i] = INT32_MIN;
		many_iov[i] = (struct iovec){ many[i], sizeof(many[i]) };
		reqs[i] = (struct disk_req){ .op = DISK_OP_READ,
					     .iov = &many_iov[i],
					     .iovcnt = 1,
					     .offset = 8192 + 512ULL * i,
					     .len = 512,
					     .done = engine_done,
					     .opaque = &res[i] };
		CHECK_EQ(disk_submit(d, &reqs[i]), 0);
	}
	disk_close(d);
	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		CHECK_EQ(res[i], 0);
		CHECK_EQ(many[i][5], pattern(8192 + 512 * i + 5));
	}
	/* read-only: changes are refused before the backend */
	REQUIRE(!raw_open(&d, path, true, false, err, sizeof(err)));
	CHECK_EQ(raw_run(d, DISK_OP_WRITE, 0, &rd, 1, 0, 1024), -EROFS);
	CHECK_EQ(raw_run(d, DISK_OP_WRITE_ZEROES, 0, NULL, 0, 0, 512), -EROFS);
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, &rd, 1, 0, 1024), 0);
	CHECK_EQ(back[3], pattern(3));
	disk_close(d);
	unlink(path);
}

static void test_raw_threads(void)
{
	raw_interface_test(BLKIO_ENGINE_THREADS);
}

/* AIO where the build has it; the threads otherwise. */
static void test_raw_aio(void)
{
	raw_interface_test(BLKIO_ENGINE_AIO);
}

/*
 * O_DIRECT: offsets and lengths must be aligned; unaligned buffers are
 * bounced through an aligned copy, up to DISK_RAW_BOUNCE_MAX.
 */
static void test_raw_direct_bounce(void)
{
	static uint8_t big[DISK_RAW_BOUNCE_MAX + 4096];
	uint8_t *buf = malloc(4096 + 8);
	char path[64], err[256];
	struct iovec v[2];
	struct disk *d;
	unsigned int i;

	REQUIRE(buf);
	REQUIRE(!make_image(path, sizeof(path), 8 << 20));
	if (raw_open(&d, path, false, true, err, sizeof(err))) {
		fprintf(stderr, "    skipped: no O_DIRECT on /tmp: %s\n", err);
		goto out;
	}
	CHECK(disk_raw_direct(d));
	if (disk_block_size(d) != 512) {
		/* the sector-sized requests below need a 512-byte host */
		fprintf(stderr, "    skipped: /tmp needs %u-byte direct I/O\n",
			disk_block_size(d));
		goto out_close;
	}
	/* unaligned buffers: bounced */
	v[0] = (struct iovec){ buf + 3, 100 };
	v[1] = (struct iovec){ buf + 2001, 412 };
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, v, 2, 4 * 512, 512), 0);
	for (i = 0; i < 100; i++)
		if (!CHECK_EQ(buf[3 + i], pattern(4 * 512 + i)))
			break;
	for (i = 0; i < 412; i++)
		if (!CHECK_EQ(buf[2001 + i], pattern(4 * 512 + 100 + i)))
			break;
	for (i = 0; i < 1024; i++)
		buf[5 + i] = (uint8_t)(i ^ 0x3c);
	v[0] = (struct iovec){ buf + 5, 1024 };
	CHECK_EQ(raw_run(d, DISK_OP_WRITE, 0, v, 1, 9 * 512, 1024), 0);
	CHECK(file_matches(path, 9 * 512, buf + 5, 1024));
	/* unaligned offset or length: refused */
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, v, 1, 9 * 512 + 1, 1024), -EINVAL);
	v[0].iov_len = 1000;
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, v, 1, 9 * 512, 1000), -EINVAL);
	/* an unaligned buffer too big to bounce */
	v[0] = (struct iovec){ big + 1, DISK_RAW_BOUNCE_MAX + 512 };
	CHECK_EQ(
		raw_run(d, DISK_OP_READ, 0, v, 1, 0, DISK_RAW_BOUNCE_MAX + 512),
		-EINVAL);
	/* aligned buffers: no bounce, any size */
	v[0] = (struct iovec){ big + 4096 - ((uintptr_t)big % 4096),
			       DISK_RAW_BOUNCE_MAX };
	if ((uintptr_t)big % 4096 == 0)
		v[0].iov_base = big;
	CHECK_EQ(raw_run(d, DISK_OP_READ, 0, v, 1, 0, DISK_RAW_BOUNCE_MAX), 0);
	CHECK_EQ(((uint8_t *)v[0].iov_base)[700], pattern(700));
out_close:
	disk_close(d);
out:
	unlink(path);
	free(buf);
}

UNIT_SUITE(disk_raw, UNIT_TEST(test_engine_threads), UNIT_TEST(test_engine_aio),
	   UNIT_TEST(test_dsync_threads), UNIT_TEST(test_dsync_aio),
	   UNIT_TEST(test_dsync_fallback), UNIT_TEST(test_disk_open_errors),
	   UNIT_TEST(test_dio_align_rule), UNIT_TEST(test_direct_file_align),
	   UNIT_TEST(test_raw_threads), UNIT_TEST(test_raw_aio),
	   UNIT_TEST(test_raw_direct_bounce));
