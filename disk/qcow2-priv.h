/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The qcow2 backend's insides, shared by disk/qcow2.c (open, header,
 * backing chain, the disk ops) and disk/qcow2-map.c (L1/L2 lookup, the L2
 * cache, refcounts, allocation, reads and writes). Format facts from QEMU's
 * docs/interop/qcow2.txt. One thread at a time touches a chain.
 */
#ifndef LKVM_DISK_QCOW2_PRIV_H
#define LKVM_DISK_QCOW2_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/log.h"

#define QCOW2_MAGIC 0x514649fbu /* "QFI\xfb" */
#define QCOW2_V2_HDR 72u
#define QCOW2_V3_HDR 104u
#define QCOW2_MIN_CLUSTER_BITS 9u
#define QCOW2_MAX_CLUSTER_BITS 21u
#define QCOW2_MAX_L1_BYTES (32u << 20) /* QEMU's limit too */
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023u
#define QCOW2_MAX_CHAIN 16u /* images in a chain, the top included */

/* incompatible_features */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

/* header extensions */
#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_DATA_FILE 0x44415441u

/* table entries */
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55 */
#define QCOW2_L1_RESERVED 0x7f000000000001ffull /* bits 0-8, 56-62 */
#define QCOW2_L2_RESERVED 0x3f000000000001feull /* bits 1-8, 56-61 */
#define QCOW2_RT_RESERVED 0x1ffull

/* What a guest cluster maps to. */
enum qcow2_kind {
	QCOW2_UNALLOC, /* the backing file's, or zeroes */
	QCOW2_ZERO, /* zeroes (v3 zero flag) */
	QCOW2_NORMAL, /* host cluster at host */
	QCOW2_COMPRESSED, /* deflate stream at host, clen bytes */
};

/* A guest cluster's mapping, from its L2 entry e. */
struct qcow2_map {
	enum qcow2_kind kind;
	uint64_t e; /* the L2 entry */
	uint64_t host, clen; /* NORMAL: cluster; COMPRESSED: stream */
};

struct qcow2_l2slot {
	uint64_t off; /* host offset of the table; 0: empty */
	uint32_t l1_idx;
	bool dirty;
	uint64_t stamp; /* LRU */
	uint64_t *tbl; /* big-endian, as on disk */
};

/* One image of a chain: a qcow2 file or a raw backing file. */
struct qcow2_img {
	int fd;
	bool qcow2; /* false: a raw backing file */
	bool ro;
	char *name; /* for messages */
	uint64_t size; /* virtual size; raw: the file size */
	struct qcow2_img *backing;

	uint32_t version, cluster_bits;
	uint64_t cs; /* cluster size */
	uint32_t l2_bits; /* log2 of L2 entries per table */
	uint64_t file_end; /* bytes the image may address (file size, grown) */
	uint32_t refcount_order;
	uint64_t rb_entries, rc_max;

	uint64_t l1_off;
	uint32_t l1_size;
	uint64_t *l1; /* host-endian */
	uint32_t l1_dirty_lo, l1_dirty_hi; /* [lo, hi) to write back */

	uint64_t rt_off;
	uint64_t rt_entries;
	uint32_t rt_clusters;
	uint64_t *rt; /* host-endian */

	/* sorted host cluster indexes of L2 tables and refcount blocks */
	uint64_t *meta;
	size_t nr_meta, meta_cap;

	struct qcow2_l2slot *l2c;
	uint32_t nr_l2c;
	int32_t *l1_slot; /* l1 index -> l2c slot, or -1 */
	uint64_t l2c_clock;

	uint8_t *rb; /* one refcount block, written back */
	uint64_t rb_off; /* 0: nothing cached */
	size_t rb_dlo, rb_dhi; /* bytes of it to write back: [lo, hi) */

	uint64_t free_hint; /* cluster index to start the free search at */
	uint64_t *pfree; /* host clusters to unreference after writeback */
	size_t nr_pfree, pfree_cap;
	bool need_sync; /* data or refcounts written since the last sync */

	uint8_t *cbuf; /* a cluster: copy-on-write, partial reads */
	uint8_t *zin; /* compressed input: 2 clusters */
	uint8_t *zout; /* the last inflated cluster... */
	uint64_t zkey; /* ...whose L2 entry this was; 0: none */
	uint8_t *zeroes; /* a cluster of them */

	bool dirty; /* the header's dirty bit (lazy refcounts) is set */
	uint32_t nb_snap; /* internal snapshots */

	struct ratelimit rl;
};

/* Messages about an image's contents found at run time. */
#define qcow2_warn(q, ...) pr_warn_ratelimited(&(q)->rl, __VA_ARGS__)

static inline uint64_t qcow2_be64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 |
	       (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
	       (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 |
	       (uint64_t)b[6] << 8 | b[7];
}

static inline uint32_t qcow2_be32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static inline void qcow2_put_be64(void *p, uint64_t v)
{
	uint8_t *b = p;
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

/* pread/pwrite of exactly len bytes: 0, -errno, or -EIO when short. */
int qcow2_pread(int fd, void *buf, size_t len, uint64_t off);
int qcow2_pwrite(int fd, const void *buf, size_t len, uint64_t off);
/* fdatasync, clearing need_sync. */
int qcow2_sync(struct qcow2_img *q);

/* After the header is parsed: tables loaded and checked (qcow2-map.c). */
int qcow2_map_init(struct qcow2_img *q, uint64_t l2_cache_bytes, char *err,
		   size_t errlen);
void qcow2_map_free(struct qcow2_img *q);

/* The mapping an L2 entry gives; -EIO (and a warning) when it is bad. */
int qcow2_classify(struct qcow2_img *q, uint64_t e, struct qcow2_map *m);
/* Host cluster c holds a table: never data, never handed out. */
int qcow2_meta_add(struct qcow2_img *q, uint64_t c);
/* Entry i of the refcount block in q->rb (the caller owns q->rb then and
 * has set q->rb_off to 0) becomes v (<= rc_max). */
void qcow2_rb_set(struct qcow2_img *q, uint64_t i, uint64_t v);

/* Write the cached refcount block's changes to the file (no sync). */
int qcow2_rb_flush(struct qcow2_img *q);

/* A dirty image (refcounts not written back by a lazy-refcounts writer)
 * opened read-write: rebuild every refcount from the header, the tables
 * and the L2 entries, write them, then clear the dirty bit. Images whose
 * clusters are referenced more than once, or that need more refcount
 * table than they have, are refused: one line in err. */
int qcow2_repair(struct qcow2_img *q, char *err, size_t errlen);

/* Read len bytes at guest offset off of any image of a chain into buf;
 * bytes past the image's size read as zeroes. */
int qcow2_img_read(struct qcow2_img *q, uint8_t *buf, uint64_t off,
		   uint64_t len);
/* Write inside one guest cluster of the top image. */
int qcow2_write_piece(struct qcow2_img *q, const uint8_t *buf, uint64_t off,
		      uint64_t len);
/*
 * Runs of clusters one preadv or pwritev can serve, found from guest
 * offset off of the top image (at most len bytes, one L2 table's span).
 * Reads: NORMAL clusters at contiguous host offsets (this image's fd), or
 * unallocated ones over a raw backing file (its fd, at off) or over a
 * qcow2 one (that image's runs, recursively): *fd, *host, *n. Writes: NORMAL clusters at contiguous host offsets, written in
 * place; or, from a cluster boundary, whole clusters that need new ones,
 * allocated here contiguously (*fresh): the caller writes the data, then
 * qcow2_write_run_done() maps them. *n == 0: nothing to batch, use
 * qcow2_img_read() or qcow2_write_piece() for the first cluster's piece.
 */
int qcow2_read_run(struct qcow2_img *q, uint64_t off, uint64_t len, int *fd,
		   uint64_t *host, uint64_t *n);
/* The same for a read of q alone, from the L2 tables in the cache only
 * (nothing is read from the file): NORMAL clusters at contiguous host
 * offsets in q's fd, *n == 0 when the first cluster is not one. */
int qcow2_cached_read_run(struct qcow2_img *q, uint64_t off, uint64_t len,
			  uint64_t *host, uint64_t *n);
int qcow2_write_run(struct qcow2_img *q, uint64_t off, uint64_t len,
		    uint64_t *host, uint64_t *n, bool *fresh);
int qcow2_write_run_done(struct qcow2_img *q, uint64_t off, uint64_t n,
			 uint64_t host);
/* DISCARD or WRITE_ZEROES of [off, off + len) of the top image. */
int qcow2_zero_range(struct qcow2_img *q, uint64_t off, uint64_t len,
		     bool discard);
/* Write back the L2 tables and the L1 in crash-safe order, then free what
 * waited for that; then make everything durable. */
int qcow2_flush_img(struct qcow2_img *q);

#endif
