/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI: a host bridge with ECAM configuration space (pci-host-ecam-generic,
 * bus 0 only) and memory windows, and the type 0 function that device
 * models embed. The bridge emulates the standard header (IDs, command,
 * status, BAR sizing and programming, interrupt line/pin, the capability
 * list); device models add capabilities and serve their BARs.
 *
 * Device models include this, never <linux/kvm.h>.
 */
#ifndef LKVM_PCI_H
#define LKVM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lkvm/device.h"
#include "lkvm/log.h"

#define PCI_CFG_SPACE 4096 /* PCIe extended configuration space */
#define PCI_NR_BARS 6
#define PCI_MAX_SLOTS 32 /* devices on bus 0, function 0 each */
#define PCI_ECAM_BUS_SIZE (1u << 20) /* ECAM: bus << 20 | dev << 15 | fn << 12 */

/* BAR kinds for pci_dev_set_bar(). */
#define PCI_BAR_MEM32 0x0
#define PCI_BAR_MEM64 0x4 /* takes two BAR slots, bar and bar + 1 */
#define PCI_BAR_PREFETCH 0x8

struct pci_dev;

struct pci_dev_ops {
	/*
	 * A guest access to BAR bar at off (off + size <= the BAR's size;
	 * size 1, 2, 4 or 8). Called only while the BAR is mapped (memory
	 * space enabled and an address programmed).
	 */
	uint64_t (*bar_read)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			     unsigned int size);
	void (*bar_write)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  unsigned int size, uint64_t value);
	/*
	 * After a guest write changed config bytes [off, off + size) of a
	 * capability the device added (the bytes are already updated in
	 * pd->cfg, the write masks applied). May be NULL.
	 */
	void (*cfg_written)(struct pci_dev *pd, uint32_t off, unsigned int size);
	/*
	 * BAR bar now decodes at gpa (mapped true) or no longer decodes
	 * (mapped false; gpa is the old address). Lets the machine move what
	 * it attached to the BAR, such as ioeventfds. May be NULL.
	 */
	void (*bar_mapped)(struct pci_dev *pd, unsigned int bar, uint64_t gpa,
			   bool mapped);
};

/* One PCI function. Embed it in the device model; fields are the bridge's. */
struct pci_dev {
	const struct pci_dev_ops *ops;
	void *priv;
	const char *name;
	uint8_t cfg[PCI_CFG_SPACE]; /* little-endian, as the guest sees it */
	uint8_t wmask[PCI_CFG_SPACE]; /* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SPACE]; /* bits a guest write of 1 clears */
	uint64_t bar_size[PCI_NR_BARS]; /* 0: unimplemented */
	uint8_t bar_kind[PCI_NR_BARS];
	uint64_t bar_gpa[PCI_NR_BARS]; /* where it decodes, when mapped */
	bool bar_on[PCI_NR_BARS];
	uint8_t cap_end; /* next free byte for a capability */
	uint8_t cap_last; /* offset of the last capability, 0 if none */
	struct irq_line intx; /* INTA..INTD of this slot, after swizzling */
	bool intx_level; /* the function's INTx input, before INTX_DISABLE */
	unsigned int slot;
	pthread_mutex_t lock; /* cfg, BAR state, INTx */
};

/*
 * Start a type 0 function: IDs, class (24 bits: base, sub, prog-if),
 * revision, subsystem IDs, capability list empty, INTA as its pin. The
 * command register starts 0 (no decoding). Returns 0 or -EINVAL.
 */
int pci_dev_init(struct pci_dev *pd, const struct pci_dev_ops *ops,
		 void *priv, const char *name, uint16_t vendor, uint16_t device,
		 uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		 uint16_t subsys_id);
void pci_dev_destroy(struct pci_dev *pd);

/*
 * Declare BAR bar as a memory BAR of size bytes (a power of two, at least
 * 16; PCI_BAR_MEM64 uses bar and bar + 1). Before the function is added to
 * a bridge. Returns 0 or -EINVAL.
 */
int pci_dev_set_bar(struct pci_dev *pd, unsigned int bar, uint64_t size,
		    unsigned int kind);

/*
 * Append a capability: id, then body (len bytes, which start after the
 * two-byte id/next header) with per-byte guest write masks wmask (NULL:
 * read-only). Returns the capability's config offset (its id byte), or
 * -ENOSPC when it does not fit below 0x100.
 */
int pci_dev_add_cap(struct pci_dev *pd, uint8_t id, const void *body,
		    unsigned int len, const uint8_t *wmask);

/*
 * The function's INTx input: 1 asserted, 0 deasserted. The line to the
 * interrupt controller follows it unless the command register's
 * INTX_DISABLE is set; the status register's INTERRUPT bit always does.
 */
void pci_dev_set_intx(struct pci_dev *pd, int level);

/* Little-endian helpers on pd->cfg (no checks: off + n <= PCI_CFG_SPACE). */
uint32_t pci_cfg_get(const struct pci_dev *pd, uint32_t off, unsigned int n);
void pci_cfg_put(struct pci_dev *pd, uint32_t off, unsigned int n,
		 uint32_t value);

/* True when the command register enables memory decoding / bus mastering. */
bool pci_dev_mem_enabled(const struct pci_dev *pd);
bool pci_dev_master(const struct pci_dev *pd);

struct pci_host;

/*
 * A host bridge for bus 0: ECAM of PCI_ECAM_BUS_SIZE bytes (config space
 * above 0x100 reads 0: no extended capabilities), a 32-bit and a 64-bit
 * memory window (gpa ranges the guest assigns BARs from; a BAR programmed
 * outside both windows does not decode). Returns 0 or -errno.
 */
int pci_host_create(struct pci_host **hp, uint64_t mmio32_base,
		    uint64_t mmio32_size, uint64_t mmio64_base,
		    uint64_t mmio64_size);
void pci_host_destroy(struct pci_host *h);

/*
 * Put pd in the next free slot (device number) of bus 0 with intx as its
 * INTx line. Returns the slot, or -ENOSPC.
 */
int pci_host_add(struct pci_host *h, struct pci_dev *pd, struct irq_line intx);

/* The interrupt controller input for INTx pin (1 = INTA) of slot: the
 * standard swizzle over four lines starting at first_irq. */
static inline unsigned int pci_intx_irq(unsigned int first_irq,
					unsigned int slot, unsigned int pin)
{
	return first_irq + (slot + pin - 1) % 4;
}

/*
 * MMIO ops for the ECAM region (dev is the struct pci_host; offsets are
 * bus 0's, sizes 1, 2 and 4; unaligned accesses are split within the
 * dword, nonexistent functions read all ones and ignore writes).
 */
extern const struct mmio_ops pci_ecam_ops;
#define PCI_ECAM_SIZES (MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4))

/*
 * MMIO ops for a memory window (dev is what pci_host_window() returns):
 * an access is sent to the mapped BAR that holds all of it, else reads
 * return all ones and writes are dropped.
 */
extern const struct mmio_ops pci_window_ops;
#define PCI_WINDOW_SIZES \
	(MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4) | MMIO_SIZE(8))
/* The dev pointer to register window 0 (32-bit) or 1 (64-bit) with. */
void *pci_host_window(struct pci_host *h, unsigned int window);

#endif
