// SPDX-License-Identifier: GPL-2.0-only
/* qcow2: rebuilding the refcounts of a dirty image before writing to it. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/qcow2-priv.h"

/*
 * A writer with lazy refcounts (QEMU with lazy_refcounts=on) sets the
 * dirty bit and lets refcounts lag behind the L2 tables until it closes
 * cleanly. While the bit is set nobody trusts the refcounts, so they may
 * be rewritten in place in any order: the bit is cleared only after the
 * rebuilt blocks and table are durable. lkvm itself never sets the bit (it
 * writes refcounts before the tables that need them), so it has none to
 * clear at close.
 */

/* The most host clusters a repair counts (4 bytes each). */
#define REPAIR_MAX_CLUSTERS (1ull << 26)

struct repair {
	struct qcow2_img *q;
	uint32_t *rc; /* per host cluster */
	uint64_t n, cap; /* clusters counted, entries in rc */
	char *err;
	size_t errlen;
};

static int rerr(struct repair *r, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rerr(struct repair *r, int ret, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen,
		 "%s: the image is dirty (lazy refcounts) and cannot be "
		 "repaired: %s; run qemu-img check -r all, or open it with ,ro",
		 r->q->name, msg);
	return ret;
}

/* One reference to each host cluster of [off, off + len). */
static int ref(struct repair *r, uint64_t off, uint64_t len, const char *what)
{
	uint64_t c = off >> r->q->cluster_bits;
	uint64_t last = (off + len - 1) >> r->q->cluster_bits;

	if (!len || last >= r->n)
		return rerr(r, -EINVAL, "%s at %#" PRIx64 " is beyond the file",
			    what, off);
	for (; c <= last; c++)
		if (++r->rc[c] > 1)
			return rerr(r, -EINVAL,
				    "cluster %" PRIu64 " is used twice (%s)", c,
				    what);
	return 0;
}

/* The clusters one L2 table's entries use. */
static int ref_l2(struct repair *r, const uint64_t *tbl)
{
	struct qcow2_img *q = r->q;
	struct qcow2_map m;
	uint64_t i;
	int ret = 0;

	for (i = 0; i < q->cs / 8 && !ret; i++) {
		if (qcow2_classify(q, qcow2_be64(&tbl[i]), &m))
			return rerr(r, -EINVAL, "bad L2 entry %#" PRIx64,
				    qcow2_be64(&tbl[i]));
		if (m.kind == QCOW2_NORMAL || (m.kind == QCOW2_ZERO && m.host))
			ret = ref(r, m.host, q->cs, "a data cluster");
		else if (m.kind == QCOW2_COMPRESSED)
			ret = ref(r, m.host & ~511ull, m.clen + (m.host & 511),
				  "compressed data");
	}
	return ret;
}

/* Every reference the image's header and tables hold. */
static int count(struct repair *r)
{
	struct qcow2_img *q = r->q;
	uint64_t *tbl = malloc(q->cs), i, off;
	int ret;

	if (!tbl)
		return rerr(r, -ENOMEM, "out of memory");
	ret = ref(r, 0, q->cs, "the header");
	if (!ret && q->l1_size)
		ret = ref(r, q->l1_off, (uint64_t)q->l1_size * 8, "the L1");
	if (!ret)
		ret = ref(r, q->rt_off, (uint64_t)q->rt_clusters * q->cs,
			  "the refcount table");
	for (i = 0; i < q->rt_entries && !ret; i++)
		if (q->rt[i])
			ret = ref(r, q->rt[i], q->cs, "a refcount block");
	for (i = 0; i < q->l1_size && !ret; i++) {
		off = q->l1[i] & QCOW2_OFFSET_MASK;
		if (!off)
			continue;
		ret = ref(r, off, q->cs, "an L2 table");
		if (!ret && qcow2_pread(q->fd, tbl, q->cs, off))
			ret = rerr(r, -EIO, "cannot read an L2 table");
		if (!ret)
			ret = ref_l2(r, tbl);
	}
	free(tbl);
	return ret;
}

/* Refcount blocks for ranges that have references but no block: new ones
 * at the end of the file, each counting itself. */
static int add_blocks(struct repair *r)
{
	struct qcow2_img *q = r->q;
	uint64_t ri, c, end;
	bool used;
	int ret;

	for (ri = 0; ri * q->rb_entries < r->n; ri++) {
		if (ri < q->rt_entries && q->rt[ri])
			continue;
		end = (ri + 1) * q->rb_entries;
		used = false;
		for (c = ri * q->rb_entries; c < end && c < r->n && !used; c++)
			used = r->rc[c] != 0;
		if (!used)
			continue;
		if (ri >= q->rt_entries)
			return rerr(r, -ENOSPC,
				    "the refcount table is too small");
		if (r->n == r->cap)
			return rerr(r, -ENOSPC, "too many clusters");
		q->rt[ri] = r->n << q->cluster_bits;
		r->rc[r->n++] = 1;
		ret = qcow2_meta_add(q, r->n - 1);
		if (ret)
			return rerr(r, ret, "out of memory");
	}
	return 0;
}

/* The rebuilt blocks, the table, a sync, then the dirty bit cleared. */
static int write_all(struct repair *r)
{
	struct qcow2_img *q = r->q;
	size_t bytes = (size_t)q->rt_clusters << q->cluster_bits;
	uint8_t *raw = malloc(bytes), h[8];
	uint64_t ri, c, first;
	int ret = raw ? 0 : -ENOMEM;

	if (!ret)
		ret = qcow2_rb_flush(q);
	q->rb_off = 0; /* q->rb is scratch here */
	for (ri = 0; ri < q->rt_entries && !ret; ri++) {
		if (!q->rt[ri])
			continue;
		first = ri * q->rb_entries;
		memset(q->rb, 0, q->cs);
		for (c = first; c < first + q->rb_entries && c < r->n; c++)
			if (r->rc[c])
				qcow2_rb_set(q, c - first, r->rc[c]);
		ret = qcow2_pwrite(q->fd, q->rb, q->cs, q->rt[ri]);
	}
	for (ri = 0; ri < q->rt_entries && !ret; ri++)
		qcow2_put_be64(raw + ri * 8, q->rt[ri]);
	if (!ret)
		ret = qcow2_pwrite(q->fd, raw, bytes, q->rt_off);
	free(raw);
	if (r->n << q->cluster_bits > q->file_end)
		q->file_end = r->n << q->cluster_bits;
	if (!ret)
		ret = qcow2_sync(q);
	if (!ret)
		ret = qcow2_pread(q->fd, h, 8, 72);
	if (!ret) {
		h[7] &= (uint8_t)~QCOW2_INCOMPAT_DIRTY;
		ret = qcow2_pwrite(q->fd, h, 8, 72);
	}
	if (!ret)
		ret = qcow2_sync(q);
	return ret ? rerr(r, ret, "%s", strerror(-ret)) : 0;
}

int qcow2_repair(struct qcow2_img *q, char *err, size_t errlen)
{
	struct repair r = { .q = q, .err = err, .errlen = errlen };
	int ret;

	r.n = (q->file_end + q->cs - 1) >> q->cluster_bits;
	if (r.n > REPAIR_MAX_CLUSTERS)
		return rerr(&r, -EFBIG, "more than %llu clusters",
			    REPAIR_MAX_CLUSTERS);
	/* room for the blocks add_blocks() may make */
	r.cap = r.n + r.n / q->rb_entries + 2;
	r.rc = calloc(r.cap, sizeof(*r.rc));
	if (!r.rc)
		return rerr(&r, -ENOMEM, "out of memory");
	ret = count(&r);
	if (!ret)
		ret = add_blocks(&r);
	if (!ret)
		ret = write_all(&r);
	free(r.rc);
	if (!ret) {
		q->dirty = false;
		q->free_hint = 1;
		pr_info("%s: the image was dirty: its refcounts were rebuilt",
			q->name);
	}
	return ret;
}
