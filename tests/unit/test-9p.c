// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the 9P2000.L server (virtio/9p-server.c), fed raw 9P
 * messages against a temporary directory: every message, the limits, and
 * the escapes a hostile guest tries (symlinks to / and out of the share,
 * `..` chains, absolute symlinks, /proc magic links, a symlink swapped in
 * between walk and open, names with '/').
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/virtio_9p.h>
#include <linux/virtio_config.h>

#include "drvq.h"
#include "guest.h"
#include "lkvm/9p.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-worker.h"
#include "lkvm/vm.h"
#include "riscv/board.h"
#include "unit.h"
#include "vdrv.h"

#define RCAP 65536

struct msg {
	uint8_t b[8192];
	size_t n;
};

struct env {
	char top[64], share[96], outside[96];
	struct p9_server *s;
	uint8_t rep[RCAP];
	long rlen;
};

static void m_start(struct msg *m, uint8_t type)
{
	memset(m->b, 0, 7);
	m->b[4] = type;
	m->b[5] = 0x34;
	m->b[6] = 0x12;
	m->n = 7;
}

static void m_num(struct msg *m, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

#define m8(m, v) m_num(m, v, 1)
#define m16(m, v) m_num(m, v, 2)
#define m32(m, v) m_num(m, v, 4)
#define m64(m, v) m_num(m, v, 8)

static void m_str(struct msg *m, const char *s)
{
	size_t n = strlen(s);

	m16(m, n);
	memcpy(m->b + m->n, s, n);
	m->n += n;
}

static void m_end(struct msg *m)
{
	uint32_t n = (uint32_t)m->n;

	memcpy(m->b, &n, 4);
}

static uint64_t r_num(const struct env *e, size_t off, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)e->rep[off + i] << (8 * i);
	return v;
}

/* Send m; returns the reply type (Rlerror: 7, with the errno in err). */
static int send(struct env *e, struct msg *m, int *err)
{
	m_end(m);
	e->rlen = p9_serve_buf(e->s, m->b, m->n, e->rep, RCAP);
	if (e->rlen < 7)
		return -1;
	if (r_num(e, 0, 4) != (uint64_t)e->rlen || r_num(e, 5, 2) != 0x1234)
		return -2;
	if (err)
		*err = e->rep[4] == 7 ? (int)r_num(e, 7, 4) : 0;
	return e->rep[4];
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool env_init(struct env *e, bool ro, unsigned int max_fids)
{
	struct p9_options o = { .ro = ro, .max_fids = max_fids };
	char p[256], err[256];

	memset(e, 0, sizeof(*e));
	snprintf(e->top, sizeof(e->top), "/tmp/lkvm-9p-unit-XXXXXX");
	if (!mkdtemp(e->top))
		return false;
	snprintf(e->share, sizeof(e->share), "%s/share", e->top);
	snprintf(e->outside, sizeof(e->outside), "%s/outside", e->top);
	mkdir(e->share, 0755);
	mkdir(e->outside, 0755);
	snprintf(p, sizeof(p), "%s/secret", e->outside);
	write_file(p, "secret");
	snprintf(p, sizeof(p), "%s/file", e->share);
	write_file(p, "hello");
	snprintf(p, sizeof(p), "%s/dir", e->share);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dir/sub", e->share);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/up", e->share);
	if (symlink("../outside", p))
		return false;
	snprintf(p, sizeof(p), "%s/root", e->share);
	if (symlink("/", p))
		return false;
	snprintf(p, sizeof(p), "%s/proc", e->share);
	if (symlink("/proc/self/root", p))
		return false;
	snprintf(p, sizeof(p), "%s/abs", e->share);
	{
		char t[160];

		snprintf(t, sizeof(t), "%s/secret", e->outside);
		if (symlink(t, p))
			return false;
	}
	return !p9_server_create(e->share, &o, &e->s, err, sizeof(err));
}

static void env_fini(struct env *e)
{
	char cmd[128];

	p9_server_destroy(e->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->top);
	if (system(cmd)) {
		/* left behind in /tmp */
	}
}

static int version(struct env *e, uint32_t msize)
{
	struct msg m;

	m_start(&m, 100);
	m32(&m, msize);
	m_str(&m, "9P2000.L");
	return send(e, &m, NULL);
}

static int attach(struct env *e, uint32_t fid, int *err)
{
	struct msg m;

	m_start(&m, 104);
	m32(&m, fid);
	m32(&m, ~0u);
	m_str(&m, "user");
	m_str(&m, "");
	m32(&m, 0);
	return send(e, &m, err);
}

/* Walk fid to newfid through names (NULL-terminated). */
static int walk(struct env *e, uint32_t fid, uint32_t newfid,
		const char *const *names, int *err)
{
	struct msg m;
	uint16_t n = 0;

	while (names[n])
		n++;
	m_start(&m, 110);
	m32(&m, fid);
	m32(&m, newfid);
	m16(&m, n);
	for (n = 0; names[n]; n++)
		m_str(&m, names[n]);
	return send(e, &m, err);
}

static int lopen(struct env *e, uint32_t fid, uint32_t flags, int *err)
{
	struct msg m;

	m_start(&m, 12);
	m32(&m, fid);
	m32(&m, flags);
	return send(e, &m, err);
}

static int fid_op(struct env *e, uint8_t type, uint32_t fid, int *err)
{
	struct msg m;

	m_start(&m, type);
	m32(&m, fid);
	return send(e, &m, err);
}

/* Tread fid: the data in buf (NUL-terminated), its length returned. */
static long readf(struct env *e, uint32_t fid, uint64_t off, char *buf,
		  size_t len)
{
	struct msg m;
	uint32_t n;

	m_start(&m, 116);
	m32(&m, fid);
	m64(&m, off);
	m32(&m, (uint32_t)len - 1);
	if (send(e, &m, NULL) != 117)
		return -1;
	n = (uint32_t)r_num(e, 7, 4);
	memcpy(buf, e->rep + 11, n);
	buf[n] = 0;
	return n;
}

static int writef(struct env *e, uint32_t fid, uint64_t off, const char *data,
		  int *err)
{
	struct msg m;

	m_start(&m, 118);
	m32(&m, fid);
	m64(&m, off);
	m32(&m, (uint32_t)strlen(data));
	memcpy(m.b + m.n, data, strlen(data));
	m.n += strlen(data);
	return send(e, &m, err);
}

static int lcreate_mode(struct env *e, uint32_t fid, const char *name,
			uint32_t flags, uint32_t mode, int *err)
{
	struct msg m;

	m_start(&m, 14);
	m32(&m, fid);
	m_str(&m, name);
	m32(&m, flags);
	m32(&m, mode);
	m32(&m, 0);
	return send(e, &m, err);
}

static int lcreate(struct env *e, uint32_t fid, const char *name,
		   uint32_t flags, int *err)
{
	return lcreate_mode(e, fid, name, flags, 0644, err);
}

static int mkdir_mode(struct env *e, uint32_t fid, const char *name,
		      uint32_t mode, int *err)
{
	struct msg m;

	m_start(&m, 72);
	m32(&m, fid);
	m_str(&m, name);
	m32(&m, mode);
	m32(&m, 0);
	return send(e, &m, err);
}

static int mkdir9(struct env *e, uint32_t fid, const char *name, int *err)
{
	return mkdir_mode(e, fid, name, 0755, err);
}

static int mknod9(struct env *e, uint32_t fid, const char *name, uint32_t mode,
		  int *err)
{
	struct msg m;

	m_start(&m, 18);
	m32(&m, fid);
	m_str(&m, name);
	m32(&m, mode);
	m32(&m, 1); /* major */
	m32(&m, 1); /* minor */
	m32(&m, 0);
	return send(e, &m, err);
}

static bool host_exists(const char *dir, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return !lstat(p, &st);
}

static void test_version(void)
{
	struct env e;
	struct msg m;

	REQUIRE(env_init(&e, false, 0));
	CHECK_EQ(version(&e, 1u << 30), 101);
	CHECK_EQ(r_num(&e, 7, 4), P9_MSIZE_MAX);
	CHECK_EQ(version(&e, 8192), 101);
	CHECK_EQ(r_num(&e, 7, 4), 8192);
	CHECK_EQ(version(&e, 100), 7); /* below the minimum */
	m_start(&m, 100);
	m32(&m, 8192);
	m_str(&m, "9P2000.u");
	CHECK_EQ(send(&e, &m, NULL), 101);
	CHECK_EQ(r_num(&e, 11, 2), 7); /* "unknown" */
	/* an R-message, an unknown type */
	m_start(&m, 101);
	CHECK_EQ(send(&e, &m, NULL), 7);
	m_start(&m, 200);
	CHECK_EQ(send(&e, &m, NULL), 7);
	env_fini(&e);
}

static const char *const no_names[] = { NULL };

static void test_walk_dotdot(void)
{
	static const char *const up3[] = { "..", "..", "..", NULL };
	static const char *const dd[] = { "dir", "sub", "..", "..",
					  "..",	 "..",	NULL };
	struct env e;
	uint8_t rootqid[13];
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	memcpy(rootqid, e.rep + 7, 13);
	CHECK_EQ(walk(&e, 1, 2, up3, &err), 111);
	CHECK_EQ(r_num(&e, 7, 2), 3);
	CHECK(!memcmp(e.rep + 9 + 2 * 13, rootqid, 13));
	CHECK_EQ(walk(&e, 1, 3, dd, &err), 111);
	CHECK_EQ(r_num(&e, 7, 2), 6);
	CHECK(!memcmp(e.rep + 9 + 5 * 13, rootqid, 13));
	/* the walked fid lists the share, not its parent */
	CHECK_EQ(lopen(&e, 3, 0, &err), 13);
	{
		struct msg m;

		m_start(&m, 40);
		m32(&m, 3);
		m64(&m, 0);
		m32(&m, 8000);
		CHECK_EQ(send(&e, &m, NULL), 41);
		CHECK(memmem(e.rep, (size_t)e.rlen, "file", 4));
		CHECK(!memmem(e.rep, (size_t)e.rlen, "outside", 7));
	}
	/* clone, and a second fid with a number in use */
	CHECK_EQ(walk(&e, 1, 4, no_names, &err), 111);
	CHECK_EQ(walk(&e, 1, 4, no_names, &err), 7);
	CHECK_EQ(err, EBADF);
	env_fini(&e);
}

/* A walk through a symlink stops at it: the server never follows one. */
static void test_walk_symlinks(void)
{
	static const char *const up[] = { "up", "secret", NULL };
	static const char *const root[] = { "root", "etc", NULL };
	static const char *const proc[] = { "proc", "etc", NULL };
	static const char *const abs1[] = { "abs", NULL };
	static const char *const slash[] = { "dir/sub", NULL };
	static const char *const empty[] = { "", NULL };
	struct env e;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	/* partial walks: one qid (the symlink's), no new fid */
	CHECK_EQ(walk(&e, 1, 2, up, &err), 111);
	CHECK_EQ(r_num(&e, 7, 2), 1);
	CHECK_EQ(e.rep[9], 0x02); /* QTSYMLINK */
	CHECK_EQ(lopen(&e, 2, 0, &err), 7);
	CHECK_EQ(err, EBADF);
	CHECK_EQ(walk(&e, 1, 2, root, &err), 111);
	CHECK_EQ(r_num(&e, 7, 2), 1);
	CHECK_EQ(walk(&e, 1, 2, proc, &err), 111);
	CHECK_EQ(r_num(&e, 7, 2), 1);
	/* the symlink itself: a fid, never opened through */
	CHECK_EQ(walk(&e, 1, 2, abs1, &err), 111);
	CHECK_EQ(lopen(&e, 2, 0, &err), 7);
	CHECK_EQ(err, ELOOP);
	CHECK_EQ(fid_op(&e, 22, 2, &err), 23); /* Treadlink */
	CHECK(memmem(e.rep, (size_t)e.rlen, "/outside/secret", 15));
	/* creating through a symlinked directory */
	CHECK_EQ(walk(&e, 1, 3, (const char *const[]){ "up", NULL }, &err),
		 111);
	CHECK_EQ(lcreate(&e, 3, "evil", 1, &err), 7);
	CHECK_EQ(err, ENOTDIR);
	CHECK_EQ(mkdir9(&e, 3, "evil", &err), 7);
	CHECK(!host_exists(e.outside, "evil"));
	/* names with '/', empty, "..", "." */
	CHECK_EQ(walk(&e, 1, 4, slash, &err), 7);
	CHECK_EQ(walk(&e, 1, 4, empty, &err), 7);
	CHECK_EQ(lcreate(&e, 1, "../evil", 1, &err), 7);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(mkdir9(&e, 1, "..", &err), 7);
	CHECK_EQ(lcreate(&e, 1, "up/evil", 1, &err), 7);
	CHECK(!host_exists(e.outside, "evil"));
	CHECK(!host_exists(e.top, "evil"));
	/* a create over a symlink's name does not follow it */
	CHECK_EQ(lcreate(&e, 1, "abs", 2, &err), 7);
	CHECK_EQ(err, ELOOP);
	env_fini(&e);
}

/* A file swapped for a symlink between walk and open: the fid holds the
 * inode it walked to. */
static void test_swap_race(void)
{
	static const char *const file[] = { "file", NULL };
	char p[256], t[256], buf[64];
	struct env e;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, file, &err) == 111);
	snprintf(p, sizeof(p), "%s/swap", e.share);
	snprintf(t, sizeof(t), "%s/secret", e.outside);
	REQUIRE(!symlink(t, p));
	snprintf(t, sizeof(t), "%s/file", e.share);
	REQUIRE(!rename(p, t));
	CHECK_EQ(lopen(&e, 2, 2, &err), 13);
	CHECK_EQ(readf(&e, 2, 0, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "hello");
	CHECK_EQ(writef(&e, 2, 0, "HELLO", &err), 119);
	snprintf(p, sizeof(p), "%s/secret", e.outside);
	{
		FILE *f = fopen(p, "r");

		REQUIRE(f);
		CHECK(fgets(buf, sizeof(buf), f));
		CHECK_STR(buf, "secret");
		fclose(f);
	}
	/* walking the name now reaches the symlink, not its target */
	CHECK_EQ(walk(&e, 1, 3, file, &err), 111);
	CHECK_EQ(e.rep[9], 0x02);
	env_fini(&e);
}

static void test_io(void)
{
	static const char *const dir[] = { "dir", NULL };
	struct env e;
	char buf[128];
	struct msg m;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, dir, &err) == 111);
	CHECK_EQ(lcreate(&e, 2, "new", 2 | 0100, &err), 15);
	CHECK_EQ(writef(&e, 2, 0, "abcdef", &err), 119);
	CHECK_EQ(r_num(&e, 7, 4), 6);
	CHECK_EQ(readf(&e, 2, 2, buf, sizeof(buf)), 4);
	CHECK_STR(buf, "cdef");
	CHECK_EQ(fid_op(&e, 120, 2, &err), 121);
	CHECK(host_exists(e.share, "dir/new"));
	/* getattr */
	REQUIRE(walk(&e, 1, 3, (const char *const[]){ "dir", "new", NULL },
		     &err) == 111);
	m_start(&m, 24);
	m32(&m, 3);
	m64(&m, 0x7ff);
	CHECK_EQ(send(&e, &m, NULL), 25);
	CHECK_EQ(r_num(&e, 7 + 8 + 13 + 4 + 4 + 4 + 8 + 8, 8), 6); /* size */
	CHECK_EQ(r_num(&e, 7 + 8 + 13, 4) & 0777, 0644);
	/* setattr: size and mode */
	m_start(&m, 26);
	m32(&m, 3);
	m32(&m, 0x1 | 0x8);
	m32(&m, 0600);
	m32(&m, 0);
	m32(&m, 0);
	m64(&m, 2);
	m64(&m, 0);
	m64(&m, 0);
	m64(&m, 0);
	m64(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 27);
	{
		struct stat st;
		char p[256];

		snprintf(p, sizeof(p), "%s/dir/new", e.share);
		CHECK(!stat(p, &st) && st.st_size == 2 &&
		      (st.st_mode & 0777) == 0600);
	}
	/* statfs, fsync needs an open fid */
	CHECK_EQ(fid_op(&e, 8, 3, &err), 9);
	m_start(&m, 50);
	m32(&m, 3);
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 7);
	CHECK_EQ(lopen(&e, 3, 2, &err), 13);
	m_start(&m, 50);
	m32(&m, 3);
	m32(&m, 1);
	CHECK_EQ(send(&e, &m, &err), 51);
	/* a read past the end: 0 bytes */
	CHECK_EQ(readf(&e, 3, 100, buf, sizeof(buf)), 0);
	/* Tflush, Tauth, Trename, Tremove */
	m_start(&m, 108);
	m16(&m, 1);
	CHECK_EQ(send(&e, &m, &err), 109);
	m_start(&m, 102);
	CHECK_EQ(send(&e, &m, &err), 7);
	CHECK_EQ(fid_op(&e, 122, 3, &err), 7);
	CHECK_EQ(err, EOPNOTSUPP);
	CHECK_EQ(fid_op(&e, 120, 3, &err), 7); /* Tremove clunked it */
	CHECK_EQ(err, EBADF);
	env_fini(&e);
}

static void test_entries(void)
{
	struct env e;
	struct msg m;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	CHECK_EQ(mkdir9(&e, 1, "d2", &err), 73);
	CHECK(host_exists(e.share, "d2"));
	/* symlink, readlink */
	m_start(&m, 16);
	m32(&m, 1);
	m_str(&m, "ln");
	m_str(&m, "/etc/passwd");
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 17);
	/* mknod: a fifo yes, a device no */
	CHECK_EQ(mknod9(&e, 1, "fifo", S_IFIFO | 0644, &err), 19);
	CHECK_EQ(mknod9(&e, 1, "mem", S_IFCHR | 0644, &err), 7);
	CHECK_EQ(err, EPERM);
	/* Tlcreate of an existing name: a regular file is opened (not
	 * truncated), O_EXCL refused, a fifo refused without blocking */
	CHECK_EQ(lcreate(&e, 1, "file", 0, &err), 15);
	CHECK_EQ(fid_op(&e, 120, 1, &err), 121);
	REQUIRE(attach(&e, 1, &err) == 105);
	CHECK_EQ(lcreate(&e, 1, "file", 2 | 0200, &err), 7);
	CHECK_EQ(err, EEXIST);
	CHECK_EQ(lcreate(&e, 1, "fifo", 0, &err), 7);
	CHECK_EQ(err, EEXIST);
	CHECK(host_exists(e.share, "file"));
	/* a fifo's fid is not opened (it would block, or be a device) */
	CHECK_EQ(walk(&e, 1, 5, (const char *const[]){ "fifo", NULL }, &err),
		 111);
	CHECK_EQ(lopen(&e, 5, 0, &err), 7);
	/* link: the fid's inode under a new name */
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL }, &err) ==
		111);
	m_start(&m, 70);
	m32(&m, 1);
	m32(&m, 2);
	m_str(&m, "hl");
	CHECK_EQ(send(&e, &m, &err), 71);
	CHECK(host_exists(e.share, "hl"));
	m_start(&m, 70);
	m32(&m, 1);
	m32(&m, 2);
	m_str(&m, "up/hl");
	CHECK_EQ(send(&e, &m, &err), 7);
	/* renameat, unlinkat */
	REQUIRE(walk(&e, 1, 3, (const char *const[]){ "dir", NULL }, &err) ==
		111);
	m_start(&m, 74);
	m32(&m, 1);
	m_str(&m, "hl");
	m32(&m, 3);
	m_str(&m, "moved");
	CHECK_EQ(send(&e, &m, &err), 75);
	CHECK(host_exists(e.share, "dir/moved"));
	m_start(&m, 74);
	m32(&m, 1);
	m_str(&m, "file");
	m32(&m, 1);
	m_str(&m, "../file");
	CHECK_EQ(send(&e, &m, &err), 7);
	m_start(&m, 76);
	m32(&m, 3);
	m_str(&m, "moved");
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 77);
	CHECK(!host_exists(e.share, "dir/moved"));
	m_start(&m, 76);
	m32(&m, 1);
	m_str(&m, "d2");
	m32(&m, 0x200);
	CHECK_EQ(send(&e, &m, &err), 77);
	CHECK(!host_exists(e.share, "d2"));
	env_fini(&e);
}

static void test_xattr_lock(void)
{
	struct env e;
	struct msg m;
	char buf[64];
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL }, &err) ==
		111);
	m_start(&m, 32);
	m32(&m, 2);
	m_str(&m, "user.lkvm");
	m64(&m, 3);
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 33);
	CHECK_EQ(writef(&e, 2, 0, "abc", &err), 119);
	if (fid_op(&e, 120, 2, &err) == 121) {
		REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL },
			     &err) == 111);
		m_start(&m, 30);
		m32(&m, 2);
		m32(&m, 3);
		m_str(&m, "user.lkvm");
		CHECK_EQ(send(&e, &m, &err), 31);
		CHECK_EQ(r_num(&e, 7, 8), 3);
		CHECK_EQ(readf(&e, 3, 0, buf, sizeof(buf)), 3);
		CHECK_STR(buf, "abc");
	} else {
		CHECK_EQ(err, EOPNOTSUPP); /* no user xattrs on /tmp */
		REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL },
			     &err) == 111);
	}
	/* trusted.* is refused, the value size is bounded */
	m_start(&m, 32);
	m32(&m, 2);
	m_str(&m, "trusted.x");
	m64(&m, 3);
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 7);
	m_start(&m, 32);
	m32(&m, 2);
	m_str(&m, "user.x");
	m64(&m, 1u << 20);
	m32(&m, 0);
	CHECK_EQ(send(&e, &m, &err), 7);
	/* locks: two opens of one file conflict */
	REQUIRE(walk(&e, 1, 4, (const char *const[]){ "file", NULL }, &err) ==
		111);
	CHECK_EQ(lopen(&e, 2, 2, &err), 13);
	CHECK_EQ(lopen(&e, 4, 2, &err), 13);
	for (int fid = 2; fid <= 4; fid += 2) {
		m_start(&m, 52);
		m32(&m, (uint32_t)fid);
		m8(&m, 1);
		m32(&m, 0);
		m64(&m, 0);
		m64(&m, 0);
		m32(&m, 1);
		m_str(&m, "host");
		CHECK_EQ(send(&e, &m, &err), 53);
		CHECK_EQ(e.rep[7], fid == 2 ? 0 : 1);
	}
	m_start(&m, 54);
	m32(&m, 4);
	m8(&m, 1);
	m64(&m, 0);
	m64(&m, 0);
	m32(&m, 1);
	m_str(&m, "host");
	CHECK_EQ(send(&e, &m, &err), 55);
	CHECK_EQ(e.rep[7], 1); /* WRLCK held by the other */
	env_fini(&e);
}

/* Readdir of many entries in small replies: each name exactly once. */
static void test_readdir(void)
{
	enum { N = 500 };
	static unsigned char seen[N];
	struct env e;
	struct msg m;
	uint64_t off = 0;
	char p[256];
	int err, i, total = 0, rounds = 0;

	REQUIRE(env_init(&e, false, 0));
	for (i = 0; i < N; i++) {
		snprintf(p, sizeof(p), "%s/dir/entry-%04d", e.share, i);
		write_file(p, "");
	}
	memset(seen, 0, sizeof(seen));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "dir", NULL }, &err) ==
		111);
	REQUIRE(lopen(&e, 2, 0, &err) == 13);
	for (;;) {
		size_t pos = 11, end;

		m_start(&m, 40);
		m32(&m, 2);
		m64(&m, off);
		m32(&m, 700);
		REQUIRE(send(&e, &m, &err) == 41);
		end = 11 + r_num(&e, 7, 4);
		if (end == 11)
			break;
		CHECK(end - 11 <= 700);
		while (pos < end) {
			size_t nl = r_num(&e, pos + 22, 2);

			off = r_num(&e, pos + 13, 8);
			memcpy(p, e.rep + pos + 24, nl);
			p[nl] = 0;
			if (!strncmp(p, "entry-", 6))
				seen[atoi(p + 6)]++;
			total++;
			pos += 24 + nl;
		}
		rounds++;
	}
	for (i = 0; i < N; i++)
		CHECK_EQ(seen[i], 1);
	CHECK_EQ(total, N + 3); /* ".", "..", "sub" */
	CHECK(rounds > 10);
	env_fini(&e);
}

/* Tgetattr's qid version of fid (at 7 + 8 + 1). */
static uint32_t getattr_version(struct env *e, uint32_t fid)
{
	struct msg m;

	m_start(&m, 24);
	m32(&m, fid);
	m64(&m, 0x7ff);
	if (send(e, &m, NULL) != 25)
		return 0;
	return (uint32_t)r_num(e, 7 + 8 + 1, 4);
}

/* Linux opens a file whose qid version is 0 for direct I/O even under
 * cache=loose: every qid has a version, and a write changes it. */
static void test_qid_version(void)
{
	struct env e;
	uint32_t v0, v1;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	CHECK(r_num(&e, 7 + 1, 4) != 0); /* Rattach's qid */
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL }, &err) ==
		111);
	CHECK(r_num(&e, 9 + 1, 4) != 0); /* Rwalk's qid */
	v0 = getattr_version(&e, 2);
	CHECK(v0 != 0);
	REQUIRE(lopen(&e, 2, 2, &err) == 13);
	CHECK_EQ(r_num(&e, 7 + 1, 4), v0); /* Rlopen's qid */
	CHECK_EQ(writef(&e, 2, 5, " world, longer", &err), 119);
	v1 = getattr_version(&e, 2);
	CHECK(v1 != 0 && v1 != v0);
	CHECK_EQ(lcreate(&e, 1, "made", 2 | 0100, &err), 15);
	CHECK(r_num(&e, 7 + 1, 4) != 0); /* Rlcreate's qid */
	env_fini(&e);
}

static mode_t host_mode(const char *dir, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

/* A create gets the mode the guest asked for (the guest applied its own
 * umask): lkvm's umask does not apply twice. Tlcreate, Tmkdir, Tmknod. */
static void test_exact_mode(void)
{
	mode_t old = umask(022);
	struct env e;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ NULL }, &err) == 111);
	CHECK_EQ(lcreate_mode(&e, 2, "f777", 2 | 0100, 0777, &err), 15);
	CHECK_EQ(host_mode(e.share, "f777"), 0777);
	REQUIRE(walk(&e, 1, 3, (const char *const[]){ NULL }, &err) == 111);
	CHECK_EQ(lcreate_mode(&e, 3, "f640", 2 | 0100, 0640, &err), 15);
	CHECK_EQ(host_mode(e.share, "f640"), 0640);
	CHECK_EQ(mkdir_mode(&e, 1, "d777", 0777, &err), 73);
	CHECK_EQ(host_mode(e.share, "d777"), 0777);
	CHECK_EQ(mkdir_mode(&e, 1, "d1777", 01777, &err), 73);
	CHECK_EQ(host_mode(e.share, "d1777"), 01777);
	CHECK_EQ(mknod9(&e, 1, "fifo", S_IFIFO | 0666, &err), 19);
	CHECK_EQ(host_mode(e.share, "fifo"), 0666);
	env_fini(&e);
	umask(old);
}

/* The fid table needs an fd each: the server raises RLIMIT_NOFILE for
 * max_fids, the hard limit too where it may (CAP_SYS_RESOURCE), else the
 * soft limit to the hard one; in a child here. */
static void test_nofile(void)
{
	pid_t pid = fork();
	int status = -1;

	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 512, .rlim_max = 1024 };
		struct rlimit up = { .rlim_cur = 8192 + 256,
				     .rlim_max = 8192 + 256 };
		struct env e;
		bool ok;

		if (setrlimit(RLIMIT_NOFILE, &rl) || !env_init(&e, false, 8192))
			_exit(2);
		ok = !getrlimit(RLIMIT_NOFILE, &rl) &&
		     (rl.rlim_cur >= up.rlim_cur ||
		      (rl.rlim_cur == 1024 && rl.rlim_max == 1024 &&
		       setrlimit(RLIMIT_NOFILE, &up) != 0));
		env_fini(&e);
		_exit(ok ? 0 : 1);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
}

static void test_ro(void)
{
	struct env e;
	char buf[64];
	int err;

	REQUIRE(env_init(&e, true, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "file", NULL }, &err) ==
		111);
	CHECK_EQ(lopen(&e, 2, 1, &err), 7);
	CHECK_EQ(err, EROFS);
	CHECK_EQ(lopen(&e, 2, 0 | 01000, &err), 7);
	CHECK_EQ(err, EROFS);
	CHECK_EQ(lcreate(&e, 1, "x", 1, &err), 7);
	CHECK_EQ(err, EROFS);
	CHECK_EQ(mkdir9(&e, 1, "x", &err), 7);
	CHECK_EQ(err, EROFS);
	CHECK_EQ(lopen(&e, 2, 0, &err), 13);
	CHECK_EQ(readf(&e, 2, 0, buf, sizeof(buf)), 5);
	CHECK_EQ(writef(&e, 2, 0, "x", &err), 7);
	CHECK(!host_exists(e.share, "x"));
	env_fini(&e);
}

static void test_fid_limit(void)
{
	struct env e;
	uint32_t i;
	int err;

	REQUIRE(env_init(&e, false, 8));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	for (i = 2; i <= 8; i++)
		CHECK_EQ(walk(&e, 1, i, no_names, &err), 111);
	CHECK_EQ(walk(&e, 1, 9, no_names, &err), 7);
	CHECK_EQ(err, ENFILE);
	CHECK_EQ(attach(&e, 10, &err), 7);
	CHECK_EQ(p9_server_nr_fids(e.s), 8);
	CHECK_EQ(fid_op(&e, 120, 8, &err), 121);
	CHECK_EQ(walk(&e, 1, 9, no_names, &err), 111);
	/* Tversion forgets every fid */
	version(&e, 65536);
	CHECK_EQ(p9_server_nr_fids(e.s), 0);
	env_fini(&e);
}

/* Every message, cut at every length: an error reply or a refusal of the
 * chain, never a crash; a size field the buffer does not hold is refused. */
static void test_lengths(void)
{
	struct env e;
	struct msg all[20], *m;
	uint8_t cut[8192];
	size_t i, len;
	long r;
	int err;

	REQUIRE(env_init(&e, false, 0));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &err) == 105);
	m = &all[0];
	m_start(m, 110);
	m32(m, 1);
	m32(m, 2);
	m16(m, 2);
	m_str(m, "dir");
	m_str(m, "sub");
	m = &all[1];
	m_start(m, 14);
	m32(m, 1);
	m_str(m, "cutfile");
	m32(m, 2);
	m32(m, 0644);
	m32(m, 0);
	m = &all[2];
	m_start(m, 26);
	m32(m, 1);
	m32(m, 0);
	for (i = 0; i < 3; i++)
		m32(m, 0);
	for (i = 0; i < 5; i++)
		m64(m, 0);
	m = &all[3];
	m_start(m, 52);
	m32(m, 1);
	m8(m, 1);
	m32(m, 0);
	m64(m, 0);
	m64(m, 0);
	m32(m, 0);
	m_str(m, "id");
	m = &all[4];
	m_start(m, 74);
	m32(m, 1);
	m_str(m, "a");
	m32(m, 1);
	m_str(m, "b");
	m = &all[5];
	m_start(m, 40); /* Treaddir */
	m32(m, 1);
	m64(m, 0);
	m32(m, 100);
	m = &all[6];
	m_start(m, 116); /* Tread */
	m32(m, 1);
	m64(m, 0);
	m32(m, 100);
	m = &all[7];
	m_start(m, 118); /* Twrite */
	m32(m, 1);
	m64(m, 0);
	m32(m, 3);
	m_str(m, "x");
	m = &all[8];
	m_start(m, 30); /* Txattrwalk */
	m32(m, 1);
	m32(m, 9);
	m_str(m, "user.x");
	m = &all[9];
	m_start(m, 32); /* Txattrcreate */
	m32(m, 1);
	m_str(m, "user.x");
	m64(m, 1);
	m32(m, 0);
	m = &all[10];
	m_start(m, 54); /* Tgetlock */
	m32(m, 1);
	m8(m, 0);
	m64(m, 0);
	m64(m, 0);
	m32(m, 0);
	m_str(m, "id");
	m = &all[11];
	m_start(m, 70); /* Tlink */
	m32(m, 1);
	m32(m, 1);
	m_str(m, "l");
	m = &all[12];
	m_start(m, 72); /* Tmkdir */
	m32(m, 1);
	m_str(m, "d");
	m32(m, 0755);
	m32(m, 0);
	m = &all[13];
	m_start(m, 16); /* Tsymlink */
	m32(m, 1);
	m_str(m, "s");
	m_str(m, "t");
	m32(m, 0);
	m = &all[14];
	m_start(m, 18); /* Tmknod */
	m32(m, 1);
	m_str(m, "f");
	m32(m, S_IFIFO | 0644);
	m32(m, 0);
	m32(m, 0);
	m32(m, 0);
	m = &all[15];
	m_start(m, 76); /* Tunlinkat */
	m32(m, 1);
	m_str(m, "file");
	m32(m, 0);
	m = &all[16];
	m_start(m, 12); /* Tlopen */
	m32(m, 1);
	m32(m, 0);
	m = &all[17];
	m_start(m, 24); /* Tgetattr */
	m32(m, 1);
	m64(m, 0x7ff);
	m = &all[18];
	m_start(m, 104); /* Tattach */
	m32(m, 7);
	m32(m, ~0u);
	m_str(m, "u");
	m_str(m, "");
	m32(m, 0);
	m = &all[19];
	m_start(m, 100);
	m32(m, 8192);
	m_str(m, "9P2000.L");
	for (m = all; m < all + 20; m++) {
		for (len = 0; len < m->n; len++) {
			memcpy(cut, m->b, m->n);
			memcpy(cut, &(uint32_t){ (uint32_t)len }, 4);
			r = p9_serve_buf(e.s, cut, len > 7 ? len : 7, e.rep,
					 RCAP);
			if (len < 7) {
				CHECK_EQ(r, -EINVAL);
				continue;
			}
			CHECK_EQ(r, 11);
			CHECK_EQ(e.rep[4], 7);
			/* a size field beyond the buffer */
			memcpy(cut, &(uint32_t){ (uint32_t)m->n }, 4);
			CHECK_EQ(p9_serve_buf(e.s, cut, len, e.rep, RCAP),
				 -EINVAL);
		}
	}
	/* a reply buffer too small for Rlerror */
	CHECK_EQ(p9_serve_buf(e.s, all[0].b, all[0].n, e.rep, 10), -EINVAL);
	env_fini(&e);
}

/* Sharing / does not share the pseudo file systems mounted in it. */
static void test_pseudo_fs(void)
{
	struct p9_options o = { .ro = true };
	struct env e;
	char err[256];
	int r;

	memset(&e, 0, sizeof(e));
	REQUIRE(!p9_server_create("/", &o, &e.s, err, sizeof(err)));
	version(&e, 65536);
	REQUIRE(attach(&e, 1, &r) == 105);
	/* /proc is an empty directory the guest can mount over */
	CHECK_EQ(walk(&e, 1, 2, (const char *const[]){ "proc", NULL }, &r),
		 111);
	CHECK_EQ(lopen(&e, 2, 0, &r), 13);
	{
		struct msg m;

		m_start(&m, 40);
		m32(&m, 2);
		m64(&m, 0);
		m32(&m, 8000);
		CHECK_EQ(send(&e, &m, NULL), 41);
		CHECK_EQ(r_num(&e, 7, 4), 0);
	}
	CHECK_EQ(walk(&e, 1, 3, (const char *const[]){ "proc", "self", NULL },
		      &r),
		 111);
	CHECK_EQ(r_num(&e, 7, 2), 1);
	CHECK_EQ(walk(&e, 2, 3, (const char *const[]){ "1", NULL }, &r), 7);
	CHECK_EQ(r, EACCES);
	CHECK_EQ(walk(&e, 2, 3, (const char *const[]){ "..", "etc", NULL }, &r),
		 111);
	CHECK_EQ(r_num(&e, 7, 2), 2);
	CHECK_EQ(walk(&e, 1, 4, (const char *const[]){ "sys", "kernel", NULL },
		      &r),
		 111);
	CHECK_EQ(r_num(&e, 7, 2), 1);
	CHECK_EQ(walk(&e, 1, 5, (const char *const[]){ "etc", NULL }, &r), 111);
	p9_server_destroy(e.s);
}

#define DEV_RING (GUEST_RAM_BASE + 0x10000)
#define DEV_BUF (GUEST_RAM_BASE + 0x40000)

/* Wait (up to 5 s) for the device's thread to use one more chain. */
static bool dev_wait_used(struct drvq *q, uint32_t *len)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (drvq_pop_used(q, NULL, len))
			return true;
		usleep(1000);
	}
	return false;
}

/* The device over the fake driver: the tag in the configuration, a
 * Tversion/Tattach/Twalk/Tlopen/Tread whose reply spans three buffers, and
 * a chain too short for a reply (DEVICE_NEEDS_RESET). */
static void test_device(void)
{
	struct env e;
	struct guest g;
	struct virtio_dev *d;
	struct vdrv v;
	struct drvq q;
	struct msg m;
	uint32_t len;
	uint8_t *rep;
	int err;

	REQUIRE(env_init(&e, false, 0));
	REQUIRE(!guest_init(&g, GUEST_RAM_BASE, GUEST_RAM_SIZE));
	REQUIRE(!virtio_9p_create(&g.mem, (struct irq_line){ 0 }, e.s, "share",
				  &d));
	vdrv_init_core(&v, d);
	drvq_init(&q, &g, 16, DEV_RING, DEV_RING + 0x1000, DEV_RING + 0x2000);
	REQUIRE(!vdrv_setup(&v, ~0ULL, &q, 1));
	REQUIRE(!vdrv_driver_ok(&v));
	CHECK(vdrv_device_features(&v) & 1ULL << VIRTIO_9P_MOUNT_TAG);
	CHECK_EQ(vdrv_config_read(&v, 0, 2), 5);
	CHECK_EQ(vdrv_config_read(&v, 2, 4), 0x72616873); /* "shar" */
	CHECK_EQ(vdrv_config_read(&v, 6, 1), 'e');
	CHECK_EQ(vdrv_config_read(&v, 7, 1), 0);
	CHECK_EQ(vdrv_config_read(&v, 1000, 4), 0);

	/* each request: the message in one buffer, the reply in three */
	{
		static const uint8_t types[] = { 100, 104, 110, 12, 116 };
		unsigned int k;

		for (k = 0; k < sizeof(types); k++) {
			struct drvq_buf b[4] = {
				{ DEV_BUF, 0, false },
				{ DEV_BUF + 0x1000, 5, true },
				{ DEV_BUF + 0x2000, 6, true },
				{ DEV_BUF + 0x3000, 0x1000, true },
			};

			m_start(&m, types[k]);
			if (types[k] == 100) {
				m32(&m, 65536);
				m_str(&m, "9P2000.L");
			} else if (types[k] == 104) {
				m32(&m, 1);
				m32(&m, ~0u);
				m_str(&m, "");
				m_str(&m, "");
				m32(&m, 0);
			} else if (types[k] == 110) {
				m32(&m, 1);
				m32(&m, 2);
				m16(&m, 1);
				m_str(&m, "file");
			} else if (types[k] == 12) {
				m32(&m, 2);
				m32(&m, 0);
			} else {
				m32(&m, 2);
				m64(&m, 0);
				m32(&m, 100);
			}
			m_end(&m);
			b[0].len = (uint32_t)m.n;
			guest_write(&g, DEV_BUF, m.b, m.n);
			drvq_post_chain(&q, 0, b, 4);
			vdrv_notify(&v, 0);
			REQUIRE(dev_wait_used(&q, &len));
			rep = guest_ptr(&g, DEV_BUF + 0x1000, 5);
			CHECK_EQ(rep[4], types[k] + 1);
		}
		/* Rread: 11 header bytes over 5 + 6, the data in the third */
		CHECK_EQ(len, 11 + 5);
		CHECK(!memcmp(guest_ptr(&g, DEV_BUF + 0x3000, 5), "hello", 5));
	}
	/* a reply buffer too short for any reply */
	{
		struct drvq_buf b[2] = { { DEV_BUF, 0, false },
					 { DEV_BUF + 0x1000, 4, true } };

		m_start(&m, 120);
		m32(&m, 2);
		m_end(&m);
		b[0].len = (uint32_t)m.n;
		guest_write(&g, DEV_BUF, m.b, m.n);
		drvq_post_chain(&q, 0, b, 2);
		vdrv_notify(&v, 0);
		REQUIRE(dev_wait_used(&q, &len));
		CHECK_EQ(len, 0);
		CHECK(vdrv_status(&v) & VIRTIO_CONFIG_S_NEEDS_RESET);
	}
	/* a reset forgets the fids */
	vdrv_reset(&v);
	CHECK_EQ(p9_server_nr_fids(e.s), 0);
	/* without a kick hook (no ioeventfd), the notify woke the thread
	 * and timed it */
	{
		struct virtio_9p_stats ds;

		virtio_9p_get_stats(d, &ds);
		CHECK(ds.timed_wakeups >= 1 && ds.timed_wakeups <= ds.wakeups);
		CHECK(ds.wake_max_ns * ds.timed_wakeups >= ds.wake_ns);
	}
	(void)err;
	virtio_9p_destroy(d);
	guest_destroy(&g);
	env_fini(&e);
}

/*
 * The device at speed, driven as Linux's 9p transport drives it: EVENT_IDX
 * on, a kick only when avail_event asks for one, a wait on the interrupt
 * line (never a poll of the used ring) with used_event set after each
 * reap, zero-copy chains through indirect tables (a 23- or 11-byte header
 * buffer, then 125 page buffers), and SPEED_INFLIGHT requests in flight so
 * that buffers are added while the device thread drains. A missed kick or
 * a missed interrupt shows as a 2 s wait; the per-request times are
 * printed (LKVM_9P_SPEED=1 for the full-size run).
 */
#define SPEED_INFLIGHT 4
#define SPEED_PAGES 125
#define SPEED_SLOT 0x90000ULL
#define SPEED_RING (GUEST_RAM_BASE + 0x10000)
#define SPEED_TABLES (GUEST_RAM_BASE + 0x20000)
#define SPEED_BUFS (GUEST_RAM_BASE + 0x100000)
#define SPEED_RAM (SPEED_BUFS + SPEED_INFLIGHT * SPEED_SLOT - GUEST_RAM_BASE)
#define SPEED_COUNT (512000u - 24u) /* Linux: msize - P9_IOHDRSZ */

struct speed {
	struct guest g;
	struct drvq q;
	struct vdrv v;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int level;
	unsigned int irqs, kicks, missed;
	uint16_t free_mask; /* slots not in flight */
	uint32_t len[SPEED_INFLIGHT];
};

static void speed_irq(void *ctrl, unsigned int irq, int level)
{
	struct speed *sp = ctrl;

	(void)irq;
	pthread_mutex_lock(&sp->lock);
	sp->level = level;
	if (level) {
		sp->irqs++;
		pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&sp->lock);
}

/* Post slot's request (msg) with its data pages on the out (write) or in
 * side, then kick when the device asked for one. */
static void speed_post(struct speed *sp, unsigned int slot, struct msg *m,
		       bool data_out)
{
	uint64_t base = SPEED_BUFS + slot * SPEED_SLOT,
		 tab = SPEED_TABLES + slot * 0x1000ULL;
	uint32_t n = 0, i, hdr = data_out ? 23 : (uint32_t)m->n;
	uint16_t old, ev;

	m_end(m);
	if (data_out) /* Linux: the size counts the pages after the header */
		memcpy(m->b, &(uint32_t){ (uint32_t)m->n + SPEED_COUNT }, 4);
	guest_write(&sp->g, base, m->b, m->n);
	drvq_put_indirect(&sp->q, tab, n, base, hdr, VRING_DESC_F_NEXT, n + 1);
	n++;
	if (data_out)
		for (i = 0; i < SPEED_PAGES; i++, n++)
			drvq_put_indirect(&sp->q, tab, n,
					  base + 0x1000 * (i + 1), 4096,
					  VRING_DESC_F_NEXT, n + 1);
	/* the reply header: Linux's 11 bytes for a zero-copy reply, a page
	 * for any other */
	drvq_put_indirect(
		&sp->q, tab, n, base + 0x800, data_out ? 4096 : 11,
		VRING_DESC_F_WRITE | (data_out ? 0 : VRING_DESC_F_NEXT), n + 1);
	n++;
	if (!data_out)
		for (i = 0; i < SPEED_PAGES; i++, n++)
			drvq_put_indirect(
				&sp->q, tab, n, base + 0x1000 * (i + 1), 4096,
				VRING_DESC_F_WRITE |
					(i + 1 < SPEED_PAGES ? VRING_DESC_F_NEXT
							     : 0),
				n + 1);
	drvq_put_desc(&sp->q, (uint16_t)slot, tab, n * 16,
		      VRING_DESC_F_INDIRECT, 0);
	old = sp->q.avail_idx;
	drvq_avail(&sp->q, (uint16_t)slot);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* Linux: virtio_mb */
	/* atomic: the device thread writes it meanwhile */
	ev = __atomic_load_n(
		(uint16_t *)guest_ptr(&sp->g, drvq_avail_event_gpa(&sp->q), 2),
		__ATOMIC_RELAXED);
	if ((uint16_t)(sp->q.avail_idx - ev - 1) <
	    (uint16_t)(sp->q.avail_idx - old)) {
		sp->kicks++;
		vdrv_notify(&sp->v, 0);
	}
	sp->free_mask &= (uint16_t) ~(1u << slot);
}

/* Reap at least one completion, waiting on the interrupt as Linux does. */
static void speed_reap(struct speed *sp)
{
	uint32_t id, len;
	bool got = false;

	for (;;) {
		while (drvq_pop_used(&sp->q, &id, &len)) {
			if (id < SPEED_INFLIGHT) {
				sp->len[id] = len;
				sp->free_mask |= (uint16_t)(1u << id);
			}
			got = true;
		}
		/* virtqueue_get_buf: used_event = last used, then a barrier */
		__atomic_store_n(
			(uint16_t *)guest_ptr(&sp->g,
					      drvq_used_event_gpa(&sp->q), 2),
			sp->q.used_seen, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (drvq_used_idx(&sp->q) != sp->q.used_seen)
			continue;
		if (got)
			return;
		pthread_mutex_lock(&sp->lock);
		if (!sp->level) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 2;
			if (pthread_cond_timedwait(&sp->cond, &sp->lock, &ts) &&
			    !sp->level)
				sp->missed++;
		}
		pthread_mutex_unlock(&sp->lock);
		vdrv_isr_ack(&sp->v); /* vm_interrupt: ack, then the rings */
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* KVM's ioeventfd: the doorbell signals the device's own eventfd. */
static void ioeventfd_kick(void *opaque, unsigned int q)
{
	struct virtio_dev *d = opaque;
	uint64_t one = 1;

	if (write(virtio_dev_ops(d)->notify_fd(d, q), &one, sizeof(one)) < 0)
		return;
}

static void test_device_speed(void)
{
	static struct speed sp;
	bool full = getenv("LKVM_9P_SPEED") != NULL;
	unsigned int nreq = full ? 1000 : 200, nent = full ? 10000 : 2000;
	unsigned int i, done, slot, entries = 0, rounds = 0, irqs;
	struct virtio_dev *d;
	struct env e;
	struct msg m;
	uint64_t off = 0;
	double t0, t[4], t_dir;
	char p[256];
	int err, fd;

	REQUIRE(env_init(&e, false, 0));
	snprintf(p, sizeof(p), "%s/big", e.share);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(!ftruncate(fd, 4 << 20));
	close(fd);
	snprintf(p, sizeof(p), "%s/many", e.share);
	REQUIRE(!mkdir(p, 0755));
	for (i = 0; i < nent; i++) {
		snprintf(p, sizeof(p), "%s/many/entry-%u", e.share, i);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		REQUIRE(fd >= 0);
		close(fd);
	}
	/* the fids, before the device's thread runs */
	REQUIRE(version(&e, 512000) == 101);
	REQUIRE(attach(&e, 1, &err) == 105);
	REQUIRE(walk(&e, 1, 2, (const char *const[]){ "big", NULL }, &err) ==
		111);
	REQUIRE(lopen(&e, 2, 2 /* O_RDWR */, &err) == 13);
	REQUIRE(walk(&e, 1, 3, (const char *const[]){ "many", NULL }, &err) ==
		111);
	REQUIRE(lopen(&e, 3, 0, &err) == 13);

	memset(&sp, 0, sizeof(sp));
	pthread_mutex_init(&sp.lock, NULL);
	pthread_cond_init(&sp.cond, NULL);
	REQUIRE(!guest_init(&sp.g, GUEST_RAM_BASE, SPEED_RAM));
	REQUIRE(!virtio_9p_create(&sp.g.mem,
				  (struct irq_line){ speed_irq, &sp, 0 }, e.s,
				  "share", &d));
	/* kicks signal the device's own eventfd, as KVM's ioeventfd does
	 * in lkvm: no other thread in between */
	REQUIRE(virtio_dev_ops(d)->notify_fd);
	REQUIRE(virtio_dev_ops(d)->notify_fd(d, 0) >= 0);
	CHECK_EQ(virtio_dev_ops(d)->notify_fd(d, 1), -1);
	virtio_dev_set_kick(d, ioeventfd_kick, d);
	vdrv_init_core(&sp.v, d);
	drvq_init(&sp.q, &sp.g, 128, SPEED_RING, SPEED_RING + 0x1000,
		  SPEED_RING + 0x2000);
	REQUIRE(!vdrv_setup(&sp.v, ~0ULL, &sp.q, 1));
	REQUIRE(!vdrv_driver_ok(&sp.v));
	REQUIRE(vdrv_device_features(&sp.v) & 1ULL << VIRTIO_RING_F_EVENT_IDX);
	REQUIRE(vdrv_device_features(&sp.v) &
		1ULL << VIRTIO_RING_F_INDIRECT_DESC);

	/* Tread and Twrite of SPEED_COUNT bytes, one at a time (as a dd
	 * does) and SPEED_INFLIGHT at a time */
	for (int pass = 0; pass < 4; pass++) {
		unsigned int depth = pass & 2 ? SPEED_INFLIGHT : 1;
		bool wr = pass & 1;

		sp.free_mask = (uint16_t)((1u << depth) - 1);
		t0 = now_us();
		for (i = done = 0; done < nreq;) {
			while (i < nreq && sp.free_mask) {
				slot = (unsigned int)__builtin_ctz(
					sp.free_mask);
				m_start(&m, wr ? 118 : 116);
				m32(&m, 2);
				m64(&m, (uint64_t)(i % 8) * SPEED_COUNT);
				m32(&m, SPEED_COUNT);
				speed_post(&sp, slot, &m, wr);
				i++;
			}
			speed_reap(&sp);
			done = i - (depth - (unsigned int)__builtin_popcount(
						    sp.free_mask));
		}
		for (slot = 0; slot < depth; slot++)
			CHECK_EQ(sp.len[slot], wr ? 11 : 11 + SPEED_COUNT);
		t[pass] = (now_us() - t0) / nreq;
	}
	/* a Treaddir walk of the directory, one request at a time */
	t0 = now_us();
	for (;;) {
		uint64_t base = SPEED_BUFS;
		size_t pos = 0, end;
		uint8_t *hdr;
		uint8_t *data;

		m_start(&m, 40);
		m32(&m, 3);
		m64(&m, off);
		m32(&m, SPEED_COUNT);
		speed_post(&sp, 0, &m, false);
		speed_reap(&sp);
		hdr = guest_ptr(&sp.g, base + 0x800, 11);
		REQUIRE(hdr[4] == 41);
		end = (size_t)hdr[7] | (size_t)hdr[8] << 8 |
		      (size_t)hdr[9] << 16;
		if (!end)
			break;
		data = guest_ptr(&sp.g, base + 0x1000, end);
		while (pos < end) {
			size_t nl = data[pos + 22] | data[pos + 23] << 8;

			memcpy(&off, data + pos + 13, 8);
			entries++;
			pos += 24 + nl;
		}
		rounds++;
	}
	t_dir = now_us() - t0;
	CHECK_EQ(entries, nent + 2);
	CHECK_EQ(sp.missed, 0);
	/* --stats: what the device and the server counted */
	{
		struct virtio_9p_stats ds;
		struct p9_stats st;

		virtio_9p_get_stats(d, &ds);
		p9_server_get_stats(e.s, &st);
		CHECK_EQ(ds.chains, 4 * nreq + rounds + 1);
		CHECK(ds.wakeups >= 1 && ds.wakeups <= ds.chains);
		CHECK_EQ(ds.timed_wakeups, 0); /* no notify of lkvm's */
		CHECK_EQ(st.reads, 2 * nreq);
		CHECK_EQ(st.read_bytes, 2ULL * nreq * SPEED_COUNT);
		CHECK_EQ(st.writes, 2 * nreq);
		CHECK_EQ(st.write_bytes, 2ULL * nreq * SPEED_COUNT);
		CHECK_EQ(st.readdirs, rounds + 1);
		CHECK_EQ(st.walks, 2);
		CHECK_EQ(st.errors, 0);
		printf("    9p device: %llu wakeups; %.1f ms serving\n",
		       (unsigned long long)ds.wakeups,
		       (double)ds.serve_ns / 1e6);
	}
	pthread_mutex_lock(&sp.lock); /* irqs: the device thread's */
	irqs = sp.irqs;
	pthread_mutex_unlock(&sp.lock);
	printf("    9p device: %u x %u B, us per request, 1 in flight: Tread %.0f, "
	       "Twrite %.0f; %d in flight: Tread %.0f, Twrite %.0f; Treaddir of "
	       "%u entries: %u requests, %.1f ms; %u kicks, %u interrupts, %u "
	       "missed\n",
	       nreq, SPEED_COUNT, t[0], t[1], SPEED_INFLIGHT, t[2], t[3], nent,
	       rounds, t_dir / 1000, sp.kicks, irqs, sp.missed);
	virtio_9p_destroy(d);
	guest_destroy(&sp.g);
	pthread_cond_destroy(&sp.cond);
	pthread_mutex_destroy(&sp.lock);
	env_fini(&e);
}

/* --9p DIR[,TAG][,ro], and the 9p root's kernel command line. */
static void test_options(void)
{
	static struct vm_config cfg;
	struct p9_spec sp;
	char err[256], line[512];

	CHECK_EQ(run_parse_9p("/tmp", &sp, err, sizeof(err)), 0);
	CHECK_STR(sp.tag, "kvm_9p");
	CHECK(!sp.ro);
	CHECK_EQ(run_parse_9p("/tmp,host,ro", &sp, err, sizeof(err)), 0);
	CHECK_STR(sp.tag, "host");
	CHECK(sp.ro);
	CHECK_EQ(run_parse_9p("/tmp,ro", &sp, err, sizeof(err)), 0);
	CHECK_STR(sp.tag, "kvm_9p");
	CHECK(sp.ro);
	CHECK_EQ(run_parse_9p("/tmp,a,b", &sp, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "second tag"));
	CHECK_EQ(run_parse_9p("/nonexistent-dir", &sp, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "not a directory"));
	CHECK_EQ(run_parse_9p("", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(run_parse_9p("/tmp,,", &sp, err, sizeof(err)), -EINVAL);

	memset(&cfg, 0, sizeof(cfg));
	CHECK_EQ(run_parse_9p("/tmp,/dev/root,ro", &cfg.shares[0], err,
			      sizeof(err)),
		 0);
	cfg.nr_shares = 1;
	board_bootargs(&cfg, false, line, sizeof(line));
	CHECK(strstr(
		line,
		"root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L"));
	CHECK(strstr(line, " ro"));
	/* cache=mmap: page-cache I/O in msize requests, shared writable mmap */
	CHECK(strstr(line, "msize=512000,cache=mmap ro"));
	/* a rootflags= of the user's comes after lkvm's, so it wins */
	cfg.params = "rootflags=trans=virtio,cache=loose";
	board_bootargs(&cfg, false, line, sizeof(line));
	CHECK(strstr(line, "cache=mmap ro") &&
	      strstr(line, "cache=mmap ro") <
		      strstr(line, "rootflags=trans=virtio,cache=loose"));
	cfg.params = "root=/dev/vdb";
	board_bootargs(&cfg, false, line, sizeof(line));
	CHECK(!strstr(line, "rootfstype"));
}

UNIT_SUITE(p9, UNIT_TEST(test_version), UNIT_TEST(test_walk_dotdot),
	   UNIT_TEST(test_walk_symlinks), UNIT_TEST(test_swap_race),
	   UNIT_TEST(test_io), UNIT_TEST(test_entries),
	   UNIT_TEST(test_xattr_lock), UNIT_TEST(test_readdir),
	   UNIT_TEST(test_qid_version), UNIT_TEST(test_exact_mode),
	   UNIT_TEST(test_nofile), UNIT_TEST(test_ro),
	   UNIT_TEST(test_fid_limit), UNIT_TEST(test_lengths),
	   UNIT_TEST(test_pseudo_fs), UNIT_TEST(test_device),
	   UNIT_TEST(test_device_speed), UNIT_TEST(test_options));
