// SPDX-License-Identifier: GPL-2.0-only
/* virtio-blk: a disk (lkvm/disk.h) served to the guest. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "lkvm/compiler.h"
#include "lkvm/disk.h"
#include "lkvm/iov.h"
#include "lkvm/virtio-devs.h"

#define BLK_QUEUE_SIZE 256
/* iovecs per chain: a chain holds at most queue-size buffers, so virtq_pop
 * never returns -E2BIG with this many */
#define BLK_MAX_IOV BLK_QUEUE_SIZE
#define BLK_SEG_MAX (BLK_MAX_IOV - 2) /* minus header and status */
#define BLK_SIZE_MAX (1u << 20) /* advertised largest segment */
#define BLK_MAX_DATA ((uint64_t)BLK_SEG_MAX * BLK_SIZE_MAX)
#define BLK_DWZ_MAX_SEG 32
#define BLK_DWZ_MAX_SECTORS (1u << 21) /* 1 GiB, below INT32_MAX bytes */
#define BLK_HDR_SIZE sizeof(struct virtio_blk_outhdr)
#define BLK_SEG_SIZE sizeof(struct virtio_blk_discard_write_zeroes)

_Static_assert(sizeof(struct virtio_blk_outhdr) == 16, "outhdr layout");
_Static_assert(sizeof(struct virtio_blk_discard_write_zeroes) == 16,
	       "discard segment layout");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20,
	       "config layout");
_Static_assert(offsetof(struct virtio_blk_config, max_discard_sectors) == 36,
	       "config layout");
_Static_assert(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) == 56,
	       "config layout");

/* blk_prepare() results besides the VIRTIO_BLK_S_* status values */
#define BLK_ASYNC 0x100 /* sub-requests set up: submit them */
#define BLK_MALFORMED 0x101 /* no room for header or status: reset */

/*
 * The chains in flight and their bound (the queue size) are virtio/core.c's;
 * a reset waits there for every request below to complete. The device
 * counts them too (nreqs), so that destroying it waits for the disk's last
 * completion, which the machine's shutdown does not wait for.
 */
struct blk_dev {
	struct virtio_dev *vdev;
	struct disk *disk;
	struct virtio_blk_config cfg;
	uint64_t size; /* bytes */
	/* requests completed without error (atomic); syncs are the disk's */
	struct {
		uint64_t reads, writes, flushes;
	} stats;
	pthread_mutex_t lock; /* nreqs */
	pthread_cond_t idle; /* nreqs dropped to 0 */
	unsigned int nreqs; /* struct blk_req allocated */
	struct ratelimit rl;
};

struct blk_req {
	struct blk_dev *b;
	struct virtq_chain c;
	uint8_t *status;
	uint32_t written; /* bytes for the used ring when all went well */
	uint8_t result; /* VIRTIO_BLK_S_*, worst so far (atomic) */
	unsigned int nsub, pending; /* pending: atomic */
	struct iovec *data; /* the data buffers, ndata of them */
	unsigned int ndata;
	struct disk_req sub[BLK_DWZ_MAX_SEG];
	struct iovec iov[BLK_MAX_IOV];
	struct iovec data_iov[BLK_MAX_IOV];
};

/* sector and len (bytes) inside the disk: the byte offset in *off. */
static bool blk_range_ok(const struct blk_dev *b, uint64_t sector, uint64_t len,
			 uint64_t *off)
{
	if (sector > UINT64_MAX / DISK_SECTOR_SIZE)
		return false;
	*off = sector * DISK_SECTOR_SIZE;
	return len <= b->size && *off <= b->size - len;
}

static void blk_count(uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static void blk_free_req(struct blk_req *req)
{
	struct blk_dev *b = req->b;

	free(req);
	pthread_mutex_lock(&b->lock);
	if (!--b->nreqs)
		pthread_cond_broadcast(&b->idle);
	/* b may be freed once this unlocks */
	pthread_mutex_unlock(&b->lock);
}

/* Write the status byte and return the chain. */
static void blk_finish(struct blk_dev *b, struct blk_req *req)
{
	uint8_t result = __atomic_load_n(&req->result, __ATOMIC_ACQUIRE);

	*req->status = result;
	virtio_queue_push(b->vdev, 0, req->c.head,
			  result == VIRTIO_BLK_S_OK ? req->written : 1);
	blk_free_req(req);
}

static void blk_sub_done(struct disk_req *r, int status)
{
	struct blk_req *req = r->opaque;
	struct blk_dev *b = req->b;
	bool ok = !status;

	if (ok && r->op == DISK_OP_FLUSH)
		blk_count(&b->stats.flushes);
	else if (ok && r->op == DISK_OP_READ)
		blk_count(&b->stats.reads);
	else if (ok && r->op == DISK_OP_WRITE)
		blk_count(&b->stats.writes);
	if (!ok) {
		pr_warn_ratelimited(
			&b->rl,
			"virtio-blk: %s op %d at %llu (%llu bytes) failed: %s",
			disk_serial(b->disk), r->op,
			(unsigned long long)r->offset,
			(unsigned long long)r->len,
			strerror(status < 0 ? -status : EIO));
		__atomic_store_n(&req->result, VIRTIO_BLK_S_IOERR,
				 __ATOMIC_RELEASE);
	}
	/* acq_rel: the last one sees every other's result and data */
	if (!__atomic_sub_fetch(&req->pending, 1, __ATOMIC_ACQ_REL))
		blk_finish(b, req);
}

/*
 * Without VIRTIO_BLK_F_FLUSH negotiated the device must be write-through
 * (Virtio 1.2, 5.2.6.2): a write is reported done only once it is durable.
 */
static bool blk_write_through(const struct blk_dev *b)
{
	return !(virtio_dev_driver_features(b->vdev) &
		 1ULL << VIRTIO_BLK_F_FLUSH);
}

static void blk_sub(struct blk_req *req, int op, uint64_t off, uint64_t len)
{
	struct disk_req *r = &req->sub[req->nsub++];
	bool modifies = op == DISK_OP_WRITE || op == DISK_OP_WRITE_ZEROES ||
			op == DISK_OP_DISCARD;

	*r = (struct disk_req){
		.op = op,
		.flags = modifies && blk_write_through(req->b) ? DISK_REQ_DSYNC
							       : 0,
		.offset = off,
		.len = len,
		.done = blk_sub_done,
		.opaque = req,
	};
}

/* IN or OUT: the data is in req->data. */
static int blk_prepare_rw(struct blk_req *req, bool write, uint64_t sector,
			  uint64_t len)
{
	struct blk_dev *b = req->b;
	struct disk_req *r;
	uint64_t off;

	if (write && disk_ro(b->disk))
		return VIRTIO_BLK_S_IOERR;
	if (len % DISK_SECTOR_SIZE || len > BLK_MAX_DATA ||
	    !blk_range_ok(b, sector, len, &off))
		return VIRTIO_BLK_S_IOERR;
	if (!len)
		return VIRTIO_BLK_S_OK;
	blk_sub(req, write ? DISK_OP_WRITE : DISK_OP_READ, off, len);
	r = &req->sub[0];
	r->iov = req->data;
	r->iovcnt = (int)req->ndata;
	return BLK_ASYNC;
}

/* DISCARD or WRITE_ZEROES: the segments are in req->data. */
static int blk_prepare_dwz(struct blk_req *req, bool wz, uint64_t len)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint32_t bad_flags =
		wz ? ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : ~0u;
	uint64_t i, n = len / BLK_SEG_SIZE, off;

	if (!(disk_caps(req->b->disk) &
	      (wz ? DISK_CAP_WRITE_ZEROES : DISK_CAP_DISCARD)) ||
	    disk_ro(req->b->disk))
		return VIRTIO_BLK_S_UNSUPP; /* the feature is not offered */
	if (!n || len % BLK_SEG_SIZE || n > BLK_DWZ_MAX_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (i = 0; i < n; i++) {
		iov_to_buf(req->data, req->ndata, i * BLK_SEG_SIZE, &seg,
			   sizeof(seg));
		if (seg.flags & bad_flags)
			return VIRTIO_BLK_S_UNSUPP;
		if (seg.num_sectors > BLK_DWZ_MAX_SECTORS ||
		    !blk_range_ok(req->b, seg.sector,
				  (uint64_t)seg.num_sectors * DISK_SECTOR_SIZE,
				  &off))
			return VIRTIO_BLK_S_IOERR;
		if (seg.num_sectors)
			blk_sub(req,
				wz ? DISK_OP_WRITE_ZEROES : DISK_OP_DISCARD,
				off,
				(uint64_t)seg.num_sectors * DISK_SECTOR_SIZE);
	}
	return req->nsub ? BLK_ASYNC : VIRTIO_BLK_S_OK;
}

static int blk_get_id(struct blk_req *req, uint64_t len)
{
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	const char *serial = disk_serial(req->b->disk);

	memcpy(id, serial, strnlen(serial, sizeof(id)));
	if (len > sizeof(id))
		len = sizeof(id);
	iov_from_buf(req->data, req->ndata, 0, id, len);
	req->written = (uint32_t)len + 1;
	return VIRTIO_BLK_S_OK;
}

/*
 * Validate one chain and set up its sub-requests. Returns a VIRTIO_BLK_S_*
 * status to complete with now, BLK_ASYNC or BLK_MALFORMED.
 */
static int blk_prepare(struct blk_req *req)
{
	const struct virtq_chain *c = &req->c;
	const struct iovec *last = &req->iov[c->niov ? c->niov - 1 : 0];
	struct virtio_blk_outhdr hdr;
	uint64_t out_data, in_data;

	if (c->out_len < BLK_HDR_SIZE || !c->in_len)
		return BLK_MALFORMED;
	iov_to_buf(req->iov, c->nout, 0, &hdr, sizeof(hdr));
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->written = 1;
	out_data = c->out_len - BLK_HDR_SIZE;
	in_data = c->in_len - 1;
	if (out_data && in_data)
		return VIRTIO_BLK_S_IOERR;
	/* the data is on one side only: slice it out of that side */
	if (out_data)
		req->ndata = iov_slice(req->iov, c->nout, BLK_HDR_SIZE,
				       out_data, req->data_iov, BLK_MAX_IOV);
	else
		req->ndata = iov_slice(req->iov + c->nout, c->niov - c->nout, 0,
				       in_data, req->data_iov, BLK_MAX_IOV);
	req->data = req->data_iov;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		if (out_data)
			return VIRTIO_BLK_S_IOERR;
		req->written = (uint32_t)in_data + 1;
		return blk_prepare_rw(req, false, hdr.sector, in_data);
	case VIRTIO_BLK_T_OUT:
		if (in_data)
			return VIRTIO_BLK_S_IOERR;
		return blk_prepare_rw(req, true, hdr.sector, out_data);
	case VIRTIO_BLK_T_FLUSH:
		blk_sub(req, DISK_OP_FLUSH, 0, 0);
		return BLK_ASYNC;
	case VIRTIO_BLK_T_GET_ID:
		return blk_get_id(req, in_data);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (in_data)
			return VIRTIO_BLK_S_IOERR;
		return blk_prepare_dwz(
			req, hdr.type == VIRTIO_BLK_T_WRITE_ZEROES, out_data);
	}
	return VIRTIO_BLK_S_UNSUPP;
}

/* Run one popped chain. */
static void blk_handle(struct blk_dev *b, struct blk_req *req)
{
	int st = blk_prepare(req);
	unsigned int i, n;
	int ret;

	if (st == BLK_MALFORMED) {
		virtio_queue_push_broken(b->vdev, 0, req->c.head,
					 "request without header or status");
		blk_free_req(req);
		return;
	}
	if (st != BLK_ASYNC) {
		req->result = (uint8_t)st;
		blk_finish(b, req);
		return;
	}
	/* req may be freed by the last completion: use only locals after */
	n = req->nsub;
	__atomic_store_n(&req->pending, n, __ATOMIC_RELEASE);
	for (i = 0; i < n; i++) {
		ret = disk_submit(b->disk, &req->sub[i]);
		if (ret)
			blk_sub_done(&req->sub[i], ret);
	}
}

static bool blk_notify(struct virtio_dev *d, unsigned int q,
		       unsigned int budget)
{
	struct blk_dev *b = virtio_dev_priv(d);
	struct blk_req *req;

	while (budget--) {
		/* on ENOMEM the chains stay available: try again later */
		req = malloc(sizeof(*req));
		if (!req)
			return true;
		req->b = b;
		req->nsub = 0;
		req->result = VIRTIO_BLK_S_OK;
		pthread_mutex_lock(&b->lock);
		b->nreqs++;
		pthread_mutex_unlock(&b->lock);
		if (virtio_queue_pop(d, q, &req->c, req->iov, BLK_MAX_IOV) <=
		    0) {
			blk_free_req(req);
			return false;
		}
		blk_handle(b, req);
	}
	return virtio_queue_has_work(d, q);
}

static uint64_t blk_config_read(struct virtio_dev *d, uint32_t off,
				unsigned int size)
{
	struct blk_dev *b = virtio_dev_priv(d);
	uint64_t v = 0;

	if (size > sizeof(v) || off > sizeof(b->cfg) ||
	    size > sizeof(b->cfg) - off)
		return 0;
	memcpy(&v, (const uint8_t *)&b->cfg + off, size);
	return v;
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.notify = blk_notify,
};

static uint64_t blk_setup_config(struct blk_dev *b)
{
	struct virtio_blk_config *cfg = &b->cfg;
	uint64_t f = 1ULL << VIRTIO_BLK_F_SEG_MAX |
		     1ULL << VIRTIO_BLK_F_SIZE_MAX |
		     1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH;

	cfg->capacity = b->size / DISK_SECTOR_SIZE;
	cfg->size_max = BLK_SIZE_MAX;
	cfg->seg_max = BLK_SEG_MAX;
	cfg->blk_size = disk_block_size(b->disk);
	if (disk_ro(b->disk))
		return f | 1ULL << VIRTIO_BLK_F_RO;
	if (disk_caps(b->disk) & DISK_CAP_DISCARD) {
		cfg->max_discard_sectors = BLK_DWZ_MAX_SECTORS;
		cfg->max_discard_seg = BLK_DWZ_MAX_SEG;
		cfg->discard_sector_alignment =
			cfg->blk_size / DISK_SECTOR_SIZE;
		f |= 1ULL << VIRTIO_BLK_F_DISCARD;
	}
	if (disk_caps(b->disk) & DISK_CAP_WRITE_ZEROES) {
		cfg->max_write_zeroes_sectors = BLK_DWZ_MAX_SECTORS;
		cfg->max_write_zeroes_seg = BLK_DWZ_MAX_SEG;
		/* the unmap flag is accepted but ranges are zeroed, never
		 * unmapped */
		cfg->write_zeroes_may_unmap = 0;
		f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	}
	return f;
}

int virtio_blk_create(const struct gmem *mem, struct irq_line irq,
		      struct disk *disk, struct virtio_dev **out)
{
	struct blk_dev *b = calloc(1, sizeof(*b));
	uint64_t features;
	int ret;

	if (!b)
		return -ENOMEM;
	b->disk = disk;
	b->size = disk_size(disk);
	b->rl = (struct ratelimit){ .interval = 5, .burst = 5 };
	ret = -pthread_mutex_init(&b->lock, NULL);
	if (ret)
		goto out_free;
	ret = -pthread_cond_init(&b->idle, NULL);
	if (ret)
		goto out_mutex;
	features = blk_setup_config(b);
	ret = virtio_dev_new(&blk_ops, b, mem, features, irq, &b->vdev);
	if (ret)
		goto out_cond;
	*out = b->vdev;
	return 0;

out_cond:
	pthread_cond_destroy(&b->idle);
out_mutex:
	pthread_mutex_destroy(&b->lock);
out_free:
	free(b);
	return ret;
}

void virtio_blk_get_stats(struct virtio_dev *d, struct virtio_blk_stats *st)
{
	struct blk_dev *b = virtio_dev_priv(d);
	struct disk_stats ds;

	disk_get_stats(b->disk, &ds);
	st->reads = __atomic_load_n(&b->stats.reads, __ATOMIC_RELAXED);
	st->writes = __atomic_load_n(&b->stats.writes, __ATOMIC_RELAXED);
	st->flushes = __atomic_load_n(&b->stats.flushes, __ATOMIC_RELAXED);
	st->dsync_writes = ds.dsync_writes;
	st->syncs = ds.syncs;
}

void virtio_blk_destroy(struct virtio_dev *d)
{
	struct blk_dev *b;

	if (!d)
		return;
	b = virtio_dev_priv(d);
	/* every request the disk holds pushes its chain, then is freed */
	pthread_mutex_lock(&b->lock);
	while (b->nreqs)
		pthread_cond_wait(&b->idle, &b->lock);
	pthread_mutex_unlock(&b->lock);
	virtio_dev_free(d);
	pthread_cond_destroy(&b->idle);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
