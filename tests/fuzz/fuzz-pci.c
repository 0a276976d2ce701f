// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the PCI host bridge's ECAM and windows with two functions. */
#include <linux/pci_regs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/log.h"
#include "lkvm/pci.h"
#include "fuzz-input.h"

/*
 * Function 0 (slot 0): BAR0 32-bit 4 KiB, BAR2 64-bit prefetchable 16 KiB,
 * a vendor capability with writable bytes and a read-only one after it.
 * Function 1 (slot 1): BAR0 32-bit 256 bytes, no capability. Slots 2 and
 * up are empty.
 *
 * The input is a sequence of 8-byte records [op, a, b, c, v0, v1, v2, v3]
 * (a short last record is zero-padded); v is v0..v3 little-endian and
 * size bits s are (op >> 4) & 3. op % 8 picks the action:
 *   0-1  ECAM read (0) or write (1) of v: slot a % 4, register
 *        (b | c << 8) & 0xfff, function (c >> 4) & 7 when op & 8 else 0,
 *        size 1, 2, 4, 4 for s = 0..3
 *   2-3  window op & 8 read (2) or write (3) of v at offset
 *        a | b << 8 | c << 16, size 1 << s
 *   4    set the INTx input of function a & 1 to b & 1
 *   5    size BAR b % 6 of function a & 1 as Linux does (read, all ones,
 *        read, restore), turning memory decoding off around it when op & 8
 *   6    ECAM access anywhere: offset v | a << 32, size 1 << s, a read
 *        when op & 8 else a write of v
 *   7    window op & 8 access anywhere: offset v | a << 32 | b << 40,
 *        size 1 << s, a read when op & 64 else a write of v
 * Callbacks abort on a contract violation; after each record the header
 * invariants and the mapping state are checked.
 */
#define W32_BASE 0x40000000ULL
#define W32_SIZE 0x40000000ULL
#define W64_BASE 0x100000000ULL
#define W64_SIZE 0x100000000ULL
#define NR_FUNCS 2
#define REC 8
#define CAP_END 0x50 /* 0x40: 8 + 2 bytes, 0x4c: 2 + 2 bytes */
#define CMD_WMASK                                                       \
	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

struct func {
	struct pci_dev pd;
	bool on[PCI_NR_BARS]; /* as bar_mapped told it */
	uint64_t gpa[PCI_NR_BARS];
	int line;
};

static struct func funcs[NR_FUNCS];

static const uint8_t cap_body[8] = { 0x10, 0x20, 0x30, 0x40, 1, 2, 3, 4 };
static const uint8_t cap_wmask[8] = { 0xff, 0x0f, 0xf0, 0, 0xff, 0xff, 0, 0 };
static const uint8_t cap2_body[2] = { 0xaa, 0x55 };

static struct func *to_func(struct pci_dev *pd)
{
	return (struct func *)pd; /* pd is the first member */
}

static bool in_windows(uint64_t gpa, uint64_t size)
{
	return (gpa >= W32_BASE && gpa - W32_BASE < W32_SIZE &&
		size <= W32_SIZE - (gpa - W32_BASE)) ||
	       (gpa >= W64_BASE && gpa - W64_BASE < W64_SIZE &&
		size <= W64_SIZE - (gpa - W64_BASE));
}

/* A BAR access names a mapped, implemented BAR and stays inside it. */
static void check_access(struct pci_dev *pd, unsigned int bar, uint64_t off,
			 unsigned int size)
{
	if (bar >= PCI_NR_BARS || !pd->bar_size[bar] || !pd->bar_on[bar] ||
	    !to_func(pd)->on[bar])
		abort();
	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    off >= pd->bar_size[bar] || size > pd->bar_size[bar] - off)
		abort();
}

static uint64_t fake_bar_read(struct pci_dev *pd, unsigned int bar,
			      uint64_t off, unsigned int size)
{
	check_access(pd, bar, off, size);
	return ~off; /* the bridge must truncate it */
}

static void fake_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			   unsigned int size, uint64_t value)
{
	check_access(pd, bar, off, size);
	if (size < 8 && value >> (8 * size))
		abort();
}

static void fake_cfg_written(struct pci_dev *pd, uint32_t off,
			     unsigned int size)
{
	if (pd != &funcs[0].pd || off < PCI_STD_HEADER_SIZEOF || !size ||
	    size > 8 || off + size > CAP_END)
		abort();
}

/* Maps only while unmapped, inside a window; unmaps name the last map. */
static void fake_bar_mapped(struct pci_dev *pd, unsigned int bar, uint64_t gpa,
			    bool mapped)
{
	struct func *f = to_func(pd);

	if (bar >= PCI_NR_BARS || !pd->bar_size[bar] || f->on[bar] == mapped)
		abort();
	if (mapped && !in_windows(gpa, pd->bar_size[bar]))
		abort();
	if (!mapped && gpa != f->gpa[bar])
		abort();
	if (gpa & (pd->bar_size[bar] - 1))
		abort();
	f->on[bar] = mapped;
	f->gpa[bar] = gpa;
}

static void fake_line(void *ctrl, unsigned int irq, int level)
{
	struct func *f = ctrl;

	(void)irq;
	if (f->line == level)
		abort();
	f->line = level;
}

static const struct pci_dev_ops fake_ops = {
	.bar_read = fake_bar_read,
	.bar_write = fake_bar_write,
	.cfg_written = fake_cfg_written,
	.bar_mapped = fake_bar_mapped,
};

static void func_setup(struct pci_host *h, struct func *f, unsigned int i)
{
	struct irq_line l = { fake_line, f, 12 + i };

	memset(f, 0, sizeof(*f));
	if (pci_dev_init(&f->pd, &fake_ops, f, "fuzz", 0x1af4, 0x1040 + i,
			 0xff0000, 0, 0x1af4, i))
		abort();
	if (i == 0) {
		if (pci_dev_set_bar(&f->pd, 0, 0x1000, PCI_BAR_MEM32) ||
		    pci_dev_set_bar(&f->pd, 2, 0x4000,
				    PCI_BAR_MEM64 | PCI_BAR_PREFETCH) ||
		    pci_dev_add_cap(&f->pd, PCI_CAP_ID_VNDR, cap_body, 8,
				    cap_wmask) != 0x40 ||
		    pci_dev_add_cap(&f->pd, PCI_CAP_ID_VNDR, cap2_body, 2,
				    NULL) != 0x4c)
			abort();
	} else if (pci_dev_set_bar(&f->pd, 0, 0x100, PCI_BAR_MEM32)) {
		abort();
	}
	if (pci_host_add(h, &f->pd, l) != (int)i)
		abort();
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t cfg_rd(struct pci_host *h, unsigned int slot, uint32_t reg,
		       unsigned int size)
{
	uint64_t v = pci_ecam_ops.read(h, (uint64_t)slot << 15 | reg, size);

	if (v >> (8 * size))
		abort();
	return (uint32_t)v;
}

static void cfg_wr(struct pci_host *h, unsigned int slot, uint32_t reg,
		   unsigned int size, uint32_t v)
{
	pci_ecam_ops.write(h, (uint64_t)slot << 15 | reg, size, v);
}

/* Linux's __pci_read_base() dance on one BAR register. */
static void size_bar(struct pci_host *h, unsigned int slot, unsigned int bar,
		     bool quiet)
{
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint32_t cmd = cfg_rd(h, slot, PCI_COMMAND, 2), old;

	if (quiet)
		cfg_wr(h, slot, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	old = cfg_rd(h, slot, reg, 4);
	cfg_wr(h, slot, reg, 4, ~0u);
	cfg_rd(h, slot, reg, 4);
	cfg_wr(h, slot, reg, 4, old);
	if (quiet)
		cfg_wr(h, slot, PCI_COMMAND, 2, cmd);
}

static void window_op(struct pci_host *h, unsigned int n, uint64_t off,
		      unsigned int size, bool write, uint64_t v)
{
	void *w = pci_host_window(h, n);

	if (write) {
		pci_window_ops.write(w, off, size,
				     size < 8 ? v & ((1ULL << 8 * size) - 1)
					      : v);
	} else {
		uint64_t r = pci_window_ops.read(w, off, size);

		if (size < 8 && r >> (8 * size))
			abort();
	}
}

static void step(struct pci_host *h, const uint8_t *r)
{
	static const unsigned int ecam_sizes[4] = { 1, 2, 4, 4 };
	unsigned int op = r[0], s = (op >> 4) & 3;
	uint32_t v = le32(r + 4);
	uint64_t off;

	switch (op % 8) {
	case 0:
	case 1:
		off = (uint64_t)(r[1] % 4) << 15 | ((r[2] | r[3] << 8) & 0xfff);
		if (op & 8)
			off |= (uint64_t)((r[3] >> 4) & 7) << 12;
		if (op % 8 == 0)
			pci_ecam_ops.read(h, off, ecam_sizes[s]);
		else
			pci_ecam_ops.write(h, off, ecam_sizes[s], v);
		break;
	case 2:
	case 3:
		window_op(h, (op >> 3) & 1, r[1] | r[2] << 8 | r[3] << 16,
			  1u << s, op % 8 == 3, (uint64_t)v << 32 | v);
		break;
	case 4:
		pci_dev_set_intx(&funcs[r[1] & 1].pd, r[2] & 1);
		break;
	case 5:
		size_bar(h, r[1] & 1, r[2] % PCI_NR_BARS, op & 8);
		break;
	case 6:
		off = v | (uint64_t)r[1] << 32;
		if (op & 8)
			pci_ecam_ops.read(h, off, 1u << s);
		else
			pci_ecam_ops.write(h, off, 1u << s, v);
		break;
	default:
		off = v | (uint64_t)r[1] << 32 | (uint64_t)r[2] << 40;
		window_op(h, (op >> 3) & 1, off, 1u << s, !(op & 64), v);
		break;
	}
}

/* What the guest sees agrees with the state the callbacks were told. */
static void check_func(struct pci_host *h, unsigned int i)
{
	struct func *f = &funcs[i];
	uint32_t cmd = cfg_rd(h, i, PCI_COMMAND, 2);
	uint32_t status = cfg_rd(h, i, PCI_STATUS, 2);
	bool intx = f->pd.intx_level;
	unsigned int b;

	if (cfg_rd(h, i, PCI_VENDOR_ID, 4) != ((0x1040u + i) << 16 | 0x1af4) ||
	    cfg_rd(h, i, PCI_HEADER_TYPE, 1) || cfg_rd(h, i, 0x3d, 1) != 1 ||
	    cfg_rd(h, i, PCI_ROM_ADDRESS, 4) || cfg_rd(h, i, 0x100, 4))
		abort();
	if (cmd & ~CMD_WMASK || !!(status & PCI_STATUS_INTERRUPT) != intx ||
	    !!(status & PCI_STATUS_CAP_LIST) != (i == 0))
		abort();
	if (f->line != (intx && !(cmd & PCI_COMMAND_INTX_DISABLE)))
		abort();
	if (cfg_rd(h, i, PCI_BASE_ADDRESS_0, 1) & 0xf ||
	    (i == 0 && (cfg_rd(h, i, PCI_BASE_ADDRESS_2, 1) & 0xf) != 0xc))
		abort();
	for (b = 0; b < PCI_NR_BARS; b++)
		if (f->on[b] != f->pd.bar_on[b] ||
		    (f->on[b] && f->gpa[b] != f->pd.bar_gpa[b]) ||
		    (f->on[b] && !(cmd & PCI_COMMAND_MEMORY)))
			abort();
	if (i == 0 && (cfg_rd(h, 0, 0x40, 2) != 0x4c09 ||
		       cfg_rd(h, 0, 0x4c, 4) != 0x55aa0009))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_host *h;
	unsigned int i;

	log_level = LOG_ERR;
	if (pci_host_create(&h, W32_BASE, W32_SIZE, W64_BASE, W64_SIZE))
		abort();
	for (i = 0; i < NR_FUNCS; i++)
		func_setup(h, &funcs[i], i);
	while (size) {
		uint8_t r[REC];

		fuzz_copy(&data, &size, r, REC);
		step(h, r);
		for (i = 0; i < NR_FUNCS; i++)
			check_func(h, i);
	}
	for (i = 0; i < NR_FUNCS; i++)
		pci_dev_destroy(&funcs[i].pd);
	pci_host_destroy(h);
	return 0;
}
