// SPDX-License-Identifier: GPL-2.0-only
/* The virtio-pci modern transport over hw/pci.c and virtio/core.c. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include "lkvm/virtio-pci.h"

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *d;
	const struct virtio_pci_host_ops *host;
	void *opaque;
	bool has_msix;
	struct msix msix;
	uint16_t config_vec; /* config_msix_vector */
	uint16_t queue_vec[VIRTIO_MAX_QUEUES];
	uint8_t msix_cap; /* config offsets of our capabilities, 0: none */
	uint8_t cfg_cap;
};

_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap layout");
_Static_assert(sizeof(struct virtio_pci_notify_cap) == 20,
	       "virtio_pci_notify_cap layout");
_Static_assert(sizeof(struct virtio_pci_cfg_cap) == 20,
	       "virtio_pci_cfg_cap layout");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_used_hi) == 52,
	       "virtio_pci_common_cfg layout");

#define COMMON_LEN 56u /* through queue_used_hi: no 1.2 extras offered */
#define MSIX_CTRL_BITS (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp)
{
	return &vp->pci;
}

unsigned int virtio_pci_nr_vectors(const struct virtio_pci *vp)
{
	return vp->has_msix ? vp->msix.nr : 0;
}

uint16_t virtio_pci_queue_vector(const struct virtio_pci *vp, unsigned int q)
{
	if (q >= VIRTIO_MAX_QUEUES)
		return VIRTIO_MSI_NO_VECTOR;
	return __atomic_load_n(&vp->queue_vec[q], __ATOMIC_ACQUIRE);
}

static void vectors_changed(struct virtio_pci *vp)
{
	if (vp->host && vp->host->vectors_changed)
		vp->host->vectors_changed(vp->opaque);
}

/* Interrupts: a vector when MSI-X is on, else ISR + INTx (core). */
static bool vpci_irq_queue(void *t, unsigned int q)
{
	struct virtio_pci *vp = t;

	return vp->has_msix &&
	       msix_notify(&vp->msix, __atomic_load_n(&vp->queue_vec[q],
						      __ATOMIC_ACQUIRE));
}

static bool vpci_irq_config(void *t)
{
	struct virtio_pci *vp = t;

	return vp->has_msix &&
	       msix_notify(&vp->msix,
			   __atomic_load_n(&vp->config_vec, __ATOMIC_ACQUIRE));
}

static const struct virtio_irq_ops vpci_irq_ops = {
	.queue = vpci_irq_queue,
	.config = vpci_irq_config,
};

static void vpci_set_intx(void *t, unsigned int irq, int level)
{
	struct virtio_pci *vp = t;

	(void)irq;
	pci_dev_set_intx(&vp->pci, level);
}

/* A vector the driver asks for: kept if the table has it (4.1.5.1.2). */
static uint16_t vector_accept(struct virtio_pci *vp, uint16_t vec)
{
	return vp->has_msix && vec < vp->msix.nr ? vec : VIRTIO_MSI_NO_VECTOR;
}

static void vectors_reset(struct virtio_pci *vp)
{
	unsigned int q;

	__atomic_store_n(&vp->config_vec, VIRTIO_MSI_NO_VECTOR,
			 __ATOMIC_RELEASE);
	for (q = 0; q < VIRTIO_MAX_QUEUES; q++)
		__atomic_store_n(&vp->queue_vec[q], VIRTIO_MSI_NO_VECTOR,
				 __ATOMIC_RELEASE);
}

/* 64-bit queue addresses, also reachable as two 32-bit halves. */
static bool queue_addr_field(uint64_t off, unsigned int size, int *which,
			     bool *hi)
{
	if (off < VIRTIO_PCI_COMMON_Q_DESCLO || off >= COMMON_LEN)
		return false;
	if (size != 4 && !(size == 8 && !(off & 7)))
		return false;
	*which = (int)(off - VIRTIO_PCI_COMMON_Q_DESCLO) / 8;
	*hi = off & 4;
	return !(off & 3);
}

static uint64_t common_read_addr(struct virtio_dev *d, uint64_t off,
				 unsigned int size)
{
	int which;
	bool hi;

	if (!queue_addr_field(off, size, &which, &hi))
		return 0;
	if (size == 8)
		return virtio_get_queue_addr(d, which, false) |
		       (uint64_t)virtio_get_queue_addr(d, which, true) << 32;
	return virtio_get_queue_addr(d, which, hi);
}

static uint64_t common_read(struct virtio_pci *vp, uint64_t off,
			    unsigned int size)
{
	struct virtio_dev *d = vp->d;
	uint16_t vec;
	int q;

	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO)
		return common_read_addr(d, off, size);
	switch (off << 4 | size) {
	case VIRTIO_PCI_COMMON_DFSELECT << 4 | 4:
		return virtio_get_dev_features_sel(d);
	case VIRTIO_PCI_COMMON_DF << 4 | 4:
		return virtio_get_dev_features(d);
	case VIRTIO_PCI_COMMON_GFSELECT << 4 | 4:
		return virtio_get_drv_features_sel(d);
	case VIRTIO_PCI_COMMON_GF << 4 | 4:
		return virtio_get_drv_features(d);
	case VIRTIO_PCI_COMMON_MSIX << 4 | 2:
		return __atomic_load_n(&vp->config_vec, __ATOMIC_ACQUIRE);
	case VIRTIO_PCI_COMMON_NUMQ << 4 | 2:
		return virtio_dev_ops(d)->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS << 4 | 1:
		return virtio_get_status(d) & 0xff;
	case VIRTIO_PCI_COMMON_CFGGENERATION << 4 | 1:
		return virtio_get_config_generation(d) & 0xff;
	case VIRTIO_PCI_COMMON_Q_SELECT << 4 | 2:
		return virtio_get_queue_sel(d) & 0xffff;
	case VIRTIO_PCI_COMMON_Q_SIZE << 4 | 2:
		return virtio_get_queue_num(d);
	case VIRTIO_PCI_COMMON_Q_MSIX << 4 | 2:
		return virtio_queue_slot_get(d, vp->queue_vec, &vec)
			       ? vec
			       : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE << 4 | 2:
		return virtio_queue_ready(d);
	case VIRTIO_PCI_COMMON_Q_NOFF << 4 | 2:
		q = virtio_selected_queue(d);
		return q < 0 ? 0 : (uint64_t)q;
	}
	return 0;
}

static void common_write_addr(struct virtio_dev *d, uint64_t off,
			      unsigned int size, uint64_t value)
{
	int which;
	bool hi;

	if (!queue_addr_field(off, size, &which, &hi))
		return;
	if (size == 8) {
		virtio_set_queue_addr(d, which, false, (uint32_t)value);
		virtio_set_queue_addr(d, which, true, (uint32_t)(value >> 32));
	} else {
		virtio_set_queue_addr(d, which, hi, (uint32_t)value);
	}
}

static void common_write(struct virtio_pci *vp, uint64_t off, unsigned int size,
			 uint64_t value)
{
	struct virtio_dev *d = vp->d;
	uint32_t v = (uint32_t)value;

	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO) {
		common_write_addr(d, off, size, value);
		return;
	}
	switch (off << 4 | size) {
	case VIRTIO_PCI_COMMON_DFSELECT << 4 | 4:
		virtio_set_dev_features_sel(d, v);
		break;
	case VIRTIO_PCI_COMMON_GFSELECT << 4 | 4:
		virtio_set_drv_features_sel(d, v);
		break;
	case VIRTIO_PCI_COMMON_GF << 4 | 4:
		virtio_set_drv_features(d, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX << 4 | 2:
		__atomic_store_n(&vp->config_vec,
				 vector_accept(vp, (uint16_t)v),
				 __ATOMIC_RELEASE);
		break;
	case VIRTIO_PCI_COMMON_STATUS << 4 | 1:
		virtio_set_status(d, v & 0xff);
		if (!(v & 0xff)) {
			vectors_reset(vp);
			vectors_changed(vp);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT << 4 | 2:
		virtio_set_queue_sel(d, v & 0xffff);
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE << 4 | 2:
		virtio_set_queue_num(d, v & 0xffff);
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX << 4 | 2:
		if (virtio_queue_slot_set(d, vp->queue_vec,
					  vector_accept(vp, (uint16_t)v)))
			vectors_changed(vp);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE << 4 | 2:
		virtio_set_queue_ready(d, v & 0xffff);
		break;
	}
}

static uint64_t bar0_read(struct virtio_pci *vp, uint64_t off,
			  unsigned int size)
{
	if (off < VPCI_COMMON_OFF + COMMON_LEN)
		return common_read(vp, off - VPCI_COMMON_OFF, size);
	if (off == VPCI_ISR_OFF && size == 1)
		return virtio_isr_read_clear(vp->d);
	if (off >= VPCI_DEVICE_OFF && off < VPCI_NOTIFY_OFF)
		return virtio_config_read(vp->d, off - VPCI_DEVICE_OFF, size);
	return 0;
}

static void bar0_write(struct virtio_pci *vp, uint64_t off, unsigned int size,
		       uint64_t value)
{
	if (off < VPCI_COMMON_OFF + COMMON_LEN)
		common_write(vp, off - VPCI_COMMON_OFF, size, value);
	else if (off >= VPCI_DEVICE_OFF && off < VPCI_NOTIFY_OFF)
		virtio_config_write(vp->d, off - VPCI_DEVICE_OFF, size, value);
	else if (off >= VPCI_NOTIFY_OFF && !(off % VPCI_NOTIFY_STRIDE))
		virtio_notify(vp->d, (uint32_t)((off - VPCI_NOTIFY_OFF) /
						VPCI_NOTIFY_STRIDE));
}

static uint64_t vpci_bar_read(struct pci_dev *pd, unsigned int bar,
			      uint64_t off, unsigned int size)
{
	struct virtio_pci *vp = pd->priv;

	if (bar == 0)
		return bar0_read(vp, off, size);
	if (bar == 1 && vp->has_msix && off < VPCI_PBA_OFF)
		return msix_table_read(&vp->msix, off, size);
	if (bar == 1 && vp->has_msix)
		return msix_pba_read(&vp->msix, off - VPCI_PBA_OFF, size);
	return 0;
}

static void vpci_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			   unsigned int size, uint64_t value)
{
	struct virtio_pci *vp = pd->priv;

	if (bar == 0)
		bar0_write(vp, off, size, value);
	else if (bar == 1 && vp->has_msix && off < VPCI_PBA_OFF)
		msix_table_write(&vp->msix, off, size, value);
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: an access to pci_cfg_data is an access of
 * cap.length (1, 2 or 4) bytes at cap.offset in cap.bar (4.1.4.9).
 */
static bool cfg_window(struct virtio_pci *vp, unsigned int *bar, uint64_t *off,
		       unsigned int *len)
{
	uint32_t c = vp->cfg_cap;

	*bar = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_BAR, 1);
	*off = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_cfg_get(&vp->pci, c + VIRTIO_PCI_CAP_LENGTH, 4);
	if (*bar > 1 || (*len != 1 && *len != 2 && *len != 4) || *off % *len ||
	    *off >= vp->pci.bar_size[*bar])
		return false;
	return true;
}

static void vpci_cfg_read(struct pci_dev *pd, uint32_t off, unsigned int size)
{
	struct virtio_pci *vp = pd->priv;
	uint32_t data =
		vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	unsigned int bar, len;
	uint64_t boff;

	if (off + size <= data || off >= data + 4)
		return;
	if (cfg_window(vp, &bar, &boff, &len))
		pci_cfg_put(pd, data, 4,
			    (uint32_t)vpci_bar_read(pd, bar, boff, len));
}

struct msix_ctrl {
	struct virtio_pci *vp;
	uint32_t ctrl;
};

/*
 * Apply the MSI-X control bits under the device's interrupt lock (see
 * virtio_dev_irq_switch()). With MSI-X on, the function must not assert
 * INTx (PCI 3.0, 6.8): what was pending on the line is re-sent through
 * the vectors (each queue's, as the ISR does not say which), so a
 * completion that raced with the enable is not lost.
 */
static bool msix_ctrl_apply(void *arg, uint32_t isr)
{
	struct msix_ctrl *c = arg;
	struct virtio_pci *vp = c->vp;
	unsigned int q, nq = virtio_dev_ops(vp->d)->nr_queues;
	bool on = c->ctrl & PCI_MSIX_FLAGS_ENABLE;

	msix_set_control(&vp->msix, on, c->ctrl & PCI_MSIX_FLAGS_MASKALL);
	if (!on)
		return false;
	for (q = 0; isr & VIRTIO_ISR_QUEUE && q < nq; q++)
		vpci_irq_queue(vp, q);
	if (isr & VIRTIO_ISR_CONFIG)
		vpci_irq_config(vp);
	return true;
}

/* MSI-X enable or function mask changed. */
static void msix_cap_written(struct virtio_pci *vp)
{
	struct msix_ctrl c = {
		vp,
		pci_cfg_get(&vp->pci, vp->msix_cap + PCI_MSIX_FLAGS, 2),
	};

	virtio_dev_irq_switch(vp->d, msix_ctrl_apply, &c);
}

static void vpci_cfg_written(struct pci_dev *pd, uint32_t off,
			     unsigned int size)
{
	struct virtio_pci *vp = pd->priv;
	uint32_t data =
		vp->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	unsigned int bar, len;
	uint64_t boff;

	if (vp->has_msix && off < vp->msix_cap + 4u &&
	    off + size > vp->msix_cap + 2u)
		msix_cap_written(vp);
	if (off < data + 4 && off + size > data &&
	    cfg_window(vp, &bar, &boff, &len))
		vpci_bar_write(pd, bar, boff, len, pci_cfg_get(pd, data, len));
}

static void vpci_bar_mapped(struct pci_dev *pd, unsigned int bar, uint64_t gpa,
			    bool mapped)
{
	struct virtio_pci *vp = pd->priv;

	struct virtio_doorbells db = {
		.addr = gpa + VPCI_NOTIFY_OFF,
		.stride = VPCI_NOTIFY_STRIDE,
		.len = 2,
	};

	if (bar == 0 && vp->host->doorbells)
		vp->host->doorbells(vp->opaque, vp->d, mapped ? &db : NULL);
}

static const struct pci_dev_ops vpci_ops = {
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.cfg_read = vpci_cfg_read,
	.cfg_written = vpci_cfg_written,
	.bar_mapped = vpci_bar_mapped,
};

/* Add one virtio structure capability pointing into BAR 0. */
static int add_vcap(struct virtio_pci *vp, uint8_t type, uint32_t off,
		    uint32_t len, bool notify)
{
	struct virtio_pci_notify_cap c = { 0 };
	unsigned int size = notify ? sizeof(c) : sizeof(c.cap);

	c.cap.cap_len = (uint8_t)size;
	c.cap.cfg_type = type;
	c.cap.bar = 0;
	c.cap.offset = off;
	c.cap.length = len;
	c.notify_off_multiplier = VPCI_NOTIFY_STRIDE;
	return pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, &c.cap.cap_len,
			       size - 2, NULL);
}

static int add_cfg_cap(struct virtio_pci *vp)
{
	struct virtio_pci_cfg_cap c = { 0 };
	uint8_t wmask[sizeof(c) - 2] = { 0 };
	int ret;

	c.cap.cap_len = sizeof(c);
	c.cap.cfg_type = VIRTIO_PCI_CAP_PCI_CFG;
	/* bar, offset, length and the data window are the driver's */
	wmask[VIRTIO_PCI_CAP_BAR - 2] = 0xff;
	memset(&wmask[VIRTIO_PCI_CAP_OFFSET - 2], 0xff, 8);
	memset(&wmask[offsetof(struct virtio_pci_cfg_cap, pci_cfg_data) - 2],
	       0xff, 4);
	ret = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, &c.cap.cap_len,
			      sizeof(c) - 2, wmask);
	if (ret > 0)
		vp->cfg_cap = (uint8_t)ret;
	return ret;
}

static int add_msix_cap(struct virtio_pci *vp)
{
	/* Message Control, Table Offset/BIR, PBA Offset/BIR */
	uint8_t body[10] = { 0 }, wmask[10] = { 0 };
	uint32_t table = 1, pba = VPCI_PBA_OFF | 1;
	uint16_t ctrl = (uint16_t)(vp->msix.nr - 1);
	int ret;

	memcpy(&body[0], &ctrl, 2);
	memcpy(&body[2], &table, 4);
	memcpy(&body[6], &pba, 4);
	wmask[1] = MSIX_CTRL_BITS >> 8;
	ret = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_MSIX, body, sizeof(body),
			      wmask);
	if (ret > 0)
		vp->msix_cap = (uint8_t)ret;
	return ret;
}

static uint32_t class_of(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_BLOCK:
		return 0x018000; /* mass storage, other */
	case VIRTIO_ID_NET:
		return 0x020000; /* ethernet */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	}
	return 0xff0000; /* unclassified */
}

static int vpci_setup(struct virtio_pci *vp)
{
	const struct virtio_dev_ops *o = virtio_dev_ops(vp->d);
	int ret;

	ret = pci_dev_init(&vp->pci, &vpci_ops, vp, o->name, VPCI_VENDOR,
			   (uint16_t)(VPCI_DEVICE_BASE + o->device_id),
			   class_of(o->device_id), 1, VPCI_VENDOR,
			   (uint16_t)o->device_id);
	ret = ret
		      ?: pci_dev_set_bar(&vp->pci, 0, VPCI_BAR0_SIZE,
					 PCI_BAR_MEM32);
	if (ret)
		return ret;
	if (vp->has_msix) {
		ret = pci_dev_set_bar(&vp->pci, 1, VPCI_BAR1_SIZE,
				      PCI_BAR_MEM32);
		ret = ret ?: add_msix_cap(vp);
		if (ret < 0)
			return ret;
	}
	if (add_vcap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, COMMON_LEN,
		     false) < 0 ||
	    add_vcap(vp, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1, false) < 0 ||
	    add_vcap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF,
		     o->nr_queues * VPCI_NOTIFY_STRIDE, true) < 0 ||
	    (o->config_size &&
	     add_vcap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF,
		      o->config_size, false) < 0) ||
	    add_cfg_cap(vp) < 0)
		return -ENOSPC;
	return 0;
}

int virtio_pci_create(struct virtio_pci **out, struct virtio_dev *d,
		      const struct virtio_pci_host_ops *host, void *opaque)
{
	struct virtio_pci *vp;
	int ret;

	const struct virtio_dev_ops *o = d ? virtio_dev_ops(d) : NULL;

	if (!d || o->nr_queues + 1 > MSIX_MAX_VECTORS ||
	    o->config_size > VPCI_NOTIFY_OFF - VPCI_DEVICE_OFF)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->d = d;
	vp->host = host;
	vp->opaque = opaque;
	vp->has_msix = host && host->msix;
	vectors_reset(vp);
	ret = vp->has_msix ? msix_init(&vp->msix, o->nr_queues + 1, host->msix,
				       opaque)
			   : 0;
	if (ret) {
		free(vp);
		return ret;
	}
	ret = vpci_setup(vp);
	if (ret) {
		virtio_pci_destroy(vp);
		return ret;
	}
	virtio_dev_set_irq(d, (struct irq_line){ vpci_set_intx, vp, 0 });
	virtio_dev_set_irq_ops(d, &vpci_irq_ops, vp);
	/* queue_size starts at the maximum; the driver may never write it */
	virtio_dev_set_size_default_max(d);
	*out = vp;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->has_msix)
		msix_destroy(&vp->msix);
	pci_dev_destroy(&vp->pci);
	free(vp);
}
