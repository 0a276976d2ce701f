/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A raw disk image: a regular file or a host block device, opened and
 * locked once at start-up. The virtio-blk device reads its geometry here
 * and hands disk_fd() to the asynchronous I/O engine (lkvm/blkio.h).
 */
#ifndef LKVM_DISK_H
#define LKVM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR_SIZE 512
#define DISK_SERIAL_MAX 20 /* VIRTIO_BLK_ID_BYTES */

struct disk;

/*
 * Open the raw image at path: O_RDONLY when ro, O_RDWR otherwise, plus
 * O_DIRECT when direct. The size is st_size for a regular file and
 * BLKGETSIZE64 for a block device and must be a non-zero multiple of 512.
 * The image is locked with flock(): shared for ro, exclusive otherwise, so
 * that a second writer (or a writer next to readers) is refused; the error
 * then says "PATH is in use" and, when /proc/locks names the holder, "by
 * COMM (pid N)". On success stores the disk in *out and returns 0. On
 * failure returns -errno with a one-line message in err (errlen bytes,
 * NUL-terminated) and *out untouched.
 */
int disk_open(struct disk **out, const char *path, bool ro, bool direct,
	      char *err, size_t errlen);

/* Close the file (dropping the lock) and free d. NULL is ignored. */
void disk_close(struct disk *d);

/* Size in bytes, a multiple of 512. */
uint64_t disk_size(const struct disk *d);
bool disk_ro(const struct disk *d);
bool disk_direct(const struct disk *d);
int disk_fd(const struct disk *d);
/*
 * The block size, a power of two from 512 to DISK_MAX_BLOCK_SIZE; with
 * direct, buffer addresses, offsets and lengths must be multiples of it.
 * A block device: its logical block size (BLKSSZGET). A regular file
 * opened with direct: disk_dio_align() of what the host says (statx
 * STATX_DIOALIGN, else the logical block size of the device under the
 * file system, else 4096). A regular file without direct: 512.
 */
uint32_t disk_block_size(const struct disk *d);

/* The largest block size disk_open() accepts with direct: lkvm's bounce
 * buffers are aligned to it. */
#define DISK_MAX_BLOCK_SIZE 4096u
/* The direct-I/O alignment assumed when the host says nothing: no common
 * device has a larger logical block. */
#define DISK_DIO_FALLBACK 4096u

/* What the host told about direct I/O on a regular file; 0: not known. */
struct disk_dio_probe {
	uint32_t mem_align, offset_align; /* statx stx_dio_*_align */
	uint32_t dev_block_size; /* logical block size of the fs's device */
};

/*
 * The alignment disk_open() uses for O_DIRECT on a regular file (exposed
 * so tests can check the rule without a 4K-native disk): the larger of
 * statx's offset and memory alignments when it reported a power-of-two
 * offset alignment, else dev_block_size when it is a power of two, else
 * DISK_DIO_FALLBACK; never below 512. Values above DISK_MAX_BLOCK_SIZE
 * are returned as they are (disk_open() then refuses the image).
 */
uint32_t disk_dio_align(const struct disk_dio_probe *p);
/* The serial reported by GET_ID: the file's basename cut to 20 bytes,
 * NUL-terminated. */
const char *disk_serial(const struct disk *d);

#endif
