// SPDX-License-Identifier: GPL-2.0-only
/* The irqchip: the userspace PLIC's lines into KVM, or the in-kernel AIA:
 * its wired sources and MSI routes (one GSI and irqfd per MSI-X vector). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lkvm/plic.h"
#include "lkvm/virtio-pci.h"
#include "riscv/kvm-aia.h"
#include "riscv/machine.h"

/* PLIC callback: a context (= hart) external interrupt line changed. */
static void plic_set_eip(void *opaque, unsigned int ctx, bool level)
{
	struct machine *m = opaque;
	struct kvm_interrupt irq = {
		.irq = level ? KVM_INTERRUPT_SET : KVM_INTERRUPT_UNSET,
	};

	if (ctx < m->nr_vcpus &&
	    ioctl(m->vcpus[ctx].fd, KVM_INTERRUPT, &irq) < 0)
		pr_warn_ratelimited(&m->rl, "KVM_INTERRUPT on vcpu%u: %s", ctx,
				    strerror(errno));
}

const struct plic_ops machine_plic_ops = { .set_eip = plic_set_eip };

/* A wired source of the in-kernel APLIC, driven with KVM_IRQ_LINE. */
static void aia_set_irq(void *opaque, unsigned int irq, int level)
{
	struct machine *m = opaque;

	if (kvm_aia_set_irq(m->vm_fd, irq, level) < 0)
		pr_warn_ratelimited(&m->rl, "KVM_IRQ_LINE %u: %s", irq,
				    strerror(errno));
}

/* Wired interrupt source irq of whichever controller the VM has. */
struct irq_line machine_wired_irq(struct machine *m, unsigned int irq)
{
	if (m->aia)
		return (struct irq_line){ aia_set_irq, m, irq };
	return (struct irq_line){ plic_set_irq, m->plic, irq };
}

static void slot_irqfds_changed(struct vdev_slot *s)
{
	if (s->irqfds_changed)
		s->irqfds_changed(s->d);
}

void machine_vectors_changed(void *opaque)
{
	slot_irqfds_changed(opaque);
}

int machine_queue_irqfd(void *opaque, unsigned int q)
{
	struct vdev_slot *s = opaque;
	unsigned int vec;

	if (!s->vp)
		return s->wired_irqfd;
	vec = virtio_pci_queue_vector(s->vp, q);
	if (vec < s->nr_vec &&
	    __atomic_load_n(&s->vec_live[vec], __ATOMIC_ACQUIRE))
		return s->irqfd[vec];
	return -1;
}

int machine_add_wired_irqfd(struct machine *m, struct vdev_slot *s)
{
	struct kvm_irqfd irqfd = { .gsi = s->wired_irq };

	if (!m->aia || s->vp)
		return 0;
	s->wired_irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wired_irqfd < 0)
		return -errno;
	irqfd.fd = (uint32_t)s->wired_irqfd;
	if (ioctl(m->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

/*
 * MSI-X vector vec of a device changed: update its GSI's route. A data
 * path that signals the vector's irqfd itself (vhost) leaves it before
 * the route goes, and takes it after the route is there: no signal meets
 * a GSI without a route.
 */
static void msi_route(void *opaque, unsigned int vec, uint64_t addr,
		      uint32_t data, bool live)
{
	struct vdev_slot *s = opaque;
	struct machine *m = s->m;
	struct kvm_irq_routing *tab;

	if (vec >= s->nr_vec)
		return;
	if (!live && __atomic_load_n(&s->vec_live[vec], __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&s->vec_live[vec], false, __ATOMIC_RELEASE);
		slot_irqfds_changed(s);
	}
	pthread_mutex_lock(&m->routes.lock);
	if (msi_routes_set(&m->routes, s->gsi + vec, addr, data, live) > 0) {
		tab = msi_routes_build(&m->routes);
		if (!tab || ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, tab) < 0)
			pr_warn_ratelimited(
				&m->rl, "KVM_SET_GSI_ROUTING (%u routes): %s",
				tab ? tab->nr : 0, strerror(errno));
		free(tab);
	}
	pthread_mutex_unlock(&m->routes.lock);
	if (live && !__atomic_load_n(&s->vec_live[vec], __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&s->vec_live[vec], true, __ATOMIC_RELEASE);
		slot_irqfds_changed(s);
	}
}

static void msi_fire(void *opaque, unsigned int vec)
{
	struct vdev_slot *s = opaque;
	uint64_t one = 1;

	if (vec < s->nr_vec && write(s->irqfd[vec], &one, sizeof(one)) < 0)
		pr_warn_ratelimited(&s->m->rl, "MSI vector %u lost: %s", vec,
				    strerror(errno));
}

const struct msix_ops machine_msix_ops = {
	.route = msi_route,
	.fire = msi_fire,
};

/* One GSI and irqfd per MSI-X vector. */
int machine_add_msi(struct machine *m, struct vdev_slot *s)
{
	struct kvm_irqfd irqfd = { 0 };
	unsigned int i;
	int gsi;

	s->nr_vec = virtio_pci_nr_vectors(s->vp);
	gsi = msi_routes_alloc(&m->routes, s->nr_vec);
	if (gsi < 0)
		return gsi;
	s->gsi = (unsigned int)gsi;
	for (i = 0; i < s->nr_vec; i++) {
		s->irqfd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		irqfd.fd = (uint32_t)s->irqfd[i];
		irqfd.gsi = s->gsi + i;
		if (s->irqfd[i] < 0 || ioctl(m->vm_fd, KVM_IRQFD, &irqfd) < 0)
			return -errno;
	}
	return 0;
}

/*
 * The irqchip: the in-kernel AIA when asked for, or with auto when KVM
 * can make one; the userspace PLIC otherwise. After the vCPUs exist.
 */
int machine_setup_irqchip(struct machine *m)
{
	static const int modes[] = {
		[AIA_MODE_DEFAULT] = -1,
		[AIA_MODE_EMUL] = KVM_DEV_RISCV_AIA_MODE_EMUL,
		[AIA_MODE_HWACCEL] = KVM_DEV_RISCV_AIA_MODE_HWACCEL,
		[AIA_MODE_AUTO] = KVM_DEV_RISCV_AIA_MODE_AUTO,
	};
	struct kvm_aia_params p =
		kvm_aia_lkvm_params(modes[m->cfg->aia_mode], m->nr_vcpus);
	struct kvm_aia_info info;
	int ret;

	if (m->cfg->irqchip == IRQCHIP_PLIC)
		return 0;
	ret = kvm_aia_setup(m->vm_fd, &p, &info);
	/* auto falls back to the PLIC only where KVM has no AIA at all */
	if (ret && (m->cfg->irqchip == IRQCHIP_AIA || info.created)) {
		pr_err("--irqchip %s: cannot give the guest the in-kernel AIA: %s",
		       m->cfg->irqchip == IRQCHIP_AIA ? "aia" : "auto",
		       info.err);
		return -1;
	}
	if (ret)
		return 0;
	m->aia = true;
	m->aia_mode = info.mode;
	m->aia_fd = info.fd;
	m->aia_ids = info.nr_ids;
	ret = msi_routes_init(&m->routes, PLIC_NR_SOURCES + 1, 64);
	if (ret) {
		pr_err("cannot set up MSI routing: %s", strerror(-ret));
		return -1;
	}
	m->routes_ready = true;
	return 0;
}
