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
#define PCI_ECAM_BUS_SIZE \
	(1u << 20) /* ECAM: bus << 20 | dev << 15 | fn << 12 */

/* BAR kinds for pci_dev_set_bar(). */
#define PCI_BAR_MEM32 0x0
#define PCI_BAR_MEM64 0x4 /* takes two BAR slots, bar and bar + 1 */
#define PCI_BAR_PREFETCH 0x8

struct pci_dev;

struct pci_dev_ops {
	/*
	 * A guest access to BAR bar at off (off + size <= the BAR's size;
	 * size 1, 2, 4 or 8). Called only while the BAR is mapped (memory
	 * space enabled and an address programmed), with no PCI lock held:
	 * it may take the device's lock and call pci_dev_set_intx(). Read
	 * results are truncated to size bytes. Both are required when the
	 * function has a BAR.
	 */
	uint64_t (*bar_read)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			     unsigned int size);
	void (*bar_write)(struct pci_dev *pd, unsigned int bar, uint64_t off,
			  unsigned int size, uint64_t value);
	/*
	 * Before a guest read of config bytes [off, off + size) that touches
	 * the capability area: lets the device refresh bytes whose value is
	 * computed on read (virtio's PCI configuration access window).
	 * May be NULL.
	 */
	void (*cfg_read)(struct pci_dev *pd, uint32_t off, unsigned int size);
	/*
	 * After a guest write to config bytes [off, off + size), the part
	 * of the write that lies in the capability area (from 0x40 to the
	 * end of the last capability, dword-aligned); called even when the
	 * values did not change. The bytes are already updated in pd->cfg,
	 * the write masks applied. May be NULL.
	 */
	void (*cfg_written)(struct pci_dev *pd, uint32_t off,
			    unsigned int size);
	/*
	 * BAR bar now decodes at gpa (mapped true) or no longer decodes
	 * (mapped false; gpa is the old address). Lets the machine move what
	 * it attached to the BAR, such as ioeventfds. May be NULL.
	 *
	 * A BAR decodes when the command register's MEMORY bit is set and
	 * its whole [gpa, gpa + size) lies in one window; this is evaluated
	 * after every config write. Every true names a range inside a window
	 * and is followed, before the next true for that BAR, by a false
	 * with the same gpa. All of one write's unmaps come before its maps.
	 *
	 * cfg_written and bar_mapped run in the vCPU thread that wrote the
	 * config space, with the bus's config-write lock held (so they are
	 * serialised and in order) but not pd->lock: they may do ioctls and
	 * take the device's lock, but must not access config space through
	 * the ECAM ops.
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
	uint8_t cap_end; /* next free byte for a capability; 0: 0x100, full */
	uint8_t cap_last; /* offset of the last capability, 0 if none */
	struct irq_line intx; /* INTA..INTD of this slot, after swizzling */
	bool intx_level; /* the function's INTx input, before INTX_DISABLE */
	unsigned int slot;
	/*
	 * Guards cfg, the BAR state and INTx. Held only briefly by the
	 * bridge and across irq_line_set(), never across a pci_dev_ops
	 * callback. A device model reading pd->cfg at run time takes it
	 * (or reads its capability bytes in cfg_written).
	 */
	pthread_mutex_t lock;
};

/*
 * Start a type 0 function: IDs, class (24 bits: base, sub, prog-if),
 * revision, subsystem IDs, capability list empty, INTA as its pin. The
 * command register starts 0 (no decoding). Zeroes *pd first. Returns 0 or
 * -EINVAL (no ops, class above 24 bits).
 */
int pci_dev_init(struct pci_dev *pd, const struct pci_dev_ops *ops, void *priv,
		 const char *name, uint16_t vendor, uint16_t device,
		 uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		 uint16_t subsys_id);
void pci_dev_destroy(struct pci_dev *pd);

/*
 * Declare BAR bar as a memory BAR of size bytes (a power of two, at least
 * 16, at most 2 GiB for a 32-bit BAR; PCI_BAR_MEM64 uses bar and bar + 1).
 * Before the function is added to a bridge. Returns 0 or -EINVAL (also for
 * a slot already taken, or ops without bar_read/bar_write).
 */
int pci_dev_set_bar(struct pci_dev *pd, unsigned int bar, uint64_t size,
		    unsigned int kind);

/*
 * Append a capability: id, then body (len bytes, which start after the
 * two-byte id/next header; NULL: zeros) with per-byte guest write masks
 * wmask (NULL: read-only). Capabilities start at 0x40, dword-aligned, each
 * chained from the previous one (the first from PCI_CAPABILITY_LIST), and
 * set the status register's CAP_LIST. Before the function is added to a
 * bridge. Returns the capability's config offset (its id byte), or
 * -ENOSPC when it does not fit below 0x100.
 */
int pci_dev_add_cap(struct pci_dev *pd, uint8_t id, const void *body,
		    unsigned int len, const uint8_t *wmask);

/*
 * The function's INTx input: 1 asserted, 0 deasserted. The line to the
 * interrupt controller follows it unless the command register's
 * INTX_DISABLE is set; the status register's INTERRUPT bit always does.
 * The line is set only when its level changes, with pd->lock held (so
 * irq_line_set() must not call back into this function).
 */
void pci_dev_set_intx(struct pci_dev *pd, int level);

/*
 * Little-endian helpers on pd->cfg (no checks: off + n <= PCI_CFG_SPACE,
 * n <= 4; no locking: at set-up, or with pd->lock held).
 */
uint32_t pci_cfg_get(const struct pci_dev *pd, uint32_t off, unsigned int n);
void pci_cfg_put(struct pci_dev *pd, uint32_t off, unsigned int n,
		 uint32_t value);

/*
 * True when the command register enables memory decoding / bus mastering.
 * Take pd->lock: not from irq_line_set().
 */
bool pci_dev_mem_enabled(const struct pci_dev *pd);
bool pci_dev_master(const struct pci_dev *pd);

struct pci_host;

/*
 * A host bridge for bus 0: ECAM of PCI_ECAM_BUS_SIZE bytes (config space
 * above 0x100 reads 0: no extended capabilities), a 32-bit and a 64-bit
 * memory window (gpa ranges the guest assigns BARs from; a BAR programmed
 * outside both windows does not decode). A window of size 0 is absent.
 * Returns 0, -EINVAL (a window wraps, the 32-bit one reaches above 4 GiB,
 * or they overlap) or -ENOMEM.
 */
int pci_host_create(struct pci_host **hp, uint64_t mmio32_base,
		    uint64_t mmio32_size, uint64_t mmio64_base,
		    uint64_t mmio64_size);
/* Frees the bridge, not the functions added to it. NULL is a no-op. */
void pci_host_destroy(struct pci_host *h);

/*
 * The interrupt controller inputs of INTA..INTD (lines[0..3]): from now on
 * the bridge swizzles each function's INTA onto one of them
 * (pci_intx_irq()) and shares it wired-OR with the other slots there
 * (see lkvm/irq-share.h). During machine set-up, once.
 */
void pci_host_set_intx(struct pci_host *h, const struct irq_line lines[4]);

/*
 * Put pd in the next free slot (device number) of bus 0. Its INTx line is
 * intx, or with intx unset ({ 0 }) the bridge's shared, swizzled line
 * (pci_host_set_intx()), or none. During machine set-up, before any vCPU
 * runs. Returns the slot, -ENOSPC, or -EINVAL for no pd.
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
 * bus 0's, sizes 1, 2 and 4). An access is handled as its bytes, all in
 * the function its first byte names; bytes past that function's 4 KiB
 * read 0xff and are not written, so any size at any offset is safe.
 * Nonexistent functions (empty slot, function number above 0) read all
 * ones and ignore writes.
 */
extern const struct mmio_ops pci_ecam_ops;
#define PCI_ECAM_SIZES (MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4))

/*
 * MMIO ops for a memory window (dev is what pci_host_window() returns):
 * an access is sent to the mapped BAR that holds all of it (the lowest
 * slot and BAR if the guest made BARs overlap), else reads return all
 * ones and writes are dropped (logged, rate-limited).
 */
extern const struct mmio_ops pci_window_ops;
#define PCI_WINDOW_SIZES \
	(MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4) | MMIO_SIZE(8))
/* The dev pointer to register window 0 (32-bit) or 1 (64-bit) with; NULL
 * for another number. */
void *pci_host_window(struct pci_host *h, unsigned int window);

#endif
