// SPDX-License-Identifier: GPL-2.0-only
/*
 * lkvm's RISC-V board, in the order it is built (addresses and interrupt
 * sources in riscv/memmap.h):
 *
 *   0x0c000000  the PLIC, emulated here;  or, with the in-kernel AIA,
 *   0x0d000000  the APLIC (MSI mode) and 0x28000000 one IMSIC page a hart
 *   0x10000000  the 8250 UART, wired source 10
 *   0x00100000  the test finisher ("sifive,test0", where QEMU's virt has
 *   0x00101000  it) and the pvpanic register: always, even --nodefaults
 *   0x30000000  PCI ECAM for bus 0, windows at 0x40000000 (1 GiB) and at
 *               the first 4 GiB boundary above RAM (2 GiB); INTx on
 *               sources 12..15, swizzled by slot (hw/pci.c)
 *   0x10001000  virtio-mmio: a page and a source (16, 17...) per device,
 *               when --virtio-transport mmio; otherwise a PCI slot each
 *   0x80000000  RAM (riscv/kvm-ram.c)
 *
 * Every device is placed with board_add(), which records it and serves it
 * on the MMIO bus; the device tree is built by walking that record, so an
 * address or an interrupt is written once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/9p.h"
#include "lkvm/disk-open.h"
#include "lkvm/fdt.h"
#include "lkvm/net.h"
#include "lkvm/plic.h"
#include "lkvm/uart.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-mmio.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-worker.h"
#include "riscv/machine.h"

/* The wired-interrupt controller and, with the AIA, the MSI controller. */
static int add_irqchip(struct machine *m)
{
	struct board *b = &m->board;
	const struct board_dev imsic = {
		.node = BOARD_IMSIC,
		.name = "imsic",
		.base = MEMMAP_IMSIC_BASE,
		.size = MEMMAP_IMSIC_STRIDE * m->nr_vcpus,
		.stride = MEMMAP_IMSIC_STRIDE,
		.arg = m->aia_ids,
	};
	const struct board_dev aplic = {
		.node = BOARD_APLIC,
		.name = "aplic",
		.base = MEMMAP_APLIC_BASE,
		.size = MEMMAP_APLIC_SIZE,
		.arg = PLIC_NR_SOURCES,
	};
	struct board_dev plic = {
		.node = BOARD_PLIC,
		.name = "plic",
		.base = MEMMAP_PLIC_BASE,
		.size = plic_mmio_size(m->nr_vcpus),
		.arg = PLIC_NR_SOURCES,
	};
	int ret;

	/* KVM emulates the AIA: described, not served here */
	if (m->aia)
		return board_add(b, &imsic, 0, NULL, NULL, NULL)
			       ?: board_add(b, &aplic, 0, NULL, NULL, NULL);
	ret = plic_create(&m->plic, PLIC_NR_SOURCES, m->nr_vcpus,
			  &machine_plic_ops, m);
	return ret
		       ?: board_add(b, &plic, PLIC_MMIO_SIZES, &plic_mmio_ops,
				    m->plic, NULL);
}

static int add_uart(struct machine *m)
{
	const struct board_dev dev = {
		.node = BOARD_UART,
		.name = "uart",
		.base = MEMMAP_UART_BASE,
		.size = UART_MMIO_REGION_SIZE,
		.irq = IRQ_UART,
		.arg = UART_CLOCK,
	};
	int ret = uart_create(&m->uart, &machine_uart_backend, m,
			      machine_wired_irq(m, dev.irq));

	ret = ret
		      ?: board_add(&m->board, &dev, UART_MMIO_SIZES,
				   &uart_mmio_ops, m->uart, NULL);
	if (!ret && m->cfg->console == CONSOLE_SERIAL)
		m->con.uart = m->uart;
	return ret;
}

/* The finisher's pass, fail or reset: lkvm exits with its status, or a
 * reset reboots in place as an SBI reboot does (unless --no-reboot). */
static void finisher_exit(void *opaque, uint32_t value, int status)
{
	struct machine *m = opaque;

	if (status == LKVM_EXIT_REBOOT && !m->cfg->no_reboot) {
		if (ratelimit_ok(&m->rl))
			pr_info("test finisher: 0x%x (reset): rebooting",
				value);
		machine_stop(m, VM_REBOOT);
		return;
	}
	const char *what = (value & 0xffff) == FINISHER_PASS	? "pass"
			   : (value & 0xffff) == FINISHER_RESET ? "reset"
								: "fail";

	if (ratelimit_ok(&m->rl) && !status)
		pr_info("test finisher: 0x%x (pass): exiting with status 0",
			value);
	else if (status)
		pr_warn_ratelimited(
			&m->rl,
			"test finisher: 0x%x (%s): exiting with status %d",
			value, what, status);
	machine_stop(m, status);
}

static void pvpanic_event(void *opaque, unsigned int events)
{
	struct machine *m = opaque;

	if (!(events & PVPANIC_PANICKED)) {
		pr_warn_ratelimited(&m->rl,
				    "pvpanic: the guest loaded a crash kernel");
		return;
	}
	if (m->cfg->panic == PANIC_CONTINUE) {
		pr_warn_ratelimited(
			&m->rl,
			"pvpanic: the guest kernel panicked: running on (--panic continue)");
		return;
	}
	pr_warn_ratelimited(
		&m->rl,
		"pvpanic: the guest kernel panicked: exiting with status %d",
		LKVM_EXIT_PANIC);
	machine_stop(m, LKVM_EXIT_PANIC);
}

/* The test devices: present on every board, --nodefaults too (test
 * programs rely on the finisher; neither costs anything until used). */
static int add_test_devices(struct machine *m)
{
	const struct board_dev fin = {
		.node = BOARD_TEST_FINISHER,
		.name = "test-finisher",
		.base = MEMMAP_TEST_FINISHER_BASE,
		.size = MEMMAP_TEST_FINISHER_SIZE,
	};
	const struct board_dev pvp = {
		.node = BOARD_PVPANIC,
		.name = "pvpanic",
		.base = MEMMAP_PVPANIC_BASE,
		.size = MEMMAP_PVPANIC_SIZE,
	};

	finisher_init(&m->finisher, finisher_exit, m);
	pvpanic_init(&m->pvpanic, pvpanic_event, m);
	return board_add(&m->board, &fin, FINISHER_SIZES, &finisher_mmio_ops,
			 &m->finisher, NULL)
		       ?: board_add(&m->board, &pvp, PVPANIC_SIZES,
				    &pvpanic_mmio_ops, &m->pvpanic, NULL);
}

/* The ECAM host bridge of bus 0 and its two memory windows. */
static int add_pci(struct machine *m)
{
	const struct board_dev ecam = {
		.node = BOARD_PCI_ECAM,
		.name = "pci-ecam",
		.base = MEMMAP_PCI_ECAM_BASE,
		.size = PCI_ECAM_BUS_SIZE,
		.irq = IRQ_PCI_INTX_BASE,
	};
	const struct board_dev win[2] = {
		{ .node = BOARD_PCI_WINDOW,
		  .name = "pci-mmio32",
		  .base = MEMMAP_PCI_MMIO32_BASE,
		  .size = MEMMAP_PCI_MMIO32_SIZE },
		{ .node = BOARD_PCI_WINDOW,
		  .name = "pci-mmio64",
		  .base = memmap_pci_mmio64_base(m->ram_size),
		  .size = MEMMAP_PCI_MMIO64_SIZE },
	};
	struct irq_line intx[4];
	unsigned int i;
	int ret;

	ret = pci_host_create(&m->pci, win[0].base, win[0].size, win[1].base,
			      win[1].size);
	if (ret)
		return ret;
	for (i = 0; i < 4; i++)
		intx[i] = machine_wired_irq(m, ecam.irq + i);
	pci_host_set_intx(m->pci, intx);
	ret = board_add(&m->board, &ecam, PCI_ECAM_SIZES, &pci_ecam_ops, m->pci,
			NULL);
	for (i = 0; !ret && i < 2; i++)
		ret = board_add(&m->board, &win[i], PCI_WINDOW_SIZES,
				&pci_window_ops, pci_host_window(m->pci, i),
				NULL);
	return ret;
}

static const struct virtio_pci_host_ops vpci_host_msix = {
	.msix = &machine_msix_ops,
	.doorbells = machine_doorbells,
	.vectors_changed = machine_vectors_changed,
};

static const struct virtio_pci_host_ops vpci_host_intx = {
	.doorbells = machine_doorbells,
};

/* Serve s->d in the next slot of PCI bus 0. */
static int add_virtio_pci(struct machine *m, struct vdev_slot *s)
{
	int ret = virtio_pci_create(
		&s->vp, s->d, m->aia ? &vpci_host_msix : &vpci_host_intx, s);

	ret = ret ?: machine_add_doorbells(m, s);
	ret = ret ?: (m->aia ? machine_add_msi(m, s) : 0);
	if (ret)
		return ret;
	/* INTx: the bridge's shared, swizzled lines */
	ret = pci_host_add(m->pci, virtio_pci_dev(s->vp),
			   (struct irq_line){ 0 });
	return ret < 0 ? ret : 0;
}

/* Serve s->d over virtio-mmio in the board's next slot. */
static int add_virtio_mmio(struct machine *m, struct vdev_slot *s)
{
	const struct board_dev *dev;
	int ret = board_add_virtio_mmio(&m->board, s->d,
					virtio_dev_ops(s->d)->name, &dev);

	if (ret)
		return ret;
	s->wired_irq = dev->irq;
	virtio_dev_set_irq(s->d, machine_wired_irq(m, dev->irq));
	ret = machine_add_doorbells(m, s);
	if (!ret)
		virtio_mmio_doorbells(s->d, dev->base, machine_doorbells, s);
	return ret;
}

/*
 * Serve a new device d, which its constructor returned with ret, over the
 * configured transport. 0, or -errno after a line naming the device (what,
 * detail) and the reason.
 */
static int add_virtio(struct machine *m, int ret, struct virtio_dev *d,
		      const char *what, const char *detail)
{
	struct vdev_slot *s;
	unsigned int v;

	if (!ret && m->nr_vdev >= VM_MAX_VIRTIO)
		ret = -ENOSPC;
	if (!ret) {
		s = &m->vdev[m->nr_vdev++];
		memset(s, 0, sizeof(*s));
		for (v = 0; v < MSIX_MAX_VECTORS; v++)
			s->irqfd[v] = -1;
		s->wired_irqfd = -1;
		s->m = m;
		s->d = d;
		ret = m->cfg->transport == VIRTIO_TRANSPORT_PCI
			      ? add_virtio_pci(m, s)
			      : add_virtio_mmio(m, s);
	}
	if (ret)
		pr_err("cannot set up %s%s%s%s: %s", what, detail ? " (" : "",
		       detail ? detail : "", detail ? ")" : "", strerror(-ret));
	return ret;
}

/* Open every -d image (raw or qcow2, by its magic; a raw one starts its
 * I/O engine, a qcow2 one its thread) before anything else,
 * so that a bad one fails fast with one line. */
int machine_open_disks(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	char err[512];
	unsigned int i;

	for (i = 0; i < cfg->nr_disks; i++) {
		const struct disk_spec *s = &cfg->disks[i];
		struct disk_open_opts o = {
			.ro = s->ro,
			.direct = s->direct,
			.engine = cfg->io_engine == IO_ENGINE_AIO
					  ? BLKIO_ENGINE_AIO
					  : BLKIO_ENGINE_THREADS,
		};

		if (disk_open(&m->disks[i], s->path, &o, err, sizeof(err))) {
			pr_err("%s", err);
			return -1;
		}
		m->nr_disks++;
	}
	for (i = 0; i < cfg->nr_shares; i++) {
		const struct p9_options o = { .ro = cfg->shares[i].ro };

		if (p9_server_create(cfg->shares[i].path, &o, &m->p9srv[i], err,
				     sizeof(err))) {
			pr_err("%s", err);
			return -1;
		}
		m->nr_9p++;
	}
	return 0;
}

/* The queue pairs NIC s gets: mq=N with vhost=1, up to NET_MAX_PAIRS and
 * the tap's queues; lkvm's own data path and passt serve one. */
static unsigned int nic_pairs(const struct net_spec *s, unsigned int queues)
{
	unsigned int n = s->mq < queues ? s->mq : queues;

	if (s->mq <= 1)
		return 1;
	if (!s->vhost) {
		pr_info("-n mq=%u: lkvm serves one queue pair without vhost=1",
			s->mq);
		return 1;
	}
	if (n < s->mq)
		pr_info("-n mq=%u: lkvm serves at most %u queue pairs", s->mq,
			n);
	return n;
}

int machine_open_nics(struct machine *m)
{
	const struct vm_config *cfg = m->cfg;
	char err[512];
	unsigned int i;
	int ret;

	for (i = 0; i < cfg->nr_nics; i++) {
		const struct net_spec *s = &cfg->nics[i];

		if (s->mode == NET_MODE_TAP)
			ret = net_tap_open(s, &m->net_be[i], err, sizeof(err));
		else
			ret = net_passt_start(s, cfg->passt, &m->net_be[i],
					      &m->passt_pid[i], err,
					      sizeof(err));
		if (ret) {
			pr_err("%s", err);
			return -1;
		}
		m->nr_nics++;
		m->net_pairs[i] = nic_pairs(s, net_tap_queues(m->net_be[i]));
	}
	return 0;
}

/* vhost=1 for NIC i, just placed: its queues' doorbells are the I/O
 * thread's eventfds, which vhost (the kernel's, or passt's vhost-user)
 * polls and the I/O thread leaves alone; with the in-kernel AIA its
 * interrupts are irqfds (the queue's MSI-X vector under virtio-pci, the
 * wired line under virtio-mmio), else relayed. */
static int add_vhost(struct machine *m, unsigned int i)
{
	struct vdev_slot *s = &m->vdev[m->nr_vdev - 1];
	unsigned int q, pairs = m->net_pairs[i];
	int kick[2 * NET_MAX_PAIRS];
	char err[256];
	int ret;

	for (q = 0; q < pairs; q++) {
		if (m->cfg->nics[i].mode == NET_MODE_USER) {
			ret = net_vhost_user_open(&m->mem, m->net_be[i]->fd,
						  &m->net_vh[i][q], err,
						  sizeof(err));
			/* passt died in an earlier boot: lkvm's own data
			 * path over its dead socket sees the hang-up and
			 * takes the link down */
			if (ret == -EPIPE && m->passt_vu_seen[i])
				return 0;
			/* a passt from before vhost-user (2025) exits at
			 * the option */
			if (ret == -EPIPE)
				snprintf(
					err, sizeof(err),
					"-n mode=user: passt (pid %d) exited instead of answering vhost-user (passt --vhost-user needs passt 2025 or later; vhost=0 uses passt's socket framing)",
					m->passt_pid[i]);
			m->passt_vu_seen[i] |= !ret;
		} else {
			ret = net_vhost_open(
				&m->mem, net_tap_queue_fd(m->net_be[i], q),
				&m->net_vh[i][q], err, sizeof(err));
		}
		if (ret) {
			pr_err("%s", err);
			return ret;
		}
	}
	for (q = 0; q < 2 * pairs; q++) {
		kick[q] = virtio_worker_fd(m->worker, s->first_notify + q);
		virtio_worker_detach(m->worker, s->first_notify + q);
	}
	ret = virtio_net_set_vhost(m->nets[i], m->net_vh[i], kick, pairs);
	if (ret) {
		pr_err("-n vhost=1: the backend cannot carry virtio-net headers");
		return ret;
	}
	if (!m->aia)
		return 0;
	ret = machine_add_wired_irqfd(m, s);
	if (ret) {
		pr_err("-n vhost=1: cannot make an irqfd for its interrupt: %s",
		       strerror(-ret));
		return ret;
	}
	/* the wired line: InterruptStatus shows the used-buffer bit always,
	 * and the guest's acknowledge lowers the line KVM raised */
	if (!s->vp)
		virtio_dev_set_isr_hint(s->d, VIRTIO_ISR_QUEUE);
	virtio_net_set_irqfds(s->d, machine_queue_irqfd, s);
	s->irqfds_changed = virtio_net_irqfds_changed;
	return 0;
}

/* The NICs, in -n order: the guest MAC given, or one derived from the
 * VM's name and the NIC's index; each NIC's thread starts here. */
static int add_nics(struct machine *m)
{
	const struct irq_line none = { 0 };
	char name[16];
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->nr_nics && !ret; i++) {
		const struct net_spec *s = &m->cfg->nics[i];
		uint8_t mac[6];

		if (s->guest_mac_set)
			memcpy(mac, s->guest_mac, 6);
		else
			net_default_mac(m->cfg->name, i, mac);
		ret = virtio_net_create(&m->mem, none, m->net_be[i], mac,
					m->net_pairs[i], &m->nets[i]);
		ret = add_virtio(m, ret, m->nets[i], "virtio-net",
				 m->net_be[i]->desc);
		if (!ret && s->vhost)
			ret = add_vhost(m, i);
		snprintf(name, sizeof(name), "net%u", i);
		if (!ret)
			ret = virtio_net_start(m->nets[i], name);
	}
	return ret;
}

/* The virtio devices: the disks (vda, vdb... in -d order), the 9p
 * shares, the NICs, the console, the RNG. The transport gives each its interrupt. */
static int add_virtio_devices(struct machine *m)
{
	const struct irq_line none = { 0 };
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->nr_disks && !ret; i++) {
		ret = virtio_blk_create(&m->mem, none, m->disks[i],
					&m->blks[i]);
		ret = add_virtio(m, ret, m->blks[i], "virtio-blk",
				 m->cfg->disks[i].path);
	}
	for (i = 0; i < m->nr_9p && !ret; i++) {
		ret = virtio_9p_create(&m->mem, none, m->p9srv[i],
				       m->cfg->shares[i].tag, &m->p9[i]);
		ret = add_virtio(m, ret, m->p9[i], "virtio-9p",
				 m->cfg->shares[i].path);
	}
	if (!ret)
		ret = add_nics(m);
	if (m->cfg->console == CONSOLE_VIRTIO && !ret) {
		ret = virtio_console_create(&m->mem, none, &m->con, &m->vcon);
		ret = add_virtio(m, ret, m->vcon, "virtio-console", NULL);
	}
	if (m->cfg->rng && !ret) {
		ret = virtio_rng_create(&m->mem, none, &m->rng);
		ret = add_virtio(m, ret, m->rng, "virtio-rng", NULL);
	}
	return ret ? -1 : 0;
}

/* The board, in order. After the vCPUs and the irqchip exist. */
int machine_setup_devices(struct machine *m)
{
	int ret;

	board_init(&m->board, &m->bus, m->nr_vcpus, m->ram_size, &m->caps);
	sbi_init(&m->sbi, &m->mem, &machine_sbi_console, m);
	ret = add_irqchip(m);
	if (ret) {
		pr_err("cannot set up the %s: %s", m->aia ? "AIA" : "PLIC",
		       strerror(-ret));
		return -1;
	}
	ret = add_uart(m);
	if (ret) {
		pr_err("cannot set up the UART: %s", strerror(-ret));
		return -1;
	}
	ret = add_test_devices(m);
	if (ret) {
		pr_err("cannot set up the test devices: %s", strerror(-ret));
		return -1;
	}
	if (m->cfg->transport == VIRTIO_TRANSPORT_PCI) {
		ret = add_pci(m);
		if (ret) {
			pr_err("cannot set up the PCI host bridge: %s",
			       strerror(-ret));
			return -1;
		}
	}
	return add_virtio_devices(m);
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

/* The device tree of the board as placed, at the address the boot plan
 * chose; the kernel command line is the board's (board_bootargs()). */
int machine_setup_fdt(struct machine *m)
{
	struct board *b = &m->board;
	char bootargs[VM_BOOTARGS_MAX];
	void *buf = gmem_ptr(&m->mem, m->plan.fdt_addr, m->plan.fdt_size);
	int size;

	if (board_bootargs(m->cfg, m->vcpus[0].dbcn, bootargs,
			   sizeof(bootargs)) >= sizeof(bootargs)) {
		pr_err("the kernel command line is longer than %d bytes",
		       VM_BOOTARGS_MAX - 1);
		return -1;
	}
	b->bootargs = bootargs;
	if (m->plan.initrd_size) {
		b->initrd_start = m->plan.initrd_addr;
		b->initrd_end = m->plan.initrd_addr + m->plan.initrd_size;
	}
	b->stdout_serial = m->cfg->console == CONSOLE_SERIAL;
	size = buf ? fdt_build(buf, m->plan.fdt_size, b) : -1;
	b->bootargs = NULL;
	if (size < 0) {
		pr_err("cannot build the device tree (error %d)", size);
		return -1;
	}
	if (m->cfg->dump_dtb && write_dtb(m->cfg->dump_dtb, buf, (size_t)size))
		return -1;
	return 0;
}
