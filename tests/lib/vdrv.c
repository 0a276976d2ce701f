// SPDX-License-Identifier: GPL-2.0-only
/* A virtio driver for tests over the core helpers, virtio-mmio and -pci. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>

#include "lkvm/virtio-mmio.h"
#include "vdrv.h"

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK

/* One transport's registers, in the driver's terms. */
struct vdrv_ops {
	const char *name;
	uint32_t (*get_status)(struct vdrv *v);
	void (*set_status)(struct vdrv *v, uint32_t status);
	uint32_t (*get_dev_features)(struct vdrv *v, uint32_t word);
	void (*set_drv_features)(struct vdrv *v, uint32_t word, uint32_t val);
	void (*select_queue)(struct vdrv *v, uint32_t q);
	uint32_t (*get_queue_max)(struct vdrv *v);
	void (*set_queue_num)(struct vdrv *v, uint32_t num);
	/* which: 0 descriptors, 1 driver area, 2 device area */
	void (*set_queue_addr)(struct vdrv *v, int which, uint64_t gpa);
	uint32_t (*get_queue_ready)(struct vdrv *v);
	void (*set_queue_ready)(struct vdrv *v, uint32_t ready);
	void (*notify)(struct vdrv *v, uint32_t q);
	uint32_t (*isr_ack)(struct vdrv *v);
	uint64_t (*config_read)(struct vdrv *v, uint32_t off,
				unsigned int size);
	void (*config_write)(struct vdrv *v, uint32_t off, unsigned int size,
			     uint64_t value);
};

/* The core helpers, as a transport calls them */

static uint32_t core_get_status(struct vdrv *v)
{
	return virtio_get_status(v->d);
}

static void core_set_status(struct vdrv *v, uint32_t status)
{
	virtio_set_status(v->d, status);
}

static uint32_t core_get_dev_features(struct vdrv *v, uint32_t word)
{
	virtio_set_dev_features_sel(v->d, word);
	return virtio_get_dev_features(v->d);
}

static void core_set_drv_features(struct vdrv *v, uint32_t word, uint32_t val)
{
	virtio_set_drv_features_sel(v->d, word);
	virtio_set_drv_features(v->d, val);
}

static void core_select_queue(struct vdrv *v, uint32_t q)
{
	virtio_set_queue_sel(v->d, q);
}

static uint32_t core_get_queue_max(struct vdrv *v)
{
	return virtio_queue_num_max(v->d);
}

static void core_set_queue_num(struct vdrv *v, uint32_t num)
{
	virtio_set_queue_num(v->d, num);
}

static void core_set_queue_addr(struct vdrv *v, int which, uint64_t gpa)
{
	virtio_set_queue_addr(v->d, which, false, (uint32_t)gpa);
	virtio_set_queue_addr(v->d, which, true, (uint32_t)(gpa >> 32));
}

static uint32_t core_get_queue_ready(struct vdrv *v)
{
	return virtio_queue_ready(v->d);
}

static void core_set_queue_ready(struct vdrv *v, uint32_t ready)
{
	virtio_set_queue_ready(v->d, ready);
}

static void core_notify(struct vdrv *v, uint32_t q)
{
	virtio_notify(v->d, q);
}

static uint32_t core_isr_ack(struct vdrv *v)
{
	return virtio_isr_read_clear(v->d);
}

static uint64_t core_config_read(struct vdrv *v, uint32_t off,
				 unsigned int size)
{
	return virtio_config_read(v->d, off, size);
}

static void core_config_write(struct vdrv *v, uint32_t off, unsigned int size,
			      uint64_t value)
{
	virtio_config_write(v->d, off, size, value);
}

static const struct vdrv_ops core_ops = {
	.name = "core",
	.get_status = core_get_status,
	.set_status = core_set_status,
	.get_dev_features = core_get_dev_features,
	.set_drv_features = core_set_drv_features,
	.select_queue = core_select_queue,
	.get_queue_max = core_get_queue_max,
	.set_queue_num = core_set_queue_num,
	.set_queue_addr = core_set_queue_addr,
	.get_queue_ready = core_get_queue_ready,
	.set_queue_ready = core_set_queue_ready,
	.notify = core_notify,
	.isr_ack = core_isr_ack,
	.config_read = core_config_read,
	.config_write = core_config_write,
};

/* virtio-mmio: 32-bit register accesses */

static uint32_t mmio_rd(struct vdrv *v, uint32_t off)
{
	return (uint32_t)virtio_mmio_ops.read(v->d, off, 4);
}

static void mmio_wr(struct vdrv *v, uint32_t off, uint32_t value)
{
	virtio_mmio_ops.write(v->d, off, 4, value);
}

static uint32_t mmio_get_status(struct vdrv *v)
{
	return mmio_rd(v, VIRTIO_MMIO_STATUS);
}

static void mmio_set_status(struct vdrv *v, uint32_t status)
{
	mmio_wr(v, VIRTIO_MMIO_STATUS, status);
}

static uint32_t mmio_get_dev_features(struct vdrv *v, uint32_t word)
{
	mmio_wr(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, word);
	return mmio_rd(v, VIRTIO_MMIO_DEVICE_FEATURES);
}

static void mmio_set_drv_features(struct vdrv *v, uint32_t word, uint32_t val)
{
	mmio_wr(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, word);
	mmio_wr(v, VIRTIO_MMIO_DRIVER_FEATURES, val);
}

static void mmio_select_queue(struct vdrv *v, uint32_t q)
{
	mmio_wr(v, VIRTIO_MMIO_QUEUE_SEL, q);
}

static uint32_t mmio_get_queue_max(struct vdrv *v)
{
	return mmio_rd(v, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static void mmio_set_queue_num(struct vdrv *v, uint32_t num)
{
	mmio_wr(v, VIRTIO_MMIO_QUEUE_NUM, num);
}

static void mmio_set_queue_addr(struct vdrv *v, int which, uint64_t gpa)
{
	static const uint32_t lo[] = { VIRTIO_MMIO_QUEUE_DESC_LOW,
				       VIRTIO_MMIO_QUEUE_AVAIL_LOW,
				       VIRTIO_MMIO_QUEUE_USED_LOW };

	mmio_wr(v, lo[which], (uint32_t)gpa);
	mmio_wr(v, lo[which] + 4, (uint32_t)(gpa >> 32));
}

static uint32_t mmio_get_queue_ready(struct vdrv *v)
{
	return mmio_rd(v, VIRTIO_MMIO_QUEUE_READY);
}

static void mmio_set_queue_ready(struct vdrv *v, uint32_t ready)
{
	mmio_wr(v, VIRTIO_MMIO_QUEUE_READY, ready);
}

static void mmio_notify(struct vdrv *v, uint32_t q)
{
	mmio_wr(v, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

static uint32_t mmio_isr_ack(struct vdrv *v)
{
	uint32_t isr = mmio_rd(v, VIRTIO_MMIO_INTERRUPT_STATUS);

	mmio_wr(v, VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

static uint64_t mmio_config_read(struct vdrv *v, uint32_t off,
				 unsigned int size)
{
	return virtio_mmio_ops.read(v->d, VIRTIO_MMIO_CONFIG + (uint64_t)off,
				    size);
}

static void mmio_config_write(struct vdrv *v, uint32_t off, unsigned int size,
			      uint64_t value)
{
	virtio_mmio_ops.write(v->d, VIRTIO_MMIO_CONFIG + (uint64_t)off, size,
			      value);
}

static const struct vdrv_ops mmio_ops = {
	.name = "mmio",
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_dev_features = mmio_get_dev_features,
	.set_drv_features = mmio_set_drv_features,
	.select_queue = mmio_select_queue,
	.get_queue_max = mmio_get_queue_max,
	.set_queue_num = mmio_set_queue_num,
	.set_queue_addr = mmio_set_queue_addr,
	.get_queue_ready = mmio_get_queue_ready,
	.set_queue_ready = mmio_set_queue_ready,
	.notify = mmio_notify,
	.isr_ack = mmio_isr_ack,
	.config_read = mmio_config_read,
	.config_write = mmio_config_write,
};

/* virtio-pci: configuration space, BARs, the common configuration */

uint32_t vdrv_pci_cfg_read(struct vdrv *v, uint32_t off, unsigned int size)
{
	return (uint32_t)pci_ecam_ops.read(v->h, (uint64_t)v->slot << 15 | off,
					   size);
}

void vdrv_pci_cfg_write(struct vdrv *v, uint32_t off, unsigned int size,
			uint32_t value)
{
	pci_ecam_ops.write(v->h, (uint64_t)v->slot << 15 | off, size, value);
}

uint64_t vdrv_pci_mem_read(struct vdrv *v, uint64_t gpa, unsigned int size)
{
	return pci_window_ops.read(pci_host_window(v->h, 0), gpa - VDRV_PCI_W32,
				   size);
}

void vdrv_pci_mem_write(struct vdrv *v, uint64_t gpa, unsigned int size,
			uint64_t value)
{
	pci_window_ops.write(pci_host_window(v->h, 0), gpa - VDRV_PCI_W32, size,
			     value);
}

/* Walk the capability list (bounded: a broken list must not hang). */
static uint32_t find_cap(struct vdrv *v, uint8_t id, int cfg_type)
{
	uint32_t off = vdrv_pci_cfg_read(v, PCI_CAPABILITY_LIST, 1);
	unsigned int n = 0;

	while (off && n++ < 48) {
		if (vdrv_pci_cfg_read(v, off, 1) == id &&
		    (cfg_type < 0 ||
		     vdrv_pci_cfg_read(v, off + VIRTIO_PCI_CAP_CFG_TYPE, 1) ==
			     (uint32_t)cfg_type))
			return off;
		off = vdrv_pci_cfg_read(v, off + 1, 1);
	}
	return 0;
}

uint32_t vdrv_pci_find_cap(struct vdrv *v, uint8_t id)
{
	return find_cap(v, id, -1);
}

uint32_t vdrv_pci_find_vcap(struct vdrv *v, uint8_t cfg_type)
{
	return find_cap(v, PCI_CAP_ID_VNDR, cfg_type);
}

static struct vdrv_pci_cap read_vcap(struct vdrv *v, uint8_t cfg_type)
{
	uint32_t c = vdrv_pci_find_vcap(v, cfg_type);
	struct vdrv_pci_cap cap = { .bar = -1 };

	if (c) {
		cap.bar = (int)vdrv_pci_cfg_read(v, c + VIRTIO_PCI_CAP_BAR, 1);
		cap.off = vdrv_pci_cfg_read(v, c + VIRTIO_PCI_CAP_OFFSET, 4);
		if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			v->notify_mult = vdrv_pci_cfg_read(
				v, c + sizeof(struct virtio_pci_cap), 4);
	}
	return cap;
}

/* GPA of off inside a capability's structure; the BAR must be one of
 * ours, which is what virtio/pci.c offers. */
static uint64_t cap_gpa(struct vdrv *v, const struct vdrv_pci_cap *cap,
			uint64_t off)
{
	if (cap->bar < 0 || cap->bar > 1) {
		fprintf(stderr,
			"test bug: no virtio-pci capability in a BAR\n");
		abort();
	}
	return v->bar[cap->bar] + cap->off + off;
}

void vdrv_pci_bars_on(struct vdrv *v)
{
	vdrv_pci_cfg_write(v, PCI_BASE_ADDRESS_0, 4, (uint32_t)v->bar[0]);
	vdrv_pci_cfg_write(v, PCI_BASE_ADDRESS_1, 4, (uint32_t)v->bar[1]);
	vdrv_pci_cfg_write(v, PCI_COMMAND, 2,
			   PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

uint64_t vdrv_pci_common(struct vdrv *v, uint32_t off)
{
	return cap_gpa(v, &v->common, off);
}

uint64_t vdrv_pci_isr(struct vdrv *v)
{
	return cap_gpa(v, &v->isr, 0);
}

uint64_t vdrv_pci_doorbell(struct vdrv *v, uint32_t q)
{
	uint16_t noff = q < VIRTIO_MAX_QUEUES ? v->notify_off[q] : 0;

	return cap_gpa(v, &v->notify, (uint64_t)noff * v->notify_mult);
}

static uint64_t common_rd(struct vdrv *v, uint32_t off, unsigned int size)
{
	return vdrv_pci_mem_read(v, vdrv_pci_common(v, off), size);
}

static void common_wr(struct vdrv *v, uint32_t off, unsigned int size,
		      uint64_t value)
{
	vdrv_pci_mem_write(v, vdrv_pci_common(v, off), size, value);
}

static uint32_t pci_get_status(struct vdrv *v)
{
	return (uint32_t)common_rd(v, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void pci_set_status(struct vdrv *v, uint32_t status)
{
	common_wr(v, VIRTIO_PCI_COMMON_STATUS, 1, status);
}

static uint32_t pci_get_dev_features(struct vdrv *v, uint32_t word)
{
	common_wr(v, VIRTIO_PCI_COMMON_DFSELECT, 4, word);
	return (uint32_t)common_rd(v, VIRTIO_PCI_COMMON_DF, 4);
}

static void pci_set_drv_features(struct vdrv *v, uint32_t word, uint32_t val)
{
	common_wr(v, VIRTIO_PCI_COMMON_GFSELECT, 4, word);
	common_wr(v, VIRTIO_PCI_COMMON_GF, 4, val);
}

static void pci_select_queue(struct vdrv *v, uint32_t q)
{
	v->sel = q;
	common_wr(v, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
}

static uint32_t pci_get_queue_num(struct vdrv *v)
{
	return (uint32_t)common_rd(v, VIRTIO_PCI_COMMON_Q_SIZE, 2);
}

static void pci_set_queue_num(struct vdrv *v, uint32_t num)
{
	common_wr(v, VIRTIO_PCI_COMMON_Q_SIZE, 2, num);
}

static void pci_set_queue_addr(struct vdrv *v, int which, uint64_t gpa)
{
	static const uint32_t lo[] = { VIRTIO_PCI_COMMON_Q_DESCLO,
				       VIRTIO_PCI_COMMON_Q_AVAILLO,
				       VIRTIO_PCI_COMMON_Q_USEDLO };

	common_wr(v, lo[which], 4, (uint32_t)gpa);
	common_wr(v, lo[which] + 4, 4, (uint32_t)(gpa >> 32));
}

static uint32_t pci_get_queue_ready(struct vdrv *v)
{
	return (uint32_t)common_rd(v, VIRTIO_PCI_COMMON_Q_ENABLE, 2);
}

/* Enabling a queue is when a driver learns where its doorbell is. */
static void pci_set_queue_ready(struct vdrv *v, uint32_t ready)
{
	if (ready && v->sel < VIRTIO_MAX_QUEUES)
		v->notify_off[v->sel] =
			(uint16_t)common_rd(v, VIRTIO_PCI_COMMON_Q_NOFF, 2);
	common_wr(v, VIRTIO_PCI_COMMON_Q_ENABLE, 2, ready);
}

static void pci_notify(struct vdrv *v, uint32_t q)
{
	vdrv_pci_mem_write(v, vdrv_pci_doorbell(v, q), 2, q);
}

static uint32_t pci_isr_ack(struct vdrv *v)
{
	return (uint32_t)vdrv_pci_mem_read(v, vdrv_pci_isr(v), 1);
}

static uint64_t pci_config_read(struct vdrv *v, uint32_t off, unsigned int size)
{
	if (v->device.bar < 0)
		return 0;
	return vdrv_pci_mem_read(v, cap_gpa(v, &v->device, off), size);
}

static void pci_config_write(struct vdrv *v, uint32_t off, unsigned int size,
			     uint64_t value)
{
	if (v->device.bar >= 0)
		vdrv_pci_mem_write(v, cap_gpa(v, &v->device, off), size, value);
}

static const struct vdrv_ops pci_ops = {
	.name = "pci",
	.get_status = pci_get_status,
	.set_status = pci_set_status,
	.get_dev_features = pci_get_dev_features,
	.set_drv_features = pci_set_drv_features,
	.select_queue = pci_select_queue,
	.get_queue_max = pci_get_queue_num,
	.set_queue_num = pci_set_queue_num,
	.set_queue_addr = pci_set_queue_addr,
	.get_queue_ready = pci_get_queue_ready,
	.set_queue_ready = pci_set_queue_ready,
	.notify = pci_notify,
	.isr_ack = pci_isr_ack,
	.config_read = pci_config_read,
	.config_write = pci_config_write,
};

/* Set-up */

void vdrv_init_core(struct vdrv *v, struct virtio_dev *d)
{
	*v = (struct vdrv){ .ops = &core_ops, .transport = VDRV_CORE, .d = d };
}

void vdrv_init_mmio(struct vdrv *v, struct virtio_dev *d)
{
	*v = (struct vdrv){ .ops = &mmio_ops, .transport = VDRV_MMIO, .d = d };
}

int vdrv_pci_attach(struct vdrv *v, struct virtio_dev *d,
		    const struct virtio_pci_host_ops *host, void *opaque,
		    struct irq_line intx)
{
	int ret;

	*v = (struct vdrv){ .ops = &pci_ops,
			    .transport = VDRV_PCI,
			    .d = d,
			    .owns_pci = true,
			    .bar = { VDRV_PCI_BAR0, VDRV_PCI_BAR1 } };
	ret = pci_host_create(&v->h, VDRV_PCI_W32, VDRV_PCI_W32_SIZE,
			      VDRV_PCI_W64, VDRV_PCI_W64_SIZE);
	if (ret)
		return ret;
	ret = virtio_pci_create(&v->vp, d, host, opaque);
	if (ret)
		goto out_host;
	v->slot = pci_host_add(v->h, virtio_pci_dev(v->vp), intx);
	if (v->slot < 0) {
		ret = v->slot;
		goto out_vp;
	}
	v->common = read_vcap(v, VIRTIO_PCI_CAP_COMMON_CFG);
	v->isr = read_vcap(v, VIRTIO_PCI_CAP_ISR_CFG);
	v->device = read_vcap(v, VIRTIO_PCI_CAP_DEVICE_CFG);
	v->notify = read_vcap(v, VIRTIO_PCI_CAP_NOTIFY_CFG);
	if (v->common.bar < 0 || v->isr.bar < 0 || v->notify.bar < 0) {
		ret = -ENODEV;
		goto out_vp;
	}
	return 0;
out_vp:
	virtio_pci_destroy(v->vp);
out_host:
	pci_host_destroy(v->h);
	v->h = NULL;
	v->vp = NULL;
	v->owns_pci = false;
	return ret;
}

static void record_intx(void *ctrl, unsigned int irq, int level)
{
	struct vdrv *v = ctrl;

	(void)irq;
	__atomic_store_n(&v->intx, level, __ATOMIC_RELAXED);
}

static const struct virtio_pci_host_ops intx_only = { NULL, NULL };

int vdrv_open(struct vdrv *v, enum vdrv_transport transport,
	      struct virtio_dev *d)
{
	int ret;

	switch (transport) {
	case VDRV_CORE:
		vdrv_init_core(v, d);
		return 0;
	case VDRV_MMIO:
		vdrv_init_mmio(v, d);
		return 0;
	case VDRV_PCI:
		ret = vdrv_pci_attach(v, d, &intx_only, NULL,
				      (struct irq_line){ record_intx, v, 0 });
		if (!ret)
			vdrv_pci_bars_on(v);
		return ret;
	}
	return -EINVAL;
}

void vdrv_close(struct vdrv *v)
{
	if (v->owns_pci) {
		virtio_pci_destroy(v->vp);
		pci_host_destroy(v->h);
	}
	memset(v, 0, sizeof(*v));
}

const char *vdrv_name(const struct vdrv *v)
{
	return v->ops->name;
}

/* The driver's steps */

uint32_t vdrv_status(struct vdrv *v)
{
	return v->ops->get_status(v);
}

void vdrv_set_status(struct vdrv *v, uint32_t status)
{
	v->ops->set_status(v, status);
}

void vdrv_reset(struct vdrv *v)
{
	v->ops->set_status(v, 0);
}

uint64_t vdrv_device_features(struct vdrv *v)
{
	uint64_t lo = v->ops->get_dev_features(v, 0);

	return (uint64_t)v->ops->get_dev_features(v, 1) << 32 | lo;
}

void vdrv_set_driver_features(struct vdrv *v, uint64_t features)
{
	v->ops->set_drv_features(v, 0, (uint32_t)features);
	v->ops->set_drv_features(v, 1, (uint32_t)(features >> 32));
}

int vdrv_negotiate(struct vdrv *v, uint64_t features)
{
	v->ops->set_status(v, S_ACK);
	v->ops->set_status(v, S_ACK | S_DRV);
	vdrv_set_driver_features(v, features);
	v->ops->set_status(v, S_ACK | S_DRV | S_FOK);
	return v->ops->get_status(v) & S_FOK ? 0 : -EIO;
}

void vdrv_select_queue(struct vdrv *v, uint32_t q)
{
	v->ops->select_queue(v, q);
}

uint32_t vdrv_queue_max(struct vdrv *v)
{
	return v->ops->get_queue_max(v);
}

uint32_t vdrv_queue_setup(struct vdrv *v, uint32_t q, uint32_t num,
			  uint64_t desc, uint64_t avail, uint64_t used)
{
	v->ops->select_queue(v, q);
	v->ops->set_queue_num(v, num);
	v->ops->set_queue_addr(v, 0, desc);
	v->ops->set_queue_addr(v, 1, avail);
	v->ops->set_queue_addr(v, 2, used);
	v->ops->set_queue_ready(v, 1);
	return v->ops->get_queue_ready(v);
}

uint32_t vdrv_queue_ready(struct vdrv *v)
{
	return v->ops->get_queue_ready(v);
}

void vdrv_set_queue_ready(struct vdrv *v, uint32_t ready)
{
	v->ops->set_queue_ready(v, ready);
}

int vdrv_queue_attach(struct vdrv *v, uint32_t q, struct drvq *dq)
{
	uint32_t ready;

	drvq_reset(dq);
	ready = vdrv_queue_setup(v, q, dq->num, dq->desc, dq->avail, dq->used);
	return ready == 1 ? 0 : -EINVAL;
}

int vdrv_driver_ok(struct vdrv *v)
{
	const uint32_t live = S_ACK | S_DRV | S_FOK | S_DOK;

	v->ops->set_status(v, live);
	return v->ops->get_status(v) == live ? 0 : -EIO;
}

int vdrv_setup(struct vdrv *v, uint64_t mask, struct drvq *qs, unsigned int nr)
{
	unsigned int i;
	int ret;

	ret = vdrv_negotiate(v, vdrv_device_features(v) & mask);
	for (i = 0; !ret && i < nr; i++)
		ret = vdrv_queue_attach(v, i, &qs[i]);
	return ret;
}

int vdrv_bring_up(struct vdrv *v, uint64_t mask, struct drvq *qs,
		  unsigned int nr)
{
	int ret = vdrv_setup(v, mask, qs, nr);

	return ret ? ret : vdrv_driver_ok(v);
}

void vdrv_notify(struct vdrv *v, uint32_t q)
{
	v->ops->notify(v, q);
}

uint32_t vdrv_isr_ack(struct vdrv *v)
{
	return v->ops->isr_ack(v);
}

uint64_t vdrv_config_read(struct vdrv *v, uint32_t off, unsigned int size)
{
	return v->ops->config_read(v, off, size);
}

void vdrv_config_write(struct vdrv *v, uint32_t off, unsigned int size,
		       uint64_t value)
{
	v->ops->config_write(v, off, size, value);
}
