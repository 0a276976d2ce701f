/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A virtio driver for tests, written once over three transports: the
 * core's register helpers called directly (virtio_set_status()...), the
 * virtio-mmio register file (virtio_mmio_ops), and virtio-pci's common
 * configuration found through its vendor capabilities and reached through
 * ECAM and the PCI host bridge's memory window. A scenario written against
 * struct vdrv runs unchanged over each.
 *
 * The steps are a driver's (Virtio 1.2, 3.1.1): vdrv_reset(),
 * vdrv_negotiate() (ACKNOWLEDGE, DRIVER, features, FEATURES_OK),
 * vdrv_queue_setup() per queue (size, ring addresses, ready), then
 * vdrv_driver_ok(); vdrv_setup() and vdrv_bring_up() do them in order.
 * Each step writes exactly what it is given, so tests can take a step
 * wrong on purpose; what it reads back is returned, for the test to check.
 */
#ifndef LKVM_TEST_VDRV_H
#define LKVM_TEST_VDRV_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/virtio-pci.h"
#include "lkvm/virtio.h"
#include "riscv/memmap.h"
#include "drvq.h"

enum vdrv_transport {
	VDRV_CORE,
	VDRV_MMIO,
	VDRV_PCI,
};

/* Where vdrv_pci_attach() puts the bridge's windows and the BARs. */
#define VDRV_PCI_W32 MEMMAP_PCI_MMIO32_BASE
#define VDRV_PCI_W32_SIZE MEMMAP_PCI_MMIO32_SIZE
#define VDRV_PCI_W64 0x100000000ULL
#define VDRV_PCI_W64_SIZE 0x100000000ULL
#define VDRV_PCI_BAR0 (VDRV_PCI_W32 + 0x10000)
#define VDRV_PCI_BAR1 (VDRV_PCI_W32 + 0x20000)

/* A capability's place: BAR and offset; bar < 0 when absent. */
struct vdrv_pci_cap {
	int bar;
	uint32_t off;
};

struct vdrv_ops;

struct vdrv {
	const struct vdrv_ops *ops;
	enum vdrv_transport transport;
	struct virtio_dev *d;
	/* virtio-pci: the bridge and function (owned after vdrv_open()) */
	struct pci_host *h;
	struct virtio_pci *vp;
	int slot;
	bool owns_pci;
	int intx; /* the INTx level, when vdrv_open() routed it */
	uint64_t bar[2]; /* GPAs of BAR 0 and 1 */
	struct vdrv_pci_cap common, isr, device, notify;
	uint32_t notify_mult;
	uint32_t sel; /* the queue selected last */
	uint16_t notify_off[VIRTIO_MAX_QUEUES];
};

/* Drive d through the core helpers or the virtio-mmio registers. */
void vdrv_init_core(struct vdrv *v, struct virtio_dev *d);
void vdrv_init_mmio(struct vdrv *v, struct virtio_dev *d);

/*
 * Create a PCI host bridge (windows at VDRV_PCI_W32 / W64), put d behind it
 * as a virtio-pci function with host (MSI-X when host->msix) and opaque,
 * its INTx on intx, and drive it. The BARs are not placed yet: see
 * vdrv_pci_bars_on(). Returns 0 or -errno; vdrv_close() undoes it.
 */
int vdrv_pci_attach(struct vdrv *v, struct virtio_dev *d,
		    const struct virtio_pci_host_ops *host, void *opaque,
		    struct irq_line intx);

/*
 * Drive d over transport, set up to run at once: virtio-pci with INTx
 * only (its level in v->intx, so v must not move until vdrv_close()) and
 * the BARs on. Returns 0 or -errno.
 */
int vdrv_open(struct vdrv *v, enum vdrv_transport transport,
	      struct virtio_dev *d);
/* Free what vdrv_open() or vdrv_pci_attach() created (not d). */
void vdrv_close(struct vdrv *v);

const char *vdrv_name(const struct vdrv *v);

/* The device status register. */
uint32_t vdrv_status(struct vdrv *v);
void vdrv_set_status(struct vdrv *v, uint32_t status);
/* Write status 0. */
void vdrv_reset(struct vdrv *v);

/* The 64 feature bits the device offers. */
uint64_t vdrv_device_features(struct vdrv *v);
/* Write the driver feature words 0 and 1. */
void vdrv_set_driver_features(struct vdrv *v, uint64_t features);
/*
 * ACKNOWLEDGE, DRIVER, the driver features as given (not masked), then
 * FEATURES_OK. Returns 0 when FEATURES_OK reads back set, else -EIO.
 */
int vdrv_negotiate(struct vdrv *v, uint64_t features);

/* Select queue q: later queue accesses are to it. */
void vdrv_select_queue(struct vdrv *v, uint32_t q);
/* The selected queue's maximum size (virtio-pci: queue_size as read). */
uint32_t vdrv_queue_max(struct vdrv *v);
/*
 * Select queue q, write its size num and ring addresses (low then high
 * halves), then QueueReady=1. Returns what QueueReady then reads (1: the
 * device accepted the queue).
 */
uint32_t vdrv_queue_setup(struct vdrv *v, uint32_t q, uint32_t num,
			  uint64_t desc, uint64_t avail, uint64_t used);
/* QueueReady of the selected queue. */
uint32_t vdrv_queue_ready(struct vdrv *v);
void vdrv_set_queue_ready(struct vdrv *v, uint32_t ready);
/*
 * Queue q on the rings of dq, fresh (drvq_reset()) as a driver sets them
 * up. Returns 0, or -EINVAL when the device refused it.
 */
int vdrv_queue_attach(struct vdrv *v, uint32_t q, struct drvq *dq);

/* Write ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK; 0 when it reads
 * back exactly so, else -EIO. */
int vdrv_driver_ok(struct vdrv *v);

/*
 * A driver's initialisation from a device fresh or reset: the offered
 * features within mask, then queue i on qs[i] for i < nr. Returns 0, -EIO
 * (FEATURES_OK refused) or -EINVAL (a queue refused). vdrv_bring_up()
 * then sets DRIVER_OK (-EIO when the device is not live).
 */
int vdrv_setup(struct vdrv *v, uint64_t mask, struct drvq *qs, unsigned int nr);
int vdrv_bring_up(struct vdrv *v, uint64_t mask, struct drvq *qs,
		  unsigned int nr);

/* Notify queue q (virtio-pci: at its queue_notify_off doorbell). */
void vdrv_notify(struct vdrv *v, uint32_t q);
/*
 * Read and acknowledge the interrupt status: VIRTIO_ISR_QUEUE and
 * VIRTIO_ISR_CONFIG bits (mmio: read, then write to InterruptACK; pci:
 * the read-to-clear ISR).
 */
uint32_t vdrv_isr_ack(struct vdrv *v);

/* The device configuration (0 where the transport shows none). */
uint64_t vdrv_config_read(struct vdrv *v, uint32_t off, unsigned int size);
void vdrv_config_write(struct vdrv *v, uint32_t off, unsigned int size,
		       uint64_t value);

/* virtio-pci: the function's configuration space through ECAM. */
uint32_t vdrv_pci_cfg_read(struct vdrv *v, uint32_t off, unsigned int size);
void vdrv_pci_cfg_write(struct vdrv *v, uint32_t off, unsigned int size,
			uint32_t value);
/* virtio-pci: an access at gpa in the bridge's 32-bit window. */
uint64_t vdrv_pci_mem_read(struct vdrv *v, uint64_t gpa, unsigned int size);
void vdrv_pci_mem_write(struct vdrv *v, uint64_t gpa, unsigned int size,
			uint64_t value);
/* The config offset of capability id / virtio capability cfg_type, 0 when
 * absent. */
uint32_t vdrv_pci_find_cap(struct vdrv *v, uint8_t id);
uint32_t vdrv_pci_find_vcap(struct vdrv *v, uint8_t cfg_type);
/* Place BAR 0 and 1 at v->bar[], turn on memory decoding and bus mastering. */
void vdrv_pci_bars_on(struct vdrv *v);
/* GPA of offset off of the common configuration (BARs placed). */
uint64_t vdrv_pci_common(struct vdrv *v, uint32_t off);
/* GPA of the ISR byte and of queue q's doorbell. */
uint64_t vdrv_pci_isr(struct vdrv *v);
uint64_t vdrv_pci_doorbell(struct vdrv *v, uint32_t q);

#endif
