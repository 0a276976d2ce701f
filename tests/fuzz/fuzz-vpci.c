// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: a virtio-pci device (virtio-rng, with MSI-X) behind the PCI
 * host bridge, driven through ECAM, the memory window and guest RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>

#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-pci.h"
#include "fuzz-input.h"
#include "guest.h"
#include "vdrv.h"

#define RAM_SIZE 0x8000ULL
#define W32 VDRV_PCI_W32
#define W32_SIZE 0x100000ULL /* the part of the window the input reaches */

struct sink {
	bool live[MSIX_MAX_VECTORS];
	int intx;
	bool notify_on;
};

static struct sink sink;

static void route(void *opaque, unsigned int vec, uint64_t addr, uint32_t data,
		  bool live)
{
	(void)opaque, (void)addr, (void)data;
	if (vec >= MSIX_MAX_VECTORS || (!live && !sink.live[vec]))
		abort();
	sink.live[vec] = live;
}

static void fire(void *opaque, unsigned int vec)
{
	(void)opaque;
	if (vec >= MSIX_MAX_VECTORS || !sink.live[vec])
		abort();
}

/* The bridge reports INTx transitions only. */
static void intx(void *ctrl, unsigned int irq, int level)
{
	(void)ctrl, (void)irq;
	if (sink.intx == level)
		abort();
	sink.intx = level;
}

/* Mapped/unmapped alternate. */
static void notify_mapped(void *opaque, struct virtio_dev *d,
			  const struct virtio_doorbells *db)
{
	bool mapped = db != NULL;

	(void)opaque, (void)d;
	if (sink.notify_on == mapped)
		abort();
	sink.notify_on = mapped;
}

static const struct msix_ops msi = { route, fire };
static const struct virtio_pci_host_ops host = { &msi, notify_mapped };

static void ecam_wr(struct pci_host *h, uint32_t off, unsigned int size,
		    uint64_t v)
{
	pci_ecam_ops.write(h, off, size, v);
}

/*
 * Records: op, then operands. op % 6: 0/1 ECAM write/read (2-byte offset
 * within slot 0 or 1, size 1 << (x & 3)), 2/3 window write/read (3-byte
 * offset into the first MiB of the 32-bit window), 4 copy up to 32 bytes
 * into RAM at a 2-byte offset, 5 place BAR 0/1 at the window's start and
 * enable memory decoding and bus mastering.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest g;
	struct pci_host *h;
	struct virtio_dev *d;
	struct vdrv drv;
	void *w;

	memset(&sink, 0, sizeof(sink));
	if (!g.mem.nr && guest_init(&g, GUEST_RAM_BASE, RAM_SIZE))
		abort();
	guest_clear(&g);
	if (virtio_rng_create(&g.mem, (struct irq_line){ 0 }, &d) ||
	    vdrv_pci_attach(&drv, d, &host, NULL,
			    (struct irq_line){ intx, 0, 0 }))
		abort();
	h = drv.h;
	w = pci_host_window(h, 0);
	while (size) {
		uint8_t op = fuzz_byte(&data, &size);
		unsigned int sz = 1u << (fuzz_take(&data, &size, 1) & 3);
		uint64_t off, v;

		switch (op % 6) {
		case 0:
			off = fuzz_take(&data, &size, 2) & 0x1fff;
			ecam_wr(h,
				(uint32_t)((off & 0x1000) << 3 | (off & 0xfff)),
				sz, fuzz_take(&data, &size, 4));
			break;
		case 1:
			off = fuzz_take(&data, &size, 2) & 0x1fff;
			(void)pci_ecam_ops.read(
				h, (off & 0x1000) << 3 | (off & 0xfff), sz);
			break;
		case 2:
			off = fuzz_take(&data, &size, 3) % W32_SIZE;
			if (off + sz <= W32_SIZE)
				pci_window_ops.write(
					w, off, sz, fuzz_take(&data, &size, 8));
			break;
		case 3:
			off = fuzz_take(&data, &size, 3) % W32_SIZE;
			if (off + sz <= W32_SIZE)
				(void)pci_window_ops.read(w, off, sz);
			break;
		case 4:
			off = fuzz_take(&data, &size, 2) % RAM_SIZE;
			for (v = fuzz_take(&data, &size, 1) % 32; v-- && size;)
				guest_put8(&g,
					   GUEST_RAM_BASE + off++ % RAM_SIZE,
					   fuzz_byte(&data, &size));
			break;
		default:
			ecam_wr(h, PCI_BASE_ADDRESS_0, 4, W32);
			ecam_wr(h, PCI_BASE_ADDRESS_1, 4, W32 + VPCI_BAR0_SIZE);
			ecam_wr(h, PCI_COMMAND, 2,
				PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		}
		v = virtio_get_status(d);
		if (v & VIRTIO_CONFIG_S_DRIVER_OK &&
		    !(v & VIRTIO_CONFIG_S_FEATURES_OK))
			abort();
	}
	vdrv_close(&drv);
	virtio_rng_destroy(d);
	return 0;
}
