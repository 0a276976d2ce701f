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
 * The logical block size: BLKSSZGET for a block device, 512 for a file.
 * With O_DIRECT, buffers, offsets and lengths must be multiples of it.
 */
uint32_t disk_block_size(const struct disk *d);
/* The serial reported by GET_ID: the file's basename cut to 20 bytes,
 * NUL-terminated. */
const char *disk_serial(const struct disk *d);

#endif
