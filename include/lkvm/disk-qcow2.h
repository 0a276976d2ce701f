/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The qcow2 disk backend (lkvm/disk.h): QEMU's image format, versions 2
 * and 3, read-write, with compressed clusters (read) and backing files.
 */
#ifndef LKVM_DISK_QCOW2_H
#define LKVM_DISK_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/blkio.h"
#include "lkvm/disk.h"

/* The default L2 cache per image: enough to map the whole disk, at most
 * this many bytes (32 MiB maps 256 GiB with 64 KiB clusters). */
#define DISK_QCOW2_L2_CACHE_MAX (32u << 20)

struct disk_qcow2_opts {
	bool ro;
	/* bytes of L2 tables cached per image of the chain (at least two
	 * tables); 0: DISK_QCOW2_L2_CACHE_MAX or the whole L1, if smaller */
	uint64_t l2_cache_bytes;
	/* serve each request inside disk_submit() instead of on the
	 * backend's thread (tests, fuzzing) */
	bool inline_io;
	/* refuse an image that names a backing file (fuzzing) */
	bool no_backing;
	/* the engine of the fast path: reads of clusters the cached L2
	 * tables map go to it directly, not through the backend's thread
	 * (AIO falls back to threads in a build without libaio) */
	enum blkio_engine engine;
	/* tests: called on the fast path between mapping a read and handing
	 * it to the engine (the window a freed cluster must not fall in) */
	void (*fast_mapped)(void *arg);
	void *fast_mapped_arg;
};

/* True when the first len bytes of a file start with the qcow2 magic. */
bool disk_qcow2_probe(const void *head, size_t len);

/*
 * Open the qcow2 image at path: O_RDWR with an exclusive flock(), or with
 * o->ro O_RDONLY and a shared one. Every header field and table entry is
 * checked against the file and the format before use; the file is not
 * written when the open fails. Refused, with one line naming the problem:
 * encryption, external data files, extended L2 entries, zstd, unknown
 * incompatible features; read-write also for a corrupt or dirty image and
 * for one with internal snapshots. A backing file (raw or qcow2, a relative
 * name resolved against path's directory, the format from the image's
 * header extension or else its magic) is opened read-only with a shared
 * lock, to a depth of 16 images, a loop refused.
 *
 * The disk's size is the virtual size (a non-zero multiple of 512), its
 * block size 512; it offers DISCARD and WRITE_ZEROES unless ro (a whole
 * cluster becomes unallocated, or a v3 zero cluster over a backing file;
 * DISCARD of a partial cluster, or on a v2 image with a backing file, is
 * ignored; WRITE_ZEROES then writes zeroes). Requests run one at a time on
 * the backend's thread, but for reads of clusters of the top image that
 * the cached tables map, which go to a block I/O engine (lkvm/blkio.h)
 * straight from disk_submit(); a DISCARD or WRITE_ZEROES waits until no
 * such read is in flight, so no cluster is freed under one. FLUSH (and DISK_REQ_DSYNC) writes the cached
 * tables back in crash-safe order and fdatasync()s. Read-write open clears
 * the autoclear feature bits, as the format asks of a writer that does not
 * know them.
 *
 * 0 with the disk in *out, or -errno with a line in err (errlen bytes).
 */
int disk_qcow2_open(struct disk **out, const char *path,
		    const struct disk_qcow2_opts *o, char *err, size_t errlen);

/* The same over an open file: fd becomes the disk's (closed on failure
 * too), name is for messages and the serial; backing files are resolved
 * against name's directory. No lock is taken. */
int disk_qcow2_open_fd(struct disk **out, int fd, const char *name,
		       const struct disk_qcow2_opts *o, char *err,
		       size_t errlen);

#endif
