// SPDX-License-Identifier: GPL-2.0-only
/* qcow2 tables: L1/L2 lookup and cache, refcounts, allocation, I/O. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif

#include "disk/qcow2-priv.h"

/*
 * Crash safety. A write that needs a new cluster writes the data, and
 * changes its refcount and the L2 entry in the caches only (one refcount
 * block is cached, written back when another is needed).
 * qcow2_writeback() writes the refcount block back, syncs (data and
 * refcounts durable), writes the dirty
 * L2 tables, syncs, writes the dirty L1 entries, syncs, and only then drops
 * the references that the new tables no longer hold. So whatever a crash
 * interrupts, a table on disk never points at a cluster whose refcount is
 * not on disk: at worst clusters leak.
 */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int err_line(char *err, size_t errlen, int ret, const char *fmt, ...)
	__printf(4, 5);

static int err_line(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* --- metadata clusters: never handed out, never written as data --- */

static bool meta_find(const struct qcow2_img *q, uint64_t c, size_t *pos)
{
	size_t lo = 0, hi = q->nr_meta;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->meta[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return lo < q->nr_meta && q->meta[lo] == c;
}

int qcow2_meta_add(struct qcow2_img *q, uint64_t c)
{
	size_t pos;

	if (meta_find(q, c, &pos))
		return 0;
	if (q->nr_meta == q->meta_cap) {
		size_t cap = q->meta_cap ? q->meta_cap * 2 : 64;
		uint64_t *m = realloc(q->meta, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		q->meta = m;
		q->meta_cap = cap;
	}
	memmove(q->meta + pos + 1, q->meta + pos,
		(q->nr_meta - pos) * sizeof(*q->meta));
	q->meta[pos] = c;
	q->nr_meta++;
	return 0;
}

/* The header cluster, the L1 table or the refcount table. */
static bool fixed_meta(const struct qcow2_img *q, uint64_t c)
{
	uint64_t l1_first = q->l1_off >> q->cluster_bits;
	uint64_t l1_n =
		((uint64_t)q->l1_size * 8 + q->cs - 1) >> q->cluster_bits;
	uint64_t rt_first = q->rt_off >> q->cluster_bits;

	return c == 0 || (c >= l1_first && c - l1_first < l1_n) ||
	       (c >= rt_first && c - rt_first < q->rt_clusters);
}

static bool is_meta(const struct qcow2_img *q, uint64_t c)
{
	return fixed_meta(q, c) || meta_find(q, c, NULL);
}

/* A cluster-aligned table or data cluster that lies inside the file. */
static bool host_ok(const struct qcow2_img *q, uint64_t off)
{
	return off && !(off & (q->cs - 1)) && q->file_end >= q->cs &&
	       off <= q->file_end - q->cs;
}

/* --- refcounts --- */

int qcow2_rb_flush(struct qcow2_img *q)
{
	int ret;

	if (q->rb_dlo >= q->rb_dhi)
		return 0;
	ret = qcow2_pwrite(q->fd, q->rb + q->rb_dlo, q->rb_dhi - q->rb_dlo,
			   q->rb_off + q->rb_dlo);
	if (ret)
		return ret;
	q->rb_dlo = q->rb_dhi = 0;
	q->need_sync = true;
	return 0;
}

static int rb_load(struct qcow2_img *q, uint64_t off)
{
	int ret;

	if (q->rb_off == off)
		return 0;
	ret = qcow2_rb_flush(q);
	if (ret)
		return ret;
	q->rb_off = 0;
	ret = qcow2_pread(q->fd, q->rb, q->cs, off);
	if (!ret)
		q->rb_off = off;
	return ret;
}

static uint64_t rb_get(const struct qcow2_img *q, uint64_t i)
{
	unsigned int o = q->refcount_order;
	uint64_t bit = i << o;

	switch (o) {
	case 3:
		return q->rb[i];
	case 4:
		return (uint64_t)q->rb[2 * i] << 8 | q->rb[2 * i + 1];
	case 5:
		return qcow2_be32(q->rb + 4 * i);
	case 6:
		return qcow2_be64(q->rb + 8 * i);
	default:
		return (q->rb[bit >> 3] >> (bit & 7)) & ((1u << (1u << o)) - 1);
	}
}

/* Store v (<= rc_max) as entry i of the cached block; the bytes touched. */
static void rb_put(struct qcow2_img *q, uint64_t i, uint64_t v, size_t *at,
		   size_t *len)
{
	unsigned int o = q->refcount_order, w, k;
	uint64_t bit = i << o;

	if (o < 3) {
		unsigned int mask = ((1u << (1u << o)) - 1) << (bit & 7);

		q->rb[bit >> 3] = (uint8_t)((q->rb[bit >> 3] & ~mask) |
					    ((unsigned int)v << (bit & 7)));
		*at = bit >> 3;
		*len = 1;
		return;
	}
	w = 1u << (o - 3);
	for (k = 0; k < w; k++)
		q->rb[i * w + k] = (uint8_t)(v >> (8 * (w - 1 - k)));
	*at = i * w;
	*len = w;
}

void qcow2_rb_set(struct qcow2_img *q, uint64_t i, uint64_t v)
{
	size_t at, len;

	rb_put(q, i, v, &at, &len);
}

static int get_refcount(struct qcow2_img *q, uint64_t c, uint64_t *rc)
{
	uint64_t ri = c / q->rb_entries;
	int ret;

	*rc = 0;
	if (ri >= q->rt_entries || !q->rt[ri])
		return 0;
	ret = rb_load(q, q->rt[ri]);
	if (ret)
		return ret;
	*rc = rb_get(q, c % q->rb_entries);
	return 0;
}

/* Refcount block ri does not exist, so every cluster it covers is free:
 * put the new block in the first of them that is not `exclude`. */
static int new_refblock(struct qcow2_img *q, uint64_t ri, uint64_t exclude)
{
	uint64_t first = ri * q->rb_entries, b = first, off;
	uint8_t ent[8];
	size_t at, len;
	int ret;

	while (b == exclude || is_meta(q, b))
		b++;
	if (b - first >= q->rb_entries || b >> (56 - q->cluster_bits))
		return -ENOSPC;
	off = b << q->cluster_bits;
	ret = qcow2_rb_flush(q);
	if (ret)
		return ret;
	q->rb_off = 0;
	memset(q->rb, 0, q->cs);
	rb_put(q, b - first, 1, &at, &len);
	ret = qcow2_meta_add(q, b);
	if (!ret)
		ret = qcow2_pwrite(q->fd, q->rb, q->cs, off);
	/* the block is on disk before the table points at it */
	if (!ret)
		ret = qcow2_sync(q);
	if (ret)
		return ret;
	qcow2_put_be64(ent, off);
	ret = qcow2_pwrite(q->fd, ent, 8, q->rt_off + ri * 8);
	if (ret)
		return ret;
	q->rt[ri] = off;
	q->rb_off = off;
	q->need_sync = true;
	if (off + q->cs > q->file_end)
		q->file_end = off + q->cs;
	return 0;
}

static int set_refcount(struct qcow2_img *q, uint64_t c, uint64_t v)
{
	uint64_t ri = c / q->rb_entries;
	size_t at, len;
	int ret;

	if (v > q->rc_max) {
		qcow2_warn(q,
			   "%s: refcount overflow at cluster %" PRIu64
			   " (%u-bit refcounts)",
			   q->name, c, 1u << q->refcount_order);
		return -EIO;
	}
	if (ri >= q->rt_entries) {
		qcow2_warn(q,
			   "%s: cluster %" PRIu64 " is beyond the refcount "
			   "table",
			   q->name, c);
		return -ENOSPC;
	}
	if (!q->rt[ri]) {
		ret = new_refblock(q, ri, c);
		if (ret)
			return ret;
	}
	ret = rb_load(q, q->rt[ri]);
	if (ret)
		return ret;
	rb_put(q, c % q->rb_entries, v, &at, &len);
	/* written back before the tables that need it (qcow2_writeback) */
	if (q->rb_dlo >= q->rb_dhi) {
		q->rb_dlo = at;
		q->rb_dhi = at + len;
	} else {
		if (at < q->rb_dlo)
			q->rb_dlo = at;
		if (at + len > q->rb_dhi)
			q->rb_dhi = at + len;
	}
	return 0;
}

/*
 * Refcount table growth, the order QEMU uses: a bigger table and the
 * refcount blocks that count it (and themselves) go after everything the
 * old table covers or the file holds; they are written and synced before
 * the header points at them, and the old table's clusters are unreferenced
 * only after the header is on disk. A crash at any point leaves the old
 * table in force and the new clusters uncounted beyond it (qemu-img check:
 * clean) or the old table leaked.
 */
struct rt_grow {
	uint64_t start; /* first new cluster: the table, then the blocks */
	uint64_t n_tab, n_blk; /* clusters of each */
	uint64_t entries; /* of the new table */
};

/* The smallest layout whose table reaches cluster need and covers itself. */
static int rt_grow_plan(const struct qcow2_img *q, uint64_t need,
			struct rt_grow *g)
{
	uint64_t per = q->cs / 8, max_tab = QCOW2_MAX_RT_BYTES / q->cs;
	uint64_t lim = 1ull << (56 - q->cluster_bits), end, ri_lo, ri_hi;

	g->start = q->rt_entries * q->rb_entries;
	end = (q->file_end + q->cs - 1) >> q->cluster_bits;
	if (end > g->start)
		g->start = end;
	g->n_tab = min64(2 * (uint64_t)q->rt_clusters, max_tab);
	g->n_blk = 1;
	for (;;) {
		if (g->n_tab > max_tab || g->start >= lim ||
		    g->n_tab + g->n_blk > lim - g->start)
			return -ENOSPC;
		end = g->start + g->n_tab + g->n_blk; /* exclusive */
		if (need >= end)
			end = need + 1;
		ri_lo = g->start / q->rb_entries;
		ri_hi = (g->start + g->n_tab + g->n_blk - 1) / q->rb_entries;
		if (ri_hi - ri_lo + 1 > g->n_blk) {
			g->n_blk = ri_hi - ri_lo + 1;
			continue;
		}
		if ((end - 1) / q->rb_entries >= g->n_tab * per) {
			g->n_tab = g->n_tab * 2 > max_tab && g->n_tab < max_tab
					   ? max_tab
					   : g->n_tab * 2;
			continue;
		}
		g->entries = g->n_tab * per;
		return 0;
	}
}

/* The new blocks (each counting the new clusters it covers) and the new
 * table, written and synced; the new table in *rt_out. */
static int rt_grow_write(struct qcow2_img *q, const struct rt_grow *g,
			 uint64_t **rt_out)
{
	uint64_t blk0 = g->start + g->n_tab, ri_lo = g->start / q->rb_entries;
	uint64_t n_new = g->n_tab + g->n_blk, i, k;
	uint64_t *rt = calloc(g->entries, sizeof(*rt));
	uint8_t *raw = calloc(g->n_tab, q->cs);
	size_t at, len;
	int ret = 0;

	if (!rt || !raw) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(rt, q->rt, q->rt_entries * sizeof(*rt));
	ret = qcow2_rb_flush(q);
	if (ret)
		goto out;
	q->rb_off = 0; /* q->rb is a scratch block below */
	for (i = 0; i < g->n_blk && !ret; i++) {
		uint64_t first = (ri_lo + i) * q->rb_entries;

		memset(q->rb, 0, q->cs);
		for (k = 0; k < n_new; k++)
			if (g->start + k >= first &&
			    g->start + k - first < q->rb_entries)
				rb_put(q, g->start + k - first, 1, &at, &len);
		rt[ri_lo + i] = (blk0 + i) << q->cluster_bits;
		ret = qcow2_pwrite(q->fd, q->rb, q->cs, rt[ri_lo + i]);
	}
	for (i = 0; i < g->entries; i++)
		qcow2_put_be64(raw + i * 8, rt[i]);
	if (!ret)
		ret = qcow2_pwrite(q->fd, raw, g->n_tab * q->cs,
				   g->start << q->cluster_bits);
	if (!ret)
		ret = qcow2_sync(q);
out:
	free(raw);
	if (ret)
		free(rt);
	else
		*rt_out = rt;
	return ret;
}

static int grow_rt(struct qcow2_img *q, uint64_t need)
{
	uint64_t old_off = q->rt_off, old_n = q->rt_clusters, i, rc, *rt = NULL;
	uint8_t h[12];
	struct rt_grow g;
	int ret = rt_grow_plan(q, need, &g);

	if (!ret) {
		for (i = 0; i < g.n_blk && !ret; i++)
			ret = qcow2_meta_add(q, g.start + g.n_tab + i);
	}
	if (!ret)
		ret = rt_grow_write(q, &g, &rt);
	if (ret) {
		qcow2_warn(q,
			   "%s: cannot grow the refcount table to cover "
			   "cluster %" PRIu64 ": %s",
			   q->name, need, strerror(-ret));
		return ret;
	}
	/* rt_offset and rt_clusters are adjacent: one write */
	qcow2_put_be64(h, g.start << q->cluster_bits);
	h[8] = (uint8_t)(g.n_tab >> 24);
	h[9] = (uint8_t)(g.n_tab >> 16);
	h[10] = (uint8_t)(g.n_tab >> 8);
	h[11] = (uint8_t)g.n_tab;
	ret = qcow2_pwrite(q->fd, h, sizeof(h), 48);
	if (!ret)
		ret = qcow2_sync(q);
	if (ret) {
		free(rt);
		return ret;
	}
	free(q->rt);
	q->rt = rt;
	q->rt_entries = g.entries;
	q->rt_off = g.start << q->cluster_bits;
	q->rt_clusters = (uint32_t)g.n_tab;
	if ((g.start + g.n_tab + g.n_blk) << q->cluster_bits > q->file_end)
		q->file_end = (g.start + g.n_tab + g.n_blk) << q->cluster_bits;
	/* the header no longer points at the old table: it may go */
	for (i = 0; i < old_n && !ret; i++) {
		uint64_t c = (old_off >> q->cluster_bits) + i;

		ret = get_refcount(q, c, &rc);
		if (!ret && rc)
			ret = set_refcount(q, c, rc - 1);
		if (!ret && rc == 1 && c < q->free_hint)
			q->free_hint = c;
	}
	return ret;
}

/* A free cluster, its refcount set to 1; its offset in *off. */
static int alloc_cluster(struct qcow2_img *q, uint64_t *off)
{
	uint64_t lim = 1ull << (56 - q->cluster_bits), c, rc;
	int ret;

	for (c = q->free_hint ? q->free_hint : 1; c < lim; c++) {
		if (c / q->rb_entries >= q->rt_entries) {
			ret = grow_rt(q, c);
			if (ret)
				return ret;
		}
		if (is_meta(q, c))
			continue;
		ret = get_refcount(q, c, &rc);
		if (ret)
			return ret;
		if (!rc)
			break;
	}
	if (c >= lim) {
		qcow2_warn(q, "%s: no free cluster below 2^56 bytes", q->name);
		return -ENOSPC;
	}
	ret = set_refcount(q, c, 1);
	if (ret)
		return ret;
	q->free_hint = c + 1;
	*off = c << q->cluster_bits;
	if (*off + q->cs > q->file_end)
		q->file_end = *off + q->cs;
	return 0;
}

/* Cluster c too, when it is free and covered: true in *got. */
static int alloc_next(struct qcow2_img *q, uint64_t c, bool *got)
{
	uint64_t rc;
	int ret;

	*got = false;
	if (c / q->rb_entries >= q->rt_entries || is_meta(q, c) ||
	    c >> (56 - q->cluster_bits))
		return 0;
	ret = get_refcount(q, c, &rc);
	if (ret || rc)
		return ret;
	ret = set_refcount(q, c, 1);
	if (ret)
		return ret;
	q->free_hint = c + 1;
	if ((c + 1) << q->cluster_bits > q->file_end)
		q->file_end = (c + 1) << q->cluster_bits;
	*got = true;
	return 0;
}

/* Drop one reference to each host cluster of [off, off + len) once the
 * tables that no longer point there are on disk. */
static int pfree_add(struct qcow2_img *q, uint64_t off, uint64_t len)
{
	uint64_t c = off >> q->cluster_bits;
	uint64_t last = (off + len - 1) >> q->cluster_bits;

	for (; c <= last; c++) {
		if (q->nr_pfree == q->pfree_cap) {
			size_t cap = q->pfree_cap ? q->pfree_cap * 2 : 64;
			uint64_t *p = realloc(q->pfree, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			q->pfree = p;
			q->pfree_cap = cap;
		}
		q->pfree[q->nr_pfree++] = c;
	}
	return 0;
}

static int pfree_apply(struct qcow2_img *q)
{
	uint64_t rc;
	size_t i;
	int ret = 0;

	q->zkey = 0;
	for (i = 0; i < q->nr_pfree && !ret; i++) {
		uint64_t c = q->pfree[i];

		ret = get_refcount(q, c, &rc);
		if (ret)
			break;
		if (!rc) {
			qcow2_warn(q,
				   "%s: refcount of cluster %" PRIu64
				   " is already 0",
				   q->name, c);
			continue;
		}
		ret = set_refcount(q, c, rc - 1);
		if (!ret && rc == 1 && c < q->free_hint)
			q->free_hint = c;
	}
	q->nr_pfree = 0;
	return ret;
}

/* --- write-back --- */

static int l1_write_back(struct qcow2_img *q)
{
	uint32_t lo = q->l1_dirty_lo, hi = q->l1_dirty_hi, i;
	uint8_t *buf;
	int ret;

	if (lo >= hi)
		return 0;
	buf = malloc((size_t)(hi - lo) * 8);
	if (!buf)
		return -ENOMEM;
	for (i = lo; i < hi; i++)
		qcow2_put_be64(buf + (size_t)(i - lo) * 8, q->l1[i]);
	ret = qcow2_pwrite(q->fd, buf, (size_t)(hi - lo) * 8,
			   q->l1_off + (uint64_t)lo * 8);
	free(buf);
	if (!ret)
		q->l1_dirty_lo = q->l1_dirty_hi = 0;
	return ret;
}

static int qcow2_writeback(struct qcow2_img *q)
{
	bool l2_dirty = false;
	uint32_t i;
	int ret;

	for (i = 0; i < q->nr_l2c; i++)
		l2_dirty |= q->l2c[i].dirty;
	if (!l2_dirty && q->l1_dirty_lo >= q->l1_dirty_hi && !q->nr_pfree)
		return 0;
	ret = qcow2_rb_flush(q);
	if (ret)
		return ret;
	if (q->need_sync) {
		ret = qcow2_sync(q); /* data and refcounts before tables */
		if (ret)
			return ret;
	}
	for (i = 0; i < q->nr_l2c; i++) {
		struct qcow2_l2slot *s = &q->l2c[i];

		if (!s->dirty)
			continue;
		ret = qcow2_pwrite(q->fd, s->tbl, q->cs, s->off);
		if (ret)
			return ret;
		s->dirty = false;
	}
	if (q->l1_dirty_lo < q->l1_dirty_hi) {
		ret = qcow2_sync(q); /* new L2 tables before the L1 */
		if (!ret)
			ret = l1_write_back(q);
		if (ret)
			return ret;
	}
	if (!q->nr_pfree)
		return 0;
	ret = qcow2_sync(q); /* the tables before the frees */
	return ret ? ret : pfree_apply(q);
}

int qcow2_flush_img(struct qcow2_img *q)
{
	int ret = qcow2_writeback(q);

	if (!ret)
		ret = qcow2_rb_flush(q); /* frees, or no table changed */
	if (!ret && q->need_sync)
		ret = qcow2_sync(q);
	return ret;
}

/* --- the L2 cache --- */

static int l2_victim(struct qcow2_img *q, uint32_t *out)
{
	uint32_t i, v = 0;
	int ret;

	for (i = 0; i < q->nr_l2c; i++) {
		if (!q->l2c[i].off) {
			v = i;
			break;
		}
		if (q->l2c[i].stamp < q->l2c[v].stamp)
			v = i;
	}
	if (!q->l2c[v].tbl) {
		q->l2c[v].tbl = malloc(q->cs);
		if (!q->l2c[v].tbl)
			return -ENOMEM;
	}
	if (q->l2c[v].dirty) {
		ret = qcow2_writeback(q);
		if (ret)
			return ret;
	}
	if (q->l2c[v].off)
		q->l1_slot[q->l2c[v].l1_idx] = -1;
	q->l2c[v].off = 0;
	*out = v;
	return 0;
}

/*
 * The L2 table of L1 entry idx, or NULL in *tbl when there is none and
 * alloc is false. alloc makes one (top image only). The pointer is good
 * until the next get_l2 on q.
 */
static int get_l2(struct qcow2_img *q, uint32_t idx, bool alloc,
		  struct qcow2_l2slot **out)
{
	uint64_t off = q->l1[idx] & QCOW2_OFFSET_MASK;
	struct qcow2_l2slot *s;
	uint32_t v;
	int ret;

	*out = NULL;
	if (q->l1_slot[idx] >= 0) {
		s = &q->l2c[q->l1_slot[idx]];
		s->stamp = ++q->l2c_clock;
		*out = s;
		return 0;
	}
	if (!off && !alloc)
		return 0;
	ret = l2_victim(q, &v);
	if (ret)
		return ret;
	s = &q->l2c[v];
	if (off) {
		ret = qcow2_pread(q->fd, s->tbl, q->cs, off);
	} else {
		ret = alloc_cluster(q, &off);
		if (!ret)
			ret = qcow2_meta_add(q, off >> q->cluster_bits);
		if (!ret) {
			memset(s->tbl, 0, q->cs);
			s->dirty = true;
			q->l1[idx] = off | QCOW2_OFLAG_COPIED;
			if (q->l1_dirty_lo >= q->l1_dirty_hi) {
				q->l1_dirty_lo = idx;
				q->l1_dirty_hi = idx + 1;
			} else {
				if (idx < q->l1_dirty_lo)
					q->l1_dirty_lo = idx;
				if (idx >= q->l1_dirty_hi)
					q->l1_dirty_hi = idx + 1;
			}
		}
	}
	if (ret)
		return ret;
	s->off = off;
	s->l1_idx = idx;
	s->stamp = ++q->l2c_clock;
	q->l1_slot[idx] = (int32_t)v;
	*out = s;
	return 0;
}

/* --- mapping --- */

int qcow2_classify(struct qcow2_img *q, uint64_t e, struct qcow2_map *m)
{
	unsigned int x = 62 - (q->cluster_bits - 8);

	m->e = e;
	m->host = m->clen = 0;
	if (e & QCOW2_OFLAG_COMPRESSED) {
		uint64_t nsec = ((e >> x) & ((1ull << (62 - x)) - 1)) + 1;

		m->kind = QCOW2_COMPRESSED;
		m->host = e & ((1ull << x) - 1);
		m->clen = nsec * 512 - (m->host & 511);
		if (m->host >> 56 || m->host >= q->file_end)
			goto bad;
		return 0;
	}
	if (e & QCOW2_L2_RESERVED)
		goto bad;
	m->host = e & QCOW2_OFFSET_MASK;
	if (e & QCOW2_OFLAG_ZERO) {
		if (q->version < 3)
			goto bad;
		m->kind = QCOW2_ZERO;
		return 0;
	}
	if (!m->host) {
		m->kind = QCOW2_UNALLOC;
		return (e & QCOW2_OFLAG_COPIED) ? -EIO : 0;
	}
	m->kind = QCOW2_NORMAL;
	if (!host_ok(q, m->host))
		goto bad;
	return 0;
bad:
	qcow2_warn(q, "%s: bad L2 entry %#" PRIx64, q->name, e);
	return -EIO;
}

/* The mapping of guest offset off; *slot the L2 table (NULL: none). */
static int lookup(struct qcow2_img *q, uint64_t off, bool alloc,
		  struct qcow2_l2slot **slot, uint32_t *l2i,
		  struct qcow2_map *m)
{
	uint32_t l1i = (uint32_t)(off >> (q->cluster_bits + q->l2_bits));
	int ret;

	*l2i = (uint32_t)(off >> q->cluster_bits) & ((1u << q->l2_bits) - 1);
	ret = get_l2(q, l1i, alloc, slot);
	if (ret)
		return ret;
	if (!*slot) {
		m->kind = QCOW2_UNALLOC;
		m->e = m->host = m->clen = 0;
		return 0;
	}
	return qcow2_classify(q, qcow2_be64(&(*slot)->tbl[*l2i]), m);
}

/* The cluster a compressed entry holds, inflated into q->zout. */
static int inflate_cluster(struct qcow2_img *q, const struct qcow2_map *m)
{
#ifdef HAVE_ZLIB
	uint64_t n = min64(min64(m->clen, q->file_end - m->host), 2 * q->cs);
	z_stream z;
	int ret;

	if (q->zkey == m->e)
		return 0;
	q->zkey = 0;
	ret = qcow2_pread(q->fd, q->zin, n, m->host);
	if (ret)
		return ret;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return -ENOMEM;
	z.next_in = q->zin;
	z.avail_in = (uInt)n;
	z.next_out = q->zout;
	z.avail_out = (uInt)q->cs;
	ret = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if ((ret != Z_STREAM_END && ret != Z_BUF_ERROR) || z.avail_out) {
		qcow2_warn(q,
			   "%s: compressed cluster at %#" PRIx64
			   " does not inflate to %" PRIu64 " bytes",
			   q->name, m->host, q->cs);
		return -EIO;
	}
	q->zkey = m->e;
	return 0;
#else
	(void)m;
	qcow2_warn(q,
		   "%s: compressed clusters need zlib, which this lkvm "
		   "was built without",
		   q->name);
	return -ENOTSUP;
#endif
}

/* The cluster's own data (not the backing file's) for a NORMAL or
 * COMPRESSED mapping, or zeroes. */
static int read_mapped(struct qcow2_img *q, const struct qcow2_map *m,
		       uint8_t *buf, uint64_t in, uint64_t len)
{
	int ret;

	switch (m->kind) {
	case QCOW2_NORMAL:
		return qcow2_pread(q->fd, buf, len, m->host + in);
	case QCOW2_COMPRESSED:
		ret = inflate_cluster(q, m);
		if (!ret)
			memcpy(buf, q->zout + in, len);
		return ret;
	default:
		memset(buf, 0, len);
		return 0;
	}
}

static int read_piece(struct qcow2_img *q, uint8_t *buf, uint64_t off,
		      uint64_t len)
{
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	uint32_t l2i;
	int ret = lookup(q, off, false, &slot, &l2i, &m);

	if (ret)
		return ret;
	if (m.kind == QCOW2_UNALLOC && q->backing)
		return qcow2_img_read(q->backing, buf, off, len);
	return read_mapped(q, &m, buf, off & (q->cs - 1), len);
}

int qcow2_img_read(struct qcow2_img *q, uint8_t *buf, uint64_t off,
		   uint64_t len)
{
	uint64_t n;
	int ret;

	if (off >= q->size) {
		memset(buf, 0, len);
		return 0;
	}
	if (len > q->size - off) {
		memset(buf + (q->size - off), 0, len - (q->size - off));
		len = q->size - off;
	}
	if (!q->qcow2)
		return qcow2_pread(q->fd, buf, len, off);
	while (len) {
		n = min64(len, q->cs - (off & (q->cs - 1)));
		ret = read_piece(q, buf, off, n);
		if (ret)
			return ret;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* What the cluster at guest offset cl holds now, into q->cbuf. */
static int cow_source(struct qcow2_img *q, const struct qcow2_map *m,
		      uint64_t cl)
{
	if (m->kind == QCOW2_UNALLOC && q->backing)
		return qcow2_img_read(q->backing, q->cbuf, cl, q->cs);
	return read_mapped(q, m, q->cbuf, 0, q->cs);
}

/* The references the old mapping held, dropped after write-back. */
static int release_old(struct qcow2_img *q, const struct qcow2_map *m)
{
	if (m->kind == QCOW2_COMPRESSED)
		return pfree_add(q, m->host, m->clen);
	if ((m->kind == QCOW2_ZERO || m->kind == QCOW2_NORMAL) && m->host)
		return pfree_add(q, m->host, q->cs);
	return 0;
}

static void set_entry(struct qcow2_l2slot *s, uint32_t l2i, uint64_t e)
{
	qcow2_put_be64(&s->tbl[l2i], e);
	s->dirty = true;
}

int qcow2_write_piece(struct qcow2_img *q, const uint8_t *buf, uint64_t off,
		      uint64_t len)
{
	uint64_t in = off & (q->cs - 1), cl = off - in, host;
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	const uint8_t *src = buf;
	uint32_t l2i;
	int ret = lookup(q, off, true, &slot, &l2i, &m);

	if (ret)
		return ret;
	if (m.kind == QCOW2_NORMAL) {
		if (is_meta(q, m.host >> q->cluster_bits)) {
			qcow2_warn(q,
				   "%s: data cluster %#" PRIx64
				   " overlaps metadata",
				   q->name, m.host);
			return -EIO;
		}
		q->need_sync = true;
		return qcow2_pwrite(q->fd, buf, len, m.host + in);
	}
	if (len < q->cs) {
		ret = cow_source(q, &m, cl);
		if (ret)
			return ret;
		memcpy(q->cbuf + in, buf, len);
		src = q->cbuf;
	}
	ret = alloc_cluster(q, &host);
	if (!ret) {
		q->need_sync = true;
		ret = qcow2_pwrite(q->fd, src, q->cs, host);
	}
	if (!ret)
		ret = release_old(q, &m);
	if (ret)
		return ret;
	set_entry(slot, l2i, host | QCOW2_OFLAG_COPIED);
	return 0;
}

/* --- runs: many clusters in one preadv or pwritev --- */

/* Bytes from off (at most len) of clusters that are unallocated here, in
 * the L2 table of slot (NULL: none, the whole span is). */
static uint64_t unalloc_run(struct qcow2_img *q, uint64_t off, uint64_t len,
			    const struct qcow2_l2slot *slot, uint32_t l2i)
{
	uint64_t span = q->cs << q->l2_bits, n;
	uint32_t per = 1u << q->l2_bits;
	struct qcow2_map m;

	if (!slot)
		return min64(len, span - (off & (span - 1)));
	n = min64(len, q->cs - (off & (q->cs - 1)));
	while (n < len && ++l2i < per) {
		if (qcow2_classify(q, qcow2_be64(&slot->tbl[l2i]), &m) ||
		    m.kind != QCOW2_UNALLOC)
			break;
		n += min64(len - n, q->cs);
	}
	return n;
}

/* The bytes from in of cluster l2i of slot (NORMAL, at m->host) and of
 * the clusters after it in the table at contiguous host offsets, at most
 * len; m is left as it was (the first cluster's). */
static uint64_t normal_run(struct qcow2_img *q, struct qcow2_l2slot *slot,
			   uint32_t l2i, const struct qcow2_map *m, uint64_t in,
			   uint64_t len)
{
	uint32_t per = 1u << q->l2_bits;
	uint64_t want = m->host, n = min64(len, q->cs - in);
	struct qcow2_map next;

	while (n < len && ++l2i < per) {
		if (qcow2_classify(q, qcow2_be64(&slot->tbl[l2i]), &next) ||
		    next.kind != QCOW2_NORMAL || next.host != want + q->cs)
			break;
		want = next.host;
		n += min64(len - n, q->cs);
	}
	return n;
}

int qcow2_read_run(struct qcow2_img *q, uint64_t off, uint64_t len, int *fd,
		   uint64_t *host, uint64_t *n)
{
	uint64_t in = off & (q->cs - 1);
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	uint32_t l2i;
	int ret;

	*n = 0;
	ret = lookup(q, off, false, &slot, &l2i, &m);
	if (ret)
		return ret;
	if ((!slot || m.kind == QCOW2_UNALLOC) && q->backing &&
	    off < q->backing->size) {
		/* the backing file's: a raw one's at off, a qcow2's runs */
		uint64_t u = min64(unalloc_run(q, off, len, slot, l2i),
				   q->backing->size - off);

		if (q->backing->qcow2)
			return qcow2_read_run(q->backing, off, u, fd, host, n);
		*fd = q->backing->fd;
		*host = off;
		*n = u;
		return 0;
	}
	if (!slot || m.kind != QCOW2_NORMAL)
		return 0;
	*fd = q->fd;
	*n = normal_run(q, slot, l2i, &m, in, len);
	*host = m.host + in;
	return 0;
}

int qcow2_cached_read_run(struct qcow2_img *q, uint64_t off, uint64_t len,
			  uint64_t *host, uint64_t *n)
{
	uint32_t l1i = (uint32_t)(off >> (q->cluster_bits + q->l2_bits));
	uint32_t per = 1u << q->l2_bits, l2i;
	uint64_t in = off & (q->cs - 1);
	struct qcow2_l2slot *slot;
	struct qcow2_map m;

	*n = 0;
	if (l1i >= q->l1_size || q->l1_slot[l1i] < 0)
		return 0;
	slot = &q->l2c[q->l1_slot[l1i]];
	l2i = (uint32_t)(off >> q->cluster_bits) & (per - 1);
	if (qcow2_classify(q, qcow2_be64(&slot->tbl[l2i]), &m) ||
	    m.kind != QCOW2_NORMAL)
		return 0;
	*n = normal_run(q, slot, l2i, &m, in, len);
	*host = m.host + in;
	return 0;
}

int qcow2_write_run(struct qcow2_img *q, uint64_t off, uint64_t len,
		    uint64_t *host, uint64_t *n, bool *fresh)
{
	uint64_t in = off & (q->cs - 1), k, want, c0;
	uint32_t per = 1u << q->l2_bits, l2i, i;
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	bool got = true;
	int ret;

	*n = 0;
	*fresh = false;
	ret = lookup(q, off, true, &slot, &l2i, &m);
	if (ret)
		return ret;
	if (m.kind == QCOW2_NORMAL) {
		c0 = m.host;
		want = m.host;
		*n = min64(len, q->cs - in);
		for (i = l2i + 1; *n < len && i < per; i++) {
			if (qcow2_classify(q, qcow2_be64(&slot->tbl[i]), &m) ||
			    m.kind != QCOW2_NORMAL || m.host != want + q->cs)
				break;
			want = m.host;
			*n += min64(len - *n, q->cs);
		}
		/* never data over a table, whatever the L2 entries say:
		 * qcow2_write_piece() refuses such a cluster */
		for (k = c0; k <= want; k += q->cs)
			if (is_meta(q, k >> q->cluster_bits)) {
				*n = 0;
				return 0;
			}
		*host = c0 + in;
		q->need_sync = true;
		return 0;
	}
	if (in || len < q->cs)
		return 0;
	/* whole clusters that need new ones */
	for (k = 1, i = l2i + 1; (k + 1) * q->cs <= len && i < per; k++, i++)
		if (qcow2_classify(q, qcow2_be64(&slot->tbl[i]), &m) ||
		    m.kind == QCOW2_NORMAL)
			break;
	ret = alloc_cluster(q, host);
	c0 = *host >> q->cluster_bits;
	for (i = 1; !ret && got && i < k; i++) {
		ret = alloc_next(q, c0 + i, &got);
		if (!ret && got)
			*n += q->cs;
	}
	if (ret)
		return ret;
	*n += q->cs;
	*fresh = true;
	q->need_sync = true;
	return 0;
}

int qcow2_write_run_done(struct qcow2_img *q, uint64_t off, uint64_t n,
			 uint64_t host)
{
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	uint32_t l2i;
	uint64_t k;
	int ret = 0;

	for (k = 0; k < n && !ret; k += q->cs) {
		ret = lookup(q, off + k, true, &slot, &l2i, &m);
		if (!ret)
			ret = release_old(q, &m);
		if (!ret)
			set_entry(slot, l2i, (host + k) | QCOW2_OFLAG_COPIED);
	}
	return ret;
}

/* A whole cluster reads as zeroes (or, for a DISCARD, may). */
static int zero_cluster(struct qcow2_img *q, uint64_t cl, bool discard)
{
	struct qcow2_l2slot *slot;
	struct qcow2_map m;
	uint64_t want = 0;
	uint32_t l2i;
	int ret;

	if (q->backing && q->version < 3)
		/* no zero flag: the backing file would show through */
		return discard ? 0 : qcow2_write_piece(q, q->zeroes, cl, q->cs);
	if (q->backing)
		want = QCOW2_OFLAG_ZERO;
	ret = lookup(q, cl, want != 0, &slot, &l2i, &m);
	if (ret || !slot || m.e == want)
		return ret;
	ret = release_old(q, &m);
	if (!ret)
		set_entry(slot, l2i, want);
	return ret;
}

int qcow2_zero_range(struct qcow2_img *q, uint64_t off, uint64_t len,
		     bool discard)
{
	uint64_t n;
	int ret = 0;

	while (len && !ret) {
		n = min64(len, q->cs - (off & (q->cs - 1)));
		if (n == q->cs)
			ret = zero_cluster(q, off, discard);
		else if (!discard)
			ret = qcow2_write_piece(q, q->zeroes, off, n);
		off += n;
		len -= n;
	}
	return ret;
}

/* --- open --- */

static int load_l1(struct qcow2_img *q, char *err, size_t errlen)
{
	uint8_t *raw = malloc((size_t)q->l1_size * 8 + 1);
	uint32_t i;
	int ret;

	q->l1 = calloc((size_t)q->l1_size + 1, sizeof(*q->l1));
	if (!raw || !q->l1) {
		free(raw);
		return err_line(err, errlen, -ENOMEM, "%s: out of memory",
				q->name);
	}
	ret = qcow2_pread(q->fd, raw, (size_t)q->l1_size * 8, q->l1_off);
	for (i = 0; i < q->l1_size && !ret; i++) {
		uint64_t e = qcow2_be64(raw + (size_t)i * 8);
		uint64_t off = e & QCOW2_OFFSET_MASK;

		q->l1[i] = e;
		if (e & QCOW2_L1_RESERVED || (off && !host_ok(q, off)))
			ret = err_line(err, errlen, -EINVAL,
				       "%s: L1 entry %u (%#" PRIx64
				       ") is not a cluster inside the file",
				       q->name, i, e);
		else if (off && qcow2_meta_add(q, off >> q->cluster_bits))
			ret = err_line(err, errlen, -ENOMEM,
				       "%s: out of memory", q->name);
		else if (!off && e)
			ret = err_line(err, errlen, -EINVAL,
				       "%s: L1 entry %u has flags but no table",
				       q->name, i);
	}
	free(raw);
	if (ret == -EIO)
		ret = err_line(err, errlen, ret, "%s: cannot read the L1 table",
			       q->name);
	return ret;
}

static int load_rt(struct qcow2_img *q, char *err, size_t errlen)
{
	size_t bytes = (size_t)q->rt_clusters << q->cluster_bits;
	uint8_t *raw = malloc(bytes);
	uint64_t i;
	int ret;

	q->rt_entries = bytes / 8;
	q->rt = calloc(q->rt_entries, sizeof(*q->rt));
	if (!raw || !q->rt) {
		free(raw);
		return err_line(err, errlen, -ENOMEM, "%s: out of memory",
				q->name);
	}
	ret = qcow2_pread(q->fd, raw, bytes, q->rt_off);
	if (ret)
		ret = err_line(err, errlen, ret,
			       "%s: cannot read the refcount table", q->name);
	for (i = 0; i < q->rt_entries && !ret; i++) {
		uint64_t e = qcow2_be64(raw + i * 8);
		size_t before = q->nr_meta;

		q->rt[i] = e;
		if (!e)
			continue;
		if (e & QCOW2_RT_RESERVED || !host_ok(q, e))
			ret = err_line(err, errlen, -EINVAL,
				       "%s: refcount table entry %" PRIu64
				       " (%#" PRIx64
				       ") is not a cluster inside the file",
				       q->name, i, e);
		else if (qcow2_meta_add(q, e >> q->cluster_bits))
			ret = err_line(err, errlen, -ENOMEM,
				       "%s: out of memory", q->name);
		else if (q->nr_meta == before)
			ret = err_line(err, errlen, -EINVAL,
				       "%s: overlapping metadata: refcount "
				       "block %#" PRIx64
				       " is also another table",
				       q->name, e);
	}
	free(raw);
	return ret;
}

/* L2 tables shared by two L1 entries, or tables over the header, the L1
 * or the refcount table. */
static int check_overlaps(struct qcow2_img *q, char *err, size_t errlen)
{
	uint64_t l1_end = q->l1_off + (uint64_t)q->l1_size * 8;
	uint64_t rt_end =
		q->rt_off + ((uint64_t)q->rt_clusters << q->cluster_bits);
	size_t i;

	if ((q->l1_size && q->l1_off < q->cs) || q->rt_off < q->cs ||
	    (q->l1_size && q->l1_off < rt_end && q->rt_off < l1_end))
		return err_line(err, errlen, -EINVAL,
				"%s: overlapping metadata: the header, the L1 "
				"table and the refcount table share clusters",
				q->name);
	for (i = 0; i < q->nr_meta; i++)
		if (fixed_meta(q, q->meta[i]))
			return err_line(err, errlen, -EINVAL,
					"%s: overlapping metadata: a table at "
					"cluster %" PRIu64
					" covers the header, the L1 or the "
					"refcount table",
					q->name, q->meta[i]);
	return 0;
}

static int check_l1_unique(struct qcow2_img *q, char *err, size_t errlen)
{
	uint32_t i, n = 0;

	for (i = 0; i < q->l1_size; i++)
		n += (q->l1[i] & QCOW2_OFFSET_MASK) != 0;
	/* meta holds each L2 table once: fewer means a table is shared */
	if (n != q->nr_meta)
		return err_line(err, errlen, -EINVAL,
				"%s: overlapping metadata: two L1 entries "
				"share an L2 table",
				q->name);
	return 0;
}

int qcow2_map_init(struct qcow2_img *q, uint64_t l2_cache_bytes, char *err,
		   size_t errlen)
{
	uint64_t n;
	uint32_t i;
	int ret;

	q->l2_bits = q->cluster_bits - 3;
	q->rb_entries = (q->cs * 8) >> q->refcount_order;
	q->rc_max = q->refcount_order == 6
			    ? UINT64_MAX
			    : (1ull << (1u << q->refcount_order)) - 1;
	ret = load_l1(q, err, errlen);
	if (!ret)
		ret = check_l1_unique(q, err, errlen);
	if (!ret)
		ret = load_rt(q, err, errlen);
	if (!ret)
		ret = check_overlaps(q, err, errlen);
	if (ret)
		return ret;
	n = l2_cache_bytes >> q->cluster_bits;
	if (n < 2)
		n = 2;
	if (n > q->l1_size)
		n = q->l1_size < 2 ? 2 : q->l1_size;
	q->nr_l2c = (uint32_t)n;
	q->l2c = calloc(n, sizeof(*q->l2c));
	q->l1_slot = malloc(((size_t)q->l1_size + 1) * sizeof(*q->l1_slot));
	q->rb = malloc(q->cs);
	q->cbuf = malloc(q->cs);
	q->zin = malloc(2 * q->cs);
	q->zout = malloc(q->cs);
	q->zeroes = calloc(1, q->cs);
	if (!q->l2c || !q->l1_slot || !q->rb || !q->cbuf || !q->zin ||
	    !q->zout || !q->zeroes)
		return err_line(err, errlen, -ENOMEM, "%s: out of memory",
				q->name);
	for (i = 0; i < q->l1_size; i++)
		q->l1_slot[i] = -1;
	return 0;
}

void qcow2_map_free(struct qcow2_img *q)
{
	uint32_t i;

	for (i = 0; q->l2c && i < q->nr_l2c; i++)
		free(q->l2c[i].tbl);
	free(q->l2c);
	free(q->l1_slot);
	free(q->l1);
	free(q->rt);
	free(q->meta);
	free(q->pfree);
	free(q->rb);
	free(q->cbuf);
	free(q->zin);
	free(q->zout);
	free(q->zeroes);
}
