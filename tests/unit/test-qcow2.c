// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the qcow2 backend (disk/qcow2.c, disk/qcow2-map.c) and
 * disk_open()'s format detection, on temporary images that qemu-img makes
 * and judges: after lkvm writes, `qemu-img check` must be clean and
 * `qemu-img compare` must match the expected raw content. Skipped, with a
 * line saying so, when qemu-img is not installed.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/disk-open.h"
#include "lkvm/compiler.h"
#include "lkvm/disk-qcow2.h"
#include "unit.h"

#define MiB (1024u * 1024u)

static char dir[64];

static bool have_qemu_img(void)
{
	static int have = -1;

	if (have < 0) {
		have = !system("qemu-img --version >/dev/null 2>&1");
		if (!have)
			printf("SKIP qcow2 tests that need qemu-img: not "
			       "installed (apt-get install qemu-utils)\n");
	}
	return have;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command in the test directory; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	int n, st;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd %s && (", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n - 16, fmt, ap);
	va_end(ap);
	strcat(cmd, ") >/dev/null 2>&1");
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *path_of(const char *name)
{
	static char p[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static bool setup(void)
{
	if (!have_qemu_img())
		return false;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/lkvm-qcow2-unit-XXXXXX");
		if (!mkdtemp(dir))
			return false;
	}
	sh("rm -f *");
	return true;
}

/* Known content: a pattern, with zero stretches qemu-img leaves out. */
static void fill(uint8_t *buf, uint64_t len, unsigned int seed)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		buf[i] = (i / 4096) % 5 == 3
				 ? 0
				 : (uint8_t)(i * 13 + i / 511 + seed);
}

static int save(const char *name, const uint8_t *buf, uint64_t len)
{
	int fd = open(path_of(name), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* Synchronous requests. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int status;
};

static void wait_done(struct disk_req *r, int status)
{
	struct waiter *w = r->opaque;

	pthread_mutex_lock(&w->lock);
	w->status = status;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int io(struct disk *d, int op, uint64_t off, void *buf, uint64_t len)
{
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
			    false, 0 };
	struct iovec iov[2];
	struct disk_req r = { .op = op,
			      .offset = off,
			      .len = len,
			      .done = wait_done,
			      .opaque = &w };
	int ret;

	/* two iovecs, split unevenly, to walk the gather/scatter */
	iov[0].iov_base = buf;
	iov[0].iov_len = len / 3;
	iov[1].iov_base = (uint8_t *)buf + len / 3;
	iov[1].iov_len = len - len / 3;
	r.iov = iov[0].iov_len ? iov : iov + 1;
	r.iovcnt = iov[0].iov_len ? 2 : 1;
	ret = disk_submit(d, &r);
	if (ret)
		return ret;
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	return w.status;
}

static struct disk *open_img(const char *name, bool ro)
{
	struct disk_open_opts o = { .ro = ro };
	struct disk *d = NULL;
	char err[512];

	if (disk_open(&d, path_of(name), &o, err, sizeof(err))) {
		printf("  open %s: %s\n", name, err);
		return NULL;
	}
	return d;
}

/* The whole disk reads back as want. */
static bool read_matches(struct disk *d, const uint8_t *want, uint64_t size)
{
	uint64_t chunk = 192 * 1024 + 512, off, n;
	uint8_t *buf = malloc(chunk);
	bool ok = true;

	for (off = 0; ok && off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		ok = !io(d, DISK_OP_READ, off, buf, n) &&
		     !memcmp(buf, want + off, n);
		if (!ok)
			printf("  mismatch in [%llu, +%llu)\n",
			       (unsigned long long)off, (unsigned long long)n);
	}
	free(buf);
	return ok;
}

static void test_read_formats(void)
{
	static const char *const opts[] = {
		"compat=0.10,cluster_size=512",
		"compat=0.10,cluster_size=65536",
		"compat=1.1,cluster_size=512",
		"compat=1.1,cluster_size=65536",
		"compat=1.1,cluster_size=2097152",
	};
	const uint64_t size = 5 * MiB;
	uint8_t *want = malloc(size);
	unsigned int i, c;

	if (!setup())
		goto out;
	fill(want, size, 1);
	REQUIRE(!save("base.raw", want, size));
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		for (c = 0; c < 2; c++) {
			struct disk *d;

			CHECK(!sh("qemu-img convert -f raw -O qcow2 %s -o %s "
				  "base.raw t.qcow2",
				  c ? "-c" : "", opts[i]));
			d = open_img("t.qcow2", true);
			if (!CHECK(d))
				continue;
			CHECK_EQ(disk_size(d), size);
			CHECK(!strcmp(d->ops->name, "qcow2"));
			if (!CHECK(read_matches(d, want, size)))
				printf("  with %s%s\n", opts[i],
				       c ? " compressed" : "");
			disk_close(d);
		}
	}
out:
	free(want);
}

/* Writes at cluster boundaries and inside clusters, mirrored in want. */
static void write_pattern(struct disk *d, uint8_t *want, uint64_t size,
			  unsigned int seed)
{
	static const uint64_t at[][2] = {
		{ 0, 512 },
		{ 512, 1024 },
		{ 4096, 4096 },
		{ 65536 - 512, 1024 },
		{ 100 * 1024, 300 * 1024 },
		{ 2 * MiB - 512, 2048 },
		{ 3 * MiB, 64 * 1024 },
		{ 3 * MiB + 4096, 512 },
	};
	uint8_t *buf = malloc(512 * 1024);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(at); i++) {
		if (at[i][0] + at[i][1] > size)
			continue;
		fill(buf, at[i][1], seed + i);
		memset(buf, 0x5a + i, 16); /* never all zero */
		CHECK(!io(d, DISK_OP_WRITE, at[i][0], buf, at[i][1]));
		memcpy(want + at[i][0], buf, at[i][1]);
	}
	free(buf);
}

/* qemu-img's verdict on name against the expected content. */
static void judge(const char *name, const uint8_t *want, uint64_t size)
{
	CHECK(!save("want.raw", want, size));
	CHECK_EQ(sh("qemu-img check -f qcow2 %s", name), 0);
	CHECK_EQ(sh("qemu-img compare -f qcow2 -F raw %s want.raw", name), 0);
}

static void write_and_judge(const char *create, const char *what)
{
	const uint64_t size = 4 * MiB;
	uint8_t *want = calloc(1, size);
	struct disk *d;

	CHECK(!sh("qemu-img create -f qcow2 %s t.qcow2 4M", create));
	d = open_img("t.qcow2", false);
	if (!CHECK(d))
		goto out;
	write_pattern(d, want, size, 7);
	CHECK(read_matches(d, want, size));
	CHECK(!disk_flush(d));
	write_pattern(d, want, size, 9); /* in place this time */
	disk_close(d);
	judge("t.qcow2", want, size);
	d = open_img("t.qcow2", true);
	if (CHECK(d)) {
		CHECK(read_matches(d, want, size));
		disk_close(d);
	}
	printf("  checked %s\n", what);
out:
	free(want);
}

static void test_write_formats(void)
{
	if (!setup())
		return;
	write_and_judge("-o compat=0.10,cluster_size=512", "v2 512");
	write_and_judge("-o compat=0.10", "v2 64K");
	write_and_judge("-o cluster_size=512", "v3 512");
	write_and_judge("", "v3 64K");
	write_and_judge("-o cluster_size=2M", "v3 2M");
	write_and_judge("-o refcount_bits=1", "v3 refcount_bits=1");
	write_and_judge("-o refcount_bits=2,cluster_size=4096", "refcount 2");
	write_and_judge("-o refcount_bits=4", "v3 refcount_bits=4");
	write_and_judge("-o refcount_bits=8,cluster_size=512", "refcount 8");
	write_and_judge("-o refcount_bits=32", "v3 refcount_bits=32");
	write_and_judge("-o refcount_bits=64,cluster_size=1024", "refcount 64");
}

/* A two-table L2 cache over 512-byte clusters (one table maps 32 KiB):
 * nearly every write evicts a dirty table, so write-back runs in the
 * middle of allocations. */
static void test_small_l2_cache(void)
{
	struct disk_qcow2_opts o = { .l2_cache_bytes = 1 };
	const uint64_t size = 4 * MiB;
	uint8_t *want = calloc(1, size);
	struct disk *d = NULL;
	char err[256];

	if (!setup())
		goto out;
	CHECK(!sh("qemu-img create -f qcow2 -o cluster_size=512 t.qcow2 4M"));
	if (!CHECK(!disk_qcow2_open(&d, path_of("t.qcow2"), &o, err,
				    sizeof(err))))
		goto out;
	write_pattern(d, want, size, 21);
	CHECK(read_matches(d, want, size));
	CHECK(!io(d, DISK_OP_DISCARD, 64 * 1024, NULL, 64 * 1024));
	memset(want + 64 * 1024, 0, 64 * 1024);
	write_pattern(d, want, size, 23);
	disk_close(d);
	judge("t.qcow2", want, size);
out:
	free(want);
}

/* Sequential writes of n bytes in odd-sized requests from off, so that
 * request boundaries fall everywhere relative to cluster and refcount
 * block boundaries. */
static void write_seq(struct disk *d, uint8_t *want, uint64_t off, uint64_t n,
		      unsigned int seed)
{
	const uint64_t chunk = 7 * 512 * 9;
	uint8_t *buf = malloc(chunk);
	uint64_t k;

	for (; n; off += k, n -= k) {
		k = n < chunk ? n : chunk;
		fill(buf, k, seed++);
		buf[0] = 0xa5; /* never a whole zero cluster */
		if (!CHECK(!io(d, DISK_OP_WRITE, off, buf, k)))
			break;
		memcpy(want + off, buf, k);
	}
	free(buf);
}

/* A big-endian 32-bit field of name's header. */
static uint32_t peek32(const char *name, uint64_t off)
{
	uint8_t b[4] = { 0 };
	int fd = open(path_of(name), O_RDONLY);

	if (fd >= 0 && pread(fd, b, 4, (off_t)off) != 4)
		memset(b, 0, 4);
	if (fd >= 0)
		close(fd);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* Allocation beyond what the refcount table covers: the table grows
 * (repeatedly with 64-bit refcounts, which cover 2 MiB per table cluster
 * of 512 bytes), across reopening, with a small L2 cache, and the result
 * is clean with no leaks (the old tables freed). */
static void grow_one(const char *create, uint64_t size, uint64_t cache)
{
	struct disk_qcow2_opts o = { .l2_cache_bytes = cache };
	uint8_t *want = calloc(1, size);
	struct disk *d = NULL;
	char err[256];

	CHECK(!sh("qemu-img create -f qcow2 -o %s t.qcow2 %llu", create,
		  (unsigned long long)size));
	if (!CHECK(!disk_qcow2_open(&d, path_of("t.qcow2"), &o, err,
				    sizeof(err))))
		goto out;
	write_seq(d, want, 0, size / 2, 1);
	CHECK(!disk_flush(d));
	disk_close(d);
	judge("t.qcow2", want, size);
	if (!CHECK(!disk_qcow2_open(&d, path_of("t.qcow2"), &o, err,
				    sizeof(err))))
		goto out;
	write_seq(d, want, size / 2, size / 2, 3);
	write_seq(d, want, size / 4, size / 8, 5); /* in place */
	CHECK(read_matches(d, want, size));
	disk_close(d);
	judge("t.qcow2", want, size);
	CHECK(peek32("t.qcow2", 56) > 1); /* refcount_table_clusters */
	printf("  grew the refcount table of %s to %u clusters\n", create,
	       peek32("t.qcow2", 56));
out:
	free(want);
}

static void test_refcount_growth(void)
{
	if (!setup())
		return;
	/* 16-bit refcounts: one table cluster covers 8 MiB */
	grow_one("cluster_size=512", 20 * MiB, 0);
	grow_one("cluster_size=512,compat=0.10", 12 * MiB, 1);
	/* 64-bit: 2 MiB per table cluster; grows 1 -> 2 -> 4 -> 8 -> 16 */
	grow_one("cluster_size=512,refcount_bits=64", 24 * MiB, 0);
	/* 32-bit: 4 MiB, the tables and blocks straddle block boundaries */
	grow_one("cluster_size=512,refcount_bits=32", 16 * MiB, 4096);
}

/* The child of test_kill_loop: writes chunk after chunk from chunk i,
 * flushing after each and reporting its number on fd once flushed. */
static void __attribute__((noreturn))
kill_child(int fd, uint64_t size, uint64_t chunk, uint64_t i)
{
	struct disk_qcow2_opts o = { .inline_io = true, .l2_cache_bytes = 1 };
	uint8_t *buf = malloc(chunk);
	struct disk *d = NULL;
	char err[256];

	if (!buf ||
	    disk_qcow2_open(&d, path_of("k.qcow2"), &o, err, sizeof(err)))
		_exit(2);
	for (;; i = (i + 1) % (size / chunk)) {
		fill(buf, chunk, (unsigned int)i);
		buf[0] = 0xa5;
		if (io(d, DISK_OP_WRITE, i * chunk, buf, chunk) ||
		    disk_flush(d) || write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(3);
	}
}

/* The child's kill loop's check: qemu-img check finds no corruption
 * (leaks allowed) and the disk reads as want, except chunk skip (being
 * written when the child died), which is taken as it reads. */
static void kill_check(uint8_t *want, uint64_t size, uint64_t chunk,
		       uint64_t skip, int gen)
{
	uint8_t *got = malloc(chunk);
	struct disk *d;
	uint64_t i;
	int st = sh("qemu-img check k.qcow2");

	if (!CHECK(st == 0 || st == 3))
		printf("  kill %d: qemu-img check says %d\n", gen, st);
	d = open_img("k.qcow2", true);
	if (!CHECK(d))
		goto out;
	for (i = 0; i < size / chunk; i++) {
		CHECK(!io(d, DISK_OP_READ, i * chunk, got, chunk));
		if (i == skip)
			memcpy(want + i * chunk, got, chunk);
		else if (!CHECK(!memcmp(got, want + i * chunk, chunk)))
			printf("  kill %d: chunk %llu lost\n", gen,
			       (unsigned long long)i);
	}
	disk_close(d);
out:
	free(got);
}

/*
 * SIGKILL at random moments while a process writes, flushes and grows the
 * refcount table (512-byte clusters, 64-bit refcounts, a two-table L2
 * cache): each time qemu-img check finds no corruption (leaks allowed)
 * and every chunk reported flushed reads back.
 */
static void test_kill_loop(void)
{
	const uint64_t size = 6 * MiB, chunk = 40 * 1024;
	uint8_t *want = calloc(1, size);
	uint64_t next = 0, i, n = 0;
	int gen, fds[2], st;
	pid_t pid;

	if (!setup())
		goto out;
	srand(1234);
	CHECK(!sh("qemu-img create -f qcow2 -o cluster_size=512,"
		  "refcount_bits=64 k.qcow2 6M"));
	for (gen = 0; gen < 16; gen++) {
		REQUIRE(!pipe(fds));
		pid = fork();
		REQUIRE(pid >= 0);
		if (!pid) {
			close(fds[0]);
			kill_child(fds[1], size, chunk, next);
		}
		close(fds[1]);
		usleep((useconds_t)(20000 + rand() % 300000));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		CHECK(WIFSIGNALED(st));
		/* what was reported flushed is what the file must hold */
		while (read(fds[0], &i, sizeof(i)) == sizeof(i)) {
			fill(want + i * chunk, chunk, (unsigned int)i);
			want[i * chunk] = 0xa5;
			next = (i + 1) % (size / chunk);
			n++;
		}
		close(fds[0]);
		kill_check(want, size, chunk, next, gen);
	}
	printf("  16 kills, %llu chunks flushed, refcount table %u clusters\n",
	       (unsigned long long)n, peek32("k.qcow2", 56));
	CHECK(peek32("k.qcow2", 56) > 1);
out:
	free(want);
}

/* Partial writes over compressed clusters: copy-on-write from inflated
 * data, the compressed clusters' references dropped. */
static void test_write_compressed(void)
{
	const uint64_t size = 4 * MiB;
	uint8_t *want = malloc(size);
	struct disk *d;

	if (!setup())
		goto out;
	fill(want, size, 3);
	REQUIRE(!save("base.raw", want, size));
	CHECK(!sh("qemu-img convert -c -O qcow2 -o cluster_size=4096 "
		  "base.raw t.qcow2"));
	d = open_img("t.qcow2", false);
	if (!CHECK(d))
		goto out;
	write_pattern(d, want, size, 11);
	CHECK(read_matches(d, want, size));
	disk_close(d);
	judge("t.qcow2", want, size);
out:
	free(want);
}

static void zero_ops(const char *create, bool backing)
{
	const uint64_t size = 4 * MiB;
	uint8_t *want = malloc(size), *base = malloc(size);
	struct disk *d;

	fill(base, size, 5);
	memcpy(want, base, size);
	CHECK(!save("base.raw", base, size));
	CHECK(!save("orig.raw", base, size));
	if (backing)
		CHECK(!sh("qemu-img create -f qcow2 %s -b base.raw -F raw "
			  "t.qcow2",
			  create));
	else
		CHECK(!sh("qemu-img convert -O qcow2 %s base.raw t.qcow2",
			  create));
	d = open_img("t.qcow2", false);
	if (!CHECK(d))
		goto out;
	CHECK(disk_caps(d) & DISK_CAP_WRITE_ZEROES);
	CHECK(!io(d, DISK_OP_WRITE_ZEROES, 1000, NULL, 200 * 1024));
	memset(want + 1000, 0, 200 * 1024);
	CHECK(!io(d, DISK_OP_WRITE_ZEROES, 1 * MiB, NULL, 1 * MiB));
	memset(want + 1 * MiB, 0, 1 * MiB);
	/* a DISCARD may leave data: compare only what lkvm reads back */
	CHECK(!io(d, DISK_OP_DISCARD, 3 * MiB, NULL, 512 * 1024));
	CHECK(read_matches(d, want, 3 * MiB));
	disk_close(d);
	CHECK_EQ(sh("qemu-img check t.qcow2"), 0);
	CHECK_EQ(sh("qemu-img compare -F raw t.qcow2 base.raw"), 1);
	CHECK_EQ(sh("cmp base.raw orig.raw"), 0); /* the base untouched */
out:
	free(want);
	free(base);
}

static void test_zeroes_discard(void)
{
	if (!setup())
		return;
	zero_ops("-o compat=0.10", false);
	zero_ops("-o compat=0.10", true);
	zero_ops("", false);
	zero_ops("-o cluster_size=4096", true);
}

/*
 * A fast-path read (a cluster the cached tables map, read by the engine,
 * not the worker) mapped to cluster 0's host cluster, held in the window
 * between mapping and the engine while the test DISCARDs cluster 0,
 * FLUSHes (which frees it) and writes cluster 1, which would take the
 * freed cluster: the DISCARD must wait for the read, so the read returns
 * cluster 0's data, never cluster 1's. The hook holds the read at most
 * 300 ms (the DISCARD, waiting, cannot say it is done).
 */
struct fast_hold {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool armed, held, released;
};

static void fast_hold_hook(void *arg)
{
	struct fast_hold *h = arg;
	struct timespec until;

	pthread_mutex_lock(&h->lock);
	if (h->armed && !h->held) {
		h->held = true;
		pthread_cond_broadcast(&h->cond);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 300 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!h->released &&
		       !pthread_cond_timedwait(&h->cond, &h->lock, &until))
			;
	}
	pthread_mutex_unlock(&h->lock);
}

struct fast_read {
	struct disk *d;
	uint8_t buf[4096];
	int status;
};

static void *fast_read_thread(void *arg)
{
	struct fast_read *fr = arg;

	fr->status = io(fr->d, DISK_OP_READ, 0, fr->buf, sizeof(fr->buf));
	return NULL;
}

static void test_fast_read_vs_discard(void)
{
	struct fast_hold h = { PTHREAD_MUTEX_INITIALIZER,
			       PTHREAD_COND_INITIALIZER, false, false, false };
	struct disk_qcow2_opts o = { .engine = BLKIO_ENGINE_THREADS,
				     .fast_mapped = fast_hold_hook,
				     .fast_mapped_arg = &h };
	struct fast_read fr = { .status = -1 };
	uint8_t buf[4096];
	char err[256];
	pthread_t t;
	unsigned int i;

	if (!setup())
		return;
	CHECK(!sh("qemu-img create -q -f qcow2 -o cluster_size=4096 t.qcow2 "
		  "1M"));
	if (!CHECK(!disk_qcow2_open(&fr.d, path_of("t.qcow2"), &o, err,
				    sizeof(err))))
		return;
	memset(buf, 0x11, sizeof(buf));
	CHECK(!io(fr.d, DISK_OP_WRITE, 0, buf, sizeof(buf)));
	pthread_mutex_lock(&h.lock);
	h.armed = true;
	pthread_mutex_unlock(&h.lock);
	CHECK(!pthread_create(&t, NULL, fast_read_thread, &fr));
	pthread_mutex_lock(&h.lock);
	while (!h.held)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	/* the read is mapped and held: free its cluster, take it again */
	CHECK(!io(fr.d, DISK_OP_DISCARD, 0, NULL, 4096));
	CHECK(!io(fr.d, DISK_OP_FLUSH, 0, NULL, 0));
	memset(buf, 0x22, sizeof(buf));
	CHECK(!io(fr.d, DISK_OP_WRITE, 4096, buf, sizeof(buf)));
	pthread_mutex_lock(&h.lock);
	h.released = true;
	pthread_cond_broadcast(&h.cond);
	pthread_mutex_unlock(&h.lock);
	pthread_join(t, NULL);
	CHECK_EQ(fr.status, 0);
	for (i = 0; i < sizeof(fr.buf) && fr.buf[i] == 0x11; i++)
		;
	CHECK_EQ(i, sizeof(fr.buf));
	/* and the read did go the fast way (the hook ran) */
	CHECK(h.held);
	disk_close(fr.d);
	CHECK_EQ(sh("qemu-img check -q t.qcow2"), 0);
}

/* An overlay over a raw base and a qcow2 chain, relative names. */
static void test_backing(void)
{
	const uint64_t size = 4 * MiB;
	uint8_t *want = malloc(size);
	struct disk *d;

	if (!setup())
		goto out;
	fill(want, size, 2);
	REQUIRE(!save("base.raw", want, size));
	CHECK(!sh("qemu-img create -f qcow2 -b base.raw -F raw ov.qcow2"));
	d = open_img("ov.qcow2", false);
	if (CHECK(d)) {
		CHECK(read_matches(d, want, size));
		write_pattern(d, want, size, 4);
		CHECK(read_matches(d, want, size));
		disk_close(d);
		judge("ov.qcow2", want, size);
	}
	fill(want, size, 2);
	CHECK_EQ(sh("cmp base.raw want.raw"), 1); /* want moved on */
	CHECK(!save("orig.raw", want, size));
	CHECK_EQ(sh("cmp base.raw orig.raw"), 0); /* base untouched */

	/* compressed qcow2 base <- mid (v2, 512 B) <- top, no -F on top */
	CHECK(!sh("mkdir -p sub && qemu-img convert -c -O qcow2 base.raw "
		  "sub/b.qcow2 && qemu-img create -f qcow2 -o "
		  "compat=0.10,cluster_size=512 -b b.qcow2 -F qcow2 "
		  "sub/m.qcow2 && qemu-img create -f qcow2 -b sub/m.qcow2 "
		  "-F qcow2 top.qcow2"));
	CHECK(!sh("qemu-io -c 'write -P 0x33 1M 70k' sub/m.qcow2"));
	memset(want + 1 * MiB, 0x33, 70 * 1024);
	d = open_img("top.qcow2", false);
	if (CHECK(d)) {
		CHECK(read_matches(d, want, size));
		write_pattern(d, want, size, 8);
		disk_close(d);
		judge("top.qcow2", want, size);
	}
out:
	free(want);
}

/* name's bytes, to show a refused open left the file as it was. */
static uint64_t sum_file(const char *name)
{
	uint8_t buf[4096];
	uint64_t s = 0;
	ssize_t n, i;
	int fd = open(path_of(name), O_RDONLY);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			s = s * 31 + buf[i];
	close(fd);
	return s;
}

/* Open name read-write: refused with a message containing what. */
static void refused(const char *name, bool ro, const char *what)
{
	struct disk_open_opts o = { .ro = ro };
	uint64_t before = sum_file(name);
	struct disk *d = NULL;
	char err[512] = "";

	if (!CHECK(disk_open(&d, path_of(name), &o, err, sizeof(err)))) {
		disk_close(d);
		printf("  %s was not refused\n", what);
		return;
	}
	if (!CHECK(strstr(err, what)))
		printf("  got \"%s\", wanted \"%s\"\n", err, what);
	CHECK(!strchr(err, '\n'));
	CHECK_EQ(sum_file(name), before);
}

/* Overwrite bytes of name at off with a big-endian value. */
static int poke(const char *name, uint64_t off, uint64_t v, unsigned int n)
{
	uint8_t b[8];
	unsigned int i;
	int fd = open(path_of(name), O_WRONLY);
	ssize_t w;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	w = pwrite(fd, b, n, (off_t)off);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

static void bad(const char *how, uint64_t off, uint64_t v, unsigned int n,
		bool ro, const char *what)
{
	CHECK(!sh("rm -f bad.qcow2 && qemu-img create -f qcow2 %s bad.qcow2 "
		  "1M && qemu-io -c 'write 0 64k' bad.qcow2",
		  how));
	CHECK(!poke("bad.qcow2", off, v, n));
	refused("bad.qcow2", ro, what);
}

static void test_bad_images(void)
{
	if (!setup())
		return;
	CHECK(!sh("qemu-img create -f qcow2 t.qcow2 1M && "
		  "head -c 50 t.qcow2 > trunc.qcow2"));
	refused("trunc.qcow2", true, "truncated");
	bad("", 4, 4, 4, true, "version 4");
	bad("", 20, 8, 4, true, "cluster_bits 8");
	bad("", 20, 22, 4, true, "cluster_bits 22");
	bad("", 24, 1000, 8, true, "multiple of 512");
	bad("", 24, 1ull << 40, 8, true, "L1 table of 1 entries");
	bad("", 32, 1, 4, true, "encrypted");
	bad("", 40, 0x10000000, 8, true, "beyond the end");
	bad("", 40, 0x30100, 8, true, "unaligned");
	bad("", 48, 0x100000000ull, 8, true, "refcount table");
	bad("", 72, 1ull << 10, 8, true, "unknown incompatible");
	bad("", 72, 1ull << 4, 8, true, "extended L2");
	bad("", 72, 1ull << 1, 8, false, "corrupt");
	bad("", 96, 7, 4, true, "refcount_order 7");
	bad("", 100, 100, 4, true, "header length");
	/* the L1 table placed over the refcount table */
	bad("", 40, 0x10000, 8, true, "overlapping metadata");
	/* v3 default layout: L1 at 0x30000, its entry 0 at the header */
	bad("", 0x30000, 0x8000000000000000ull, 8, true, "L1 entry 0");
	/* the L2 table at the refcount block's cluster */
	bad("", 0x30000, 0x8000000000020000ull, 8, true, "overlapping");
	/* ro: a corrupt image still opens */
	CHECK(!sh("qemu-img create -f qcow2 c.qcow2 1M"));
	CHECK(!poke("c.qcow2", 72, 2, 8));
	{
		struct disk *d = open_img("c.qcow2", true);

		CHECK(d);
		disk_close(d);
	}
	/* a backing chain that loops, and one whose base is missing */
	CHECK(!sh("qemu-img create -f qcow2 a.qcow2 1M && "
		  "qemu-img create -f qcow2 -b a.qcow2 -F qcow2 b.qcow2 && "
		  "qemu-img rebase -u -b b.qcow2 -F qcow2 a.qcow2"));
	refused("b.qcow2", false, "loops");
	CHECK(!sh("qemu-img create -f qcow2 -b gone.raw -F raw -u "
		  "m.qcow2 1M"));
	refused("m.qcow2", false, "cannot open its backing file");
}

/* A dirty image (qemu-io with lazy refcounts, killed before it wrote its
 * refcounts back) opened read-write: the refcounts are rebuilt, the dirty
 * bit cleared, and after more writes qemu-img check is clean. */
static void dirty_one(const char *create)
{
	const uint64_t size = 4 * MiB;
	uint8_t *want = calloc(1, size);
	struct disk *d;

	CHECK(!sh("qemu-img create -f qcow2 -o lazy_refcounts=on%s d.qcow2 "
		  "4M",
		  create));
	/* the inner shell reports the kill, to /dev/null */
	sh("sh -c \"qemu-io -c 'write -P 0x11 0 300k' -c 'write -P 0x22 "
	   "2M 64k' -c 'sigraise 9' d.qcow2; true\" 2>/dev/null");
	memset(want, 0x11, 300 * 1024);
	memset(want + 2 * MiB, 0x22, 64 * 1024);
	CHECK_EQ(peek32("d.qcow2", 76) & 1, 1); /* dirty */
	CHECK_EQ(sh("qemu-img check d.qcow2"), 2);
	d = open_img("d.qcow2", true); /* read-only: as it is */
	if (CHECK(d)) {
		CHECK(read_matches(d, want, size));
		disk_close(d);
	}
	CHECK_EQ(peek32("d.qcow2", 76) & 1, 1);
	d = open_img("d.qcow2", false);
	if (!CHECK(d))
		goto out;
	CHECK_EQ(peek32("d.qcow2", 76) & 1, 0);
	write_pattern(d, want, size, 31);
	CHECK(read_matches(d, want, size));
	disk_close(d);
	judge("d.qcow2", want, size);
out:
	free(want);
}

static void test_dirty(void)
{
	if (!setup())
		return;
	dirty_one("");
	dirty_one(",cluster_size=512"); /* several refcount blocks */
	dirty_one(",cluster_size=512,refcount_bits=1");
	/* a cluster two L2 entries share: not repaired, refused */
	CHECK(!sh("qemu-img create -f qcow2 -o lazy_refcounts=on x.qcow2 1M "
		  "&& qemu-io -c 'write 0 128k' x.qcow2"));
	/* v3 default layout: L2 at 0x40000, data at 0x50000, 0x60000 */
	CHECK(!poke("x.qcow2", 0x40008, 0x8000000000050000ull, 8));
	CHECK(!poke("x.qcow2", 72, 1, 8));
	refused("x.qcow2", false, "used twice");
}

/* Internal snapshots share clusters (refcount 2): lkvm, which writes in
 * place, refuses them read-write and reads them read-only. */
static void test_snapshots(void)
{
	const uint64_t size = 1 * MiB;
	uint8_t *want = calloc(1, size);
	struct disk *d;

	if (!setup())
		goto out;
	CHECK(!sh("qemu-img create -f qcow2 s.qcow2 1M && qemu-io -c "
		  "'write -P 0x44 0 64k' s.qcow2 && qemu-img snapshot -c one "
		  "s.qcow2 && qemu-io -c 'write -P 0x55 0 4k' s.qcow2"));
	memset(want, 0x44, 64 * 1024);
	memset(want, 0x55, 4096);
	refused("s.qcow2", false, "internal snapshots");
	d = open_img("s.qcow2", true);
	if (CHECK(d)) {
		CHECK(read_matches(d, want, size));
		disk_close(d);
	}
	CHECK_EQ(sh("qemu-img check s.qcow2"), 0);
out:
	free(want);
}

/* disk_open() picks the format from the magic, never the name. */
static void test_detect(void)
{
	uint8_t buf[1024];
	struct disk *d;

	if (!setup())
		return;
	memset(buf, 0, sizeof(buf));
	CHECK(!save("raw.qcow2", buf, sizeof(buf)));
	CHECK(!sh("qemu-img create -f qcow2 q.img 1M"));
	d = open_img("raw.qcow2", true);
	if (CHECK(d)) {
		CHECK(!strcmp(d->ops->name, "raw"));
		disk_close(d);
	}
	d = open_img("q.img", true);
	if (CHECK(d)) {
		CHECK(!strcmp(d->ops->name, "qcow2"));
		CHECK(disk_ro(d));
		CHECK(io(d, DISK_OP_WRITE, 0, buf, 512) == -EROFS);
		disk_close(d);
	}
	{
		struct disk_open_opts o = { .direct = true };
		char err[256];

		CHECK(disk_open(&d, path_of("q.img"), &o, err, sizeof(err)));
		CHECK(strstr(err, "direct"));
	}
	/* a second writer is refused */
	d = open_img("q.img", false);
	if (CHECK(d)) {
		refused("q.img", false, "in use");
		disk_close(d);
	}
	/* the last test: the directory goes */
	sh("rm -rf ./*");
	rmdir(dir);
	dir[0] = '\0';
}

UNIT_SUITE(qcow2, UNIT_TEST(test_read_formats),
	   UNIT_TEST(test_fast_read_vs_discard), UNIT_TEST(test_write_formats),
	   UNIT_TEST(test_small_l2_cache), UNIT_TEST(test_refcount_growth),
	   UNIT_TEST(test_kill_loop), UNIT_TEST(test_write_compressed),
	   UNIT_TEST(test_zeroes_discard), UNIT_TEST(test_backing),
	   UNIT_TEST(test_bad_images), UNIT_TEST(test_dirty),
	   UNIT_TEST(test_snapshots), UNIT_TEST(test_detect));
