// SPDX-License-Identifier: GPL-2.0-only
/* The board as built: its device list, and the kernel command line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lkvm/virtio-mmio.h"
#include "riscv/board.h"

void board_init(struct board *b, struct mmio_bus *bus, unsigned int nr_cpus,
		uint64_t ram_size, const struct kvm_caps *caps)
{
	memset(b, 0, sizeof(*b));
	b->bus = bus;
	b->nr_cpus = nr_cpus;
	b->ram_base = MEMMAP_RAM_BASE;
	b->ram_size = ram_size;
	b->caps = caps;
}

int board_add(struct board *b, const struct board_dev *dev, unsigned int sizes,
	      const struct mmio_ops *ops, void *opaque,
	      const struct board_dev **out)
{
	int ret;

	if (b->nr_devs >= BOARD_MAX_DEVS)
		return -ENOSPC;
	if (ops) {
		ret = mmio_register(b->bus, dev->base, dev->size, sizes, ops,
				    opaque, dev->name);
		if (ret)
			return ret;
	}
	b->devs[b->nr_devs] = *dev;
	if (out)
		*out = &b->devs[b->nr_devs];
	b->nr_devs++;
	return 0;
}

int board_add_virtio_mmio(struct board *b, struct virtio_dev *d,
			  const char *name, const struct board_dev **out)
{
	unsigned int n = b->nr_virtio_mmio;
	struct board_dev dev = {
		.node = BOARD_VIRTIO_MMIO,
		.name = name,
		.base = MEMMAP_VIRTIO_MMIO_BASE + n * MEMMAP_VIRTIO_MMIO_STRIDE,
		.size = VIRTIO_MMIO_REGION_SIZE,
		.irq = IRQ_VIRTIO_BASE + n,
	};
	int ret;

	if (n >= VM_MAX_VIRTIO)
		return -ENOSPC;
	ret = board_add(b, &dev, VIRTIO_MMIO_SIZES, &virtio_mmio_ops, d, out);
	if (!ret)
		b->nr_virtio_mmio++;
	return ret;
}

const struct board_dev *board_find(const struct board *b, enum board_node node)
{
	unsigned int i;

	for (i = 0; i < b->nr_devs; i++)
		if (b->devs[i].node == node)
			return &b->devs[i];
	return NULL;
}

/* Does the command line have a parameter starting with name? */
static bool has_param(const char *cmdline, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = cmdline; (p = strstr(p, name)); p += n)
		if (p == cmdline || p[-1] == ' ')
			return true;
	return false;
}

/*
 * Append word after a space to the line *used bytes long so far: written
 * into buf (len bytes) as far as it fits, always terminated; *used counts
 * the whole line even when it does not fit.
 */
static void add_word(char *buf, size_t len, size_t *used, const char *word)
{
	size_t sep = *used ? 1 : 0;

	if (!*word)
		return;
	if (*used < len)
		snprintf(buf + *used, len - *used, "%s%s", sep ? " " : "",
			 word);
	*used += sep + strlen(word);
}

size_t board_bootargs(const struct vm_config *cfg, bool sbi_dbcn, char *buf,
		      size_t len)
{
	const char *p = cfg->params ? cfg->params : "";
	static const char *const con_param[] = {
		[CONSOLE_SERIAL] = "console=ttyS0",
		[CONSOLE_HV] = "console=hvc0",
		[CONSOLE_VIRTIO] = "console=hvc1",
	};
	const char *con = con_param[cfg->console];
	const char *early = sbi_dbcn ? "earlycon=sbi" : "";
	size_t used = 0;

	if (len)
		buf[0] = 0;
	if (cfg->nodefaults) {
		/* verbatim, even leading or doubled spaces: a test's argv */
		if (len)
			snprintf(buf, len, "%s", p);
		return strlen(p);
	}
	if (has_param(p, "console="))
		con = "";
	if (has_param(p, "earlycon"))
		early = "";
	add_word(buf, len, &used, con);
	add_word(buf, len, &used, early);
	if (cfg->nr_disks && !has_param(p, "root="))
		add_word(buf, len, &used,
			 cfg->disks[0].ro ? "root=/dev/vda ro"
					  : "root=/dev/vda rw");
	else if (vm_9p_root(cfg) && !has_param(p, "root="))
		add_word(buf, len, &used,
			 vm_9p_root(cfg)->ro
				 ? "root=" VM_9P_ROOT_TAG
				   " rootfstype=9p rootflags=" VM_9P_MOUNT_OPTS
				   " ro"
				 : "root=" VM_9P_ROOT_TAG
				   " rootfstype=9p rootflags=" VM_9P_MOUNT_OPTS
				   " rw");
	add_word(buf, len, &used, p);
	return used;
}
