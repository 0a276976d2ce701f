// SPDX-License-Identifier: GPL-2.0-only
/*
 * The qcow2 disk backend: header, backing chain, requests on one thread;
 * reads of clusters the cached L2 tables map go straight to a block I/O
 * engine on the image's file (the fast path), as a raw disk's do.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "disk/qcow2-priv.h"
#include "lkvm/blkio.h"
#include "lkvm/compiler.h"
#include "lkvm/disk-qcow2.h"
#include "lkvm/iov.h"
#include "lkvm/seccomp.h"

/* Fast-path reads in flight at most (more go through the worker). */
#define QD_FAST_MAX 128

/* A fast-path read: the engine's request for a guest one. */
struct qd_fast {
	struct disk_req sub;
	struct disk_req *orig;
	struct qcow2_disk *qd;
	struct qd_fast *next; /* on the free list */
};

struct qcow2_disk {
	struct disk disk;
	struct qcow2_img *top;
	bool inline_io;
	/* the image's tables: the worker while it runs a request, the fast
	 * path while it maps one (trylock: it never waits for the worker) */
	pthread_mutex_t map_lock;
	/* the queue, stop, st, the fast path's slots and count; inline: the
	 * chain. Taken after map_lock, never before it. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t drained; /* fast_inflight reached 0 */
	struct disk_req *head, *tail;
	bool stop;
	pthread_t thread;
	bool have_thread;
	struct disk_stats st;
	uint8_t *buf; /* a cluster: a request's bytes */
	struct iovec *iov; /* IOV_MAX: a slice of a request's buffers */
	struct blkio *fast; /* NULL: no fast path */
	struct qd_fast slots[QD_FAST_MAX];
	struct qd_fast *free_fast;
	unsigned int fast_inflight;
	void (*fast_mapped)(void *arg); /* tests (disk_qcow2_opts) */
	void *fast_mapped_arg;
};

/* An image's identity, for the backing chain's loop check. */
struct chain_ids {
	dev_t dev[QCOW2_MAX_CHAIN];
	ino_t ino[QCOW2_MAX_CHAIN];
	unsigned int n;
};

struct hdr {
	uint32_t version, cluster_bits, crypt, l1_size, rt_clusters, nb_snap;
	uint32_t backing_len, hdr_len;
	uint64_t backing_off, size, l1_off, rt_off, snap_off;
	uint64_t incompat, autoclear;
	uint32_t refcount_order;
	uint8_t compression;
	char backing_fmt[16];
	char backing[QCOW2_MAX_BACKING_NAME + 1];
};

static const struct disk_ops qcow2_ops;

static int qerr(char *err, size_t errlen, int ret, const char *fmt, ...)
	__printf(4, 5);

static int qerr(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* All of len bytes at off, or -errno (-EIO at end of file). */
static int full_io(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write ? pwrite(fd, (char *)buf + done, len - done,
				   (off_t)(off + done))
			  : pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

int qcow2_pread(int fd, void *buf, size_t len, uint64_t off)
{
	return full_io(fd, buf, len, off, false);
}

int qcow2_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	/* full_io() only reads from buf when write is true */
	return full_io(fd, (void *)(uintptr_t)buf, len, off, true);
}

int qcow2_sync(struct qcow2_img *q)
{
	if (fdatasync(q->fd))
		return -errno;
	q->need_sync = false;
	return 0;
}

bool disk_qcow2_probe(const void *head, size_t len)
{
	return len >= 4 && qcow2_be32(head) == QCOW2_MAGIC;
}

/* --- the header --- */

/* The header extensions in [from, to) of the first cluster. */
static int parse_exts(const uint8_t *c, uint64_t from, uint64_t to,
		      struct hdr *h, const char *name, char *err, size_t errlen)
{
	uint64_t pos = from;
	uint32_t type, len;

	while (to - pos >= 8) {
		type = qcow2_be32(c + pos);
		len = qcow2_be32(c + pos + 4);
		pos += 8;
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > to - pos)
			return qerr(err, errlen, -EINVAL,
				    "%s: header extension %#x (%u bytes) runs "
				    "past the header area",
				    name, type, len);
		if (type == QCOW2_EXT_DATA_FILE)
			return qerr(err, errlen, -ENOTSUP,
				    "%s: external data files are not supported",
				    name);
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(h->backing_fmt))
				return qerr(err, errlen, -EINVAL,
					    "%s: backing format name too long",
					    name);
			memcpy(h->backing_fmt, c + pos, len);
			h->backing_fmt[len] = '\0';
		}
		pos += ((uint64_t)len + 7) & ~7ull;
		if (pos > to)
			return 0;
	}
	return 0;
}

static void hdr_fields(const uint8_t *c, struct hdr *h)
{
	h->version = qcow2_be32(c + 4);
	h->backing_off = qcow2_be64(c + 8);
	h->backing_len = qcow2_be32(c + 16);
	h->cluster_bits = qcow2_be32(c + 20);
	h->size = qcow2_be64(c + 24);
	h->crypt = qcow2_be32(c + 32);
	h->l1_size = qcow2_be32(c + 36);
	h->l1_off = qcow2_be64(c + 40);
	h->rt_off = qcow2_be64(c + 48);
	h->rt_clusters = qcow2_be32(c + 56);
	h->nb_snap = qcow2_be32(c + 60);
	h->snap_off = qcow2_be64(c + 64);
	h->hdr_len = QCOW2_V2_HDR;
	h->refcount_order = 4;
}

static void hdr_v3_fields(const uint8_t *c, struct hdr *h)
{
	h->incompat = qcow2_be64(c + 72);
	h->autoclear = qcow2_be64(c + 88);
	h->refcount_order = qcow2_be32(c + 96);
	h->hdr_len = qcow2_be32(c + 100);
}

/* The features lkvm does not implement, and the states it will not write. */
static int check_features(const uint8_t *c, struct hdr *h, bool ro,
			  const char *name, char *err, size_t errlen)
{
	uint64_t unknown = h->incompat & ~QCOW2_INCOMPAT_KNOWN;

	if (h->crypt)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: encrypted qcow2 images are not supported",
			    name);
	if (unknown)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: unknown incompatible qcow2 features %#" PRIx64,
			    name, unknown);
	if (h->incompat & QCOW2_INCOMPAT_DATA_FILE)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: external data files are not supported", name);
	if (h->incompat & QCOW2_INCOMPAT_EXTL2)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: extended L2 entries (subclusters) are not "
			    "supported",
			    name);
	h->compression = h->hdr_len > QCOW2_V3_HDR ? c[104] : 0;
	if (!!(h->incompat & QCOW2_INCOMPAT_COMPRESSION) != !!h->compression)
		return qerr(err, errlen, -EINVAL,
			    "%s: compression type %u does not match the "
			    "compression type feature bit",
			    name, h->compression);
	if (h->compression)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: compression type %u (zstd) is not supported",
			    name, h->compression);
	if (!ro && (h->incompat & QCOW2_INCOMPAT_CORRUPT))
		return qerr(err, errlen, -EROFS,
			    "%s: the image is marked corrupt: open it with ,ro "
			    "or repair it with qemu-img check -r all",
			    name);
	if (!ro && h->nb_snap)
		return qerr(err, errlen, -EROFS,
			    "%s: the image has %u internal snapshots: lkvm "
			    "opens such images only with ,ro",
			    name, h->nb_snap);
	return 0;
}

/* A table of n bytes at off: cluster-aligned and inside the file. */
static bool table_ok(uint64_t off, uint64_t n, uint64_t cs, uint64_t fsize)
{
	return off && !(off & (cs - 1)) && off <= fsize && n <= fsize - off;
}

static int check_tables(const struct hdr *h, uint64_t fsize, const char *name,
			char *err, size_t errlen)
{
	uint64_t cs = 1ull << h->cluster_bits;
	unsigned int shift = 2 * h->cluster_bits - 3;
	uint64_t need =
		(h->size >> shift) + !!(h->size & ((1ull << shift) - 1));

	if (!h->size || h->size % 512)
		return qerr(err, errlen, -EINVAL,
			    "%s: virtual size %" PRIu64
			    " is not a non-zero multiple of 512",
			    name, h->size);
	if (h->l1_size > QCOW2_MAX_L1_BYTES / 8 || h->l1_size < need)
		return qerr(err, errlen, -EINVAL,
			    "%s: L1 table of %u entries for a virtual size of "
			    "%" PRIu64 " bytes (needs %" PRIu64 ", at most %u)",
			    name, h->l1_size, h->size, need,
			    QCOW2_MAX_L1_BYTES / 8);
	if (!table_ok(h->l1_off, (uint64_t)h->l1_size * 8, cs, fsize))
		return qerr(err, errlen, -EINVAL,
			    "%s: L1 table at %#" PRIx64
			    " is unaligned or beyond the end of the file",
			    name, h->l1_off);
	if (!h->rt_clusters || h->rt_clusters > QCOW2_MAX_RT_BYTES / cs ||
	    !table_ok(h->rt_off, (uint64_t)h->rt_clusters * cs, cs, fsize))
		return qerr(err, errlen, -EINVAL,
			    "%s: refcount table at %#" PRIx64 " (%u clusters) "
			    "is empty, too large, unaligned or beyond the end "
			    "of the file",
			    name, h->rt_off, h->rt_clusters);
	if (h->nb_snap && !table_ok(h->snap_off, 1, cs, fsize))
		return qerr(err, errlen, -EINVAL,
			    "%s: snapshot table at %#" PRIx64
			    " is unaligned or beyond the end of the file",
			    name, h->snap_off);
	return 0;
}

/* The backing file name, inside the first cluster after the header. */
static int get_backing(const uint8_t *c, uint64_t avail, struct hdr *h,
		       const char *name, char *err, size_t errlen)
{
	if (!h->backing_off)
		return 0;
	if (!h->backing_len || h->backing_len > QCOW2_MAX_BACKING_NAME ||
	    h->backing_off < h->hdr_len || h->backing_off > avail ||
	    h->backing_len > avail - h->backing_off)
		return qerr(err, errlen, -EINVAL,
			    "%s: backing file name (%u bytes at %#" PRIx64
			    ") is not inside the header cluster",
			    name, h->backing_len, h->backing_off);
	memcpy(h->backing, c + h->backing_off, h->backing_len);
	h->backing[h->backing_len] = '\0';
	if (strlen(h->backing) != h->backing_len)
		return qerr(err, errlen, -EINVAL,
			    "%s: backing file name contains a NUL byte", name);
	return 0;
}

static int parse_header(int fd, struct hdr *h, uint64_t fsize, bool ro,
			const char *name, char *err, size_t errlen)
{
	uint8_t first[QCOW2_V3_HDR];
	uint64_t cs, avail;
	uint8_t *c;
	int ret;

	memset(h, 0, sizeof(*h));
	if (fsize < QCOW2_V2_HDR || qcow2_pread(fd, first, QCOW2_V2_HDR, 0))
		return qerr(err, errlen, -EINVAL,
			    "%s: truncated qcow2 header (%" PRIu64 " bytes)",
			    name, fsize);
	hdr_fields(first, h);
	if (qcow2_be32(first) != QCOW2_MAGIC)
		return qerr(err, errlen, -EINVAL, "%s: not a qcow2 image",
			    name);
	if (h->version != 2 && h->version != 3)
		return qerr(err, errlen, -ENOTSUP,
			    "%s: qcow2 version %u is not supported", name,
			    h->version);
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return qerr(err, errlen, -EINVAL,
			    "%s: cluster_bits %u is outside 9..21", name,
			    h->cluster_bits);
	cs = 1ull << h->cluster_bits;
	avail = fsize < cs ? fsize : cs;
	c = calloc(1, cs);
	if (!c)
		return qerr(err, errlen, -ENOMEM, "%s: out of memory", name);
	ret = qcow2_pread(fd, c, avail, 0);
	if (ret) {
		ret = qerr(err, errlen, ret, "%s: cannot read the header: %s",
			   name, strerror(-ret));
		goto out;
	}
	if (h->version == 3) {
		if (avail < QCOW2_V3_HDR) {
			ret = qerr(err, errlen, -EINVAL,
				   "%s: truncated qcow2 v3 header", name);
			goto out;
		}
		hdr_v3_fields(c, h);
		if (h->hdr_len < QCOW2_V3_HDR || h->hdr_len % 8 ||
		    h->hdr_len > avail) {
			ret = qerr(
				err, errlen, -EINVAL,
				"%s: header length %u is not a multiple of 8 "
				"from 104 to the first cluster's end",
				name, h->hdr_len);
			goto out;
		}
		if (h->refcount_order > 6) {
			ret = qerr(err, errlen, -EINVAL,
				   "%s: refcount_order %u is above 6", name,
				   h->refcount_order);
			goto out;
		}
	}
	ret = check_features(c, h, ro, name, err, errlen);
	if (!ret)
		ret = check_tables(h, fsize, name, err, errlen);
	if (!ret)
		ret = get_backing(c, avail, h, name, err, errlen);
	if (!ret)
		ret = parse_exts(c, h->hdr_len,
				 h->backing_off ? h->backing_off : avail, h,
				 name, err, errlen);
out:
	free(c);
	return ret;
}

/* --- images and chains --- */

static void img_free(struct qcow2_img *q)
{
	while (q) {
		struct qcow2_img *b = q->backing;

		if (q->qcow2)
			qcow2_map_free(q);
		if (q->fd >= 0)
			close(q->fd);
		free(q->name);
		free(q);
		q = b;
	}
}

static int file_size(int fd, uint64_t *size)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	*size = (uint64_t)end;
	return 0;
}

static int img_open(struct qcow2_img **out, int fd, const char *name, bool ro,
		    bool want_qcow2, struct chain_ids *ids,
		    const struct disk_qcow2_opts *o, char *err, size_t errlen);

/* name of a backing file, relative to the directory of the image's. */
static char *backing_path(const char *img, const char *name)
{
	const char *slash = strrchr(img, '/');
	char *p;

	if (name[0] == '/' || !slash)
		return strdup(name);
	if (asprintf(&p, "%.*s/%s", (int)(slash - img), img, name) < 0)
		return NULL;
	return p;
}

static int open_backing(struct qcow2_img *q, const struct hdr *h,
			struct chain_ids *ids, const struct disk_qcow2_opts *o,
			char *err, size_t errlen)
{
	bool want_qcow2 = !strcmp(h->backing_fmt, "qcow2");
	struct stat st;
	char *path;
	unsigned int i;
	int fd, ret;

	if (o->no_backing)
		return qerr(err, errlen, -EPERM,
			    "%s: backing files are not allowed here", q->name);
	if (h->backing_fmt[0] && !want_qcow2 && strcmp(h->backing_fmt, "raw"))
		return qerr(err, errlen, -ENOTSUP,
			    "%s: backing format '%s' is not supported", q->name,
			    h->backing_fmt);
	path = backing_path(q->name, h->backing);
	if (!path)
		return qerr(err, errlen, -ENOMEM, "%s: out of memory", q->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = qerr(err, errlen, -errno,
			   "%s: cannot open its backing file %s: %s", q->name,
			   path, strerror(errno));
		goto out;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	for (i = 0; !ret && i < ids->n; i++)
		if (ids->dev[i] == st.st_dev && ids->ino[i] == st.st_ino)
			ret = qerr(err, errlen, -ELOOP,
				   "%s: the backing chain loops back to %s",
				   q->name, path);
	if (!ret && ids->n == QCOW2_MAX_CHAIN)
		ret = qerr(err, errlen, -ELOOP,
			   "%s: the backing chain is deeper than %u images",
			   q->name, QCOW2_MAX_CHAIN);
	if (!ret && flock(fd, LOCK_SH | LOCK_NB))
		ret = qerr(err, errlen, -EBUSY,
			   "%s: its backing file %s is in use", q->name, path);
	if (ret) {
		close(fd);
		goto out;
	}
	ids->dev[ids->n] = st.st_dev;
	ids->ino[ids->n++] = st.st_ino;
	if (!h->backing_fmt[0]) {
		uint8_t m[4];

		want_qcow2 =
			!qcow2_pread(fd, m, 4, 0) && disk_qcow2_probe(m, 4);
	}
	ret = img_open(&q->backing, fd, path, true, want_qcow2, ids, o, err,
		       errlen);
out:
	free(path);
	return ret;
}

/* A writer that does not know the autoclear features must clear them. */
static int clear_autoclear(struct qcow2_img *q, const struct hdr *h)
{
	static const uint8_t zero[8];
	int ret;

	if (q->ro || h->version < 3 || !h->autoclear)
		return 0;
	ret = qcow2_pwrite(q->fd, zero, 8, 88);
	return ret ? ret : qcow2_sync(q);
}

static int img_open_qcow2(struct qcow2_img *q, struct chain_ids *ids,
			  const struct disk_qcow2_opts *o, char *err,
			  size_t errlen)
{
	uint64_t cache =
		o->l2_cache_bytes ? o->l2_cache_bytes : DISK_QCOW2_L2_CACHE_MAX;
	struct hdr h;
	int ret;

	ret = parse_header(q->fd, &h, q->file_end, q->ro, q->name, err, errlen);
	if (ret)
		return ret;
	q->version = h.version;
	q->cluster_bits = h.cluster_bits;
	q->cs = 1ull << h.cluster_bits;
	q->size = h.size;
	q->refcount_order = h.refcount_order;
	q->l1_off = h.l1_off;
	q->l1_size = h.l1_size;
	q->rt_off = h.rt_off;
	q->rt_clusters = h.rt_clusters;
	q->dirty = h.incompat & QCOW2_INCOMPAT_DIRTY;
	q->nb_snap = h.nb_snap;
	ret = qcow2_map_init(q, cache, err, errlen);
	if (!ret && h.backing_off)
		ret = open_backing(q, &h, ids, o, err, errlen);
	if (!ret) {
		ret = clear_autoclear(q, &h);
		if (ret)
			qerr(err, errlen, ret,
			     "%s: cannot write the header: %s", q->name,
			     strerror(-ret));
	}
	/* read-only, a dirty image reads as well as a clean one */
	if (!ret && q->dirty && !q->ro)
		ret = qcow2_repair(q, err, errlen);
	return ret;
}

/* fd becomes the image's, closed on failure. */
static int img_open(struct qcow2_img **out, int fd, const char *name, bool ro,
		    bool want_qcow2, struct chain_ids *ids,
		    const struct disk_qcow2_opts *o, char *err, size_t errlen)
{
	struct qcow2_img *q = calloc(1, sizeof(*q));
	int ret;

	if (!q || !(q->name = strdup(name))) {
		free(q);
		close(fd);
		return qerr(err, errlen, -ENOMEM, "%s: out of memory", name);
	}
	q->fd = fd;
	q->ro = ro;
	q->qcow2 = want_qcow2;
	q->rl.interval = 5;
	q->rl.burst = 10;
	ret = file_size(fd, &q->file_end);
	if (ret)
		qerr(err, errlen, ret, "%s: cannot get its size: %s", name,
		     strerror(-ret));
	else if (want_qcow2)
		ret = img_open_qcow2(q, ids, o, err, errlen);
	else
		q->size = q->file_end;
	if (ret) {
		img_free(q);
		return ret;
	}
	*out = q;
	return 0;
}

/* --- requests --- */

/* n bytes at iov offset skip of r, to or from fd at off: one preadv or
 * pwritev (more when short), straight from the guest's buffers. */
static int iov_io(struct qcow2_disk *qd, const struct disk_req *r,
		  uint64_t skip, uint64_t n, int fd, uint64_t off, bool write)
{
	struct iovec *v = qd->iov;
	int cnt = (int)iov_slice(r->iov, (unsigned int)r->iovcnt, skip, n, v,
				 IOV_MAX);
	ssize_t k;

	while (cnt) {
		k = write ? pwritev(fd, v, cnt, (off_t)off)
			  : preadv(fd, v, cnt, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k ? -errno : -EIO;
		off += (uint64_t)k;
		while (cnt && (size_t)k >= v->iov_len) {
			k -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt) {
			v->iov_base = (uint8_t *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* One cluster's piece at most, through qd->buf. */
static int qd_piece(struct qcow2_disk *qd, struct disk_req *r, uint64_t done,
		    uint64_t *n)
{
	struct qcow2_img *q = qd->top;
	uint64_t off = r->offset + done;
	int ret;

	*n = q->cs - (off & (q->cs - 1));
	if (*n > r->len - done)
		*n = r->len - done;
	if (r->op == DISK_OP_READ) {
		ret = qcow2_img_read(q, qd->buf, off, *n);
		if (!ret)
			iov_from_buf(r->iov, (unsigned int)r->iovcnt, done,
				     qd->buf, *n);
		return ret;
	}
	iov_to_buf(r->iov, (unsigned int)r->iovcnt, done, qd->buf, *n);
	return qcow2_write_piece(q, qd->buf, off, *n);
}

static int qd_rw(struct qcow2_disk *qd, struct disk_req *r)
{
	struct qcow2_img *q = qd->top;
	uint64_t done = 0, n, off, host;
	bool fresh;
	int ret = 0, fd;

	while (done < r->len && !ret) {
		off = r->offset + done;
		if (r->op == DISK_OP_READ) {
			ret = qcow2_read_run(q, off, r->len - done, &fd, &host,
					     &n);
			if (!ret && n)
				ret = iov_io(qd, r, done, n, fd, host, false);
		} else {
			ret = qcow2_write_run(q, off, r->len - done, &host, &n,
					      &fresh);
			if (!ret && n)
				ret = iov_io(qd, r, done, n, q->fd, host, true);
			if (!ret && n && fresh)
				ret = qcow2_write_run_done(q, off, n, host);
		}
		if (!ret && !n)
			ret = qd_piece(qd, r, done, &n);
		done += n;
	}
	return ret;
}

/* Run r with the chain to ourselves; its status. */
static int qd_run(struct qcow2_disk *qd, struct disk_req *r)
{
	int ret;

	switch (r->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		ret = qd_rw(qd, r);
		break;
	case DISK_OP_FLUSH:
		return qcow2_flush_img(qd->top);
	default:
		/* this may free clusters: not while a fast-path read of one
		 * is in flight (new ones wait, map_lock is the worker's) */
		if (qd->fast) { /* never inline_io, which holds qd->lock */
			pthread_mutex_lock(&qd->lock);
			while (qd->fast_inflight)
				pthread_cond_wait(&qd->drained, &qd->lock);
			pthread_mutex_unlock(&qd->lock);
		}
		ret = qcow2_zero_range(qd->top, r->offset, r->len,
				       r->op == DISK_OP_DISCARD);
		break;
	}
	if (!ret && r->op != DISK_OP_READ && (r->flags & DISK_REQ_DSYNC))
		ret = qcow2_flush_img(qd->top);
	return ret;
}

/* The counters; called with qd->lock held. */
static void qd_count(struct qcow2_disk *qd, const struct disk_req *r,
		     int status)
{
	if (status)
		return;
	if (r->op == DISK_OP_READ)
		qd->st.reads++;
	if (r->op == DISK_OP_WRITE)
		qd->st.writes++;
	if (r->op == DISK_OP_WRITE && (r->flags & DISK_REQ_DSYNC))
		qd->st.dsync_writes++;
	if (r->op == DISK_OP_FLUSH)
		qd->st.flushes++;
	if (r->op == DISK_OP_FLUSH ||
	    (r->op != DISK_OP_READ && (r->flags & DISK_REQ_DSYNC)))
		qd->st.syncs++;
}

/* At close, after the last request: the cached tables to disk. */
static void qd_close_flush(struct qcow2_disk *qd)
{
	int ret;

	if (qd->top->ro)
		return;
	ret = qcow2_flush_img(qd->top);
	if (ret)
		pr_err("%s: cannot write back its tables: %s", qd->top->name,
		       strerror(-ret));
}

static void *qd_worker(void *arg)
{
	struct qcow2_disk *qd = arg;
	struct disk_req *r;
	int status;

	seccomp_thread_start(SECCOMP_THREAD_DISK, "qcow2");
	pthread_mutex_lock(&qd->lock);
	for (;;) {
		while (!qd->head && !qd->stop)
			pthread_cond_wait(&qd->cond, &qd->lock);
		r = qd->head;
		if (!r)
			break;
		qd->head = r->link;
		if (!qd->head)
			qd->tail = NULL;
		pthread_mutex_unlock(&qd->lock);
		/* started at set-up, before the filter: its own now */
		seccomp_thread_update();
		pthread_mutex_lock(&qd->map_lock);
		status = qd_run(qd, r); /* only this thread runs the chain */
		pthread_mutex_unlock(&qd->map_lock);
		pthread_mutex_lock(&qd->lock);
		qd_count(qd, r, status);
		pthread_mutex_unlock(&qd->lock);
		r->done(r, status);
		pthread_mutex_lock(&qd->lock);
	}
	pthread_mutex_unlock(&qd->lock);
	seccomp_thread_update();
	qd_close_flush(qd); /* here: the main thread's filter has no pwrite */
	return NULL;
}

static struct qcow2_disk *to_qd(const struct disk *d)
{
	return container_of(d, struct qcow2_disk, disk);
}

static void qd_fast_done(struct disk_req *sub, int status)
{
	struct qd_fast *f = sub->opaque;
	struct qcow2_disk *qd = f->qd;
	struct disk_req *r = f->orig;

	pthread_mutex_lock(&qd->lock);
	if (!status)
		qd->st.reads++;
	f->next = qd->free_fast;
	qd->free_fast = f;
	if (!--qd->fast_inflight)
		pthread_cond_broadcast(&qd->drained);
	pthread_mutex_unlock(&qd->lock);
	r->done(r, status);
}

/* r to the engine when it is a read the cached tables map to one run of
 * the top image's file; false: the worker's. */
static bool qd_try_fast(struct qcow2_disk *qd, struct disk_req *r)
{
	struct qd_fast *f = NULL;
	uint64_t host = 0, n = 0;

	if (!qd->fast || r->op != DISK_OP_READ ||
	    pthread_mutex_trylock(&qd->map_lock))
		return false;
	pthread_mutex_lock(&qd->lock);
	if (qd->free_fast &&
	    !qcow2_cached_read_run(qd->top, r->offset, r->len, &host, &n) &&
	    n == r->len) {
		f = qd->free_fast;
		qd->free_fast = f->next;
		qd->fast_inflight++;
	}
	pthread_mutex_unlock(&qd->lock);
	pthread_mutex_unlock(&qd->map_lock);
	if (!f)
		return false;
	if (qd->fast_mapped)
		qd->fast_mapped(qd->fast_mapped_arg);
	f->orig = r;
	f->sub = (struct disk_req){ .op = DISK_OP_READ,
				    .iov = r->iov,
				    .iovcnt = r->iovcnt,
				    .offset = host,
				    .len = r->len,
				    .done = qd_fast_done,
				    .opaque = f };
	if (blkio_submit(qd->fast, &f->sub))
		qd_fast_done(&f->sub, -EIO); /* r was checked: cannot be */
	return true;
}

static int qcow2_submit(struct disk *d, struct disk_req *r)
{
	struct qcow2_disk *qd = to_qd(d);
	int status;

	if (qd_try_fast(qd, r))
		return 0;

	pthread_mutex_lock(&qd->lock);
	if (qd->inline_io) {
		status = qd_run(qd, r);
		qd_count(qd, r, status);
		pthread_mutex_unlock(&qd->lock);
		r->done(r, status);
		return 0;
	}
	r->link = NULL;
	if (qd->tail)
		qd->tail->link = r;
	else
		qd->head = r;
	qd->tail = r;
	pthread_cond_signal(&qd->cond);
	pthread_mutex_unlock(&qd->lock);
	return 0;
}

/* A synchronous FLUSH through the worker's queue. */
struct qd_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int status;
};

static void qd_wait_done(struct disk_req *r, int status)
{
	struct qd_wait *w = r->opaque;

	pthread_mutex_lock(&w->lock);
	w->status = status;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int qcow2_flush(struct disk *d)
{
	struct qd_wait w = { .done = false };
	struct disk_req r = {
		.op = DISK_OP_FLUSH,
		.done = qd_wait_done,
		.opaque = &w,
	};

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	qcow2_submit(d, &r);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return w.status;
}

static void qcow2_get_stats(struct disk *d, struct disk_stats *st)
{
	struct qcow2_disk *qd = to_qd(d);

	pthread_mutex_lock(&qd->lock);
	*st = qd->st;
	pthread_mutex_unlock(&qd->lock);
}

static void qd_free(struct qcow2_disk *qd)
{
	blkio_destroy(qd->fast); /* waits for the reads in flight */
	img_free(qd->top);
	pthread_cond_destroy(&qd->drained);
	pthread_cond_destroy(&qd->cond);
	pthread_mutex_destroy(&qd->lock);
	pthread_mutex_destroy(&qd->map_lock);
	free(qd->buf);
	free(qd->iov);
	free(qd);
}

static void qcow2_close(struct disk *d)
{
	struct qcow2_disk *qd = to_qd(d);

	blkio_destroy(qd->fast);
	qd->fast = NULL;
	if (qd->have_thread) {
		pthread_mutex_lock(&qd->lock);
		qd->stop = true;
		pthread_cond_signal(&qd->cond);
		pthread_mutex_unlock(&qd->lock);
		pthread_join(qd->thread, NULL);
	} else {
		qd_close_flush(qd);
	}
	qd_free(qd);
}

static const struct disk_ops qcow2_ops = {
	.name = "qcow2",
	.submit = qcow2_submit,
	.flush = qcow2_flush,
	.get_stats = qcow2_get_stats,
	.close = qcow2_close,
};

/* The fast path's engine (Linux AIO only where the build has it);
 * without one (it could not start) every request takes the worker. */
static void qd_start_fast(struct qcow2_disk *qd, enum blkio_engine engine)
{
	unsigned int i;

	if (engine == BLKIO_ENGINE_AIO && !blkio_have_aio())
		engine = BLKIO_ENGINE_THREADS;
	if (blkio_create(&qd->fast, qd->top->fd, engine, 0)) {
		qd->fast = NULL;
		return;
	}
	for (i = 0; i < QD_FAST_MAX; i++) {
		qd->slots[i].qd = qd;
		qd->slots[i].next = qd->free_fast;
		qd->free_fast = &qd->slots[i];
	}
}

int disk_qcow2_open_fd(struct disk **out, int fd, const char *name,
		       const struct disk_qcow2_opts *o, char *err,
		       size_t errlen)
{
	struct chain_ids ids = { .n = 0 };
	struct qcow2_disk *qd;
	const char *base;
	struct stat st;
	int ret;

	qd = calloc(1, sizeof(*qd));
	if (!qd) {
		close(fd);
		return qerr(err, errlen, -ENOMEM, "%s: out of memory", name);
	}
	pthread_mutex_init(&qd->map_lock, NULL);
	pthread_mutex_init(&qd->lock, NULL);
	pthread_cond_init(&qd->cond, NULL);
	pthread_cond_init(&qd->drained, NULL);
	qd->inline_io = o->inline_io;
	qd->fast_mapped = o->fast_mapped;
	qd->fast_mapped_arg = o->fast_mapped_arg;
	if (!fstat(fd, &st)) {
		ids.dev[0] = st.st_dev;
		ids.ino[0] = st.st_ino;
		ids.n = 1;
	}
	ret = img_open(&qd->top, fd, name, o->ro, true, &ids, o, err, errlen);
	if (ret)
		goto out_free;
	qd->buf = malloc(qd->top->cs);
	qd->iov = calloc(IOV_MAX, sizeof(*qd->iov));
	if (!qd->buf || !qd->iov) {
		ret = qerr(err, errlen, -ENOMEM, "%s: out of memory", name);
		goto out_free;
	}
	qd->disk.ops = &qcow2_ops;
	qd->disk.info.size = qd->top->size;
	qd->disk.info.block_size = DISK_SECTOR_SIZE;
	qd->disk.info.ro = o->ro;
	qd->disk.info.caps =
		o->ro ? 0 : DISK_CAP_DISCARD | DISK_CAP_WRITE_ZEROES;
	base = strrchr(name, '/');
	snprintf(qd->disk.info.serial, sizeof(qd->disk.info.serial), "%s",
		 base ? base + 1 : name);
	if (!qd->inline_io) {
		ret = -pthread_create(&qd->thread, NULL, qd_worker, qd);
		if (ret) {
			qerr(err, errlen, ret,
			     "%s: cannot start its thread: %s", name,
			     strerror(-ret));
			goto out_free;
		}
		qd->have_thread = true;
		qd_start_fast(qd, o->engine);
	}
	*out = &qd->disk;
	return 0;

out_free:
	qd_free(qd);
	return ret;
}

int disk_qcow2_open(struct disk **out, const char *path,
		    const struct disk_qcow2_opts *o, char *err, size_t errlen)
{
	int fd = open(path, (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return qerr(err, errlen, -errno, "cannot open %s: %s", path,
			    strerror(errno));
	if (flock(fd, (o->ro ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return qerr(err, errlen, -EBUSY, "%s is in use", path);
		return qerr(err, errlen, -e, "cannot lock %s: %s", path,
			    strerror(e));
	}
	return disk_qcow2_open_fd(out, fd, path, o, err, errlen);
}
