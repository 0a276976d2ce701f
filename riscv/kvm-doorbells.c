// SPDX-License-Identifier: GPL-2.0-only
/* Virtio doorbells: every queue's notify goes to the I/O thread through an
 * eventfd, which KVM signals itself (ioeventfd) where it can. */
#include <errno.h>
#include <sys/ioctl.h>

#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-worker.h"
#include "riscv/machine.h"
#include <linux/virtio_mmio.h>

/*
 * Let KVM signal an eventfd for each queue's QueueNotify write, so that
 * device work runs on the I/O thread, not on the vCPU that notified. A
 * kernel without ioeventfd keeps the MMIO-exit path.
 */
int machine_mmio_doorbells(struct machine *m, struct virtio_dev *d,
			     uint64_t base)
{
	struct kvm_ioeventfd ioe = {
		.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};
	unsigned int q;
	int first = virtio_worker_add(m->worker, d);

	if (first < 0 || m->cfg->no_ioeventfd || !m->caps.ioeventfd)
		return first < 0 ? first : 0;
	for (q = 0; q < virtio_dev_ops(d)->nr_queues; q++) {
		ioe.datamatch = q;
		ioe.fd = virtio_worker_fd(m->worker, (unsigned int)first + q);
		if (ioctl(m->vm_fd, KVM_IOEVENTFD, &ioe) < 0)
			return -errno;
	}
	return 0;
}

/* Let KVM signal a queue's eventfd for writes to its PCI doorbell (or
 * stop); all of a device's doorbells or none: a failure undoes the rest. */
static int vpci_ioeventfd(struct machine *m, struct vpci_slot *s, bool assign)
{
	struct kvm_ioeventfd ioe = { .len = 2 };
	unsigned int q;
	int ret = 0;

	for (q = 0; q < s->nr_queues; q++) {
		ioe.addr = s->notify_base + q * VPCI_NOTIFY_STRIDE;
		ioe.fd = virtio_worker_fd(m->worker, s->first_notify + q);
		ioe.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN;
		if (ioctl(m->vm_fd, KVM_IOEVENTFD, &ioe) < 0 && !ret) {
			ret = -errno;
			if (assign)
				break;
		}
	}
	while (assign && ret && q--) {
		ioe.addr = s->notify_base + q * VPCI_NOTIFY_STRIDE;
		ioe.fd = virtio_worker_fd(m->worker, s->first_notify + q);
		ioe.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioctl(m->vm_fd, KVM_IOEVENTFD, &ioe);
	}
	return ret;
}

/* The guest moved (or stopped decoding) a device's BAR 0. */
void machine_vpci_notify_mapped(void *opaque, struct virtio_pci *vp,
			       uint64_t base, bool mapped)
{
	struct vpci_slot *s = opaque;
	struct machine *m = s->m;

	(void)vp;
	if (!s->nr_queues || s->notify_on == mapped)
		return;
	if (s->notify_on)
		vpci_ioeventfd(m, s, false);
	s->notify_base = base;
	s->notify_on = mapped && !vpci_ioeventfd(m, s, true);
	if (mapped && !s->notify_on)
		pr_warn_ratelimited(
			&m->rl, "virtio-pci doorbells at 0x%llx: no ioeventfd",
			(unsigned long long)base);
}

/* The I/O thread serves d's queues; with ioeventfds, KVM is told where
 * the doorbells are once the guest has placed the BAR. */
int machine_vpci_add_notify(struct machine *m, struct vpci_slot *s,
			   struct virtio_dev *d)
{
	int first = virtio_worker_add(m->worker, d);

	if (first < 0)
		return first;
	s->first_notify = (unsigned int)first;
	if (!m->cfg->no_ioeventfd && m->caps.ioeventfd)
		s->nr_queues = virtio_dev_ops(d)->nr_queues;
	return 0;
}

