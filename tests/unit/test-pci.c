// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for hw/pci.c: ECAM, the type 0 header, BARs, windows, INTx. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdlib.h>

#include "lkvm/compiler.h"
#include "lkvm/log.h"
#include "lkvm/pci.h"
#include "unit.h"

#define W32_BASE 0x40000000ULL
#define W32_SIZE 0x40000000ULL
#define W64_BASE 0x100000000ULL
#define W64_SIZE 0x100000000ULL
#define MAX_EV 16

/* What a fake function saw: bar_mapped events, BAR accesses, its line. */
struct fake {
	struct pci_dev pd;
	struct {
		unsigned int bar;
		uint64_t gpa;
		bool mapped;
	} ev[MAX_EV];
	unsigned int nr_ev;
	unsigned int nr_cfg;
	uint32_t cfg_off, cfg_size;
	unsigned int nr_acc;
	unsigned int acc_bar, acc_size;
	uint64_t acc_off, acc_value;
	bool acc_write;
	int line;
	unsigned int line_calls, line_redundant;
};

static struct fake *to_fake(struct pci_dev *pd)
{
	return (struct fake *)pd; /* pd is the first member */
}

static void record_acc(struct fake *f, unsigned int bar, uint64_t off,
		       unsigned int size, uint64_t value, bool write)
{
	f->nr_acc++;
	f->acc_bar = bar;
	f->acc_off = off;
	f->acc_size = size;
	f->acc_value = value;
	f->acc_write = write;
}

/* Reads return a pattern naming the slot, BAR and offset. */
static uint64_t fake_bar_read(struct pci_dev *pd, unsigned int bar,
			      uint64_t off, unsigned int size)
{
	record_acc(to_fake(pd), bar, off, size, 0, false);
	return 0xa5a5a5a500000000ULL | pd->slot << 16 | bar << 12 | off;
}

static void fake_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			   unsigned int size, uint64_t value)
{
	record_acc(to_fake(pd), bar, off, size, value, true);
}

static void fake_cfg_written(struct pci_dev *pd, uint32_t off,
			     unsigned int size)
{
	struct fake *f = to_fake(pd);

	f->nr_cfg++;
	f->cfg_off = off;
	f->cfg_size = size;
}

static void fake_bar_mapped(struct pci_dev *pd, unsigned int bar, uint64_t gpa,
			    bool mapped)
{
	struct fake *f = to_fake(pd);

	if (f->nr_ev < MAX_EV) {
		f->ev[f->nr_ev].bar = bar;
		f->ev[f->nr_ev].gpa = gpa;
		f->ev[f->nr_ev].mapped = mapped;
	}
	f->nr_ev++;
}

static void fake_line(void *ctrl, unsigned int irq, int level)
{
	struct fake *f = ctrl;

	(void)irq;
	f->line_calls++;
	if (f->line == level)
		f->line_redundant++;
	f->line = level;
}

static const struct pci_dev_ops fake_ops = {
	.bar_read = fake_bar_read,
	.bar_write = fake_bar_write,
	.cfg_written = fake_cfg_written,
	.bar_mapped = fake_bar_mapped,
};

static enum log_level saved_level;

/* A function with IDs 1af4:1042, class 0x010000, revision 1, subsys 1af4:2. */
static bool fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	return CHECK_EQ(pci_dev_init(&f->pd, &fake_ops, f, "fake", 0x1af4,
				     0x1042, 0x010000, 1, 0x1af4, 2),
			0);
}

static bool fake_add(struct pci_host *h, struct fake *f)
{
	struct irq_line l = { fake_line, f, 12 };

	return CHECK(pci_host_add(h, &f->pd, l) >= 0);
}

static struct pci_host *host(void)
{
	struct pci_host *h = NULL;

	saved_level = log_level;
	log_level = LOG_ERR; /* window misses are logged */
	if (!CHECK_EQ(
		    pci_host_create(&h, W32_BASE, W32_SIZE, W64_BASE, W64_SIZE),
		    0))
		return NULL;
	return h;
}

static void done(struct pci_host *h, struct fake *a, struct fake *b)
{
	if (a) {
		CHECK_EQ(a->line_redundant, 0);
		pci_dev_destroy(&a->pd);
	}
	if (b) {
		CHECK_EQ(b->line_redundant, 0);
		pci_dev_destroy(&b->pd);
	}
	pci_host_destroy(h);
	log_level = saved_level;
}

static uint64_t ecam(unsigned int slot, unsigned int fn, uint32_t reg)
{
	return (uint64_t)slot << 15 | fn << 12 | reg;
}

static uint32_t rd(struct pci_host *h, unsigned int slot, uint32_t reg,
		   unsigned int size)
{
	return (uint32_t)pci_ecam_ops.read(h, ecam(slot, 0, reg), size);
}

static void wr(struct pci_host *h, unsigned int slot, uint32_t reg,
	       unsigned int size, uint32_t v)
{
	pci_ecam_ops.write(h, ecam(slot, 0, reg), size, v);
}

static uint64_t win_rd(struct pci_host *h, uint64_t gpa, unsigned int size)
{
	unsigned int n = gpa >= W64_BASE;
	uint64_t base = n ? W64_BASE : W32_BASE;

	return pci_window_ops.read(pci_host_window(h, n), gpa - base, size);
}

static void win_wr(struct pci_host *h, uint64_t gpa, unsigned int size,
		   uint64_t v)
{
	unsigned int n = gpa >= W64_BASE;
	uint64_t base = n ? W64_BASE : W32_BASE;

	pci_window_ops.write(pci_host_window(h, n), gpa - base, size, v);
}

/* A host with one function: BAR0 32-bit 4 KiB, BAR2 64-bit 16 KiB pref. */
static struct pci_host *host1(struct fake *f)
{
	struct pci_host *h = host();

	if (!h || !fake_init(f))
		return h;
	CHECK_EQ(pci_dev_set_bar(&f->pd, 0, 0x1000, PCI_BAR_MEM32), 0);
	CHECK_EQ(pci_dev_set_bar(&f->pd, 2, 0x4000,
				 PCI_BAR_MEM64 | PCI_BAR_PREFETCH),
		 0);
	fake_add(h, f);
	return h;
}

static void test_create_args(void)
{
	struct pci_host *h = NULL;
	struct fake f, g;
	struct irq_line none = { NULL, NULL, 0 };
	unsigned int i;

	CHECK_EQ(pci_host_create(&h, 0xf0000000, 0x20000000, W64_BASE, 1),
		 -EINVAL);
	CHECK_EQ(pci_host_create(&h, W32_BASE, W32_SIZE, ~0ULL, 2), -EINVAL);
	CHECK_EQ(pci_host_create(&h, W32_BASE, W32_SIZE, W32_BASE + 0x1000,
				 0x1000),
		 -EINVAL);
	CHECK(h == NULL);
	h = host();
	REQUIRE(h);
	CHECK(pci_host_window(h, 2) == NULL);
	CHECK(pci_host_window(h, 0) != pci_host_window(h, 1));
	CHECK_EQ(pci_dev_init(&f.pd, NULL, NULL, "x", 1, 2, 0, 0, 0, 0),
		 -EINVAL);
	CHECK_EQ(pci_dev_init(&f.pd, &fake_ops, NULL, "x", 1, 2, 0x1000000, 0,
			      0, 0),
		 -EINVAL);
	REQUIRE(fake_init(&f));
	CHECK_EQ(pci_dev_set_bar(&f.pd, 6, 0x1000, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 8, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 0x1800, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 1ULL << 32, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 0x1000, 0x2), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 5, 0x1000, PCI_BAR_MEM64), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 1, 0x1000, PCI_BAR_MEM64), 0);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 1, 0x1000, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 2, 0x1000, PCI_BAR_MEM32), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 0x1000, PCI_BAR_MEM64), -EINVAL);
	CHECK_EQ(pci_dev_set_bar(&f.pd, 3, 1ULL << 40, PCI_BAR_MEM64), 0);
	for (i = 0; i < PCI_MAX_SLOTS; i++)
		CHECK_EQ(pci_host_add(h, &f.pd, none), (int)i);
	CHECK_EQ(pci_host_add(h, &f.pd, none), -ENOSPC);
	CHECK_EQ(pci_host_add(h, NULL, none), -EINVAL);
	REQUIRE(fake_init(&g));
	CHECK_EQ(pci_dev_add_cap(&g.pd, 9, NULL, 0xbe, NULL), 0x40);
	CHECK_EQ(pci_dev_add_cap(&g.pd, 9, NULL, 0, NULL), -ENOSPC);
	CHECK_EQ(pci_dev_add_cap(&g.pd, 9, NULL, 1000, NULL), -ENOSPC);
	done(h, &f, &g);
}

/* Every header register at sizes 1, 2 and 4 agrees with its bytes. */
static void test_header_decode(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);
	uint32_t reg;

	REQUIRE(h);
	for (reg = 0; reg < PCI_STD_HEADER_SIZEOF; reg++) {
		uint32_t b[4], i;

		for (i = 0; i < 4; i++)
			b[i] = rd(h, 0, reg + i, 1);
		CHECK_EQ(rd(h, 0, reg, 2), b[0] | b[1] << 8);
		CHECK_EQ(rd(h, 0, reg, 4),
			 b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24);
		CHECK_EQ(b[0], f.pd.cfg[reg]);
	}
	CHECK_EQ(rd(h, 0, PCI_VENDOR_ID, 4), 0x10421af4);
	CHECK_EQ(rd(h, 0, PCI_CLASS_REVISION, 4), 0x01000001);
	CHECK_EQ(rd(h, 0, PCI_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	CHECK_EQ(rd(h, 0, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00021af4);
	CHECK_EQ(rd(h, 0, PCI_INTERRUPT_PIN, 1), 1);
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 2), 0);
	CHECK_EQ(rd(h, 0, PCI_STATUS, 2), 0);
	CHECK_EQ(rd(h, 0, PCI_CAPABILITY_LIST, 1), 0);
	CHECK_EQ(rd(h, 0, PCI_BASE_ADDRESS_0, 4), 0);
	CHECK_EQ(rd(h, 0, PCI_BASE_ADDRESS_2, 4), 0xc);
	CHECK_EQ(rd(h, 0, PCI_ROM_ADDRESS, 4), 0);
	/* IDs, class, header type, pin and ROM are read-only */
	wr(h, 0, PCI_VENDOR_ID, 4, 0);
	wr(h, 0, PCI_CLASS_REVISION, 4, 0);
	wr(h, 0, PCI_HEADER_TYPE, 1, 0x80);
	wr(h, 0, PCI_SUBSYSTEM_VENDOR_ID, 4, 0);
	wr(h, 0, PCI_ROM_ADDRESS, 4, ~0u);
	wr(h, 0, PCI_INTERRUPT_LINE, 2, 0x0477);
	CHECK_EQ(rd(h, 0, PCI_VENDOR_ID, 4), 0x10421af4);
	CHECK_EQ(rd(h, 0, PCI_CLASS_REVISION, 4), 0x01000001);
	CHECK_EQ(rd(h, 0, PCI_HEADER_TYPE, 1), 0);
	CHECK_EQ(rd(h, 0, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00021af4);
	CHECK_EQ(rd(h, 0, PCI_ROM_ADDRESS, 4), 0);
	CHECK_EQ(rd(h, 0, PCI_INTERRUPT_LINE, 2), 0x0177);
	wr(h, 0, PCI_CACHE_LINE_SIZE, 2, 0x4010);
	CHECK_EQ(rd(h, 0, PCI_CACHE_LINE_SIZE, 2), 0x4010);
	done(h, &f, NULL);
}

/* Empty slots, function numbers above 0 and bytes past 1 MiB: all ones. */
static void test_absent(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);
	unsigned int fn;

	REQUIRE(h);
	CHECK_EQ(rd(h, 1, 0, 4), 0xffffffff);
	CHECK_EQ(rd(h, 31, 0x3c, 2), 0xffff);
	CHECK_EQ(rd(h, 31, 0x3f, 1), 0xff);
	for (fn = 1; fn < 8; fn++) {
		CHECK_EQ(pci_ecam_ops.read(h, ecam(0, fn, 0), 4), 0xffffffff);
		pci_ecam_ops.write(h, ecam(0, fn, PCI_COMMAND), 2, 0xffff);
	}
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 2), 0);
	CHECK_EQ(pci_ecam_ops.read(h, PCI_ECAM_BUS_SIZE, 4), 0xffffffff);
	CHECK_EQ(pci_ecam_ops.read(h, ~0ULL, 1), 0xff);
	pci_ecam_ops.write(h, ~0ULL - 1, 4, 0);
	CHECK_EQ(f.nr_ev + f.nr_cfg, 0);
	done(h, &f, NULL);
}

/* Write all ones, read the size mask with the flags, restore. */
static uint32_t size_bar(struct pci_host *h, uint32_t reg)
{
	uint32_t old = rd(h, 0, reg, 4), mask;

	wr(h, 0, reg, 4, ~0u);
	mask = rd(h, 0, reg, 4);
	wr(h, 0, reg, 4, old);
	CHECK_EQ(rd(h, 0, reg, 4), old);
	return mask;
}

static void test_bar_sizing(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);

	REQUIRE(h);
	REQUIRE(CHECK_EQ(pci_dev_set_bar(&f.pd, 4, 8ULL << 30, PCI_BAR_MEM64),
			 0));
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_0), 0xfffff000);
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_1), 0);
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_2), 0xffffc00c);
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_3), 0xffffffff);
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_4), 0x4);
	CHECK_EQ(size_bar(h, PCI_BASE_ADDRESS_5), 0xfffffffe);
	/* byte writes go through the same masks */
	wr(h, 0, PCI_BASE_ADDRESS_0 + 1, 1, 0xff);
	CHECK_EQ(rd(h, 0, PCI_BASE_ADDRESS_0, 4), 0xf000);
	wr(h, 0, PCI_BASE_ADDRESS_0, 1, 0xff);
	CHECK_EQ(rd(h, 0, PCI_BASE_ADDRESS_0, 4), 0xf000);
	CHECK_EQ(f.nr_ev, 0); /* memory decoding is off */
	done(h, &f, NULL);
}

static bool ev_is(const struct fake *f, unsigned int i, unsigned int bar,
		  uint64_t gpa, bool mapped)
{
	return CHECK(i < f->nr_ev) && CHECK_EQ(f->ev[i].bar, bar) &&
	       CHECK_EQ(f->ev[i].gpa, gpa) && CHECK_EQ(f->ev[i].mapped, mapped);
}

static void set_mem(struct pci_host *h, bool on)
{
	wr(h, 0, PCI_COMMAND, 2, on ? PCI_COMMAND_MEMORY : 0);
}

static void test_bar_mapping32(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);

	REQUIRE(h);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x40001000);
	CHECK_EQ(f.nr_ev, 0);
	set_mem(h, true);
	CHECK(pci_dev_mem_enabled(&f.pd));
	CHECK_EQ(f.nr_ev, 1);
	ev_is(&f, 0, 0, 0x40001000, true);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x40001000); /* no change */
	set_mem(h, true);
	CHECK_EQ(f.nr_ev, 1);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x7ffff000); /* last page of window */
	CHECK_EQ(f.nr_ev, 3);
	ev_is(&f, 1, 0, 0x40001000, false);
	ev_is(&f, 2, 0, 0x7ffff000, true);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x10000000); /* outside: unmap only */
	CHECK_EQ(f.nr_ev, 4);
	ev_is(&f, 3, 0, 0x7ffff000, false);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x80000000); /* just past the end */
	CHECK_EQ(f.nr_ev, 4);
	wr(h, 0, PCI_BASE_ADDRESS_0 + 3, 1, 0x50);
	CHECK_EQ(f.nr_ev, 5);
	ev_is(&f, 4, 0, 0x50000000, true);
	set_mem(h, false);
	CHECK(!pci_dev_mem_enabled(&f.pd));
	CHECK_EQ(f.nr_ev, 6);
	ev_is(&f, 5, 0, 0x50000000, false);
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x60000000);
	CHECK_EQ(f.nr_ev, 6);
	done(h, &f, NULL);
}

static void test_bar_mapping64(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);

	REQUIRE(h);
	wr(h, 0, PCI_BASE_ADDRESS_2, 4, 0x4000);
	wr(h, 0, PCI_BASE_ADDRESS_3, 4, 1);
	set_mem(h, true);
	CHECK_EQ(f.nr_ev, 1);
	ev_is(&f, 0, 2, 0x100004000ULL, true);
	/* sizing with decoding on: lower half first, then the upper */
	wr(h, 0, PCI_BASE_ADDRESS_2, 4, ~0u);
	CHECK_EQ(f.nr_ev, 3);
	ev_is(&f, 1, 2, 0x100004000ULL, false);
	ev_is(&f, 2, 2, 0x1ffffc000ULL, true);
	wr(h, 0, PCI_BASE_ADDRESS_3, 4, ~0u); /* way above the window */
	CHECK_EQ(f.nr_ev, 4);
	ev_is(&f, 3, 2, 0x1ffffc000ULL, false);
	/* restoring the upper half first passes through the window */
	wr(h, 0, PCI_BASE_ADDRESS_3, 4, 1);
	CHECK_EQ(f.nr_ev, 5);
	ev_is(&f, 4, 2, 0x1ffffc000ULL, true);
	wr(h, 0, PCI_BASE_ADDRESS_2, 4, 0x4000);
	CHECK_EQ(f.nr_ev, 7);
	ev_is(&f, 5, 2, 0x1ffffc000ULL, false);
	ev_is(&f, 6, 2, 0x100004000ULL, true);
	/* a 64-bit BAR in the 32-bit window decodes too */
	wr(h, 0, PCI_BASE_ADDRESS_3, 4, 0);
	CHECK_EQ(f.nr_ev, 8); /* 0x4000 is in no window */
	ev_is(&f, 7, 2, 0x100004000ULL, false);
	wr(h, 0, PCI_BASE_ADDRESS_2, 4, 0x40000000);
	CHECK_EQ(f.nr_ev, 9);
	ev_is(&f, 8, 2, 0x40000000ULL, true);
	done(h, &f, NULL);
}

static void map_both(struct pci_host *h)
{
	wr(h, 0, PCI_BASE_ADDRESS_0, 4, 0x40000000);
	wr(h, 0, PCI_BASE_ADDRESS_2, 4, 0x0);
	wr(h, 0, PCI_BASE_ADDRESS_3, 4, 0x1);
	wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	wr(h, 1, PCI_BASE_ADDRESS_0, 4, 0x40010000);
	wr(h, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
}

static void test_window_dispatch(void)
{
	struct fake a, b;
	struct pci_host *h = host1(&a);

	REQUIRE(h);
	REQUIRE(fake_init(&b));
	CHECK_EQ(pci_dev_set_bar(&b.pd, 0, 0x100, PCI_BAR_MEM32), 0);
	fake_add(h, &b);
	CHECK_EQ(win_rd(h, 0x40000000, 4), 0xffffffff); /* nothing mapped */
	map_both(h);
	CHECK_EQ(win_rd(h, 0x40000010, 4), 0x10); /* truncated to 4 bytes */
	CHECK(a.nr_acc == 1 && a.acc_size == 4 && !a.acc_write);
	CHECK_EQ(win_rd(h, 0x40000ffc, 8), 0xffffffffffffffffULL); /* crosses */
	CHECK_EQ(win_rd(h, 0x40000ff8, 8), 0xa5a5a5a500000ff8ULL);
	CHECK_EQ(win_rd(h, 0x40001000, 1), 0xff);
	CHECK_EQ(win_rd(h, 0x400100fe, 2), 0x00fe);
	CHECK(b.nr_acc == 1 && b.acc_bar == 0 && b.acc_off == 0xfe);
	CHECK_EQ(win_rd(h, 0x400100ff, 1), 0xff);
	CHECK(b.nr_acc == 2 && b.acc_off == 0xff && b.acc_size == 1);
	CHECK_EQ(win_rd(h, 0x400100ff, 2), 0xffff);
	CHECK_EQ(win_rd(h, 0x100003ffcULL, 4), 0x3ffc);
	CHECK_EQ(a.acc_bar, 2);
	CHECK_EQ(a.acc_off, 0x3ffc);
	CHECK_EQ(win_rd(h, 0x100004000ULL, 1), 0xff);
	win_wr(h, 0x40010004, 2, 0xbeef);
	CHECK(b.acc_write && b.acc_off == 4 && b.acc_size == 2);
	CHECK_EQ(b.acc_value, 0xbeef);
	win_wr(h, 0x40010100, 4, 1);
	CHECK_EQ(b.nr_acc, 3); /* past the BAR: dropped */
	/* offsets past the window's end are dropped, not wrapped */
	CHECK_EQ(pci_window_ops.read(pci_host_window(h, 0), W32_SIZE, 4),
		 0xffffffff);
	CHECK_EQ(pci_window_ops.read(pci_host_window(h, 1), ~0ULL - 1, 4),
		 0xffffffff);
	/* decoding off: no dispatch */
	wr(h, 1, PCI_COMMAND, 2, 0);
	CHECK_EQ(win_rd(h, 0x40010000, 4), 0xffffffff);
	CHECK_EQ(b.nr_acc, 3);
	done(h, &a, &b);
}

static const uint8_t cap_a_body[6] = { 1, 2, 3, 4, 5, 6 };
static const uint8_t cap_a_wmask[6] = { 0xff, 0x0f, 0, 0, 0, 0xff };
static const uint8_t cap_b_body[3] = { 7, 8, 9 };

static void test_caps(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);

	REQUIRE(h);
	CHECK_EQ(pci_dev_add_cap(&f.pd, PCI_CAP_ID_VNDR, cap_a_body, 6,
				 cap_a_wmask),
		 0x40);
	CHECK_EQ(pci_dev_add_cap(&f.pd, PCI_CAP_ID_MSIX, cap_b_body, 3, NULL),
		 0x48);
	CHECK(rd(h, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	CHECK_EQ(rd(h, 0, PCI_CAPABILITY_LIST, 1), 0x40);
	CHECK_EQ(rd(h, 0, 0x40, 4), 0x02014809);
	CHECK_EQ(rd(h, 0, 0x44, 4), 0x06050403);
	CHECK_EQ(rd(h, 0, 0x48, 4), 0x0807 << 16 | PCI_CAP_ID_MSIX);
	wr(h, 0, 0x40, 4, ~0u);
	CHECK_EQ(rd(h, 0, 0x40, 4), 0x0fff4809);
	CHECK_EQ(f.nr_cfg, 1);
	CHECK(f.cfg_off == 0x40 && f.cfg_size == 4);
	wr(h, 0, 0x46, 2, 0xaabb);
	CHECK_EQ(rd(h, 0, 0x44, 4), 0xaa050403);
	wr(h, 0, PCI_INTERRUPT_LINE, 4, 0); /* header only */
	CHECK_EQ(f.nr_cfg, 2);
	wr(h, 0, 0x3e, 4, 0);
	CHECK_EQ(f.nr_cfg, 3);
	CHECK(f.cfg_off == 0x40 && f.cfg_size == 2);
	wr(h, 0, 0x4a, 4, ~0u); /* read-only cap and padding: reported */
	CHECK_EQ(f.nr_cfg, 4);
	CHECK(f.cfg_off == 0x4a && f.cfg_size == 4);
	CHECK_EQ(rd(h, 0, 0x48, 4), 0x0807 << 16 | PCI_CAP_ID_MSIX);
	CHECK_EQ(rd(h, 0, 0x4c, 4), 9);
	wr(h, 0, 0x50, 4, ~0u); /* past the capability area */
	wr(h, 0, 0x100, 4, ~0u);
	CHECK_EQ(f.nr_cfg, 4);
	done(h, &f, NULL);
}

static void test_command_status(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);
	uint16_t w1c = PCI_STATUS_DETECTED_PARITY | PCI_STATUS_REC_MASTER_ABORT;

	REQUIRE(h);
	wr(h, 0, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 2),
		 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	CHECK(pci_dev_master(&f.pd));
	wr(h, 0, PCI_COMMAND, 1, 0);
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 2),
		 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	CHECK(!pci_dev_master(&f.pd));
	pci_cfg_put(&f.pd, PCI_STATUS, 2, w1c | PCI_STATUS_CAP_LIST);
	wr(h, 0, PCI_STATUS, 2, 0);
	CHECK_EQ(rd(h, 0, PCI_STATUS, 2), w1c | PCI_STATUS_CAP_LIST);
	wr(h, 0, PCI_COMMAND, 4, (uint32_t)PCI_STATUS_DETECTED_PARITY << 16);
	CHECK_EQ(rd(h, 0, PCI_STATUS, 2),
		 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST);
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 2), 0);
	wr(h, 0, PCI_STATUS, 2, 0xffff);
	CHECK_EQ(rd(h, 0, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	done(h, &f, NULL);
}

static void test_intx(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);

	REQUIRE(h);
	pci_dev_set_intx(&f.pd, 1);
	CHECK(f.line == 1 && f.line_calls == 1);
	CHECK(rd(h, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_dev_set_intx(&f.pd, 1);
	CHECK_EQ(f.line_calls, 1);
	wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	CHECK(f.line == 0 && f.line_calls == 2);
	CHECK(rd(h, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	wr(h, 0, PCI_STATUS, 2, 0xffff); /* not write-1-to-clear */
	CHECK(rd(h, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_dev_set_intx(&f.pd, 0);
	CHECK_EQ(f.line_calls, 2);
	CHECK(!(rd(h, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	pci_dev_set_intx(&f.pd, 5);
	CHECK_EQ(f.line_calls, 2);
	wr(h, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(f.line == 1 && f.line_calls == 3);
	wr(h, 0, PCI_COMMAND, 2, 0);
	CHECK_EQ(f.line_calls, 3);
	pci_dev_set_intx(&f.pd, 0);
	CHECK(f.line == 0 && f.line_calls == 4);
	done(h, &f, NULL);
}

static void test_extended(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);
	uint32_t reg;

	REQUIRE(h);
	f.pd.cfg[0x100] = 0x55; /* even if a model wrote there */
	f.pd.wmask[0x100] = 0xff;
	for (reg = 0x100; reg < PCI_CFG_SPACE; reg += 4) {
		wr(h, 0, reg, 4, ~0u);
		if (!CHECK_EQ(rd(h, 0, reg, 4), 0))
			break;
	}
	CHECK_EQ(f.pd.cfg[0x100], 0x55);
	done(h, &f, NULL);
}

/* Every size at every offset: bytes agree, past 4 KiB reads 0xff. */
static void test_unaligned(void)
{
	struct fake f;
	struct pci_host *h = host1(&f);
	uint32_t reg;

	REQUIRE(h);
	for (reg = 0; reg < PCI_CFG_SPACE; reg++) {
		uint32_t b[4], i, want = 0;

		for (i = 0; i < 4; i++)
			b[i] = reg + i < PCI_CFG_SPACE ? rd(h, 0, reg + i, 1)
						       : 0xff;
		for (i = 4; i--;)
			want = want << 8 | b[i];
		CHECK_EQ(rd(h, 0, reg, 4), want);
		CHECK_EQ(rd(h, 0, reg, 2), want & 0xffff);
	}
	CHECK_EQ(rd(h, 0, 0xffe, 4), 0xffff0000);
	CHECK_EQ(rd(h, 0, 0x3c, 4), 0x00000100);
	CHECK_EQ(rd(h, 0, 0x3d, 4), 0x00000001);
	wr(h, 0, 0xfff, 4, ~0u);
	wr(h, 0, 0xffd, 2, ~0u);
	wr(h, 0, 0xf, 4, ~0u); /* BIST, BAR0's low three bytes */
	CHECK_EQ(rd(h, 0, PCI_BASE_ADDRESS_0, 4), 0x00fff000);
	wr(h, 0, 0x3, 4, ~0u); /* device ID high byte, command, status */
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 4), 0x546);
	wr(h, 0, 0x3, 2, 0);
	CHECK_EQ(rd(h, 0, PCI_COMMAND, 4), 0x500);
	CHECK_EQ(rd(h, 0, PCI_DEVICE_ID, 2), 0x1042);
	CHECK_EQ(f.nr_ev, 0); /* 0x00fff000 is in no window */
	done(h, &f, NULL);
}

/*
 * Threads: config writers move BAR0 and toggle decoding while a reader
 * walks the window. bar_mapped must see a well-formed sequence: a map only
 * while unmapped, an unmap naming the address last mapped.
 */
struct hammer {
	struct pci_host *h;
	struct fake *f;
	bool on;
	uint64_t gpa;
	unsigned int bad;
	unsigned int iters;
};

static struct hammer *the_hammer;

static uint64_t quiet_bar_read(struct pci_dev *pd, unsigned int bar,
			       uint64_t off, unsigned int size)
{
	(void)pd;
	(void)size;
	return 0xa5a50000 | bar << 12 | off;
}

static void quiet_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off,
			    unsigned int size, uint64_t value)
{
	(void)pd;
	(void)bar;
	(void)off;
	(void)size;
	(void)value;
}

static void checked_bar_mapped(struct pci_dev *pd, unsigned int bar,
			       uint64_t gpa, bool mapped)
{
	struct hammer *t = the_hammer;

	(void)pd;
	if (bar != 0 || mapped == t->on || (!mapped && gpa != t->gpa))
		t->bad++;
	t->on = mapped;
	t->gpa = gpa;
}

static const struct pci_dev_ops checked_ops = {
	.bar_read = quiet_bar_read,
	.bar_write = quiet_bar_write,
	.bar_mapped = checked_bar_mapped,
};

static void *hammer_cfg(void *arg)
{
	struct hammer *t = arg;
	unsigned int i;

	for (i = 0; i < t->iters; i++) {
		wr(t->h, 0, PCI_BASE_ADDRESS_0, 4,
		   0x40000000 + (i % 4) * 0x1000);
		wr(t->h, 0, PCI_COMMAND, 2, i & 1 ? PCI_COMMAND_MEMORY : 0);
	}
	return NULL;
}

static void *hammer_win(void *arg)
{
	struct hammer *t = arg;
	unsigned int i;

	for (i = 0; i < 4 * t->iters; i++) {
		uint64_t v = win_rd(t->h, 0x40000000 + (i % 4) * 0x1000, 4);

		if (v != 0xffffffff && v != 0xa5a50000)
			return t;
		pci_dev_set_intx(&t->f->pd, i & 1);
	}
	return NULL;
}

static void test_threads(void)
{
	struct fake f;
	struct pci_host *h = host();
	struct hammer t;
	struct irq_line l = { fake_line, &f, 12 };
	pthread_t a, b, c;
	void *rc = NULL;

	REQUIRE(h);
	memset(&f, 0, sizeof(f));
	REQUIRE(CHECK_EQ(
		pci_dev_init(&f.pd, &checked_ops, NULL, "t", 1, 2, 0, 0, 0, 0),
		0));
	CHECK_EQ(pci_dev_set_bar(&f.pd, 0, 0x1000, PCI_BAR_MEM32), 0);
	CHECK_EQ(pci_host_add(h, &f.pd, l), 0);
	t = (struct hammer){ .h = h, .f = &f, .iters = 3000 };
	the_hammer = &t;
	REQUIRE(!pthread_create(&a, NULL, hammer_cfg, &t));
	REQUIRE(!pthread_create(&b, NULL, hammer_cfg, &t));
	REQUIRE(!pthread_create(&c, NULL, hammer_win, &t));
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(c, &rc);
	CHECK(rc == NULL);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.on, f.pd.bar_on[0]);
	done(h, &f, NULL);
}

/* An interrupt controller with one input per INTx line. */
struct lines {
	int level[4];
	unsigned int changes;
};

static void lines_set(void *ctrl, unsigned int irq, int level)
{
	struct lines *l = ctrl;

	l->changes += l->level[irq - 12] != level;
	l->level[irq - 12] = level;
}

/*
 * The bridge swizzles each slot's INTA onto its four lines and shares a
 * line wired-OR: slots 0 and 4 both land on INTA, which stays asserted
 * while either drives it; slot 1 lands on INTB.
 */
static void test_intx_swizzle_shared(void)
{
	struct pci_host *h = host();
	struct lines ctl = { { 0 }, 0 };
	struct irq_line in[4];
	struct fake f[5];
	unsigned int i;

	REQUIRE(h);
	for (i = 0; i < 4; i++)
		in[i] = (struct irq_line){ lines_set, &ctl, 12 + i };
	pci_host_set_intx(h, in);
	for (i = 0; i < 5; i++) {
		REQUIRE(fake_init(&f[i]));
		REQUIRE(CHECK_EQ(
			pci_host_add(h, &f[i].pd, (struct irq_line){ 0 }),
			(int)i));
	}
	pci_dev_set_intx(&f[0].pd, 1);
	pci_dev_set_intx(&f[4].pd, 1);
	CHECK_EQ(ctl.level[0], 1);
	pci_dev_set_intx(&f[0].pd, 0);
	CHECK_EQ(ctl.level[0], 1); /* slot 4 still drives it */
	pci_dev_set_intx(&f[4].pd, 0);
	CHECK_EQ(ctl.level[0], 0);
	pci_dev_set_intx(&f[1].pd, 1);
	CHECK_EQ(ctl.level[1], 1);
	CHECK_EQ(ctl.level[0] + ctl.level[2] + ctl.level[3], 0);
	pci_dev_set_intx(&f[1].pd, 0);
	CHECK_EQ(ctl.changes, 4);
	for (i = 0; i < 5; i++)
		pci_dev_destroy(&f[i].pd);
	pci_host_destroy(h);
	log_level = saved_level;
}

UNIT_SUITE(pci, UNIT_TEST(test_create_args), UNIT_TEST(test_header_decode),
	   UNIT_TEST(test_absent), UNIT_TEST(test_bar_sizing),
	   UNIT_TEST(test_bar_mapping32), UNIT_TEST(test_bar_mapping64),
	   UNIT_TEST(test_window_dispatch), UNIT_TEST(test_caps),
	   UNIT_TEST(test_command_status), UNIT_TEST(test_intx),
	   UNIT_TEST(test_intx_swizzle_shared), UNIT_TEST(test_extended),
	   UNIT_TEST(test_unaligned), UNIT_TEST(test_threads));
