// SPDX-License-Identifier: GPL-2.0-only
/* The PCI host bridge: bus 0 ECAM, type 0 headers, BARs and memory windows. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/irq-share.h"
#include "lkvm/pci.h"

/*
 * Locking. Two locks, always taken in this order:
 *
 *   h->cfg_lock  serialises guest config writes on the whole bus and the
 *                callbacks they make (bar_mapped, cfg_written), so that the
 *                callbacks see the mapping changes in the order they happened;
 *   pd->lock     guards pd->cfg, the BAR state and INTx; held only for short
 *                copies and for irq_line_set(), never across a device callback.
 *
 * Window accesses take pd->lock only to find the BAR and call bar_read and
 * bar_write with no PCI lock held, so a device may take its own lock there
 * and call pci_dev_set_intx(); bar_mapped and cfg_written run with only
 * cfg_lock held, so they may take the device lock too. The slot table is
 * filled before any vCPU runs and read without a lock afterwards.
 */

#define CFG_STD_END PCI_CFG_SPACE_SIZE /* extended space above reads 0 */
#define CAP_ALIGN 4

#define CMD_WMASK                                                       \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C                                                   \
	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |           \
	 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
	 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

_Static_assert(PCI_BAR_MEM64 == PCI_BASE_ADDRESS_MEM_TYPE_64,
	       "BAR kinds are the register's type bits");
_Static_assert(PCI_BAR_PREFETCH == PCI_BASE_ADDRESS_MEM_PREFETCH,
	       "BAR kinds are the register's prefetch bit");

struct pci_window {
	struct pci_host *host;
	uint64_t base, size; /* size 0: no window */
};

struct pci_host {
	pthread_mutex_t cfg_lock;
	struct pci_window win[2];
	struct pci_dev *dev[PCI_MAX_SLOTS]; /* dev[slot], slots 0..nr_devs-1 */
	unsigned int nr_devs;
	/* INTA..INTD, each shared (wired-OR) by the slots swizzled onto it */
	struct irq_share intx[4];
	bool has_intx;
	struct ratelimit rl;
};

/* Where a BAR decodes, for comparing before and after a config write. */
struct bar_map {
	bool on;
	uint64_t gpa;
};

static void le_put(uint8_t *p, unsigned int n, uint32_t value)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

uint32_t pci_cfg_get(const struct pci_dev *pd, uint32_t off, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | pd->cfg[off + n];
	return v;
}

void pci_cfg_put(struct pci_dev *pd, uint32_t off, unsigned int n,
		 uint32_t value)
{
	le_put(pd->cfg + off, n, value);
}

static uint16_t cfg_command(const struct pci_dev *pd)
{
	return (uint16_t)pci_cfg_get(pd, PCI_COMMAND, 2);
}

bool pci_dev_mem_enabled(const struct pci_dev *pd)
{
	struct pci_dev *p = (struct pci_dev *)pd; /* for the lock only */
	bool on;

	pthread_mutex_lock(&p->lock);
	on = cfg_command(pd) & PCI_COMMAND_MEMORY;
	pthread_mutex_unlock(&p->lock);
	return on;
}

bool pci_dev_master(const struct pci_dev *pd)
{
	struct pci_dev *p = (struct pci_dev *)pd; /* for the lock only */
	bool on;

	pthread_mutex_lock(&p->lock);
	on = cfg_command(pd) & PCI_COMMAND_MASTER;
	pthread_mutex_unlock(&p->lock);
	return on;
}

int pci_dev_init(struct pci_dev *pd, const struct pci_dev_ops *ops, void *priv,
		 const char *name, uint16_t vendor, uint16_t device,
		 uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		 uint16_t subsys_id)
{
	if (!pd || !ops || class_code > 0xffffff)
		return -EINVAL;
	memset(pd, 0, sizeof(*pd));
	pd->ops = ops;
	pd->priv = priv;
	pd->name = name ? name : "pci";
	pci_cfg_put(pd, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_put(pd, PCI_DEVICE_ID, 2, device);
	pci_cfg_put(pd, PCI_CLASS_REVISION, 4, class_code << 8 | revision);
	pci_cfg_put(pd, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
	pci_cfg_put(pd, PCI_SUBSYSTEM_VENDOR_ID, 2, subsys_vendor);
	pci_cfg_put(pd, PCI_SUBSYSTEM_ID, 2, subsys_id);
	pci_cfg_put(pd, PCI_INTERRUPT_PIN, 1, 1); /* INTA */
	le_put(pd->wmask + PCI_COMMAND, 2, CMD_WMASK);
	le_put(pd->w1cmask + PCI_STATUS, 2, STATUS_W1C);
	pd->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pd->wmask[PCI_LATENCY_TIMER] = 0xff;
	pd->wmask[PCI_INTERRUPT_LINE] = 0xff;
	pd->cap_end = PCI_STD_HEADER_SIZEOF;
	return -pthread_mutex_init(&pd->lock, NULL);
}

void pci_dev_destroy(struct pci_dev *pd)
{
	pthread_mutex_destroy(&pd->lock);
}

/* True when BAR slot bar is taken, also as the upper half of a 64-bit BAR. */
static bool bar_taken(const struct pci_dev *pd, unsigned int bar)
{
	return pd->bar_size[bar] || (bar && pd->bar_size[bar - 1] &&
				     (pd->bar_kind[bar - 1] & PCI_BAR_MEM64));
}

static bool bar_args_ok(const struct pci_dev *pd, unsigned int bar,
			uint64_t size, unsigned int kind)
{
	bool is64 = kind & PCI_BAR_MEM64;

	if (bar >= PCI_NR_BARS || (kind & ~(PCI_BAR_MEM64 | PCI_BAR_PREFETCH)))
		return false;
	if (size < 16 || (size & (size - 1)))
		return false;
	if (!pd->ops->bar_read || !pd->ops->bar_write)
		return false;
	if (is64)
		return bar + 1 < PCI_NR_BARS && !bar_taken(pd, bar) &&
		       !bar_taken(pd, bar + 1) && size <= 1ULL << 63;
	return !bar_taken(pd, bar) && size <= 1ULL << 31;
}

/*
 * The write masks do the sizing protocol: the address bits below the size
 * and the flag bits never take a guest value, so writing all ones reads
 * back ~(size - 1) with the flags.
 */
int pci_dev_set_bar(struct pci_dev *pd, unsigned int bar, uint64_t size,
		    unsigned int kind)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t mask = ~(size - 1);

	if (!bar_args_ok(pd, bar, size, kind))
		return -EINVAL;
	pd->bar_size[bar] = size;
	pd->bar_kind[bar] = (uint8_t)kind;
	pci_cfg_put(pd, off, 4, kind);
	le_put(pd->wmask + off, 4, (uint32_t)mask & PCI_BASE_ADDRESS_MEM_MASK);
	if (kind & PCI_BAR_MEM64)
		le_put(pd->wmask + off + 4, 4, (uint32_t)(mask >> 32));
	return 0;
}

/* The end of the capability area: pd->cap_end, where 0 stands for 0x100. */
static unsigned int cap_area_end(const struct pci_dev *pd)
{
	return pd->cap_end ? pd->cap_end : CFG_STD_END;
}

int pci_dev_add_cap(struct pci_dev *pd, uint8_t id, const void *body,
		    unsigned int len, const uint8_t *wmask)
{
	unsigned int off = cap_area_end(pd);

	if (len > CFG_STD_END - 2 || off + 2 + len > CFG_STD_END)
		return -ENOSPC;
	pthread_mutex_lock(&pd->lock);
	pd->cfg[off + PCI_CAP_LIST_ID] = id;
	pd->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (body)
		memcpy(pd->cfg + off + 2, body, len);
	if (wmask)
		memcpy(pd->wmask + off + 2, wmask, len);
	if (pd->cap_last)
		pd->cfg[pd->cap_last + PCI_CAP_LIST_NEXT] = (uint8_t)off;
	else
		pd->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	pd->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pd->cap_last = (uint8_t)off;
	/* a full area stores 0x100 as 0: see cap_area_end() */
	pd->cap_end =
		(uint8_t)((off + 2 + len + CAP_ALIGN - 1) & ~(CAP_ALIGN - 1u));
	pthread_mutex_unlock(&pd->lock);
	return (int)off;
}

/* The level the INTx line should have. pd->lock held. */
static bool intx_out(const struct pci_dev *pd)
{
	return pd->intx_level && !(cfg_command(pd) & PCI_COMMAND_INTX_DISABLE);
}

void pci_dev_set_intx(struct pci_dev *pd, int level)
{
	bool was;

	pthread_mutex_lock(&pd->lock);
	was = intx_out(pd);
	pd->intx_level = level != 0;
	if (pd->intx_level)
		pd->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		pd->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	if (intx_out(pd) != was)
		irq_line_set(&pd->intx, !was);
	pthread_mutex_unlock(&pd->lock);
}

/* BAR bar's programmed address (bar_size[bar] != 0). pd->lock held. */
static uint64_t bar_addr(const struct pci_dev *pd, unsigned int bar)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t gpa = pci_cfg_get(pd, off, 4) & PCI_BASE_ADDRESS_MEM_MASK;

	if (pd->bar_kind[bar] & PCI_BAR_MEM64)
		gpa |= (uint64_t)pci_cfg_get(pd, off + 4, 4) << 32;
	return gpa;
}

/* True when all of [gpa, gpa + size) lies in one of the host's windows. */
static bool in_window(const struct pci_host *h, uint64_t gpa, uint64_t size)
{
	uint64_t last;
	unsigned int i;

	if (!size || __builtin_add_overflow(gpa, size - 1, &last))
		return false;
	for (i = 0; i < ARRAY_SIZE(h->win); i++) {
		const struct pci_window *w = &h->win[i];

		if (w->size && gpa >= w->base &&
		    last <= w->base + (w->size - 1))
			return true;
	}
	return false;
}

static void bars_get(const struct pci_dev *pd, struct bar_map *map)
{
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++)
		map[i] = (struct bar_map){ pd->bar_on[i], pd->bar_gpa[i] };
}

/*
 * Recompute where each BAR decodes from the registers as they are now: with
 * memory decoding on, at its programmed address, if that lies wholly in a
 * window. This is evaluated after every config write, so a guest that
 * sizes a 64-bit BAR with decoding on (Linux turns it off first) maps it
 * for a moment at the sizing pattern's address, but only ever somewhere
 * inside a window, which is what the hardware would decode too.
 * pd->lock held.
 */
static void bars_update(const struct pci_host *h, struct pci_dev *pd)
{
	bool mem = cfg_command(pd) & PCI_COMMAND_MEMORY;
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		uint64_t gpa;

		if (!pd->bar_size[i])
			continue;
		gpa = bar_addr(pd, i);
		pd->bar_on[i] = mem && in_window(h, gpa, pd->bar_size[i]);
		pd->bar_gpa[i] = pd->bar_on[i] ? gpa : 0;
	}
}

/* Tell the device what moved: every unmap first, then every map. */
static void bars_notify(struct pci_dev *pd, const struct bar_map *old,
			const struct bar_map *now)
{
	unsigned int i;

	if (!pd->ops->bar_mapped)
		return;
	for (i = 0; i < PCI_NR_BARS; i++)
		if (old[i].on && (!now[i].on || old[i].gpa != now[i].gpa))
			pd->ops->bar_mapped(pd, i, old[i].gpa, false);
	for (i = 0; i < PCI_NR_BARS; i++)
		if (now[i].on && (!old[i].on || old[i].gpa != now[i].gpa))
			pd->ops->bar_mapped(pd, i, now[i].gpa, true);
}

static void cfg_write_byte(struct pci_dev *pd, uint32_t off, uint8_t v)
{
	uint8_t wm = pd->wmask[off];

	pd->cfg[off] = (uint8_t)((pd->cfg[off] & ~wm) | (v & wm));
	pd->cfg[off] &= (uint8_t) ~(v & pd->w1cmask[off]);
}

/*
 * Hand the part of [off, off + n) that lies in the capability area to cb
 * (cfg_read before a read, cfg_written after a write), if there is one.
 */
static void cap_call(struct pci_dev *pd, uint32_t off, unsigned int n,
		     void (*cb)(struct pci_dev *, uint32_t, unsigned int))
{
	uint32_t lo = off, hi = off + n, end = cap_area_end(pd);

	if (!cb || !pd->cap_last)
		return;
	if (lo < PCI_STD_HEADER_SIZEOF)
		lo = PCI_STD_HEADER_SIZEOF;
	if (hi > end)
		hi = end;
	if (lo < hi)
		cb(pd, lo, hi - lo);
}

/*
 * A guest write of n (at most 8) bytes at off within pd's config space.
 * Bytes beyond the standard 256 are dropped. h->cfg_lock held.
 */
static void cfg_write(struct pci_host *h, struct pci_dev *pd, uint32_t off,
		      unsigned int n, uint64_t value)
{
	struct bar_map old[PCI_NR_BARS], now[PCI_NR_BARS];
	unsigned int i;
	bool was;

	if (off >= CFG_STD_END)
		return;
	if (n > CFG_STD_END - off)
		n = CFG_STD_END - off;
	pthread_mutex_lock(&pd->lock);
	bars_get(pd, old);
	was = intx_out(pd);
	for (i = 0; i < n; i++)
		cfg_write_byte(pd, off + i, (uint8_t)(value >> (8 * i)));
	if (intx_out(pd) != was)
		irq_line_set(&pd->intx, !was);
	bars_update(h, pd);
	bars_get(pd, now);
	pthread_mutex_unlock(&pd->lock);
	bars_notify(pd, old, now);
	cap_call(pd, off, n, pd->ops->cfg_written);
}

/* The byte the guest reads at off of an existing function. */
static uint8_t cfg_read_byte(const struct pci_dev *pd, uint32_t off)
{
	if (off >= PCI_CFG_SPACE)
		return 0xff;
	if (off >= CFG_STD_END)
		return 0;
	return pd->cfg[off];
}

static uint64_t all_ones(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The function an ECAM offset names and the register within it, or NULL. */
static struct pci_dev *ecam_decode(const struct pci_host *h, uint64_t off,
				   uint32_t *reg)
{
	unsigned int slot = (unsigned int)(off >> 15) & 31;

	if (off >= PCI_ECAM_BUS_SIZE || (off >> 12) & 7 || slot >= h->nr_devs)
		return NULL;
	*reg = (uint32_t)off & (PCI_CFG_SPACE - 1);
	return h->dev[slot];
}

/*
 * An access is its bytes, all in the function the first one names; bytes
 * past that function's 4 KiB read 0xff and are not written.
 */
static uint64_t ecam_read(void *dev, uint64_t off, unsigned int size)
{
	struct pci_host *h = dev;
	struct pci_dev *pd;
	uint32_t reg = 0;
	uint64_t v = 0;
	unsigned int i;

	if (size > 8)
		size = 8;
	pd = ecam_decode(h, off, &reg);
	if (!pd)
		return all_ones(size);
	/* cfg_lock: the refresh and the read are one step for the guest */
	pthread_mutex_lock(&h->cfg_lock);
	cap_call(pd, reg, size, pd->ops->cfg_read);
	pthread_mutex_lock(&pd->lock);
	for (i = size; i--;)
		v = v << 8 | cfg_read_byte(pd, reg + i);
	pthread_mutex_unlock(&pd->lock);
	pthread_mutex_unlock(&h->cfg_lock);
	return v;
}

static void ecam_write(void *dev, uint64_t off, unsigned int size,
		       uint64_t value)
{
	struct pci_host *h = dev;
	struct pci_dev *pd;
	uint32_t reg = 0;

	pd = ecam_decode(h, off, &reg);
	if (!pd)
		return;
	pthread_mutex_lock(&h->cfg_lock);
	cfg_write(h, pd, reg, size > 8 ? 8 : size, value);
	pthread_mutex_unlock(&h->cfg_lock);
}

const struct mmio_ops pci_ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

/* The mapped BAR of pd holding [gpa, gpa + size), or -1. pd->lock held. */
static int bar_find(const struct pci_dev *pd, uint64_t gpa, unsigned int size,
		    uint64_t *off)
{
	unsigned int i;

	for (i = 0; i < PCI_NR_BARS; i++) {
		uint64_t rel = gpa - pd->bar_gpa[i];

		if (!pd->bar_on[i] || gpa < pd->bar_gpa[i] ||
		    rel >= pd->bar_size[i] || size > pd->bar_size[i] - rel)
			continue;
		*off = rel;
		return (int)i;
	}
	return -1;
}

/*
 * The device and BAR a window access goes to. The lowest slot wins when a
 * guest made BARs overlap. Takes each pd->lock in turn, returns with none.
 */
static struct pci_dev *window_find(const struct pci_window *w, uint64_t off,
				   unsigned int size, unsigned int *bar,
				   uint64_t *bar_off)
{
	const struct pci_host *h = w->host;
	unsigned int i;

	if (off >= w->size || size > w->size - off)
		return NULL;
	for (i = 0; i < h->nr_devs; i++) {
		struct pci_dev *pd = h->dev[i];
		int b;

		pthread_mutex_lock(&pd->lock);
		b = bar_find(pd, w->base + off, size, bar_off);
		pthread_mutex_unlock(&pd->lock);
		if (b >= 0) {
			*bar = (unsigned int)b;
			return pd;
		}
	}
	return NULL;
}

static void window_miss(const struct pci_window *w, uint64_t off,
			unsigned int size, bool is_write)
{
	pr_warn_ratelimited(&w->host->rl,
			    "pci: %s of %u bytes at 0x%llx hits no BAR",
			    is_write ? "write" : "read", size,
			    (unsigned long long)(w->base + off));
}

static uint64_t window_read(void *dev, uint64_t off, unsigned int size)
{
	struct pci_window *w = dev;
	struct pci_dev *pd;
	unsigned int bar = 0;
	uint64_t bar_off = 0;

	if (size > 8)
		size = 8;
	pd = window_find(w, off, size, &bar, &bar_off);
	if (!pd) {
		window_miss(w, off, size, false);
		return all_ones(size);
	}
	return pd->ops->bar_read(pd, bar, bar_off, size) & all_ones(size);
}

static void window_write(void *dev, uint64_t off, unsigned int size,
			 uint64_t value)
{
	struct pci_window *w = dev;
	struct pci_dev *pd;
	unsigned int bar = 0;
	uint64_t bar_off = 0;

	if (size > 8)
		size = 8;
	pd = window_find(w, off, size, &bar, &bar_off);
	if (!pd) {
		window_miss(w, off, size, true);
		return;
	}
	pd->ops->bar_write(pd, bar, bar_off, size, value & all_ones(size));
}

const struct mmio_ops pci_window_ops = {
	.read = window_read,
	.write = window_write,
};

void *pci_host_window(struct pci_host *h, unsigned int window)
{
	return window < ARRAY_SIZE(h->win) ? &h->win[window] : NULL;
}

/* Windows must not wrap, the 32-bit one must lie below 4 GiB, no overlap. */
static bool windows_ok(uint64_t b32, uint64_t s32, uint64_t b64, uint64_t s64)
{
	uint64_t l32, l64;

	if (__builtin_add_overflow(b32, s32 ? s32 - 1 : 0, &l32) ||
	    __builtin_add_overflow(b64, s64 ? s64 - 1 : 0, &l64))
		return false;
	if (s32 && l32 > UINT32_MAX)
		return false;
	return !s32 || !s64 || l32 < b64 || l64 < b32;
}

int pci_host_create(struct pci_host **hp, uint64_t mmio32_base,
		    uint64_t mmio32_size, uint64_t mmio64_base,
		    uint64_t mmio64_size)
{
	struct pci_host *h;
	int err;

	if (!windows_ok(mmio32_base, mmio32_size, mmio64_base, mmio64_size))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = pthread_mutex_init(&h->cfg_lock, NULL);
	if (err) {
		free(h);
		return -err;
	}
	h->win[0] = (struct pci_window){ h, mmio32_base, mmio32_size };
	h->win[1] = (struct pci_window){ h, mmio64_base, mmio64_size };
	h->rl = (struct ratelimit){ .interval = 5, .burst = 5 };
	*hp = h;
	return 0;
}

void pci_host_destroy(struct pci_host *h)
{
	unsigned int i;

	if (!h)
		return;
	for (i = 0; h->has_intx && i < 4; i++)
		irq_share_destroy(&h->intx[i]);
	pthread_mutex_destroy(&h->cfg_lock);
	free(h);
}

void pci_host_set_intx(struct pci_host *h, const struct irq_line lines[4])
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		irq_share_init(&h->intx[i], lines[i]);
	h->has_intx = true;
}

int pci_host_add(struct pci_host *h, struct pci_dev *pd, struct irq_line intx)
{
	if (!pd)
		return -EINVAL;
	if (h->nr_devs >= PCI_MAX_SLOTS)
		return -ENOSPC;
	/* INTA of this slot, swizzled onto the bridge's shared lines */
	if (!intx.set && h->has_intx)
		intx = irq_share_line(&h->intx[pci_intx_irq(0, h->nr_devs, 1)]);
	pthread_mutex_lock(&pd->lock);
	pd->slot = h->nr_devs;
	pd->intx = intx;
	if (intx_out(pd)) /* asserted before it had a line */
		irq_line_set(&pd->intx, 1);
	pthread_mutex_unlock(&pd->lock);
	h->dev[h->nr_devs++] = pd;
	return (int)pd->slot;
}
