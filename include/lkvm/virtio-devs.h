/* SPDX-License-Identifier: GPL-2.0-only */
/* The virtio device models. Each returns a struct virtio_dev that a
 * transport serves. */
#ifndef LKVM_VIRTIO_DEVS_H
#define LKVM_VIRTIO_DEVS_H

#include <stdbool.h>

#include "lkvm/virtio.h"

struct disk;

/*
 * virtio-rng (device 4): one queue, filled from getrandom(). Returns NULL
 * on allocation failure.
 */
struct virtio_dev *virtio_rng_create(const struct gmem *mem,
				     struct irq_line irq);
void virtio_rng_destroy(struct virtio_dev *d);

/*
 * virtio-blk (device 2): one request queue of 256 entries over disk, which
 * the caller keeps open until virtio_blk_destroy(). I/O runs on the blkio
 * engine: libaio when use_aio and the build has it, else worker threads;
 * completions push from the engine's threads. Offers SEG_MAX, SIZE_MAX,
 * BLK_SIZE, FLUSH, and RO for a read-only disk or DISCARD and
 * WRITE_ZEROES otherwise; GET_ID returns disk_serial(). With O_DIRECT,
 * requests whose offset or length is not a multiple of the block size fail
 * with IOERR and unaligned buffers are bounced (up to 4 MiB, IOERR above).
 * Returns NULL on allocation or thread failure.
 */
struct virtio_dev *virtio_blk_create(const struct gmem *mem,
				     struct irq_line irq, struct disk *disk,
				     bool use_aio);
/* Wait for in-flight requests to complete, then free d (not the disk). No
 * notify may run concurrently. NULL is ignored. */
void virtio_blk_destroy(struct virtio_dev *d);

#endif
