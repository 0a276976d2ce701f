// SPDX-License-Identifier: GPL-2.0-only
/* The guest's flattened device tree: CPUs, memory, chosen, PLIC, devices. */
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "lkvm/fdt.h"

#define PHANDLE_PLIC 1
#define PHANDLE_CPU_INTC(n) (2 + (n))
#define IRQ_S_EXT 9

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
		if (!c->isa_ext[i].enabled)
			continue;
		n = strlen(c->isa_ext[i].name) + 1;
		if (pos + n > len)
			return -FDT_ERR_NOSPACE;
		memcpy(buf + pos, c->isa_ext[i].name, n);
		pos += n;
	}
	return (int)pos;
}

static int cpu_node(void *fdt, const struct fdt_params *p, unsigned int id)
{
	const struct kvm_caps *c = p->caps;
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
	if (c->zicbom_block_size)
		T(fdt_property_cell(fdt, "riscv,cbom-block-size",
				    (uint32_t)c->zicbom_block_size));
	if (c->zicboz_block_size)
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

static int cpus_node(void *fdt, const struct fdt_params *p)
{
	unsigned int i;

	T(fdt_begin_node(fdt, "cpus"));
	T(fdt_property_cell(fdt, "#address-cells", 1));
	T(fdt_property_cell(fdt, "#size-cells", 0));
	T(fdt_property_cell(fdt, "timebase-frequency",
			    (uint32_t)p->caps->timebase_hz));
	for (i = 0; i < p->nr_cpus; i++)
		T(cpu_node(fdt, p, i));
	return fdt_end_node(fdt);
}

static int chosen_node(void *fdt, const struct fdt_params *p)
{
	char path[64];

	T(fdt_begin_node(fdt, "chosen"));
	if (p->bootargs)
		T(fdt_property_string(fdt, "bootargs", p->bootargs));
	if (p->stdout_serial) {
		snprintf(path, sizeof(path), "/soc/serial@%llx",
			 (unsigned long long)p->uart_base);
		T(fdt_property_string(fdt, "stdout-path", path));
	}
	if (p->initrd_end > p->initrd_start) {
		T(fdt_property_u64(fdt, "linux,initrd-start", p->initrd_start));
		T(fdt_property_u64(fdt, "linux,initrd-end", p->initrd_end));
	}
	return fdt_end_node(fdt);
}

static int plic_node(void *fdt, const struct fdt_params *p)
{
	unsigned int i;
	fdt32_t *ext;
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 (unsigned long long)p->plic_base);
	T(fdt_begin_node(fdt, name));
	T(fdt_property(fdt, "compatible", "sifive,plic-1.0.0\0riscv,plic0",
		       sizeof("sifive,plic-1.0.0\0riscv,plic0")));
	T(prop_reg(fdt, p->plic_base, p->plic_size));
	T(fdt_property_cell(fdt, "#interrupt-cells", 1));
	T(fdt_property_cell(fdt, "#address-cells", 0));
	T(fdt_property(fdt, "interrupt-controller", NULL, 0));
	T(fdt_property_cell(fdt, "riscv,ndev", p->plic_ndev));
	/* one S-mode context per hart: <&cpuN-intc 9> */
	T(fdt_property_placeholder(fdt, "interrupts-extended",
				   (int)(8 * p->nr_cpus), (void **)&ext));
	for (i = 0; i < p->nr_cpus; i++) {
		ext[2 * i] = cpu_to_fdt32(PHANDLE_CPU_INTC(i));
		ext[2 * i + 1] = cpu_to_fdt32(IRQ_S_EXT);
	}
	T(fdt_property_cell(fdt, "phandle", PHANDLE_PLIC));
	return fdt_end_node(fdt);
}

static int dev_node(void *fdt, const char *name, const char *compatible,
		    uint64_t base, uint64_t size, unsigned int irq,
		    uint32_t clock)
{
	char node[64];

	snprintf(node, sizeof(node), "%s@%llx", name, (unsigned long long)base);
	T(fdt_begin_node(fdt, node));
	T(fdt_property_string(fdt, "compatible", compatible));
	T(prop_reg(fdt, base, size));
	if (clock)
		T(fdt_property_cell(fdt, "clock-frequency", clock));
	T(fdt_property_cell(fdt, "interrupts", irq));
	T(fdt_property_cell(fdt, "interrupt-parent", PHANDLE_PLIC));
	return fdt_end_node(fdt);
}

static int soc_node(void *fdt, const struct fdt_params *p)
{
	unsigned int i;

	T(fdt_begin_node(fdt, "soc"));
	T(fdt_property_string(fdt, "compatible", "simple-bus"));
	T(fdt_property_cell(fdt, "#address-cells", 2));
	T(fdt_property_cell(fdt, "#size-cells", 2));
	T(fdt_property(fdt, "ranges", NULL, 0));
	T(plic_node(fdt, p));
	if (p->uart_size)
		T(dev_node(fdt, "serial", "ns16550a", p->uart_base,
			   p->uart_size, p->uart_irq, p->uart_clock));
	for (i = 0; i < p->nr_devs && i < FDT_MAX_DEVS; i++)
		T(dev_node(fdt, p->devs[i].name, p->devs[i].compatible,
			   p->devs[i].base, p->devs[i].size, p->devs[i].irq,
			   0));
	return fdt_end_node(fdt);
}

int fdt_build(void *buf, size_t size, const struct fdt_params *p)
{
	char name[32];

	T(fdt_create(buf, (int)size));
	T(fdt_finish_reservemap(buf));
	T(fdt_begin_node(buf, ""));
	T(fdt_property_cell(buf, "#address-cells", 2));
	T(fdt_property_cell(buf, "#size-cells", 2));
	T(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	T(fdt_property_string(buf, "model", "lkvm"));
	T(chosen_node(buf, p));
	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)p->ram_base);
	T(fdt_begin_node(buf, name));
	T(fdt_property_string(buf, "device_type", "memory"));
	T(prop_reg(buf, p->ram_base, p->ram_size));
	T(fdt_end_node(buf));
	T(cpus_node(buf, p));
	T(soc_node(buf, p));
	T(fdt_end_node(buf));
	T(fdt_finish(buf));
	return (int)fdt_totalsize(buf);
}
