/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The raw disk backend: a regular file or a host block device behind the
 * disk interface (lkvm/disk.h), its requests run by a blkio engine
 * (lkvm/blkio.h).
 */
#ifndef LKVM_DISK_RAW_H
#define LKVM_DISK_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lkvm/blkio.h"
#include "lkvm/disk.h"

/* The largest block size disk_raw_open() accepts with direct: lkvm's
 * bounce buffers are aligned to it. */
#define DISK_MAX_BLOCK_SIZE 4096u
/* The direct-I/O alignment assumed when the host says nothing: no common
 * device has a larger logical block. */
#define DISK_DIO_FALLBACK 4096u
/* An unaligned request with direct is bounced up to this many bytes... */
#define DISK_RAW_BOUNCE_MAX (4u << 20)
/* ...and with at most this many bytes of bounce buffers in flight per disk
 * (a full virtio-blk queue of the largest would be 1 GiB). */
#define DISK_RAW_BOUNCE_TOTAL (32u << 20)

struct disk_raw_opts {
	bool ro; /* O_RDONLY, else O_RDWR */
	bool direct; /* O_DIRECT */
	/* BLKIO_ENGINE_AIO falls back to the threads when this build or the
	 * host lacks it */
	enum blkio_engine engine;
};

/*
 * Open the raw image at path and start its engine (AIO: depth 128;
 * threads: 4). The size is st_size for a regular file and BLKGETSIZE64
 * for a block device and must be a non-zero multiple of 512. The image is
 * locked with flock(): shared for ro, exclusive otherwise, so that a
 * second writer (or a writer next to readers) is refused; the error then
 * says "PATH is in use" and, when /proc/locks names the holder, "by COMM
 * (pid N)". The disk offers DISCARD and WRITE_ZEROES unless ro; its serial
 * is the file's basename cut to 20 bytes.
 *
 * The block size is a power of two from 512 to DISK_MAX_BLOCK_SIZE. A
 * block device: its logical block size (BLKSSZGET). A regular file opened
 * with direct: disk_dio_align() of what the host says (statx
 * STATX_DIOALIGN, else the logical block size of the device under the
 * file system, else 4096). A regular file without direct: 512. With
 * direct, a READ or WRITE whose offset or length is not a multiple of the
 * block size is refused (-EINVAL); unaligned buffers are bounced through
 * an aligned copy (-EINVAL above DISK_RAW_BOUNCE_MAX bytes, -ENOMEM past
 * DISK_RAW_BOUNCE_TOTAL).
 *
 * On success stores the disk in *out and returns 0. On failure returns
 * -errno with a one-line message naming path in err (errlen bytes,
 * NUL-terminated) and *out untouched.
 */
int disk_raw_open(struct disk **out, const char *path,
		  const struct disk_raw_opts *o, char *err, size_t errlen);

/* True when d is a raw disk opened with direct (tests, diagnostics). */
bool disk_raw_direct(const struct disk *d);

/* What the host told about direct I/O on a regular file; 0: not known. */
struct disk_dio_probe {
	uint32_t mem_align, offset_align; /* statx stx_dio_*_align */
	uint32_t dev_block_size; /* logical block size of the fs's device */
};

/*
 * The alignment disk_raw_open() uses for O_DIRECT on a regular file
 * (exposed so tests can check the rule without a 4K-native disk): the
 * larger of statx's offset and memory alignments when it reported a
 * power-of-two offset alignment, else dev_block_size when it is a power
 * of two, else DISK_DIO_FALLBACK; never below 512. Values above
 * DISK_MAX_BLOCK_SIZE are returned as they are (disk_raw_open() then
 * refuses the image).
 */
uint32_t disk_dio_align(const struct disk_dio_probe *p);

#endif
