// SPDX-License-Identifier: GPL-2.0-only
/* The guest's flattened device tree: CPUs, memory, irqchips, PCI, devices. */
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "lkvm/fdt.h"
#include "riscv/board.h"

/* The wired-interrupt controller: the PLIC, or the APLIC with aia. */
#define PHANDLE_WIRED 1
#define PHANDLE_IMSIC 2
#define PHANDLE_CPU_INTC(n) (3 + (n))
#define IRQ_S_EXT 9
#define IRQ_TYPE_LEVEL_HIGH 4 /* dt-bindings/interrupt-controller/irq.h */

/* PCI address space codes (phys.hi of a PCI address, IEEE 1275 PCI). */
#define PCI_SPACE_MEM32 0x02000000
#define PCI_SPACE_MEM64 0x03000000
#define PCI_DEVFN_SLOT_SHIFT 11 /* phys.hi bits 15:11: the device */
#define PCI_NR_SLOTS 32
#define PCI_NR_PINS 4 /* INTA..INTD */

/* Every libfdt call below goes through T() to stop at the first error. */
#define T(call)                    \
	do {                       \
		int _r = (call);   \
		if (_r < 0)        \
			return _r; \
	} while (0)

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

/* "i\0m\0a\0...zicbom\0": the riscv,isa-extensions string list. */
static int isa_ext_list(const struct kvm_caps *c, char *buf, size_t len)
{
	static const char order[] = "imafdqcbkjtpv";
	size_t pos = 0, n;
	unsigned int i;

	for (i = 0; order[i]; i++) {
		if (!((c->isa >> (order[i] - 'a')) & 1) || pos + 2 > len)
			continue;
		buf[pos++] = order[i];
		buf[pos++] = '\0';
	}
	for (i = 0; i < c->nr_isa_ext; i++) {
		if (!c->isa_ext[i].enabled ||
		    !caps_ext_known(c->isa_ext[i].name))
			continue;
		n = strlen(c->isa_ext[i].name) + 1;
		if (pos + n > len)
			return -FDT_ERR_NOSPACE;
		memcpy(buf + pos, c->isa_ext[i].name, n);
		pos += n;
	}
	return (int)pos;
}

static int cpu_node(void *fdt, const struct board *b, unsigned int id)
{
	const struct kvm_caps *c = b->caps;
	char name[32], isa[1024], exts[1024], mmu[32];
	int n;

	snprintf(name, sizeof(name), "cpu@%x", id);
	T(fdt_begin_node(fdt, name));
	T(fdt_property_string(fdt, "device_type", "cpu"));
	T(fdt_property_cell(fdt, "reg", id));
	T(fdt_property_string(fdt, "compatible", "riscv"));
	T(fdt_property_string(fdt, "status", "okay"));
	if (caps_isa_string(c, isa, sizeof(isa)) < 0)
		return -FDT_ERR_NOSPACE;
	T(fdt_property_string(fdt, "riscv,isa", isa));
	T(fdt_property_string(fdt, "riscv,isa-base", "rv64i"));
	n = isa_ext_list(c, exts, sizeof(exts));
	T(n);
	T(fdt_property(fdt, "riscv,isa-extensions", exts, n));
	if (c->mmu) {
		snprintf(mmu, sizeof(mmu), "riscv,%s", c->mmu);
		T(fdt_property_string(fdt, "mmu-type", mmu));
	}
	/* only for extensions the guest has (--disable-zicbom) */
	if (c->zicbom_block_size && caps_isa_ext_on(c, "zicbom"))
		T(fdt_property_cell(fdt, "riscv,cbom-block-size",
				    (uint32_t)c->zicbom_block_size));
	if (c->zicboz_block_size && caps_isa_ext_on(c, "zicboz"))
		T(fdt_property_cell(fdt, "riscv,cboz-block-size",
				    (uint32_t)c->zicboz_block_size));
	T(fdt_begin_node(fdt, "interrupt-controller"));
	T(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
	T(fdt_property_cell(fdt, "#interrupt-cells", 1));
	/* dtc warns about an interrupt provider without #address-cells */
	T(fdt_property_cell(fdt, "#address-cells", 0));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_cell(fdt, "phandle", PHANDLE_CPU_INTC(id)));
	T(fdt_end_node(fdt));
	return fdt_end_node(fdt);
}

static int cpus_node(void *fdt, const struct board *b)
{
	unsigned int i;

	T(fdt_begin_node(fdt, "cpus"));
	T(fdt_property_cell(fdt, "#address-cells", 1));
	T(fdt_property_cell(fdt, "#size-cells", 0));
	T(fdt_property_cell(fdt, "timebase-frequency",
			    (uint32_t)b->caps->timebase_hz));
	for (i = 0; i < b->nr_cpus; i++)
		T(cpu_node(fdt, b, i));
	return fdt_end_node(fdt);
}

static int chosen_node(void *fdt, const struct board *b)
{
	const struct board_dev *uart = board_find(b, BOARD_UART);
	char path[64];

	T(fdt_begin_node(fdt, "chosen"));
	if (b->bootargs)
		T(fdt_property_string(fdt, "bootargs", b->bootargs));
	if (b->stdout_serial && uart) {
		snprintf(path, sizeof(path), "/soc/serial@%llx",
			 (unsigned long long)uart->base);
		T(fdt_property_string(fdt, "stdout-path", path));
	}
	if (b->initrd_end > b->initrd_start) {
		T(fdt_property_u64(fdt, "linux,initrd-start", b->initrd_start));
		T(fdt_property_u64(fdt, "linux,initrd-end", b->initrd_end));
	}
	return fdt_end_node(fdt);
}

/* interrupts-extended = <&cpuN_intc 9> for every hart, in hart order. */
static int prop_hart_s_ext(void *fdt, const struct board *b)
{
	unsigned int i;
	fdt32_t *ext;

	T(fdt_property_placeholder(fdt, "interrupts-extended",
				   (int)(8 * b->nr_cpus), (void **)&ext));
	for (i = 0; i < b->nr_cpus; i++) {
		ext[2 * i] = cpu_to_fdt32(PHANDLE_CPU_INTC(i));
		ext[2 * i + 1] = cpu_to_fdt32(IRQ_S_EXT);
	}
	return 0;
}

static int begin_intc_node(void *fdt, uint64_t base)
{
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 (unsigned long long)base);
	return fdt_begin_node(fdt, name);
}

static int plic_node(void *fdt, const struct board *b,
		     const struct board_dev *d)
{
	T(begin_intc_node(fdt, d->base));
	T(fdt_property(fdt, "compatible", "sifive,plic-1.0.0\0riscv,plic0",
		       sizeof("sifive,plic-1.0.0\0riscv,plic0")));
	T(prop_reg(fdt, d->base, d->size));
	T(fdt_property_cell(fdt, "#interrupt-cells", 1));
	T(fdt_property_cell(fdt, "#address-cells", 0));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_cell(fdt, "riscv,ndev", d->arg));
	/* one S-mode context per hart */
	T(prop_hart_s_ext(fdt, b));
	T(fdt_property_cell(fdt, "phandle", PHANDLE_WIRED));
	return fdt_end_node(fdt);
}

/* One S-level interrupt file per hart, hart i's at base + i * stride. */
static int imsic_node(void *fdt, const struct board *b,
		      const struct board_dev *d)
{
	T(begin_intc_node(fdt, d->base));
	T(fdt_property_string(fdt, "compatible", "riscv,imsics"));
	T(prop_reg(fdt, d->base, d->stride * b->nr_cpus));
	T(prop_hart_s_ext(fdt, b));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_cell(fdt, "#interrupt-cells", 0));
	T(fdt_property_cell(fdt, "#address-cells", 0));
	T(fdt_property(fdt, "msi-controller", NULL, 0));
	T(fdt_property_cell(fdt, "#msi-cells", 0));
	T(fdt_property_cell(fdt, "riscv,num-ids", d->arg));
	T(fdt_property_cell(fdt, "phandle", PHANDLE_IMSIC));
	return fdt_end_node(fdt);
}

/* The APLIC in MSI mode: wired sources become MSIs to the IMSICs. */
static int aplic_node(void *fdt, const struct board_dev *d)
{
	T(begin_intc_node(fdt, d->base));
	T(fdt_property_string(fdt, "compatible", "riscv,aplic"));
	T(prop_reg(fdt, d->base, d->size));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_cell(fdt, "#interrupt-cells", 2));
	T(fdt_property_cell(fdt, "#address-cells", 0));
	T(fdt_property_cell(fdt, "msi-parent", PHANDLE_IMSIC));
	T(fdt_property_cell(fdt, "riscv,num-sources", d->arg));
	T(fdt_property_cell(fdt, "phandle", PHANDLE_WIRED));
	return fdt_end_node(fdt);
}

/* The cells naming wired source irq: <irq> (PLIC), <irq 4> (APLIC). */
static unsigned int wired_spec(const struct board *b, unsigned int irq,
			       fdt32_t *cells)
{
	cells[0] = cpu_to_fdt32(irq);
	if (!board_find(b, BOARD_APLIC))
		return 1;
	cells[1] = cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH);
	return 2;
}

static int dev_node(void *fdt, const struct board *b, const struct board_dev *d,
		    const char *name, const char *compatible)
{
	fdt32_t spec[2];
	unsigned int n;
	char node[64];

	snprintf(node, sizeof(node), "%s@%llx", name,
		 (unsigned long long)d->base);
	T(fdt_begin_node(fdt, node));
	T(fdt_property_string(fdt, "compatible", compatible));
	T(prop_reg(fdt, d->base, d->size));
	if (d->node == BOARD_UART && d->arg)
		T(fdt_property_cell(fdt, "clock-frequency", d->arg));
	n = wired_spec(b, d->irq, spec);
	T(fdt_property(fdt, "interrupts", spec, (int)(n * sizeof(spec[0]))));
	T(fdt_property_cell(fdt, "interrupt-parent", PHANDLE_WIRED));
	return fdt_end_node(fdt);
}

/* A register block without an interrupt; compat is a string list of
 * len bytes, each string with its NUL. */
static int reg_node(void *fdt, const struct board_dev *d, const char *name,
		    const char *compat, int len)
{
	char node[64];

	snprintf(node, sizeof(node), "%s@%llx", name,
		 (unsigned long long)d->base);
	T(fdt_begin_node(fdt, node));
	T(fdt_property(fdt, "compatible", compat, len));
	T(prop_reg(fdt, d->base, d->size));
	return fdt_end_node(fdt);
}

/* QEMU virt's list: test1 is test0 with the reset (0x7777) lkvm has */
static const char finisher_compat[] = "sifive,test1\0sifive,test0\0syscon";
static const char pvpanic_compat[] = "qemu,pvpanic-mmio";

/* One ranges entry: PCI address = CPU address, 3 + 2 + 2 cells. */
static void pci_range(fdt32_t *r, uint32_t space, uint64_t base, uint64_t size)
{
	r[0] = cpu_to_fdt32(space);
	r[1] = r[3] = cpu_to_fdt32((uint32_t)(base >> 32));
	r[2] = r[4] = cpu_to_fdt32((uint32_t)base);
	r[5] = cpu_to_fdt32((uint32_t)(size >> 32));
	r[6] = cpu_to_fdt32((uint32_t)size);
}

/*
 * Every window of the board, in order: 32-bit or 64-bit by where it
 * starts. Both kinds are non-prefetchable: they hold emulated registers
 * with read side effects, and Linux places a non-prefetchable BAR only in a
 * non-prefetchable window while a prefetchable BAR fits either
 * (drivers/pci/bus.c: pci_bus_alloc_from_region()), so whichever kind of
 * 64-bit BAR the devices declare can use the 64-bit window.
 */
static int pci_ranges(void *fdt, const struct board *b)
{
	fdt32_t r[7 * 4];
	unsigned int i, n = 0;

	for (i = 0; i < b->nr_devs && n < 4; i++) {
		const struct board_dev *d = &b->devs[i];

		if (d->node != BOARD_PCI_WINDOW)
			continue;
		pci_range(&r[7 * n++],
			  d->base + d->size > (1ULL << 32) ? PCI_SPACE_MEM64
							   : PCI_SPACE_MEM32,
			  d->base, d->size);
	}
	return fdt_property(fdt, "ranges", r, (int)(n * 7 * sizeof(r[0])));
}

/*
 * INTx of every slot and pin to a wired source, swizzled so that the four
 * sources are shared evenly: slot s pin p (1..4) -> INTA's + (s + p - 1) % 4.
 * Each entry: child address (3 cells), pin, parent phandle, then the
 * parent's interrupt specifier (the parent's #address-cells is 0).
 */
static int pci_interrupt_map(void *fdt, const struct board *b,
			     unsigned int intx_base)
{
	static const uint32_t mask[4] = { 0x1800, 0, 0, 7 };
	unsigned int slot, pin, cells = board_find(b, BOARD_APLIC) ? 7 : 6;
	fdt32_t *map, *e;
	int i;

	T(fdt_property_placeholder(
		fdt, "interrupt-map",
		(int)(PCI_NR_SLOTS * PCI_NR_PINS * cells * 4), (void **)&map));
	e = map;
	for (slot = 0; slot < PCI_NR_SLOTS; slot++) {
		for (pin = 1; pin <= PCI_NR_PINS; pin++) {
			e[0] = cpu_to_fdt32(slot << PCI_DEVFN_SLOT_SHIFT);
			e[1] = e[2] = 0;
			e[3] = cpu_to_fdt32(pin);
			e[4] = cpu_to_fdt32(PHANDLE_WIRED);
			wired_spec(b,
				   intx_base + (slot + pin - 1) % PCI_NR_PINS,
				   &e[5]);
			e += cells;
		}
	}
	T(fdt_property_placeholder(fdt, "interrupt-map-mask", 16,
				   (void **)&map));
	for (i = 0; i < 4; i++)
		map[i] = cpu_to_fdt32(mask[i]);
	return 0;
}

/* A generic ECAM host bridge for bus 0. */
static int pci_node(void *fdt, const struct board *b, const struct board_dev *d)
{
	fdt32_t bus_range[2] = { 0, 0 };
	char name[32];

	snprintf(name, sizeof(name), "pci@%llx", (unsigned long long)d->base);
	T(fdt_begin_node(fdt, name));
	T(fdt_property_string(fdt, "compatible", "pci-host-ecam-generic"));
	T(fdt_property_string(fdt, "device_type", "pci"));
	T(fdt_property_cell(fdt, "#address-cells", 3));
	T(fdt_property_cell(fdt, "#size-cells", 2));
	T(fdt_property_cell(fdt, "#interrupt-cells", 1));
	T(fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)));
	T(fdt_property_cell(fdt, "linux,pci-domain", 0));
	T(fdt_property(fdt, "dma-coherent", NULL, 0));
	T(prop_reg(fdt, d->base, d->size));
	T(pci_ranges(fdt, b));
	T(pci_interrupt_map(fdt, b, d->irq));
	if (board_find(b, BOARD_IMSIC))
		T(fdt_property_cell(fdt, "msi-parent", PHANDLE_IMSIC));
	return fdt_end_node(fdt);
}

/* A node for d; windows are described by their bridge's node. */
static int board_dev_node(void *fdt, const struct board *b,
			  const struct board_dev *d)
{
	switch (d->node) {
	case BOARD_PLIC:
		return plic_node(fdt, b, d);
	case BOARD_APLIC:
		return aplic_node(fdt, d);
	case BOARD_IMSIC:
		return imsic_node(fdt, b, d);
	case BOARD_PCI_ECAM:
		return pci_node(fdt, b, d);
	case BOARD_PCI_WINDOW:
		return 0;
	case BOARD_UART:
		return dev_node(fdt, b, d, "serial", "ns16550a");
	case BOARD_VIRTIO_MMIO:
		return dev_node(fdt, b, d, "virtio_mmio", "virtio,mmio");
	case BOARD_TEST_FINISHER:
		return reg_node(fdt, d, "test", finisher_compat,
				sizeof(finisher_compat));
	case BOARD_PVPANIC:
		return reg_node(fdt, d, "pvpanic", pvpanic_compat,
				sizeof(pvpanic_compat));
	}
	return -FDT_ERR_BADVALUE;
}

static int soc_node(void *fdt, const struct board *b)
{
	unsigned int i;

	T(fdt_begin_node(fdt, "soc"));
	T(fdt_property_string(fdt, "compatible", "simple-bus"));
	T(fdt_property_cell(fdt, "#address-cells", 2));
	T(fdt_property_cell(fdt, "#size-cells", 2));
	T(fdt_property(fdt, "ranges", NULL, 0));
	for (i = 0; i < b->nr_devs; i++)
		T(board_dev_node(fdt, b, &b->devs[i]));
	return fdt_end_node(fdt);
}

int fdt_build(void *buf, size_t size, const struct board *b)
{
	char name[32];

	T(fdt_create(buf, (int)size));
	T(fdt_finish_reservemap(buf));
	T(fdt_begin_node(buf, ""));
	T(fdt_property_cell(buf, "#address-cells", 2));
	T(fdt_property_cell(buf, "#size-cells", 2));
	T(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	T(fdt_property_string(buf, "model", "lkvm"));
	T(chosen_node(buf, b));
	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)b->ram_base);
	T(fdt_begin_node(buf, name));
	T(fdt_property_string(buf, "device_type", "memory"));
	T(prop_reg(buf, b->ram_base, b->ram_size));
	T(fdt_end_node(buf));
	T(cpus_node(buf, b));
	T(soc_node(buf, b));
	T(fdt_end_node(buf));
	T(fdt_finish(buf));
	return (int)fdt_totalsize(buf);
}
