// SPDX-License-Identifier: GPL-2.0-only
/* The RISC-V machine: VM, RAM, devices, boot images, FDT, and its life. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/disk.h"
#include "lkvm/fdt.h"
#include "lkvm/plic.h"
#include "lkvm/seccomp.h"
#include "lkvm/term.h"
#include "lkvm/uart.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-worker.h"

#include <linux/virtio_mmio.h>
#include "riscv/kvm-aia.h"
#include "riscv/kvm-regs.h"
#include "riscv/machine.h"

#define UART_CLOCK 3686400

double machine_elapsed_ms(const struct machine *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - m->t_start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - m->t_start.tv_nsec) / 1e6;
}

void machine_stop(struct machine *m, int code)
{
	uint64_t one = 1;

	if (atomic_exchange(&m->stopping, 1))
		return;
	atomic_store(&m->exit_code, code);
	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		pr_err("cannot signal the VM's stop: %s", strerror(errno));
}

static int vm_create(struct machine *m)
{
	int api, size;

	m->kvm_fd = kvm_open_dev(m->cfg->kvm_dev);
	if (m->kvm_fd < 0)
		return -1;
	api = ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		pr_err("%s: KVM API version %d, lkvm needs %d", m->cfg->kvm_dev,
		       api, KVM_API_VERSION);
		return -1;
	}
	size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		return -1;
	}
	m->run_size = (size_t)size;
	if (ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG) <= 0) {
		pr_err("this KVM lacks KVM_CAP_USER_MEMORY or KVM_CAP_ONE_REG");
		return -1;
	}
	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0) {
		pr_err("cannot create a VM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The kernel's default huge page size in bytes, 0 when it has none. */
static uint64_t huge_page_size(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib << 10;
}

/*
 * Anonymous guest RAM, or with --hugetlb huge pages from the kernel's
 * pool: KVM then maps the guest in huge blocks, sparing a stage-2 fault
 * per 4 KiB page (costly when the host itself runs nested). Hugetlb RAM is
 * reserved at mmap() (no MAP_NORESERVE), so a short pool fails here, not
 * with SIGBUS later.
 */
static int vm_map_ram(struct machine *m)
{
	bool huge = m->cfg->hugetlb;
	uint64_t hps = huge ? huge_page_size() : 0;

	m->ram_size = m->cfg->mem_mib << 20;
	if (huge && !hps) {
		pr_err("--hugetlb: this kernel has no huge pages");
		return -1;
	}
	if (huge && m->ram_size % hps) {
		pr_err("--hugetlb: -m %llu MiB is not a multiple of the huge page size (%llu KiB)",
		       (unsigned long long)m->cfg->mem_mib,
		       (unsigned long long)(hps >> 10));
		return -1;
	}
	m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS |
			      (huge ? MAP_HUGETLB : MAP_NORESERVE),
		      -1, 0);
	if (m->ram != MAP_FAILED)
		return 0;
	m->ram = NULL;
	if (huge)
		pr_err("cannot allocate %llu MiB of guest RAM from huge pages: %s (the pool is /proc/sys/vm/nr_hugepages)",
		       (unsigned long long)m->cfg->mem_mib, strerror(errno));
	else
		pr_err("cannot allocate %llu MiB of guest RAM: %s",
		       (unsigned long long)m->cfg->mem_mib, strerror(errno));
	return -1;
}

static int vm_setup_ram(struct machine *m)
{
	struct kvm_userspace_memory_region region = { .slot = 0 };

	if (vm_map_ram(m))
		return -1;
	madvise(m->ram, m->ram_size, MADV_HUGEPAGE);
	madvise(m->ram, m->ram_size, MADV_MERGEABLE);
	region.guest_phys_addr = MEMMAP_RAM_BASE;
	region.memory_size = m->ram_size;
	region.userspace_addr = (uint64_t)(unsigned long)m->ram;
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		pr_err("cannot give the VM %llu MiB of RAM at 0x%llx: %s",
		       (unsigned long long)m->cfg->mem_mib,
		       (unsigned long long)MEMMAP_RAM_BASE, strerror(errno));
		return -1;
	}
	return gmem_add(&m->mem, MEMMAP_RAM_BASE, m->ram_size, m->ram);
}

static int vm_create_vcpus(struct machine *m)
{
	unsigned int i;

	if (m->caps.max_vcpus && m->cfg->nr_cpus > m->caps.max_vcpus) {
		pr_err("-c %u: this KVM allows at most %u vCPUs",
		       m->cfg->nr_cpus, m->caps.max_vcpus);
		return -1;
	}
	m->vcpus = calloc(m->cfg->nr_cpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -1;
	for (i = 0; i < m->cfg->nr_cpus; i++) {
		m->vcpus[i].fd = -1;
		m->vcpus[i].stats_fd = -1;
		if (vcpu_create(m, &m->vcpus[i], i))
			return -1;
		m->nr_vcpus++;
	}
	kvm_caps_fill(m->kvm_fd, m->vcpus[0].fd, &m->caps);
	return 0;
}

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

static const struct plic_ops machine_plic_ops = { .set_eip = plic_set_eip };

static void uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	console_write(&m->con, buf, len);
}

static void uart_rx_ready(void *opaque)
{
	struct machine *m = opaque;
	uint64_t one = 1;

	/* The input thread moves queued input into the FIFO. */
	if (write(m->wake_fd, &one, sizeof(one)) < 0)
		pr_warn_ratelimited(&m->rl, "console wake-up lost");
}

/* The UART's THR (offset 0, one byte) as a coalesced zone, or not. */
static void uart_zone_set(struct machine *m, bool on)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = MEMMAP_UART_BASE,
		.size = 1,
	};

	pthread_mutex_lock(&m->zone_lock);
	if (m->cring && m->zone_on != on &&
	    ioctl(m->vm_fd,
		  on ? KVM_REGISTER_COALESCED_MMIO
		     : KVM_UNREGISTER_COALESCED_MMIO,
		  &z) == 0)
		m->zone_on = on;
	pthread_mutex_unlock(&m->zone_lock);
}

/* With ETBEI on, the guest waits for THRE interrupts that only a THR
 * write seen at once can raise: no batching then. */
static void uart_thri(void *opaque, bool on)
{
	uart_zone_set(opaque, !on);
}

/* The memslot of the UART's register image; slot 0 is RAM. */
#define MEMSLOT_UART_IMAGE 1

/*
 * Show the guest the UART's register image, read-only, over the UART's
 * page: its reads then cost no exit (Linux's console reads LSR before
 * every byte it writes). Writes to a read-only memslot still exit as MMIO,
 * or land in the coalesced ring. Called with the UART lock held.
 */
static void uart_image(void *opaque, const uint8_t *regs)
{
	struct machine *m = opaque;
	struct kvm_userspace_memory_region r = {
		.slot = MEMSLOT_UART_IMAGE,
		.flags = KVM_MEM_READONLY,
		.guest_phys_addr = MEMMAP_UART_BASE,
	};
	double t0 = machine_elapsed_ms(m);

	if (!m->uart_page || m->uart_page_broken)
		return;
	if (regs) {
		memcpy(m->uart_page, regs, UART_NR_REGS);
		if (m->uart_page_mapped)
			return;
		r.memory_size = m->uart_page_size;
		r.userspace_addr = (uint64_t)(unsigned long)m->uart_page;
	} else if (!m->uart_page_mapped) {
		return;
	}
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		if (regs) {
			/* reads keep exiting: correct, only slower */
			pr_warn("UART register image: cannot map it: %s",
				strerror(errno));
			m->uart_page_broken = true;
			return;
		}
		/* the guest would go on reading stale registers */
		pr_err("UART register image: cannot unmap it: %s: stopping the VM",
		       strerror(errno));
		machine_stop(m, LKVM_EXIT_ERROR);
		return;
	}
	m->uart_page_mapped = regs != NULL;
	if (regs)
		m->uart_page_maps++;
	else
		m->uart_page_unmaps++;
	m->uart_page_ns += (uint64_t)((machine_elapsed_ms(m) - t0) * 1e6);
}

static const struct uart_backend machine_uart_backend = {
	.tx = uart_tx,
	.rx_ready = uart_rx_ready,
	.thri = uart_thri,
	.image = uart_image,
};

/*
 * A page for the UART's register image when KVM has read-only memslots
 * and the UART's region is exactly one host page. Without it every UART
 * read exits, as before.
 */
static void vm_setup_uart_image(struct machine *m)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (m->cfg->no_uart_image || page != UART_MMIO_REGION_SIZE ||
	    MEMMAP_UART_BASE % UART_MMIO_REGION_SIZE ||
	    ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return;
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return;
	m->uart_page_size = (size_t)page;
	m->uart_page = p;
}

void machine_drain_coalesced(struct machine *m)
{
	struct kvm_coalesced_mmio_ring *r = m->cring;
	struct kvm_coalesced_mmio e;
	uint32_t first;

	if (!r || __atomic_load_n(&r->first, __ATOMIC_RELAXED) ==
			  __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&m->cring_lock);
	/* the kernel fills an entry before it moves last (acquire pairs
	 * with its smp_wmb); we copy an entry out before freeing it */
	while ((first = r->first) % m->cring_max !=
	       __atomic_load_n(&r->last, __ATOMIC_ACQUIRE) % m->cring_max) {
		first %= m->cring_max;
		memcpy(&e, &r->coalesced_mmio[first], sizeof(e));
		if (!e.pio && e.len && e.len <= sizeof(e.data))
			mmio_access(&m->bus, e.phys_addr, e.data, e.len, true);
		__atomic_store_n(&r->first, (first + 1) % m->cring_max,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->cring_lock);
}

/*
 * Map KVM's coalesced MMIO ring (it sits in every vCPU's mapping, one for
 * the VM) and batch THR writes: Linux's console writes a byte per THR
 * write after an LSR read, so this halves the exits of console output.
 * Without the capability every write exits as before.
 */
static void vm_setup_coalesced(struct machine *m)
{
	long page = sysconf(_SC_PAGESIZE);
	int off = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	if (m->cfg->no_coalesced || off <= 0 || page <= 0 ||
	    (size_t)(off + 1) * (size_t)page > m->run_size)
		return;
	/* page-aligned: the cast is safe */
	m->cring = (void *)((uint8_t *)m->vcpus[0].run +
			    (size_t)off * (size_t)page);
	m->cring_max = (unsigned int)(((size_t)page - sizeof(*m->cring)) /
				      sizeof(m->cring->coalesced_mmio[0]));
	uart_zone_set(m, true);
	if (!m->zone_on)
		m->cring = NULL;
}

static void sbi_con_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	console_write(&m->con, buf, len);
}

static size_t sbi_con_read(void *opaque, uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	return console_read(&m->con, buf, len);
}

static const struct sbi_console_ops machine_sbi_console = {
	.write = sbi_con_write,
	.read = sbi_con_read,
};

/*
 * Let KVM signal an eventfd for each queue's QueueNotify write, so that
 * device work runs on the I/O thread, not on the vCPU that notified. A
 * kernel without ioeventfd keeps the MMIO-exit path.
 */
static int vm_add_ioeventfds(struct machine *m, struct virtio_dev *d,
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

/* A wired source of the in-kernel APLIC, driven with KVM_IRQ_LINE. */
static void aia_set_irq(void *opaque, unsigned int irq, int level)
{
	struct machine *m = opaque;

	if (kvm_aia_set_irq(m->vm_fd, irq, level) < 0)
		pr_warn_ratelimited(&m->rl, "KVM_IRQ_LINE %u: %s", irq,
				    strerror(errno));
}

/* Wired interrupt source irq of whichever controller the VM has. */
static struct irq_line wired_irq(struct machine *m, unsigned int irq)
{
	if (m->aia)
		return (struct irq_line){ aia_set_irq, m, irq };
	return (struct irq_line){ plic_set_irq, m->plic, irq };
}

/* The interrupt line the next virtio-mmio device gets (PCI devices get
 * their INTx line from the bridge instead). */
static struct irq_line next_virtio_irq(struct machine *m)
{
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI)
		return (struct irq_line){ 0 };
	return wired_irq(m, IRQ_VIRTIO_BASE + m->nr_virtio);
}

/* Serve d over virtio-mmio at the next slot (its irq from
 * next_virtio_irq()). */
static int vm_add_virtio_mmio(struct machine *m, struct virtio_dev *d)
{
	uint64_t base =
		MEMMAP_VIRTIO_MMIO_BASE + m->nr_virtio * VIRTIO_MMIO_STRIDE;
	int ret;

	if (!d || m->nr_virtio >= VM_MAX_VIRTIO)
		return -ENOSPC;
	ret = mmio_register(&m->bus, base, VIRTIO_MMIO_REGION_SIZE,
			    VIRTIO_MMIO_SIZES, &virtio_mmio_ops, d,
			    virtio_dev_ops(d)->name);
	ret = ret ?: vm_add_ioeventfds(m, d, base);
	if (ret)
		return ret;
	m->virtio[m->nr_virtio++] = d;
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
static void vpci_notify_mapped(void *opaque, struct virtio_pci *vp,
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

/* MSI-X vector vec of a device changed: update its GSI's route. */
static void vpci_msi_route(void *opaque, unsigned int vec, uint64_t addr,
			   uint32_t data, bool live)
{
	struct vpci_slot *s = opaque;
	struct machine *m = s->m;
	struct kvm_irq_routing *tab;

	if (vec >= s->nr_vec)
		return;
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
}

static void vpci_msi_fire(void *opaque, unsigned int vec)
{
	struct vpci_slot *s = opaque;
	uint64_t one = 1;

	if (vec < s->nr_vec && write(s->irqfd[vec], &one, sizeof(one)) < 0)
		pr_warn_ratelimited(&s->m->rl, "MSI vector %u lost: %s", vec,
				    strerror(errno));
}

static const struct msix_ops machine_msix_ops = {
	.route = vpci_msi_route,
	.fire = vpci_msi_fire,
};

static const struct virtio_pci_host_ops vpci_host_msix = {
	.msix = &machine_msix_ops,
	.notify_mapped = vpci_notify_mapped,
};

static const struct virtio_pci_host_ops vpci_host_intx = {
	.notify_mapped = vpci_notify_mapped,
};

/* The I/O thread serves d's queues; with ioeventfds, KVM is told where
 * the doorbells are once the guest has placed the BAR. */
static int vpci_add_notify(struct machine *m, struct vpci_slot *s,
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

/* One GSI and irqfd per MSI-X vector. */
static int vpci_add_msi(struct machine *m, struct vpci_slot *s)
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

/* Serve d over virtio-pci in the next slot of bus 0. */
static int vm_add_virtio_pci(struct machine *m, struct virtio_dev *d)
{
	struct vpci_slot *s;
	int ret, slot;

	if (!d || m->nr_vpci >= VM_MAX_VIRTIO)
		return -ENOSPC;
	s = &m->vpci[m->nr_vpci];
	memset(s, 0, sizeof(*s));
	for (slot = 0; slot < MSIX_MAX_VECTORS; slot++)
		s->irqfd[slot] = -1;
	s->m = m;
	ret = virtio_pci_create(&s->vp, d,
				m->aia ? &vpci_host_msix : &vpci_host_intx, s);
	if (ret)
		return ret;
	m->nr_vpci++;
	ret = vpci_add_notify(m, s, d);
	ret = ret ?: (m->aia ? vpci_add_msi(m, s) : 0);
	if (ret)
		return ret;
	/* INTx: the bridge's shared, swizzled lines */
	slot = pci_host_add(m->pci, virtio_pci_dev(s->vp),
			    (struct irq_line){ 0 });
	return slot < 0 ? slot : 0;
}

static int vm_setup_pci(struct machine *m)
{
	uint64_t base64 = memmap_pci_mmio64_base(m->ram_size);
	struct irq_line intx[4];
	unsigned int i;
	int ret;

	ret = pci_host_create(&m->pci, MEMMAP_PCI_MMIO32_BASE,
			      MEMMAP_PCI_MMIO32_SIZE, base64,
			      MEMMAP_PCI_MMIO64_SIZE);
	for (i = 0; !ret && i < 4; i++)
		intx[i] = wired_irq(m, IRQ_PCI_INTX_BASE + i);
	if (!ret)
		pci_host_set_intx(m->pci, intx);
	ret = ret
		      ?: mmio_register(&m->bus, MEMMAP_PCI_ECAM_BASE,
				       PCI_ECAM_BUS_SIZE, PCI_ECAM_SIZES,
				       &pci_ecam_ops, m->pci, "pci-ecam");
	ret = ret
		      ?: mmio_register(&m->bus, MEMMAP_PCI_MMIO32_BASE,
				       MEMMAP_PCI_MMIO32_SIZE, PCI_WINDOW_SIZES,
				       &pci_window_ops,
				       pci_host_window(m->pci, 0),
				       "pci-mmio32");
	ret = ret
		      ?: mmio_register(&m->bus, base64, MEMMAP_PCI_MMIO64_SIZE,
				       PCI_WINDOW_SIZES, &pci_window_ops,
				       pci_host_window(m->pci, 1),
				       "pci-mmio64");
	if (ret)
		pr_err("cannot set up the PCI host bridge: %s", strerror(-ret));
	return ret ? -1 : 0;
}

/* Serve d over the configured transport. */
static int vm_add_virtio(struct machine *m, struct virtio_dev *d)
{
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI)
		return vm_add_virtio_pci(m, d);
	return vm_add_virtio_mmio(m, d);
}

/*
 * The irqchip: the in-kernel AIA when asked for, or with auto when KVM
 * can make one; the userspace PLIC otherwise. After the vCPUs exist.
 */
static int vm_setup_irqchip(struct machine *m)
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

/* Open every -d image before anything else, so that a bad one fails
 * fast with one line. */
static int vm_open_disks(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	char err[512];
	unsigned int i;

	for (i = 0; i < cfg->nr_disks; i++) {
		const struct disk_spec *s = &cfg->disks[i];

		if (disk_open(&m->disks[i], s->path, s->ro, s->direct, err,
			      sizeof(err))) {
			pr_err("%s", err);
			return -1;
		}
		m->nr_disks++;
	}
	return 0;
}

/* Serve a new device d (NULL: its constructor failed, errno says why). */
static int vm_add_new_virtio(struct machine *m, struct virtio_dev *d)
{
	if (!d)
		return errno ? -errno : -ENOMEM;
	return vm_add_virtio(m, d);
}

static int vm_setup_virtio(struct machine *m)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->nr_disks && !ret; i++) {
		errno = 0;
		m->blks[i] = virtio_blk_create(
			&m->mem, next_virtio_irq(m), m->disks[i],
			m->cfg->io_engine == IO_ENGINE_AIO);
		ret = vm_add_new_virtio(m, m->blks[i]);
	}
	if (m->cfg->console == CONSOLE_VIRTIO && !ret) {
		errno = 0;
		m->vcon = virtio_console_create(&m->mem, next_virtio_irq(m),
						&m->con);
		ret = vm_add_new_virtio(m, m->vcon);
	}
	if (m->cfg->rng && !ret) {
		errno = 0;
		m->rng = virtio_rng_create(&m->mem, next_virtio_irq(m));
		ret = vm_add_new_virtio(m, m->rng);
	}
	if (ret)
		pr_err("cannot set up the virtio devices: %s", strerror(-ret));
	return ret ? -1 : 0;
}

static int vm_setup_devices(struct machine *m)
{
	int ret = 0;

	console_init(&m->con, STDOUT_FILENO);
	/* a write(2) per line, not per byte: the 8250 sends a byte per exit */
	if (console_buffer_output(&m->con))
		pr_warn("console output unbuffered: cannot start its thread");
	sbi_init(&m->sbi, &m->mem, &machine_sbi_console, m);
	if (!m->aia) {
		ret = plic_create(&m->plic, PLIC_NR_SOURCES, m->nr_vcpus,
				  &machine_plic_ops, m);
		ret = ret
			      ?: mmio_register(&m->bus, MEMMAP_PLIC_BASE,
					       plic_mmio_size(m->nr_vcpus),
					       PLIC_MMIO_SIZES, &plic_mmio_ops,
					       m->plic, "plic");
	}
	ret = ret
		      ?: uart_create(&m->uart, &machine_uart_backend, m,
				     wired_irq(m, IRQ_UART));
	ret = ret
		      ?: mmio_register(&m->bus, MEMMAP_UART_BASE,
				       UART_MMIO_REGION_SIZE, UART_MMIO_SIZES,
				       &uart_mmio_ops, m->uart, "uart");
	if (ret) {
		pr_err("cannot set up the devices: %s", strerror(-ret));
		return -1;
	}
	if (m->cfg->console == CONSOLE_SERIAL)
		m->con.uart = m->uart;
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI && vm_setup_pci(m))
		return -1;
	return vm_setup_virtio(m);
}

static bool page_is_zero(const uint8_t *p, size_t len)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (w)
			return false;
	}
	for (; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Read all of a file into guest RAM at gpa. The RAM is fresh anonymous
 * memory, all zero, so pages of the file that are all zero are not
 * written: about half of a Linux Image is zero padding, and not faulting
 * in and filling those pages roughly halves the time lkvm takes to load
 * it (they stay unallocated until the guest touches them).
 */
static int load_file(struct machine *m, int fd, const char *what,
		     const char *path, uint64_t gpa, uint64_t size)
{
	enum { CHUNK = 64 << 10, PAGE = 4096 };
	uint8_t *dst = gmem_ptr(&m->mem, gpa, size), *buf;
	uint64_t done = 0;
	size_t got = 0, i, n;

	if (!dst)
		return -1;
	buf = malloc(CHUNK);
	if (!buf) {
		pr_err("cannot read %s %s: out of memory", what, path);
		return -1;
	}
	while (done < size) {
		size_t want = size - done < CHUNK ? size - done : CHUNK;
		ssize_t r =
			pread(fd, buf + got, want - got, (off_t)(done + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_err("cannot read %s %s: %s", what, path,
			       r ? strerror(errno) : "file shrank");
			free(buf);
			return -1;
		}
		got += (size_t)r;
		if (got < want)
			continue;
		for (i = 0; i < got; i += n) {
			n = got - i < PAGE ? got - i : PAGE;
			if (!page_is_zero(buf + i, n))
				memcpy(dst + done + i, buf + i, n);
		}
		done += got;
		got = 0;
	}
	free(buf);
	return 0;
}

static int open_sized(const char *what, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("cannot open %s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static int vm_load_images(struct machine *m, struct kernel_info *ki)
{
	const struct vm_config *cfg = m->cfg;
	uint64_t ksize, isize = 0;
	uint8_t head[RISCV_IMAGE_HEADER_SIZE] = { 0 };
	int kfd, ifd = -1, ret = -1;
	char err[256];
	double t0;

	kfd = open_sized("kernel", cfg->kernel, &ksize);
	if (kfd < 0)
		return -1;
	if (pread(kfd, head, sizeof(head), 0) < 0 ||
	    kernel_inspect(head, sizeof(head), ksize, ki, err, sizeof(err))) {
		pr_err("kernel %s: %s", cfg->kernel, err);
		goto out;
	}
	if (cfg->initrd) {
		ifd = open_sized("initrd", cfg->initrd, &isize);
		if (ifd < 0)
			goto out;
	}
	if (boot_plan(MEMMAP_RAM_BASE, m->ram_size, ki, isize, &m->plan, err,
		      sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	t0 = machine_elapsed_ms(m);
	ret = load_file(m, kfd, "kernel", cfg->kernel, m->plan.kernel_addr,
			ksize);
	if (!ret && ifd >= 0)
		ret = load_file(m, ifd, "initrd", cfg->initrd,
				m->plan.initrd_addr, isize);
	if (!ret && (cfg->stats || cfg->debug))
		pr_info("images: kernel and initrd loaded in %.1f ms, from %.1f ms after lkvm run",
			machine_elapsed_ms(m) - t0, t0);
out:
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	return ret;
}

static int write_dtb(const char *path, const void *fdt, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0) {
		pr_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, fdt, size);
	close(fd);
	if (n != (ssize_t)size) {
		pr_err("cannot write %s", path);
		return -1;
	}
	return 0;
}

static int vm_setup_fdt(struct machine *m)
{
	struct fdt_params p = { 0 };
	char bootargs[VM_BOOTARGS_MAX];
	void *buf = gmem_ptr(&m->mem, m->plan.fdt_addr, m->plan.fdt_size);
	unsigned int i;
	int size;

	if (run_bootargs(m->cfg, m->vcpus[0].dbcn, bootargs,
			 sizeof(bootargs)) >= sizeof(bootargs)) {
		pr_err("the kernel command line is longer than %d bytes",
		       VM_BOOTARGS_MAX - 1);
		return -1;
	}
	p.nr_cpus = m->nr_vcpus;
	p.caps = &m->caps;
	p.ram_base = MEMMAP_RAM_BASE;
	p.ram_size = m->ram_size;
	p.bootargs = bootargs;
	if (m->plan.initrd_size) {
		p.initrd_start = m->plan.initrd_addr;
		p.initrd_end = m->plan.initrd_addr + m->plan.initrd_size;
	}
	p.aia = m->aia;
	p.plic_base = MEMMAP_PLIC_BASE;
	p.plic_size = plic_mmio_size(m->nr_vcpus);
	p.plic_ndev = PLIC_NR_SOURCES;
	p.aplic_base = MEMMAP_APLIC_BASE;
	p.aplic_size = MEMMAP_APLIC_SIZE;
	p.aplic_nsrc = PLIC_NR_SOURCES;
	p.imsic_base = MEMMAP_IMSIC_BASE;
	p.imsic_stride = MEMMAP_IMSIC_STRIDE;
	p.imsic_nids = m->aia_ids;
	p.pci = m->pci != NULL;
	p.pci_ecam_base = MEMMAP_PCI_ECAM_BASE;
	p.pci_ecam_size = PCI_ECAM_BUS_SIZE;
	p.pci_mmio32_base = MEMMAP_PCI_MMIO32_BASE;
	p.pci_mmio32_size = MEMMAP_PCI_MMIO32_SIZE;
	p.pci_mmio64_base = memmap_pci_mmio64_base(m->ram_size);
	p.pci_mmio64_size = MEMMAP_PCI_MMIO64_SIZE;
	p.pci_intx_base = IRQ_PCI_INTX_BASE;
	p.uart_base = MEMMAP_UART_BASE;
	p.uart_size = UART_MMIO_REGION_SIZE;
	p.uart_irq = IRQ_UART;
	p.uart_clock = UART_CLOCK;
	p.stdout_serial = m->cfg->console == CONSOLE_SERIAL;
	for (i = 0; i < m->nr_virtio && i < FDT_MAX_DEVS; i++)
		p.devs[p.nr_devs++] = (struct fdt_dev){
			"virtio", "virtio,mmio",
			MEMMAP_VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE,
			VIRTIO_MMIO_REGION_SIZE, IRQ_VIRTIO_BASE + i
		};
	size = buf ? fdt_build(buf, m->plan.fdt_size, &p) : -1;
	if (size < 0) {
		pr_err("cannot build the device tree (error %d)", size);
		return -1;
	}
	if (m->cfg->dump_dtb && write_dtb(m->cfg->dump_dtb, buf, (size_t)size))
		return -1;
	return 0;
}

/* Host input: stdin to the console queue, and queued input to the UART. */
static void *input_thread(void *arg)
{
	struct machine *m = arg;
	bool tty = isatty(STDIN_FILENO), quit;
	struct pollfd pfd[3] = {
		{ .fd = m->stop_fd, .events = POLLIN },
		{ .fd = m->wake_fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};
	struct term_escape esc = { 0 };
	uint8_t in[256], out[256];
	uint64_t count;
	nfds_t n = 3;

	seccomp_thread_start(SECCOMP_THREAD_INPUT, "input");
	/* batched THR writes also reach the host when the guest makes no
	 * exit for a while (a spinning or panicked kernel): every 20 ms */
	while (poll(pfd, n, m->cring ? 20 : -1) >= 0 || errno == EINTR) {
		if (pfd[0].revents)
			break;
		machine_drain_coalesced(m);
		if (pfd[1].revents & POLLIN &&
		    read(m->wake_fd, &count, sizeof(count)) > 0)
			console_flush(&m->con);
		if (n == 3 && pfd[2].revents) {
			ssize_t r = read(STDIN_FILENO, in, sizeof(in));
			size_t k = r > 0 ? (size_t)r : 0;

			if (r <= 0 && !(r < 0 && errno == EINTR))
				n = 2; /* end of input: stop reading it */
			if (tty)
				k = term_filter(&esc, in, k, out, &quit);
			else
				memcpy(out, in, k), quit = false;
			console_input(&m->con, out, k);
			if (m->vcon)
				virtio_console_input(m->vcon);
			if (quit)
				machine_stop(m, LKVM_EXIT_SHUTDOWN);
		}
	}
	return NULL;
}

/* Peak RSS (VmHWM) in KiB, or 0. */
static uint64_t peak_rss_kib(void)
{
	char line[128];
	unsigned long long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Guest RAM pages resident now, in KiB (they only grow while it runs). */
static uint64_t ram_resident_kib(const struct machine *m)
{
	long psize = sysconf(_SC_PAGESIZE);
	size_t pages = m->ram_size / (uint64_t)psize, i;
	unsigned char *vec = malloc(pages);
	uint64_t n = 0;

	if (!vec)
		return 0;
	if (!mincore(m->ram, m->ram_size, vec))
		for (i = 0; i < pages; i++)
			n += vec[i] & 1;
	free(vec);
	return n * (uint64_t)psize / 1024;
}

static void print_stats(struct machine *m)
{
	uint64_t peak = peak_rss_kib(), ram = ram_resident_kib(m);
	unsigned int i;

	pr_info("stats: ran %.1f ms; peak RSS %.1f MiB, guest RAM resident %.1f MiB, lkvm itself %.1f MiB",
		machine_elapsed_ms(m), (double)peak / 1024, (double)ram / 1024,
		(double)(peak > ram ? peak - ram : 0) / 1024);
	if (m->uart_page_size)
		pr_info("stats: uart register image mapped %lu times, unmapped %lu, %.1f ms in memslot changes",
			m->uart_page_maps, m->uart_page_unmaps,
			(double)m->uart_page_ns / 1e6);
	for (i = 0; i < m->nr_disks; i++) {
		struct virtio_blk_stats st;

		if (!m->blks[i])
			continue;
		virtio_blk_get_stats(m->blks[i], &st);
		pr_info("stats: disk vd%c (%s): %llu reads, %llu writes, %llu flushes, %llu syncs, %llu write-through writes",
			'a' + i, m->cfg->disks[i].path,
			(unsigned long long)st.reads,
			(unsigned long long)st.writes,
			(unsigned long long)st.flushes,
			(unsigned long long)st.syncs,
			(unsigned long long)st.dsync_writes);
	}
	if (console_dropped(&m->con))
		pr_info("stats: console output dropped: %llu bytes (its reader was gone or too slow)",
			console_dropped(&m->con));
}

/* Wait for the guest to stop or for SIGINT/SIGTERM; the exit status. */
static int vm_wait(struct machine *m, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = m->stop_fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;

	while (poll(pfd, 2, -1) < 0 && errno == EINTR)
		;
	if (pfd[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
		pr_info("signal %u: stopping the VM", si.ssi_signo);
		machine_stop(m, 128 + (int)si.ssi_signo);
	}
	return atomic_load(&m->exit_code);
}

static int vm_boot(struct machine *m, const struct kernel_info *ki)
{
	unsigned int i;

	(void)ki;
	if (vcpu_boot_regs(&m->vcpus[0], m->plan.kernel_addr, m->plan.fdt_addr))
		return -1;
	for (i = 0; i < m->nr_vcpus; i++)
		if (vcpu_start(&m->vcpus[i]))
			return -1;
	return 0;
}

/* Stop and join the vCPUs: afterwards no guest access reaches a device. */
static void vm_stop_vcpus(struct machine *m)
{
	unsigned int i;

	atomic_store(&m->stopping, 1);
	/* a vCPU resetting a device must not wait for its disk I/O */
	for (i = 0; i < m->nr_disks; i++)
		if (m->blks[i])
			virtio_dev_shutdown(m->blks[i]);
	if (m->vcon)
		virtio_dev_shutdown(m->vcon);
	if (m->rng)
		virtio_dev_shutdown(m->rng);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
	for (i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i].thread_started)
			pthread_join(m->vcpus[i].thread, NULL);
	/* the ring lives in vCPU 0's mapping: apply what is left first */
	machine_drain_coalesced(m);
	m->cring = NULL;
}

/*
 * Free the machine. The vCPUs and the I/O thread have stopped; the devices
 * drain first (a disk completion may still interrupt through the PCI
 * function, the irqchip and a vCPU's fd), then what they signal goes.
 */
static void vm_teardown(struct machine *m)
{
	unsigned int i;

	if (m->uart)
		uart_destroy(m->uart);
	if (m->uart_page_size)
		munmap(m->uart_page, m->uart_page_size);
	virtio_rng_destroy(m->rng);
	virtio_console_destroy(m->vcon);
	for (i = 0; i < m->nr_disks; i++) {
		if (m->blks[i])
			virtio_blk_destroy(m->blks[i]);
		disk_close(m->disks[i]);
	}
	for (i = 0; i < m->nr_vpci; i++) {
		unsigned int v;

		virtio_pci_destroy(m->vpci[i].vp);
		for (v = 0; v < MSIX_MAX_VECTORS; v++)
			if (m->vpci[i].irqfd[v] >= 0)
				close(m->vpci[i].irqfd[v]);
	}
	if (m->pci)
		pci_host_destroy(m->pci);
	if (m->routes_ready)
		msi_routes_destroy(&m->routes);
	virtio_worker_destroy(m->worker);
	if (m->plic)
		plic_destroy(m->plic);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	if (m->ram)
		munmap(m->ram, m->ram_size);
	if (m->aia_fd >= 0)
		close(m->aia_fd);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
}

static int vm_setup(struct machine *m, struct kernel_info *ki)
{
	int ret = virtio_worker_create(&m->worker);

	if (ret) {
		pr_err("cannot set up the I/O thread: %s", strerror(-ret));
		return -1;
	}
	if (vm_open_disks(m) || vm_create(m) || vm_setup_ram(m) ||
	    vm_create_vcpus(m) || vm_setup_irqchip(m) || vm_setup_devices(m) ||
	    vm_load_images(m, ki) || vm_setup_fdt(m))
		return -1;
	vm_setup_coalesced(m);
	vm_setup_uart_image(m);
	if (m->cfg->stats)
		pr_info("machine: irqchip %s%s%s, virtio over %s",
			m->aia ? "aia (in-kernel, mode " : "plic (userspace)",
			m->aia ? m->aia_mode : "", m->aia ? ")" : "",
			m->cfg->transport == VIRTIO_TRANSPORT_PCI
				? (m->aia ? "pci (MSI-X)" : "pci (INTx)")
				: "mmio");
	return 0;
}

int vm_run(const struct vm_config *cfg)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct kernel_info ki;
	pthread_t input;
	bool input_started = false;
	sigset_t set;
	int sfd, code = LKVM_EXIT_ERROR;

	if (!m)
		return LKVM_EXIT_ERROR;
	m->t_start = cfg->t_start;
	if (!m->t_start.tv_sec && !m->t_start.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &m->t_start);
	m->cfg = cfg;
	m->kvm_fd = m->vm_fd = m->aia_fd = -1;
	pthread_mutex_init(&m->cring_lock, NULL);
	pthread_mutex_init(&m->zone_lock, NULL);
	m->rl = (struct ratelimit){ .interval = 5, .burst = 10 };
	/* SIGINT/SIGTERM go to the signalfd; the kick signal is unblocked
	 * only in vCPU threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR1);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || m->stop_fd < 0 || m->wake_fd < 0) {
		pr_err("cannot create event fds: %s", strerror(errno));
		goto out;
	}
	if (vm_setup(m, &ki) ||
	    seccomp_run_setup(!cfg->no_seccomp, cfg->stats || cfg->debug))
		goto out;
	term_raw_enable(STDIN_FILENO);
	if (!pthread_create(&input, NULL, input_thread, m))
		input_started = true;
	if (pthread_create(&m->io_thread, NULL, virtio_worker_thread,
			   m->worker)) {
		pr_err("cannot start the I/O thread");
		machine_stop(m, LKVM_EXIT_ERROR);
	} else {
		m->io_started = true;
	}
	if (!m->stopping && vm_boot(m, &ki))
		machine_stop(m, LKVM_EXIT_ERROR);
	/* every thread has started: they would have inherited its filter */
	seccomp_thread_start(SECCOMP_THREAD_MAIN, "main");
	code = vm_wait(m, sfd);
	console_drain(&m->con);
	if (cfg->stats) {
		print_stats(m);
		vcpu_stats_print(m);
		vcpu_kvm_stats_print(m);
	}
out:
	/* the order: vCPUs, then the threads that serve them, then memory */
	machine_stop(m, code);
	vm_stop_vcpus(m);
	if (input_started)
		pthread_join(input, NULL);
	if (m->io_started) {
		virtio_worker_stop(m->worker);
		pthread_join(m->io_thread, NULL);
	}
	vm_teardown(m);
	term_restore();
	console_destroy(&m->con);
	close(m->stop_fd);
	close(m->wake_fd);
	close(sfd);
	free(m);
	return code;
}
