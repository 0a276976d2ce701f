// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtio doorbells: every queue's notify goes to the I/O thread through an
 * eventfd (virtio/worker.c), or to a device's own thread through its
 * notify_fd (virtio-9p). Where KVM has ioeventfds it signals the
 * eventfd itself and the vCPU never exits for a doorbell; otherwise the
 * doorbell is an MMIO exit and the transport's kick writes the eventfd.
 * Both transports say where the doorbells are through machine_doorbells().
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lkvm/virtio-worker.h"
#include "riscv/machine.h"

/* The eventfd queue q's doorbell signals: the I/O thread's, or the
 * device's own thread's. */
static int slot_notify_fd(const struct vdev_slot *s, unsigned int q)
{
	if (s->own_notify)
		return virtio_dev_ops(s->d)->notify_fd(s->d, q);
	return virtio_worker_fd(s->m->worker, s->first_notify + q);
}

/* Let KVM signal each queue's eventfd for writes to its doorbell (or stop);
 * all of a device's doorbells or none: a failure undoes the rest. */
static int ioeventfds(struct vdev_slot *s, const struct virtio_doorbells *db,
		      bool assign)
{
	struct machine *m = s->m;
	struct kvm_ioeventfd ioe = { .len = db->len };
	unsigned int q;
	int ret = 0;

	for (q = 0; q < s->nr_queues; q++) {
		ioe.addr = db->addr + q * db->stride;
		ioe.fd = slot_notify_fd(s, q);
		/* one shared doorbell: the value written names the queue */
		ioe.flags = db->stride ? 0 : KVM_IOEVENTFD_FLAG_DATAMATCH;
		ioe.datamatch = db->stride ? 0 : q;
		if (!assign)
			ioe.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
		if (ioctl(m->vm_fd, KVM_IOEVENTFD, &ioe) < 0 && !ret) {
			ret = -errno;
			if (assign)
				break;
		}
	}
	while (assign && ret && q--) {
		ioe.addr = db->addr + q * db->stride;
		ioe.fd = slot_notify_fd(s, q);
		ioe.flags = (db->stride ? 0 : KVM_IOEVENTFD_FLAG_DATAMATCH) |
			    KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioe.datamatch = db->stride ? 0 : q;
		ioctl(m->vm_fd, KVM_IOEVENTFD, &ioe);
	}
	return ret;
}

void machine_doorbells(void *opaque, struct virtio_dev *d,
		       const struct virtio_doorbells *db)
{
	struct vdev_slot *s = opaque;
	struct machine *m = s->m;
	int ret;

	(void)d;
	if (!s->nr_queues)
		return;
	if (s->db_on) {
		ioeventfds(s, &s->db, false);
		s->db_on = false;
	}
	if (!db)
		return;
	ret = ioeventfds(s, db, true);
	if (ret) {
		/* the doorbells still work, as MMIO exits */
		pr_warn_ratelimited(
			&m->rl, "virtio doorbells at 0x%llx: no ioeventfd: %s",
			(unsigned long long)db->addr, strerror(-ret));
		return;
	}
	s->db = *db;
	s->db_on = true;
}

int machine_add_doorbells(struct machine *m, struct vdev_slot *s)
{
	int first;

	if (virtio_dev_ops(s->d)->notify_fd) {
		/* its own thread waits on its doorbells (virtio-9p) */
		s->own_notify = true;
	} else {
		first = virtio_worker_add(m->worker, s->d);
		if (first < 0)
			return first;
		s->first_notify = (unsigned int)first;
	}
	if (!m->cfg->no_ioeventfd && m->caps.ioeventfd)
		s->nr_queues = virtio_dev_ops(s->d)->nr_queues;
	return 0;
}
