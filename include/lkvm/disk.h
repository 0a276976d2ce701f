/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A disk behind a small backend interface. Its user (virtio-blk, or an
 * image format layered on another disk) reads the geometry fixed at open
 * and submits asynchronous requests; a backend serves them: the raw file
 * or block device of lkvm/disk-raw.h, or a test's in-memory fake. The
 * machine builds the backend and hands the struct disk to the device.
 */
#ifndef LKVM_DISK_H
#define LKVM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SECTOR_SIZE 512
#define DISK_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */
/* The largest len of one request: the engines' transfers are ints. */
#define DISK_REQ_MAX_LEN 0x7fffffffu

enum disk_op {
	DISK_OP_READ,
	DISK_OP_WRITE,
	/* every write completed (done() called) before this FLUSH was
	 * submitted is durable when it completes; writes still in flight
	 * are not covered */
	DISK_OP_FLUSH,
	DISK_OP_DISCARD, /* a hint: the range may read back as before */
	DISK_OP_WRITE_ZEROES, /* the range reads back as zeroes */
};

/* What a disk does beyond READ, WRITE and FLUSH (disk_info.caps). */
#define DISK_CAP_DISCARD (1u << 0)
#define DISK_CAP_WRITE_ZEROES (1u << 1)

/*
 * Request flags. DISK_REQ_DSYNC: a WRITE, WRITE_ZEROES or DISCARD is
 * durable (as after a FLUSH) when done() is called, for a device that
 * must be write-through (a virtio-blk driver that did not negotiate
 * FLUSH). READ and FLUSH ignore it.
 */
#define DISK_REQ_DSYNC (1u << 0)

struct disk_req {
	int op; /* enum disk_op */
	unsigned int flags; /* DISK_REQ_*; other bits make it invalid */
	/* READ/WRITE: iovcnt (1..IOV_MAX) buffers totalling len bytes */
	const struct iovec *iov;
	int iovcnt;
	/* bytes, inside the disk, len <= DISK_REQ_MAX_LEN; unused for FLUSH */
	uint64_t offset, len;
	/*
	 * Called exactly once per accepted request with 0 or -errno (a short
	 * transfer is an error), on any thread, possibly before submit
	 * returns: the submitter must not hold a lock that done takes. The
	 * request and its buffers are the backend's until then.
	 */
	void (*done)(struct disk_req *r, int status);
	void *opaque; /* the submitter's */
	struct disk_req *link; /* the backend's while it holds r */
};

/* The geometry, fixed when the backend opens the disk. */
struct disk_info {
	uint64_t size; /* bytes, a non-zero multiple of DISK_SECTOR_SIZE */
	/* the block the guest should use: a power of two, 512 to 4096 */
	uint32_t block_size;
	bool ro; /* WRITE, DISCARD and WRITE_ZEROES are refused */
	unsigned int caps; /* DISK_CAP_* */
	char serial[DISK_SERIAL_MAX + 1]; /* NUL-terminated */
};

/* What a backend counts from its open; each counter only grows. */
struct disk_stats {
	uint64_t reads, writes, flushes; /* requests completed, by op */
	uint64_t dsync_writes; /* WRITEs completed that had DISK_REQ_DSYNC */
	/* host syncs (fdatasync): one per FLUSH or disk_flush(), and one per
	 * DISK_REQ_DSYNC request the write itself could not make durable */
	uint64_t syncs;
};

struct disk;

/*
 * A backend's operations. disk.c checks every request against the rules
 * above (op, flags, buffers, range, read-only, caps) before submit sees
 * it, so a backend only meets well-formed requests.
 */
struct disk_ops {
	const char *name; /* "raw", "fake" */
	/*
	 * Start r. 0: r->done will be called exactly once; -errno: refused
	 * (the backend's own limits, such as O_DIRECT alignment, or no
	 * memory) and r->done is never called. Thread-safe; may be called
	 * from a done callback.
	 */
	int (*submit)(struct disk *d, struct disk_req *r);
	/*
	 * Synchronously make every completed write durable, writing back
	 * first whatever the backend caches (an image format's metadata, in
	 * its own order). 0 or -errno. Not from a done callback.
	 */
	int (*flush)(struct disk *d);
	/* Optional: the backend's counters (zeroes when NULL). */
	void (*get_stats)(struct disk *d, struct disk_stats *st);
	/* Wait for every accepted request, then release and free d. */
	void (*close)(struct disk *d);
};

/* The handle every backend embeds and fills in before returning it. */
struct disk {
	const struct disk_ops *ops;
	struct disk_info info;
};

/*
 * Check r (see struct disk_req) and hand it to the backend. Returns 0,
 * after which r->done runs exactly once (perhaps already inside this
 * call), or -errno and r->done is never called: -EINVAL for a malformed
 * request or a range outside the disk, -EROFS for a change to a read-only
 * disk, -EOPNOTSUPP for DISCARD or WRITE_ZEROES the disk lacks, or the
 * backend's refusal.
 */
int disk_submit(struct disk *d, struct disk_req *r);

/* See disk_ops.flush. */
int disk_flush(struct disk *d);

/* The backend's counters; zeroes for a backend without them. */
void disk_get_stats(struct disk *d, struct disk_stats *st);

/* Wait for every accepted request to complete, then close the backend
 * and free d. NULL is ignored. Not from a done callback. */
void disk_close(struct disk *d);

static inline uint64_t disk_size(const struct disk *d)
{
	return d->info.size;
}

static inline uint32_t disk_block_size(const struct disk *d)
{
	return d->info.block_size;
}

static inline bool disk_ro(const struct disk *d)
{
	return d->info.ro;
}

static inline unsigned int disk_caps(const struct disk *d)
{
	return d->info.caps;
}

/* The serial reported by virtio-blk's GET_ID, at most 20 bytes. */
static inline const char *disk_serial(const struct disk *d)
{
	return d->info.serial;
}

#endif
