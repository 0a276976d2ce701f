// SPDX-License-Identifier: GPL-2.0-only
/* A 9P2000.L server confined to one host directory (lkvm/9p.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/openat2.h>

#include "lkvm/9p.h"
#include "lkvm/compiler.h"
#include "lkvm/iov.h"

/* Message types (9P2000.L, as Linux's include/net/9p/9p.h numbers them). */
enum {
	P9_RLERROR = 7,
	P9_TSTATFS = 8,
	P9_TLOPEN = 12,
	P9_TLCREATE = 14,
	P9_TSYMLINK = 16,
	P9_TMKNOD = 18,
	P9_TRENAME = 20,
	P9_TREADLINK = 22,
	P9_TGETATTR = 24,
	P9_TSETATTR = 26,
	P9_TXATTRWALK = 30,
	P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40,
	P9_TFSYNC = 50,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70,
	P9_TMKDIR = 72,
	P9_TRENAMEAT = 74,
	P9_TUNLINKAT = 76,
	P9_TVERSION = 100,
	P9_TAUTH = 102,
	P9_TATTACH = 104,
	P9_TFLUSH = 108,
	P9_TWALK = 110,
	P9_TREAD = 116,
	P9_TWRITE = 118,
	P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

#define P9_NOTAG 0xffff
#define P9_NOFID 0xffffffffu
#define P9_MAXWELEM 16
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02
#define P9_QTFILE 0x00
#define P9_GETATTR_BASIC 0x7ffull
#define P9_XATTR_MAX 65536u
#define P9_READ_HDR 11u /* size type tag count */
#define P9_WRITE_HDR 23u /* size type tag fid offset count */
#define P9_FID_BUCKETS 4096u

/* Tsetattr valid bits */
#define P9_SETATTR_MODE 0x1
#define P9_SETATTR_UID 0x2
#define P9_SETATTR_GID 0x4
#define P9_SETATTR_SIZE 0x8
#define P9_SETATTR_ATIME 0x10
#define P9_SETATTR_MTIME 0x20
#define P9_SETATTR_ATIME_SET 0x80
#define P9_SETATTR_MTIME_SET 0x100

/* Tlock */
#define P9_LOCK_SUCCESS 0
#define P9_LOCK_BLOCKED 1
#define P9_LOCK_ERROR 2
#define P9_LOCK_RDLCK 0
#define P9_LOCK_WRLCK 1
#define P9_LOCK_UNLCK 2

/* Tlopen/Tlcreate flags (9P2000.L's, the generic Linux values) */
#define P9_DOTL_ACCMODE 03
#define P9_DOTL_CREATE 0100
#define P9_DOTL_EXCL 0200
#define P9_DOTL_TRUNC 01000
#define P9_DOTL_APPEND 02000
#define P9_DOTL_DSYNC 010000
#define P9_DOTL_DIRECTORY 0200000
#define P9_DOTL_SYNC 04000000

enum fid_kind { FID_PATH, FID_XATTR_READ, FID_XATTR_WRITE };

struct p9_fid {
	struct p9_fid *next; /* hash chain */
	uint32_t num;
	enum fid_kind kind;
	int fd; /* O_PATH: the inode this fid names */
	int ofd; /* after Tlopen/Tlcreate, else -1 */
	uint32_t uid; /* the attaching user */
	bool isdir;
	/* the root of a pseudo file system mounted in the share (/proc):
	 * an empty directory to the guest, which it may mount over */
	bool pseudo;
	off_t dir_pos; /* where ofd's directory stream stands */
	/* xattr fids */
	uint8_t *xbuf;
	uint32_t xsize, xlen;
	uint32_t xflags;
	char *xname;
};

struct p9_server {
	int root; /* O_PATH of the share */
	dev_t root_dev;
	ino_t root_ino;
	int procfd; /* /proc/self/fd, to re-open a fid's inode */
	mode_t umask; /* lkvm's, read once: what a create must put back */
	bool ro, as_root;
	unsigned int max_fids, nr_fids;
	uint32_t msize;
	struct p9_fid *fids[P9_FID_BUCKETS];
	uint8_t *tbuf; /* the request, copied once (P9_MSIZE_MAX) */
	uint8_t *rbuf; /* the reply, built here (P9_MSIZE_MAX) */
	uint8_t *dbuf; /* getdents64's (P9_MSIZE_MAX) */
	struct p9_stats stats; /* the serving thread adds, atomically */
};

/* A message being parsed or built: errors stick. */
struct p9_buf {
	uint8_t *p;
	size_t len, pos;
	bool bad;
};

static const void *get_bytes(struct p9_buf *b, size_t n)
{
	const void *p;

	if (b->bad || n > b->len - b->pos) {
		b->bad = true;
		return NULL;
	}
	p = b->p + b->pos;
	b->pos += n;
	return p;
}

static uint64_t get_n(struct p9_buf *b, size_t n)
{
	const uint8_t *p = get_bytes(b, n);
	uint64_t v = 0;
	size_t i;

	for (i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#define get8(b) ((uint8_t)get_n(b, 1))
#define get16(b) ((uint16_t)get_n(b, 2))
#define get32(b) ((uint32_t)get_n(b, 4))
#define get64(b) get_n(b, 8)
#define skip(b, n) ((void)get_bytes(b, n))

/* A string into out (cap bytes with its NUL); refused when it holds a NUL
 * or does not fit. */
static void get_str(struct p9_buf *b, char *out, size_t cap)
{
	uint16_t n = get16(b);
	const char *p = get_bytes(b, n);

	out[0] = 0;
	if (!p)
		return;
	if (n >= cap || memchr(p, 0, n)) {
		b->bad = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = 0;
}

static void put_n(struct p9_buf *b, uint64_t v, size_t n)
{
	size_t i;

	if (b->bad || n > b->len - b->pos) {
		b->bad = true;
		return;
	}
	for (i = 0; i < n; i++)
		b->p[b->pos++] = (uint8_t)(v >> (8 * i));
}

#define put8(b, v) put_n(b, v, 1)
#define put16(b, v) put_n(b, v, 2)
#define put32(b, v) put_n(b, v, 4)
#define put64(b, v) put_n(b, v, 8)

static void put_str(struct p9_buf *b, const char *s, size_t n)
{
	if (n > UINT16_MAX) {
		b->bad = true;
		return;
	}
	put16(b, n);
	if (b->bad || n > b->len - b->pos) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->pos, s, n);
	b->pos += n;
}

/*
 * A qid's version: changes when the file's mtime or size does, and is
 * never 0. Linux's 9p client opens a file whose qid version is 0 for
 * direct I/O whatever the cache= mount option says (fid.h's
 * v9fs_fid_add_modes(): "no read or write cache"), so with 0 every read
 * and write would be a round trip of at most a page under cache=loose or
 * mmap too.
 */
static uint32_t qid_version(const struct stat *st)
{
	uint64_t v = (uint64_t)st->st_mtim.tv_sec ^
		     ((uint64_t)st->st_mtim.tv_nsec << 2) ^
		     ((uint64_t)st->st_size << 8);
	uint32_t h = (uint32_t)(v ^ (v >> 32));

	return h ? h : 1;
}

static void put_qid(struct p9_buf *b, const struct stat *st)
{
	uint8_t t = S_ISDIR(st->st_mode)   ? P9_QTDIR
		    : S_ISLNK(st->st_mode) ? P9_QTSYMLINK
					   : P9_QTFILE;

	put8(b, t);
	put32(b, qid_version(st));
	put64(b, st->st_ino);
}

/* ---- fids ---- */

static unsigned int fid_hash(uint32_t num)
{
	return (num * 2654435761u) >> 20; /* 12 bits: P9_FID_BUCKETS */
}

static struct p9_fid *fid_get(struct p9_server *s, uint32_t num)
{
	struct p9_fid *f;

	for (f = s->fids[fid_hash(num)]; f; f = f->next)
		if (f->num == num)
			return f;
	return NULL;
}

static void fid_close(struct p9_fid *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->ofd >= 0)
		close(f->ofd);
	free(f->xbuf);
	free(f->xname);
	free(f);
}

static void fid_del(struct p9_server *s, struct p9_fid *f)
{
	struct p9_fid **pp = &s->fids[fid_hash(f->num)];

	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	s->nr_fids--;
	fid_close(f);
}

/* A new fid num holding fd (taken over even on failure). */
static int fid_new(struct p9_server *s, uint32_t num, int fd, uint32_t uid,
		   bool isdir, struct p9_fid **out)
{
	struct p9_fid *f;
	unsigned int h = fid_hash(num);

	if (num == P9_NOFID || fid_get(s, num)) {
		close(fd);
		return -EBADF;
	}
	if (s->nr_fids >= s->max_fids) {
		close(fd);
		return -ENFILE;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->num = num;
	f->fd = fd;
	f->ofd = -1;
	f->uid = uid;
	f->isdir = isdir;
	f->next = s->fids[h];
	s->fids[h] = f;
	s->nr_fids++;
	if (out)
		*out = f;
	return 0;
}

void p9_server_reset(struct p9_server *s)
{
	unsigned int i;
	struct p9_fid *f;

	for (i = 0; i < P9_FID_BUCKETS; i++) {
		while ((f = s->fids[i])) {
			s->fids[i] = f->next;
			fid_close(f);
		}
	}
	s->nr_fids = 0;
}

unsigned int p9_server_nr_fids(const struct p9_server *s)
{
	return s->nr_fids;
}

/* ---- host helpers ---- */

static int fd_stat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno
									: 0;
}

/* A name that creates, removes or names one entry of a directory. */
static bool name_ok(const char *n)
{
	return n[0] && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, "..");
}

/* Pseudo file systems a walk may not enter. */
static bool fs_refused(int fd)
{
	static const long refused[] = {
		PROC_SUPER_MAGIC,   SYSFS_MAGIC,	 DEBUGFS_MAGIC,
		TRACEFS_MAGIC,	    SECURITYFS_MAGIC,	 BPF_FS_MAGIC,
		CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEVPTS_SUPER_MAGIC,
		EFIVARFS_MAGIC,	    PSTOREFS_MAGIC,	 SELINUX_MAGIC,
		BINFMTFS_MAGIC,	    NSFS_MAGIC,
	};
	struct statfs sf;
	size_t i;

	if (fstatfs(fd, &sf))
		return true;
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		if ((long)sf.f_type == refused[i])
			return true;
	return false;
}

/*
 * One walk step from dirfd (whose stat is dst) to name: an O_PATH
 * descriptor in *out and its stat in st. Never follows a symlink. *pseudo
 * says whether dirfd is the root of a refused file system (only ".." and
 * "." lead anywhere from it) and then whether the result is.
 */
static int lookup(struct p9_server *s, int dirfd, const struct stat *dst,
		  const char *name, int *out, struct stat *st, bool *pseudo)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	int fd, ret;

	if (!name[0] || strchr(name, '/'))
		return -ENOENT;
	if (!S_ISDIR(dst->st_mode))
		return -ENOTDIR;
	if (*pseudo && strcmp(name, ".") && strcmp(name, ".."))
		return -EACCES;
	if (strcmp(name, "."))
		*pseudo = false;
	if (!strcmp(name, ".") ||
	    (!strcmp(name, "..") && dst->st_dev == s->root_dev &&
	     dst->st_ino == s->root_ino)) {
		fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	} else if (!strcmp(name, "..")) {
		/* dirfd lies beneath the root and is not it: so does its
		 * parent */
		fd = openat(dirfd, "..",
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	}
	if (fd < 0)
		return -errno;
	ret = fd_stat(fd, st);
	if (!ret && st->st_dev != dst->st_dev && fs_refused(fd))
		*pseudo = true;
	if (ret) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

/* Re-open the inode of O_PATH fd with flags (O_CLOEXEC added). */
static int reopen(struct p9_server *s, int fd, int flags)
{
	char n[16];
	int r;

	snprintf(n, sizeof(n), "%d", fd);
	r = openat(s->procfd, n, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? -errno : r;
}

/* "/proc/self/fd/N" for the calls that take only a path (xattrs). */
static void proc_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/*
 * A create's mode, exactly: the guest applied its own umask to it, and
 * lkvm's (the host process's) must not apply again. The permission bits
 * the host's umask took go back; the special bits stay as the host set
 * them (cur: a directory inherits setgid). fd: the new entry, opened or
 * O_PATH; chmod goes through /proc/self/fd, which O_PATH allows.
 */
static void put_back_mode(struct p9_server *s, int fd, mode_t cur,
			  uint32_t mode)
{
	char n[16];

	snprintf(n, sizeof(n), "%d", fd);
	if (fchmodat(s->procfd, n, (cur & 07000) | (mode & 0777), 0)) {
		/* kept: the mode as created */
	}
}

/* put_back_mode() for an entry just made by name in dirfd, through an
 * O_PATH, no-follow handle: a name swapped meanwhile is never followed. */
static void exact_mode(struct p9_server *s, int dirfd, const char *name,
		       uint32_t mode)
{
	struct stat st;
	int fd;

	if (!(s->umask & mode & 0777))
		return;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && !S_ISLNK(st.st_mode))
		put_back_mode(s, fd, st.st_mode, mode);
	close(fd);
}

/* New files belong to the guest's user when lkvm runs as root. */
static void give(struct p9_server *s, int dirfd, const char *name, uint32_t uid,
		 uint32_t gid)
{
	if (s->as_root && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW))
		return; /* kept: the file exists, owned by root */
}

/* ---- requests ---- */

struct p9_req {
	struct p9_server *s;
	uint8_t type;
	uint16_t tag;
	struct p9_buf in; /* after size, type, tag */
	struct p9_buf out; /* after the reply's header */
	/* Tread/Twrite: the caller's iovecs for the data */
	const struct iovec *rep;
	unsigned int nrep;
	const struct iovec *req;
	unsigned int nreq;
	uint32_t data_len; /* Rread: bytes placed after the header */
};

static struct p9_fid *req_fid(struct p9_req *r, int *err)
{
	uint32_t num = get32(&r->in);
	struct p9_fid *f = r->in.bad ? NULL : fid_get(r->s, num);

	if (!f)
		*err = r->in.bad ? -EINVAL : -EBADF;
	return f;
}

static struct p9_fid *req_path_fid(struct p9_req *r, int *err)
{
	struct p9_fid *f = req_fid(r, err);

	if (f && f->kind != FID_PATH) {
		*err = -EINVAL;
		return NULL;
	}
	return f;
}

/* A fid that may be changed, listed or named from: not a pseudo root. */
static struct p9_fid *req_plain_fid(struct p9_req *r, int *err)
{
	struct p9_fid *f = req_path_fid(r, err);

	if (f && f->pseudo) {
		*err = -EACCES;
		return NULL;
	}
	return f;
}

static int t_version(struct p9_req *r)
{
	struct p9_server *s = r->s;
	uint32_t msize = get32(&r->in);
	char ver[32];

	get_str(&r->in, ver, sizeof(ver));
	if (r->in.bad || msize < P9_MSIZE_MIN)
		return -EINVAL;
	p9_server_reset(s);
	s->msize = msize < P9_MSIZE_MAX ? msize : P9_MSIZE_MAX;
	put32(&r->out, s->msize);
	if (strcmp(ver, "9P2000.L"))
		put_str(&r->out, "unknown", 7);
	else
		put_str(&r->out, "9P2000.L", 8);
	return 0;
}

static int t_attach(struct p9_req *r)
{
	struct p9_server *s = r->s;
	uint32_t fid = get32(&r->in), uid;
	char name[256];
	struct stat st;
	int fd, ret;

	skip(&r->in, 4); /* afid: no authentication */
	get_str(&r->in, name, sizeof(name));
	get_str(&r->in, name, sizeof(name)); /* aname: the share */
	uid = get32(&r->in);
	if (r->in.bad)
		return -EINVAL;
	if (uid == P9_NOFID)
		uid = 0;
	fd = fcntl(s->root, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = fd_stat(fd, &st);
	if (ret) {
		close(fd);
		return ret;
	}
	ret = fid_new(s, fid, fd, uid, true, NULL);
	if (!ret)
		put_qid(&r->out, &st);
	return ret;
}

static int t_walk(struct p9_req *r)
{
	struct p9_server *s = r->s;
	int err = 0, cur, next = -1, ret = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	uint32_t newnum = get32(&r->in);
	uint16_t n = get16(&r->in), i;
	char names[P9_MAXWELEM][256];
	struct p9_fid *nf;
	struct stat st, nst;
	size_t count_pos;
	bool pseudo;

	if (!f)
		return err;
	pseudo = f->pseudo;
	if (r->in.bad || n > P9_MAXWELEM)
		return -EINVAL;
	/* the whole message first: a cut one walks nowhere */
	for (i = 0; i < n; i++)
		get_str(&r->in, names[i], sizeof(names[i]));
	if (r->in.bad)
		return -EINVAL;
	if (newnum != f->num && fid_get(s, newnum))
		return -EBADF;
	ret = fd_stat(f->fd, &st);
	if (ret)
		return ret;
	cur = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	count_pos = r->out.pos;
	put16(&r->out, 0);
	for (i = 0; i < n; i++) {
		ret = lookup(s, cur, &st, names[i], &next, &nst, &pseudo);
		if (ret)
			break;
		close(cur);
		cur = next;
		st = nst;
		put_qid(&r->out, &st);
	}
	if (i < n) {
		close(cur);
		if (!i)
			return ret;
		/* a partial walk: the qids so far, newfid not made */
		memcpy(r->out.p + count_pos, &i, sizeof(i));
		return 0;
	}
	memcpy(r->out.p + count_pos, &n, sizeof(n));
	if (newnum == f->num) {
		if (f->ofd >= 0) {
			close(cur);
			return -EBUSY;
		}
		close(f->fd);
		f->fd = cur;
		f->isdir = S_ISDIR(st.st_mode);
		f->pseudo = pseudo;
		return 0;
	}
	ret = fid_new(s, newnum, cur, f->uid, S_ISDIR(st.st_mode), &nf);
	if (!ret)
		nf->pseudo = pseudo;
	return ret;
}

/* 9P2000.L open flags to host flags; ro refuses writing ones. */
static int open_flags(struct p9_server *s, uint32_t fl, int *out)
{
	int acc = fl & P9_DOTL_ACCMODE, h;

	if (acc == 3)
		return -EINVAL;
	if (s->ro && (acc != 0 || fl & (P9_DOTL_TRUNC | P9_DOTL_CREATE)))
		return -EROFS;
	h = acc == 0 ? O_RDONLY : acc == 1 ? O_WRONLY : O_RDWR;
	if (fl & P9_DOTL_TRUNC)
		h |= O_TRUNC;
	if (fl & P9_DOTL_APPEND)
		h |= O_APPEND;
	if (fl & P9_DOTL_DSYNC)
		h |= O_DSYNC;
	if (fl & P9_DOTL_SYNC)
		h |= O_SYNC;
	if (fl & P9_DOTL_DIRECTORY)
		h |= O_DIRECTORY;
	*out = h;
	return 0;
}

static int t_lopen(struct p9_req *r)
{
	int err = 0, flags, fd, ret;
	struct p9_fid *f = req_path_fid(r, &err);
	uint32_t fl = get32(&r->in);
	struct stat st;

	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (f->ofd >= 0)
		return -EBUSY;
	ret = open_flags(r->s, fl & ~P9_DOTL_CREATE, &flags);
	ret = ret ?: fd_stat(f->fd, &st);
	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode)) {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return -EISDIR;
		flags = O_RDONLY | O_DIRECTORY;
	} else if (!S_ISREG(st.st_mode)) {
		return S_ISLNK(st.st_mode) ? -ELOOP : -EACCES;
	}
	fd = reopen(r->s, f->fd, flags);
	if (fd < 0)
		return fd;
	f->ofd = fd;
	f->dir_pos = 0;
	put_qid(&r->out, &st);
	put32(&r->out, 0);
	return 0;
}

/* Tlcreate of a name that exists: a regular file only, re-opened. */
static int open_existing(struct p9_server *s, int dirfd, const char *name,
			 int flags)
{
	struct stat dst, st;
	bool pseudo = false;
	int pfd, fd;

	if (fd_stat(dirfd, &dst) ||
	    lookup(s, dirfd, &dst, name, &pfd, &st, &pseudo))
		return -EEXIST; /* gone again */
	if (!S_ISREG(st.st_mode) || pseudo) {
		close(pfd);
		return S_ISLNK(st.st_mode) ? -ELOOP : -EEXIST;
	}
	fd = reopen(s, pfd, flags);
	close(pfd);
	return fd;
}

static int t_lcreate(struct p9_req *r)
{
	struct p9_server *s = r->s;
	int err = 0, flags, fd, pfd, ret;
	struct p9_fid *f = req_plain_fid(r, &err);
	char name[256];
	uint32_t fl, mode, gid;
	bool created;
	struct open_how how = { 0 };
	struct stat st;

	if (!f)
		return err;
	get_str(&r->in, name, sizeof(name));
	fl = get32(&r->in);
	mode = get32(&r->in);
	gid = get32(&r->in);
	if (r->in.bad || !name_ok(name))
		return -EINVAL;
	if (s->ro)
		return -EROFS;
	if (f->ofd >= 0 || !f->isdir)
		return -ENOTDIR;
	ret = open_flags(s, fl & ~P9_DOTL_DIRECTORY, &flags);
	if (ret)
		return ret;
	/* created here, or opened through the existing entry's own inode
	 * once it is known to be a regular file: never a fifo (a hang) or
	 * a device node (the host's device) by its name */
	how.flags =
		(uint64_t)(flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
	how.mode = mode & 07777;
	how.resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, f->fd, name, &how, sizeof(how));
	created = fd >= 0;
	if (fd < 0 && errno == EEXIST && !(fl & P9_DOTL_EXCL))
		fd = open_existing(s, f->fd, name, flags);
	else if (fd < 0)
		fd = -errno;
	if (fd < 0)
		return fd;
	pfd = fstat(fd, &st) ? -errno : reopen(s, fd, O_PATH);
	if (pfd < 0) {
		close(fd);
		return pfd;
	}
	if (created && s->umask & mode & 0777)
		put_back_mode(s, fd, st.st_mode, mode);
	if (created && s->as_root && fchown(fd, f->uid, gid)) {
		/* kept: owned by root */
	}
	close(f->fd);
	f->fd = pfd;
	f->ofd = fd;
	f->isdir = false;
	put_qid(&r->out, &st);
	put32(&r->out, 0);
	return 0;
}

/* The new entry name of dir fid, for a reply's qid. */
static int reply_entry_qid(struct p9_req *r, int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	put_qid(&r->out, &st);
	return 0;
}

/* Parse "dfid name" of a request that makes or removes an entry. */
static struct p9_fid *dir_and_name(struct p9_req *r, char *name, int *err)
{
	struct p9_fid *f = req_plain_fid(r, err);

	get_str(&r->in, name, 256);
	if (!f)
		return NULL;
	if (r->in.bad || !name_ok(name)) {
		*err = -EINVAL;
		return NULL;
	}
	if (!f->isdir) {
		*err = -ENOTDIR;
		return NULL;
	}
	return f;
}

static int t_mkdir(struct p9_req *r)
{
	int err = 0;
	char name[256];
	struct p9_fid *f = dir_and_name(r, name, &err);
	uint32_t mode = get32(&r->in), gid = get32(&r->in);

	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	if (mkdirat(f->fd, name, mode & 07777))
		return -errno;
	exact_mode(r->s, f->fd, name, mode);
	give(r->s, f->fd, name, f->uid, gid);
	return reply_entry_qid(r, f->fd, name);
}

static int t_symlink(struct p9_req *r)
{
	int err = 0;
	char name[256], *target = (char *)r->s->dbuf;
	struct p9_fid *f = dir_and_name(r, name, &err);
	uint32_t gid;

	get_str(&r->in, target, PATH_MAX);
	gid = get32(&r->in);
	if (!f)
		return err;
	if (r->in.bad || !target[0])
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	if (symlinkat(target, f->fd, name))
		return -errno;
	give(r->s, f->fd, name, f->uid, gid);
	return reply_entry_qid(r, f->fd, name);
}

static int t_mknod(struct p9_req *r)
{
	int err = 0;
	char name[256];
	struct p9_fid *f = dir_and_name(r, name, &err);
	uint32_t mode = get32(&r->in), gid;

	skip(&r->in, 4); /* major */
	skip(&r->in, 4); /* minor */
	gid = get32(&r->in);
	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	/* no device nodes: lkvm would open the host's device */
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode))
		return -EPERM;
	if (mknodat(f->fd, name, mode & (S_IFMT | 07777), 0))
		return -errno;
	exact_mode(r->s, f->fd, name, mode);
	give(r->s, f->fd, name, f->uid, gid);
	return reply_entry_qid(r, f->fd, name);
}

static int t_link(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *d = req_plain_fid(r, &err);
	struct p9_fid *f = d ? req_plain_fid(r, &err) : NULL;
	char name[256], src[16];

	get_str(&r->in, name, sizeof(name));
	if (!f)
		return err;
	if (r->in.bad || !name_ok(name))
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	if (!d->isdir)
		return -ENOTDIR;
	snprintf(src, sizeof(src), "%d", f->fd);
	/* the inode the fid holds, through its magic link: never a name */
	if (linkat(r->s->procfd, src, d->fd, name, AT_SYMLINK_FOLLOW))
		return -errno;
	return 0;
}

static int t_renameat(struct p9_req *r)
{
	int err = 0;
	char oname[256], nname[256];
	struct p9_fid *od = dir_and_name(r, oname, &err);
	struct p9_fid *nd = od ? dir_and_name(r, nname, &err) : NULL;

	if (!nd)
		return err;
	if (r->s->ro)
		return -EROFS;
	if (renameat(od->fd, oname, nd->fd, nname))
		return -errno;
	return 0;
}

static int t_unlinkat(struct p9_req *r)
{
	int err = 0;
	char name[256];
	struct p9_fid *f = dir_and_name(r, name, &err);
	uint32_t fl = get32(&r->in);

	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	if (unlinkat(f->fd, name, fl & AT_REMOVEDIR))
		return -errno;
	return 0;
}

static int t_readlink(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	char *buf = (char *)r->s->dbuf;
	ssize_t n;

	if (!f)
		return err;
	n = readlinkat(f->fd, "", buf, PATH_MAX);
	if (n < 0)
		return -errno;
	put_str(&r->out, buf, (size_t)n);
	return 0;
}

static int t_getattr(struct p9_req *r)
{
	int err = 0, ret;
	struct p9_fid *f = req_path_fid(r, &err);
	struct stat st;

	skip(&r->in, 8); /* request_mask: the basic set is always there */
	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	ret = fd_stat(f->fd, &st);
	if (ret)
		return ret;
	put64(&r->out, P9_GETATTR_BASIC);
	put_qid(&r->out, &st);
	put32(&r->out, st.st_mode);
	put32(&r->out, st.st_uid);
	put32(&r->out, st.st_gid);
	put64(&r->out, st.st_nlink);
	put64(&r->out, st.st_rdev);
	put64(&r->out, (uint64_t)st.st_size);
	put64(&r->out, (uint64_t)st.st_blksize);
	put64(&r->out, (uint64_t)st.st_blocks);
	put64(&r->out, (uint64_t)st.st_atim.tv_sec);
	put64(&r->out, (uint64_t)st.st_atim.tv_nsec);
	put64(&r->out, (uint64_t)st.st_mtim.tv_sec);
	put64(&r->out, (uint64_t)st.st_mtim.tv_nsec);
	put64(&r->out, (uint64_t)st.st_ctim.tv_sec);
	put64(&r->out, (uint64_t)st.st_ctim.tv_nsec);
	put64(&r->out, 0); /* btime */
	put64(&r->out, 0);
	put64(&r->out, 0); /* gen */
	put64(&r->out, 0); /* data_version */
	return 0;
}

static int setattr_size(struct p9_server *s, struct p9_fid *f, uint64_t size)
{
	struct stat st;
	int fd = f->ofd, ret = 0;

	if (size > INT64_MAX)
		return -EFBIG;
	if (fd < 0 || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
		ret = fd_stat(f->fd, &st);
		if (ret)
			return ret;
		if (!S_ISREG(st.st_mode))
			return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		fd = reopen(s, f->fd, O_WRONLY);
		if (fd < 0)
			return fd;
	}
	if (ftruncate(fd, (off_t)size))
		ret = -errno;
	if (fd != f->ofd)
		close(fd);
	return ret;
}

static int t_setattr(struct p9_req *r)
{
	struct p9_server *s = r->s;
	int err = 0, ret;
	struct p9_fid *f = req_plain_fid(r, &err);
	uint32_t valid = get32(&r->in), mode = get32(&r->in);
	uint32_t uid = get32(&r->in), gid = get32(&r->in);
	uint64_t size = get64(&r->in);
	struct timespec ts[2];
	char n[16];

	ts[0].tv_sec = (time_t)get64(&r->in);
	ts[0].tv_nsec = (long)get64(&r->in);
	ts[1].tv_sec = (time_t)get64(&r->in);
	ts[1].tv_nsec = (long)get64(&r->in);
	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (s->ro)
		return -EROFS;
	snprintf(n, sizeof(n), "%d", f->fd);
	if (valid & P9_SETATTR_MODE && fchmodat(s->procfd, n, mode & 07777, 0))
		return -errno;
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID) &&
	    fchownat(f->fd, "", valid & P9_SETATTR_UID ? uid : (uid_t)-1,
		     valid & P9_SETATTR_GID ? gid : (gid_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (valid & P9_SETATTR_SIZE) {
		ret = setattr_size(s, f, size);
		if (ret)
			return ret;
	}
	if (valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) {
		if (!(valid & P9_SETATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & P9_SETATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(s->procfd, n, ts, 0))
			return -errno;
	}
	return 0;
}

static int t_statfs(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	struct statfs sf;

	if (!f)
		return err;
	if (fstatfs(f->fd, &sf))
		return -errno;
	put32(&r->out, (uint32_t)sf.f_type);
	put32(&r->out, (uint32_t)sf.f_bsize);
	put64(&r->out, sf.f_blocks);
	put64(&r->out, sf.f_bfree);
	put64(&r->out, sf.f_bavail);
	put64(&r->out, sf.f_files);
	put64(&r->out, sf.f_ffree);
	put64(&r->out, 0); /* fsid */
	put32(&r->out, (uint32_t)sf.f_namelen);
	return 0;
}

static int t_fsync(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	uint32_t datasync = get32(&r->in);

	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	if (f->ofd < 0)
		return -EBADF;
	if (datasync ? fdatasync(f->ofd) : fsync(f->ofd))
		return -errno;
	return 0;
}

/* Entries from getdents64 as 9P dirents: qid, offset, type, name. */
static int t_readdir(struct p9_req *r)
{
	struct p9_server *s = r->s;
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	uint64_t off = get64(&r->in);
	uint32_t count = get32(&r->in);
	size_t start, room, pos = 0, i;
	off_t last;
	long n;

	if (!f)
		return err;
	if (r->in.bad || off > INT64_MAX)
		return -EINVAL;
	if (f->ofd < 0 || !f->isdir)
		return -EBADF;
	start = r->out.pos;
	put32(&r->out, 0);
	if (f->pseudo)
		return 0; /* empty: nothing of it is shared */
	room = r->out.len - r->out.pos;
	if (count < room)
		room = count;
	if ((off_t)off != f->dir_pos) {
		if (lseek(f->ofd, (off_t)off, SEEK_SET) < 0)
			return -errno;
		f->dir_pos = (off_t)off;
	}
	n = syscall(SYS_getdents64, f->ofd, s->dbuf,
		    room < P9_MSIZE_MAX ? room : P9_MSIZE_MAX);
	if (n < 0)
		return -errno;
	last = f->dir_pos;
	for (i = 0; i < (size_t)n;) {
		/* getdents64 keeps records 8-aligned in the malloc()ed buffer */
		struct dirent64 *d = (void *)(s->dbuf + i);
		size_t nl = strlen(d->d_name), need = 13 + 8 + 1 + 2 + nl;
		uint8_t qt = d->d_type == DT_DIR   ? P9_QTDIR
			     : d->d_type == DT_LNK ? P9_QTSYMLINK
						   : P9_QTFILE;

		if (need > room - pos)
			break;
		put8(&r->out, qt);
		put32(&r->out, 0);
		put64(&r->out, d->d_ino);
		put64(&r->out, (uint64_t)d->d_off);
		put8(&r->out, d->d_type);
		put_str(&r->out, d->d_name, nl);
		pos += need;
		last = d->d_off;
		i += d->d_reclen;
	}
	if (i < (size_t)n) {
		if (!pos)
			return -EINVAL; /* count cannot hold one entry */
		if (lseek(f->ofd, last, SEEK_SET) < 0)
			return -errno;
	}
	f->dir_pos = last;
	memcpy(r->out.p + start, &(uint32_t){ (uint32_t)pos }, 4);
	return 0;
}

#define P9_MAX_IOV 1024

static int t_read(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_fid(r, &err);
	uint64_t off = get64(&r->in);
	uint32_t count = get32(&r->in);
	size_t room = iov_length(r->rep, r->nrep);
	struct iovec v[P9_MAX_IOV];
	unsigned int nv;
	ssize_t n;

	if (!f)
		return err;
	if (r->in.bad || off > INT64_MAX)
		return -EINVAL;
	room = room > P9_READ_HDR ? room - P9_READ_HDR : 0;
	if (count > r->s->msize - P9_READ_HDR)
		count = r->s->msize - P9_READ_HDR;
	if (count > room)
		count = (uint32_t)room;
	if (f->kind == FID_XATTR_READ) {
		n = off < f->xsize ? (ssize_t)(f->xsize - off) : 0;
		n = n < (ssize_t)count ? n : (ssize_t)count;
		nv = iov_slice(r->rep, r->nrep, P9_READ_HDR, (size_t)n, v,
			       P9_MAX_IOV);
		{
			size_t done = 0;
			unsigned int i;

			for (i = 0; i < nv; i++) {
				memcpy(v[i].iov_base, f->xbuf + off + done,
				       v[i].iov_len);
				done += v[i].iov_len;
			}
		}
	} else {
		if (f->kind != FID_PATH || f->ofd < 0 || f->isdir)
			return f->isdir ? -EISDIR : -EBADF;
		nv = iov_slice(r->rep, r->nrep, P9_READ_HDR, count, v,
			       P9_MAX_IOV);
		n = nv ? preadv(f->ofd, v, (int)nv, (off_t)off) : 0;
		if (n < 0)
			return -errno;
	}
	put32(&r->out, (uint32_t)n);
	r->data_len = (uint32_t)n;
	return 0;
}

static int xattr_write(struct p9_fid *f, uint64_t off, uint32_t count,
		       const struct iovec *v, unsigned int nv)
{
	size_t done = 0;
	unsigned int i;

	if (off != f->xlen || count > f->xsize - f->xlen)
		return -ENOSPC;
	for (i = 0; i < nv; i++) {
		memcpy(f->xbuf + f->xlen + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	f->xlen += (uint32_t)done;
	return (int)done;
}

static int t_write(struct p9_req *r, uint32_t msg_size)
{
	int err = 0;
	struct p9_fid *f = req_fid(r, &err);
	uint64_t off = get64(&r->in);
	uint32_t count = get32(&r->in);
	struct iovec v[P9_MAX_IOV];
	unsigned int nv;
	ssize_t n;

	if (!f)
		return err;
	if (r->in.bad || off > INT64_MAX || count > msg_size - P9_WRITE_HDR)
		return -EINVAL;
	nv = iov_slice(r->req, r->nreq, P9_WRITE_HDR, count, v, P9_MAX_IOV);
	if (f->kind == FID_XATTR_WRITE) {
		n = xattr_write(f, off, count, v, nv);
	} else {
		if (f->kind != FID_PATH || f->ofd < 0)
			return -EBADF;
		if (r->s->ro)
			return -EROFS;
		n = nv ? pwritev(f->ofd, v, (int)nv, (off_t)off) : 0;
		if (n < 0)
			n = -errno;
	}
	if (n < 0)
		return (int)n;
	put32(&r->out, (uint32_t)n);
	return 0;
}

/* xattrs a guest may set: user.*, and POSIX ACLs. */
static bool xattr_settable(const char *name)
{
	return !strncmp(name, "user.", 5) ||
	       !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default");
}

static int t_xattrwalk(struct p9_req *r)
{
	int err = 0, fd, ret;
	struct p9_fid *f = req_plain_fid(r, &err), *nf;
	uint32_t newnum = get32(&r->in);
	char name[256], path[32];
	uint8_t *buf;
	ssize_t n;

	get_str(&r->in, name, sizeof(name));
	if (!f)
		return err;
	if (r->in.bad)
		return -EINVAL;
	buf = malloc(P9_XATTR_MAX);
	if (!buf)
		return -ENOMEM;
	proc_path(f->fd, path, sizeof(path));
	n = name[0] ? getxattr(path, name, buf, P9_XATTR_MAX)
		    : listxattr(path, (char *)buf, P9_XATTR_MAX);
	if (n < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	ret = fd < 0 ? -errno : fid_new(r->s, newnum, fd, f->uid, false, &nf);
	if (ret) {
		free(buf);
		return ret;
	}
	nf->kind = FID_XATTR_READ;
	nf->xbuf = buf;
	nf->xsize = (uint32_t)n;
	put64(&r->out, (uint64_t)n);
	return 0;
}

static int t_xattrcreate(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_plain_fid(r, &err);
	char name[256];
	uint64_t size;
	uint32_t flags;

	get_str(&r->in, name, sizeof(name));
	size = get64(&r->in);
	flags = get32(&r->in);
	if (!f)
		return err;
	if (r->in.bad || !name[0] || size > P9_XATTR_MAX ||
	    flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	if (r->s->ro)
		return -EROFS;
	if (!xattr_settable(name))
		return -EOPNOTSUPP;
	if (f->ofd >= 0)
		return -EBUSY;
	f->xname = strdup(name);
	f->xbuf = malloc(size ? size : 1);
	if (!f->xname || !f->xbuf) {
		free(f->xname);
		free(f->xbuf);
		f->xname = NULL;
		f->xbuf = NULL;
		return -ENOMEM;
	}
	f->kind = FID_XATTR_WRITE;
	f->xsize = (uint32_t)size;
	f->xlen = 0;
	f->xflags = flags;
	return 0;
}

/* Clunk of an xattr-writing fid: the value is set now. */
static int xattr_commit(struct p9_fid *f)
{
	char path[32];

	if (f->xlen != f->xsize)
		return -EINVAL;
	proc_path(f->fd, path, sizeof(path));
	/* as QEMU: an empty value removes the attribute (removexattr) */
	if (!f->xsize)
		return removexattr(path, f->xname) ? -errno : 0;
	return setxattr(path, f->xname, f->xbuf, f->xsize, (int)f->xflags)
		       ? -errno
		       : 0;
}

static int t_clunk(struct p9_req *r, bool remove)
{
	int err = 0, ret = 0;
	struct p9_fid *f = req_fid(r, &err);

	if (!f)
		return err;
	if (f->kind == FID_XATTR_WRITE)
		ret = xattr_commit(f);
	fid_del(r->s, f);
	/* Tremove: Linux uses Tunlinkat; a fid knows no name to remove */
	return remove ? -EOPNOTSUPP : ret;
}

static int lock_range(uint64_t start, uint64_t len, struct flock *fl)
{
	if (start > INT64_MAX || len > INT64_MAX)
		return -EINVAL;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)start;
	fl->l_len = (off_t)len;
	fl->l_pid = 0;
	return 0;
}

static int t_lock(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	uint8_t type = get8(&r->in);
	uint64_t start, len;
	struct flock fl;
	char cid[256];

	skip(&r->in, 4); /* flags: blocking is the client's retry */
	start = get64(&r->in);
	len = get64(&r->in);
	skip(&r->in, 4); /* proc_id */
	get_str(&r->in, cid, sizeof(cid));
	if (!f)
		return err;
	if (r->in.bad || type > P9_LOCK_UNLCK)
		return -EINVAL;
	if (f->ofd < 0)
		return -EBADF;
	if (lock_range(start, len, &fl)) {
		put8(&r->out, P9_LOCK_ERROR);
		return 0;
	}
	fl.l_type = type == P9_LOCK_RDLCK   ? F_RDLCK
		    : type == P9_LOCK_WRLCK ? F_WRLCK
					    : F_UNLCK;
	if (!fcntl(f->ofd, F_OFD_SETLK, &fl))
		put8(&r->out, P9_LOCK_SUCCESS);
	else if (errno == EAGAIN || errno == EACCES)
		put8(&r->out, P9_LOCK_BLOCKED);
	else
		put8(&r->out, P9_LOCK_ERROR);
	return 0;
}

static int t_getlock(struct p9_req *r)
{
	int err = 0;
	struct p9_fid *f = req_path_fid(r, &err);
	uint8_t type = get8(&r->in);
	uint64_t start = get64(&r->in), len = get64(&r->in);
	uint32_t pid = get32(&r->in);
	struct flock fl;
	char cid[256];

	get_str(&r->in, cid, sizeof(cid));
	if (!f)
		return err;
	if (r->in.bad || type > P9_LOCK_UNLCK)
		return -EINVAL;
	if (f->ofd < 0)
		return -EBADF;
	if (lock_range(start, len, &fl))
		return -EINVAL;
	fl.l_type = type == P9_LOCK_RDLCK ? F_RDLCK : F_WRLCK;
	if (fcntl(f->ofd, F_OFD_GETLK, &fl))
		return -errno;
	put8(&r->out, fl.l_type == F_RDLCK   ? P9_LOCK_RDLCK
		      : fl.l_type == F_WRLCK ? P9_LOCK_WRLCK
					     : P9_LOCK_UNLCK);
	put64(&r->out, (uint64_t)fl.l_start);
	put64(&r->out, (uint64_t)fl.l_len);
	put32(&r->out, fl.l_type == F_UNLCK ? pid : 0);
	put_str(&r->out, cid, strlen(cid));
	return 0;
}

static int dispatch(struct p9_req *r, uint32_t size)
{
	switch (r->type) {
	case P9_TVERSION:
		return t_version(r);
	case P9_TATTACH:
		return t_attach(r);
	case P9_TAUTH:
		return -EOPNOTSUPP;
	case P9_TFLUSH:
		/* every request is answered before the next is read */
		skip(&r->in, 2);
		return r->in.bad ? -EINVAL : 0;
	case P9_TWALK:
		return t_walk(r);
	case P9_TLOPEN:
		return t_lopen(r);
	case P9_TLCREATE:
		return t_lcreate(r);
	case P9_TREAD:
		return t_read(r);
	case P9_TWRITE:
		return t_write(r, size);
	case P9_TCLUNK:
		return t_clunk(r, false);
	case P9_TREMOVE:
		return t_clunk(r, true);
	case P9_TREADDIR:
		return t_readdir(r);
	case P9_TGETATTR:
		return t_getattr(r);
	case P9_TSETATTR:
		return t_setattr(r);
	case P9_TMKDIR:
		return t_mkdir(r);
	case P9_TSYMLINK:
		return t_symlink(r);
	case P9_TMKNOD:
		return t_mknod(r);
	case P9_TLINK:
		return t_link(r);
	case P9_TRENAME:
		/* Linux falls back to Trenameat's twin only on EOPNOTSUPP;
		 * a fid knows no name, so renames go through Trenameat */
		return -EOPNOTSUPP;
	case P9_TRENAMEAT:
		return t_renameat(r);
	case P9_TUNLINKAT:
		return t_unlinkat(r);
	case P9_TREADLINK:
		return t_readlink(r);
	case P9_TSTATFS:
		return t_statfs(r);
	case P9_TFSYNC:
		return t_fsync(r);
	case P9_TLOCK:
		return t_lock(r);
	case P9_TGETLOCK:
		return t_getlock(r);
	case P9_TXATTRWALK:
		return t_xattrwalk(r);
	case P9_TXATTRCREATE:
		return t_xattrcreate(r);
	}
	return -EOPNOTSUPP;
}

static size_t put_header(uint8_t *p, uint32_t size, uint8_t type, uint16_t tag)
{
	p[0] = (uint8_t)size;
	p[1] = (uint8_t)(size >> 8);
	p[2] = (uint8_t)(size >> 16);
	p[3] = (uint8_t)(size >> 24);
	p[4] = type;
	p[5] = (uint8_t)tag;
	p[6] = (uint8_t)(tag >> 8);
	return P9_HDR_SIZE;
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* Count a served request of type (its T-type, or RLERROR - 1 on error). */
static void stats_count(struct p9_server *s, uint8_t type, int ret,
			uint32_t data_len, uint32_t size)
{
	struct p9_stats *st = &s->stats;

	stat_add(&st->requests, 1);
	if (ret) {
		stat_add(&st->errors, 1);
		return;
	}
	switch (type) {
	case P9_TREAD:
		stat_add(&st->reads, 1);
		stat_add(&st->read_bytes, data_len);
		break;
	case P9_TWRITE:
		stat_add(&st->writes, 1);
		stat_add(&st->write_bytes, size - P9_WRITE_HDR);
		break;
	case P9_TREADDIR:
		stat_add(&st->readdirs, 1);
		break;
	case P9_TWALK:
		stat_add(&st->walks, 1);
		break;
	case P9_TGETATTR:
		stat_add(&st->getattrs, 1);
		break;
	}
}

void p9_server_get_stats(const struct p9_server *s, struct p9_stats *st)
{
	const uint64_t *src = (const uint64_t *)(const void *)&s->stats;
	uint64_t *dst = (uint64_t *)(void *)st;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

long p9_serve(struct p9_server *s, const struct iovec *req, unsigned int nreq,
	      const struct iovec *rep, unsigned int nrep)
{
	size_t in_total = iov_length(req, nreq),
	       out_total = iov_length(rep, nrep);
	size_t copy, rlen, cap;
	struct p9_req r = {
		.s = s, .req = req, .nreq = nreq, .rep = rep, .nrep = nrep
	};
	uint32_t size;
	int ret;

	if (in_total < P9_HDR_SIZE || out_total < P9_HDR_SIZE + 4)
		return -EINVAL;
	/* the header, then the message once: Twrite's data stays where it
	 * is */
	iov_to_buf(req, nreq, 0, s->tbuf, P9_HDR_SIZE);
	size = (uint32_t)s->tbuf[0] | (uint32_t)s->tbuf[1] << 8 |
	       (uint32_t)s->tbuf[2] << 16 | (uint32_t)s->tbuf[3] << 24;
	r.type = s->tbuf[4];
	r.tag = (uint16_t)(s->tbuf[5] | s->tbuf[6] << 8);
	if (size < P9_HDR_SIZE || size > in_total)
		return -EINVAL;
	copy = r.type == P9_TWRITE && size > P9_WRITE_HDR ? P9_WRITE_HDR : size;
	cap = r.type == P9_TVERSION ? P9_MSIZE_MAX : s->msize;
	cap = cap < out_total ? cap : out_total;
	r.out = (struct p9_buf){ .p = s->rbuf + P9_HDR_SIZE,
				 .len = cap - P9_HDR_SIZE };
	if (size > (r.type == P9_TVERSION ? P9_MSIZE_MAX : s->msize)) {
		ret = -EMSGSIZE;
	} else {
		iov_to_buf(req, nreq, 0, s->tbuf, copy);
		r.in = (struct p9_buf){ .p = s->tbuf + P9_HDR_SIZE,
					.len = copy - P9_HDR_SIZE };
		ret = r.type & 1 ? -EINVAL : dispatch(&r, size);
		if (!ret && r.out.bad)
			ret = -ENOSPC; /* the reply does not fit */
	}
	if (ret) {
		r.out.pos = 0;
		r.out.bad = false;
		r.data_len = 0;
		put32(&r.out, (uint32_t)-ret);
		r.type = P9_RLERROR - 1;
	}
	stats_count(s, r.type, ret, r.data_len, size);
	rlen = P9_HDR_SIZE + r.out.pos;
	put_header(s->rbuf, (uint32_t)(rlen + r.data_len), r.type + 1, r.tag);
	iov_from_buf(rep, nrep, 0, s->rbuf, rlen);
	return (long)(rlen + r.data_len);
}

long p9_serve_buf(struct p9_server *s, const void *req, size_t len, void *rep,
		  size_t cap)
{
	struct iovec in = { (void *)(uintptr_t)req, len }, out = { rep, cap };

	return p9_serve(s, &in, 1, &out, 1);
}

/* Let the fid table's descriptors fit: the soft limit up to the hard. */
static void raise_nofile(unsigned int need)
{
	rlim_t want = (rlim_t)need + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	/* the hard limit too where lkvm may (root: an init's 4096 would
	 * stop a guest's cache=loose at 4,000 cached names, EMFILE) */
	if (rl.rlim_max < want) {
		struct rlimit up = { .rlim_cur = want, .rlim_max = want };

		if (!setrlimit(RLIMIT_NOFILE, &up))
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int p9_server_create(const char *dir, const struct p9_options *o,
		     struct p9_server **out, char *err, size_t errlen)
{
	struct p9_server *s = calloc(1, sizeof(*s));
	struct stat st;
	int ret;

	if (!s)
		return -ENOMEM;
	s->root = s->procfd = -1;
	s->ro = o && o->ro;
	s->max_fids = o && o->max_fids ? o->max_fids : P9_MAX_FIDS_DEFAULT;
	s->msize = P9_MSIZE_MIN;
	s->as_root = geteuid() == 0;
	s->umask = umask(0);
	umask(s->umask);
	s->tbuf = malloc(P9_MSIZE_MAX);
	s->rbuf = malloc(P9_MSIZE_MAX);
	s->dbuf = malloc(P9_MSIZE_MAX);
	ret = -ENOMEM;
	if (!s->tbuf || !s->rbuf || !s->dbuf)
		goto out_free;
	s->root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->root < 0 || fstat(s->root, &st)) {
		ret = -errno;
		snprintf(err, errlen, "9p: cannot open directory %s: %s", dir,
			 strerror(errno));
		goto out_free;
	}
	if (fs_refused(s->root)) {
		ret = -EACCES;
		snprintf(
			err, errlen,
			"9p: %s is on a pseudo file system (proc, sysfs...): not shared",
			dir);
		goto out_free;
	}
	s->root_dev = st.st_dev;
	s->root_ino = st.st_ino;
	s->procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->procfd < 0) {
		ret = -errno;
		snprintf(
			err, errlen,
			"9p: cannot open /proc/self/fd (is /proc mounted?): %s",
			strerror(errno));
		goto out_free;
	}
	raise_nofile(s->max_fids);
	*out = s;
	return 0;

out_free:
	p9_server_destroy(s);
	return ret;
}

void p9_server_destroy(struct p9_server *s)
{
	if (!s)
		return;
	p9_server_reset(s);
	if (s->root >= 0)
		close(s->root);
	if (s->procfd >= 0)
		close(s->procfd);
	free(s->tbuf);
	free(s->rbuf);
	free(s->dbuf);
	free(s);
}
