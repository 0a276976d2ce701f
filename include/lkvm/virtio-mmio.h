/* SPDX-License-Identifier: GPL-2.0-only */
/* The virtio-mmio transport (Virtio 1.2, 4.2.2: version 2 registers). */
#ifndef LKVM_VIRTIO_MMIO_H
#define LKVM_VIRTIO_MMIO_H

#include <stdint.h>

#include "lkvm/device.h"
#include "lkvm/virtio.h"

#define VIRTIO_MMIO_REGION_SIZE 0x200
#define VIRTIO_MMIO_SIZES \
	(MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4) | MMIO_SIZE(8))
#define VIRTIO_MMIO_VENDOR 0x4d564b4c /* "LKVM" */

/*
 * MMIO ops for one device; the region's dev is its struct virtio_dev.
 * Registers below 0x100 take 32-bit accesses only (others read 0 and are
 * ignored); the device configuration at 0x100 takes 1, 2, 4 and 8 bytes.
 */
extern const struct mmio_ops virtio_mmio_ops;

/* d is served at base: report its doorbells (QueueNotify, 4 bytes, the
 * value names the queue) to fn, once. */
void virtio_mmio_doorbells(struct virtio_dev *d, uint64_t base,
			   virtio_doorbells_fn *fn, void *opaque);

#endif
