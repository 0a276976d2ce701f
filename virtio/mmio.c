// SPDX-License-Identifier: GPL-2.0-only
/* The virtio-mmio transport: version 2 register file over virtio/core.c. */
#include <linux/virtio_mmio.h>

#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio.h"

#define MAGIC 0x74726976 /* "virt" */

static uint64_t vmmio_read(void *dev, uint64_t off, unsigned int size)
{
	struct virtio_dev *d = dev;

	if (off >= VIRTIO_MMIO_CONFIG)
		return virtio_config_read(d, off - VIRTIO_MMIO_CONFIG, size);
	if (size != 4)
		return 0;
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return virtio_dev_ops(d)->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_get_dev_features(d);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return virtio_queue_num_max(d);
	case VIRTIO_MMIO_QUEUE_READY:
		return virtio_queue_ready(d);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return virtio_isr_peek(d);
	case VIRTIO_MMIO_STATUS:
		return virtio_get_status(d);
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		return virtio_get_queue_addr(
			d, (int)(off - VIRTIO_MMIO_QUEUE_DESC_LOW) / 16,
			off & 4);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return virtio_get_config_generation(d);
	}
	return 0;
}

static void vmmio_write(void *dev, uint64_t off, unsigned int size,
			uint64_t value)
{
	struct virtio_dev *d = dev;
	uint32_t v = (uint32_t)value;

	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_config_write(d, off - VIRTIO_MMIO_CONFIG, size, value);
		return;
	}
	if (size != 4)
		return;
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		virtio_set_dev_features_sel(d, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_set_drv_features(d, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		virtio_set_drv_features_sel(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		virtio_set_queue_sel(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		virtio_set_queue_num(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_set_queue_ready(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_notify(d, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		virtio_isr_ack(d, v);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_set_status(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		virtio_set_queue_addr(
			d, (int)(off - VIRTIO_MMIO_QUEUE_DESC_LOW) / 16,
			off & 4, v);
		break;
	}
}

const struct mmio_ops virtio_mmio_ops = {
	.read = vmmio_read,
	.write = vmmio_write,
};

void virtio_mmio_doorbells(struct virtio_dev *d, uint64_t base,
			   virtio_doorbells_fn *fn, void *opaque)
{
	const struct virtio_doorbells db = {
		.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.stride = 0,
		.len = 4,
	};

	fn(opaque, d, &db);
}
