// SPDX-License-Identifier: GPL-2.0-only
/* The board: the devices, their place in the memory map, the device tree. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/disk-raw.h"
#include "lkvm/fdt.h"
#include "lkvm/plic.h"
#include "lkvm/uart.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio-pci.h"
#include "riscv/machine.h"

#define UART_CLOCK 3686400

/* The interrupt line the next virtio-mmio device gets (PCI devices get
 * their INTx line from the bridge instead). */
static struct irq_line next_virtio_irq(struct machine *m)
{
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI)
		return (struct irq_line){ 0 };
	return machine_wired_irq(m, IRQ_VIRTIO_BASE + m->nr_virtio);
}

/* Serve d over virtio-mmio at the next slot (its irq from
 * next_virtio_irq()). */
static int vm_add_virtio_mmio(struct machine *m, struct virtio_dev *d)
{
	uint64_t base =
		MEMMAP_VIRTIO_MMIO_BASE + m->nr_virtio * VIRTIO_MMIO_STRIDE;
	int ret;

	if (!d)
		return -EINVAL;
	if (m->nr_virtio >= VM_MAX_VIRTIO)
		return -ENOSPC;
	ret = mmio_register(&m->bus, base, VIRTIO_MMIO_REGION_SIZE,
			    VIRTIO_MMIO_SIZES, &virtio_mmio_ops, d,
			    virtio_dev_ops(d)->name);
	ret = ret ?: machine_mmio_doorbells(m, d, base);
	if (ret)
		return ret;
	m->virtio[m->nr_virtio++] = d;
	return 0;
}

static const struct virtio_pci_host_ops vpci_host_msix = {
	.msix = &machine_msix_ops,
	.notify_mapped = machine_vpci_notify_mapped,
};

static const struct virtio_pci_host_ops vpci_host_intx = {
	.notify_mapped = machine_vpci_notify_mapped,
};

/* Serve d over virtio-pci in the next slot of bus 0. */
static int vm_add_virtio_pci(struct machine *m, struct virtio_dev *d)
{
	struct vpci_slot *s;
	int ret, slot;

	if (!d)
		return -EINVAL;
	if (m->nr_vpci >= VM_MAX_VIRTIO)
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
	ret = machine_vpci_add_notify(m, s, d);
	ret = ret ?: (m->aia ? machine_vpci_add_msi(m, s) : 0);
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
		intx[i] = machine_wired_irq(m, IRQ_PCI_INTX_BASE + i);
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

/* Open every -d image (and start its I/O engine) before anything else,
 * so that a bad one fails fast with one line. */
int machine_open_disks(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	char err[512];
	unsigned int i;

	for (i = 0; i < cfg->nr_disks; i++) {
		const struct disk_spec *s = &cfg->disks[i];
		struct disk_raw_opts o = {
			.ro = s->ro,
			.direct = s->direct,
			.engine = cfg->io_engine == IO_ENGINE_AIO
					  ? BLKIO_ENGINE_AIO
					  : BLKIO_ENGINE_THREADS,
		};

		if (disk_raw_open(&m->disks[i], s->path, &o, err,
				  sizeof(err))) {
			pr_err("%s", err);
			return -1;
		}
		m->nr_disks++;
	}
	return 0;
}

/*
 * Serve a new device d, which its constructor returned with ret: 0, or
 * -errno after a line naming the device (what, detail) and the reason.
 */
static int vm_add_new_virtio(struct machine *m, int ret, struct virtio_dev *d,
			     const char *what, const char *detail)
{
	if (!ret)
		ret = vm_add_virtio(m, d);
	if (ret)
		pr_err("cannot set up %s%s%s%s: %s", what, detail ? " (" : "",
		       detail ? detail : "", detail ? ")" : "", strerror(-ret));
	return ret;
}

static int vm_setup_virtio(struct machine *m)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->nr_disks && !ret; i++) {
		ret = virtio_blk_create(&m->mem, next_virtio_irq(m),
					m->disks[i], &m->blks[i]);
		ret = vm_add_new_virtio(m, ret, m->blks[i], "virtio-blk",
					m->cfg->disks[i].path);
	}
	if (m->cfg->console == CONSOLE_VIRTIO && !ret) {
		ret = virtio_console_create(&m->mem, next_virtio_irq(m),
					    &m->con, &m->vcon);
		ret = vm_add_new_virtio(m, ret, m->vcon, "virtio-console",
					NULL);
	}
	if (m->cfg->rng && !ret) {
		ret = virtio_rng_create(&m->mem, next_virtio_irq(m), &m->rng);
		ret = vm_add_new_virtio(m, ret, m->rng, "virtio-rng", NULL);
	}
	return ret ? -1 : 0;
}

int machine_setup_devices(struct machine *m)
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
		if (ret) {
			pr_err("cannot set up the PLIC: %s", strerror(-ret));
			return -1;
		}
	}
	ret = uart_create(&m->uart, &machine_uart_backend, m,
			  machine_wired_irq(m, IRQ_UART));
	ret = ret
		      ?: mmio_register(&m->bus, MEMMAP_UART_BASE,
				       UART_MMIO_REGION_SIZE, UART_MMIO_SIZES,
				       &uart_mmio_ops, m->uart, "uart");
	if (ret) {
		pr_err("cannot set up the UART: %s", strerror(-ret));
		return -1;
	}
	if (m->cfg->console == CONSOLE_SERIAL)
		m->con.uart = m->uart;
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI && vm_setup_pci(m))
		return -1;
	return vm_setup_virtio(m);
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

int machine_setup_fdt(struct machine *m)
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

