/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-pci modern transport (Virtio 1.2, 4.1): a PCI function whose
 * vendor capabilities point at the common, ISR, device and notify
 * structures in BAR 0, the PCI configuration access capability, and with
 * MSI-X (table and PBA in BAR 1) when the machine can deliver MSIs. All
 * register checks are virtio/core.c's, shared with virtio-mmio.
 */
#ifndef LKVM_VIRTIO_PCI_H
#define LKVM_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/msix.h"
#include "lkvm/pci.h"
#include "lkvm/virtio.h"

/* BAR 0 layout. */
#define VPCI_BAR0_SIZE 0x4000u
#define VPCI_COMMON_OFF 0x0000u
#define VPCI_ISR_OFF 0x1000u
#define VPCI_DEVICE_OFF 0x2000u
#define VPCI_NOTIFY_OFF 0x3000u
#define VPCI_NOTIFY_STRIDE 4u /* notify_off_multiplier; queue q at q * 4 */
/* BAR 1: the MSI-X table, then the PBA. */
#define VPCI_BAR1_SIZE 0x1000u
#define VPCI_PBA_OFF 0x800u

#define VPCI_VENDOR 0x1af4
#define VPCI_DEVICE_BASE 0x1040 /* + virtio device ID */

struct virtio_pci;

/* What the machine provides. */
struct virtio_pci_host_ops {
	/* MSI-X delivery; NULL: no MSI-X capability, INTx only. */
	const struct msix_ops *msix;
	/*
	 * The doorbells (the notify area in BAR 0: queue q's at q *
	 * VPCI_NOTIFY_STRIDE, 2 bytes) decode now where the guest mapped the
	 * BAR, or no longer do. May be NULL.
	 */
	virtio_doorbells_fn *doorbells;
	/*
	 * A queue's MSI-X vector changed (the driver wrote one, or reset the
	 * device): for a host that points a data path outside lkvm at the
	 * vector's irqfd. vCPU thread, no virtio lock held. May be NULL.
	 */
	void (*vectors_changed)(void *opaque);
};

/*
 * Serve d over PCI. d's interrupt line is replaced by the function's INTx
 * (the bridge routes it); with host->msix, d gets one vector per queue plus
 * one for configuration changes. opaque goes to host's callbacks. Returns
 * 0 or -errno.
 */
int virtio_pci_create(struct virtio_pci **out, struct virtio_dev *d,
		      const struct virtio_pci_host_ops *host, void *opaque);
void virtio_pci_destroy(struct virtio_pci *vp);

/* The PCI function to add to a bridge. */
struct pci_dev *virtio_pci_dev(struct virtio_pci *vp);
/* Vectors of its MSI-X table (0 without MSI-X). */
unsigned int virtio_pci_nr_vectors(const struct virtio_pci *vp);
/* Queue q's MSI-X vector as the driver set it (VIRTIO_MSI_NO_VECTOR for
 * none or an out-of-range q). Any thread. */
uint16_t virtio_pci_queue_vector(const struct virtio_pci *vp, unsigned int q);

#endif
