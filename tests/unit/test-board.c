// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/board.c: the device list the device tree is built
 * from, and virtio-mmio's doorbells as the transport reports them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_mmio.h>

#include "lkvm/virtio-mmio.h"
#include "riscv/board.h"
#include "unit.h"

static const struct mmio_ops no_ops;

struct sample {
	struct mmio_bus bus;
	struct board b;
	struct kvm_caps caps;
};

static struct sample *sample_new(void)
{
	struct sample *s = calloc(1, sizeof(*s));

	if (s)
		board_init(&s->b, &s->bus, 2, 64 << 20, &s->caps);
	return s;
}

/* A device is recorded and served; a failed add leaves both unchanged. */
static void test_add_records_and_registers(void)
{
	struct sample *s = sample_new();
	const struct board_dev uart = { .node = BOARD_UART,
					.name = "uart",
					.base = MEMMAP_UART_BASE,
					.size = 0x100,
					.irq = IRQ_UART };
	struct board_dev overlap = uart;
	const struct board_dev described = { .node = BOARD_APLIC,
					     .base = MEMMAP_APLIC_BASE,
					     .size = MEMMAP_APLIC_SIZE };
	const struct board_dev *out = NULL;
	const struct mmio_region *r;

	REQUIRE(CHECK(s));
	CHECK_EQ(s->b.ram_base, MEMMAP_RAM_BASE);
	CHECK_EQ(s->b.ram_size, 64 << 20);
	CHECK_EQ(board_add(&s->b, &uart, MMIO_SIZE(1), &no_ops, s, &out), 0);
	CHECK(out == &s->b.devs[0]);
	CHECK_EQ(s->b.nr_devs, 1);
	r = mmio_find(&s->bus, MEMMAP_UART_BASE + 0xff);
	CHECK(r && r->dev == s && r->size == 0x100 && !strcmp(r->name, "uart"));
	/* overlapping: the bus refuses, nothing is recorded */
	overlap.base += 0x80;
	CHECK_EQ(board_add(&s->b, &overlap, MMIO_SIZE(1), &no_ops, s, NULL),
		 -EINVAL);
	CHECK_EQ(s->b.nr_devs, 1);
	CHECK_EQ(s->bus.nr, 1);
	/* described only (KVM serves it): recorded, not on the bus */
	CHECK_EQ(board_add(&s->b, &described, 0, NULL, NULL, NULL), 0);
	CHECK_EQ(s->b.nr_devs, 2);
	CHECK_EQ(s->bus.nr, 1);
	CHECK(board_find(&s->b, BOARD_APLIC) == &s->b.devs[1]);
	CHECK(board_find(&s->b, BOARD_UART) == &s->b.devs[0]);
	CHECK(board_find(&s->b, BOARD_PLIC) == NULL);
	free(s);
}

/* virtio-mmio slot n: one page at the base, wired source 16 + n; the
 * 33rd device does not fit and leaves the board as it was. */
static void test_virtio_mmio_slots(void)
{
	struct sample *s = sample_new();
	const struct board_dev *d = NULL;
	unsigned int n;

	REQUIRE(CHECK(s));
	for (n = 0; n < VM_MAX_VIRTIO; n++) {
		if (!CHECK_EQ(board_add_virtio_mmio(&s->b, NULL, "v", &d), 0))
			break;
		CHECK_EQ(d->node, BOARD_VIRTIO_MMIO);
		CHECK_EQ(d->base, MEMMAP_VIRTIO_MMIO_BASE +
					  n * MEMMAP_VIRTIO_MMIO_STRIDE);
		CHECK_EQ(d->size, VIRTIO_MMIO_REGION_SIZE);
		CHECK_EQ(d->irq, IRQ_VIRTIO_BASE + n);
		CHECK(d->irq <= PLIC_NR_SOURCES);
		CHECK(mmio_find(&s->bus, d->base) != NULL);
	}
	CHECK_EQ(board_add_virtio_mmio(&s->b, NULL, "v", &d), -ENOSPC);
	CHECK_EQ(s->b.nr_devs, VM_MAX_VIRTIO);
	CHECK_EQ(s->b.nr_virtio_mmio, VM_MAX_VIRTIO);
	/* the last slot ends below the IMSICs */
	CHECK(s->b.devs[VM_MAX_VIRTIO - 1].base + MEMMAP_VIRTIO_MMIO_STRIDE <=
	      MEMMAP_IMSIC_BASE);
	free(s);
}

/* A full board refuses more with -ENOSPC and registers nothing. */
static void test_board_full(void)
{
	struct sample *s = sample_new();
	struct board_dev d = { .node = BOARD_UART, .size = 0x100 };
	unsigned int i;

	REQUIRE(CHECK(s));
	for (i = 0; i < BOARD_MAX_DEVS; i++) {
		d.base = 0x1000000ULL * (i + 1);
		CHECK_EQ(board_add(&s->b, &d, 0, NULL, NULL, NULL), 0);
	}
	d.base = 0x1000000ULL * (i + 1);
	CHECK_EQ(board_add(&s->b, &d, MMIO_SIZE(1), &no_ops, s, NULL), -ENOSPC);
	CHECK_EQ(s->bus.nr, 0);
	free(s);
}

struct seen {
	int calls;
	struct virtio_doorbells db;
	void *d;
};

static void doorbells(void *opaque, struct virtio_dev *d,
		      const struct virtio_doorbells *db)
{
	struct seen *seen = opaque;

	seen->calls++;
	seen->d = d;
	if (db)
		seen->db = *db;
}

/* virtio-mmio reports one shared doorbell, QueueNotify, 4 bytes wide. */
static void test_virtio_mmio_doorbells(void)
{
	struct seen seen = { 0 };
	struct virtio_dev *d = (struct virtio_dev *)&seen; /* only passed on */

	virtio_mmio_doorbells(d, 0x10003000, doorbells, &seen);
	CHECK_EQ(seen.calls, 1);
	CHECK(seen.d == (void *)d);
	CHECK_EQ(seen.db.addr, 0x10003000 + VIRTIO_MMIO_QUEUE_NOTIFY);
	CHECK_EQ(seen.db.stride, 0);
	CHECK_EQ(seen.db.len, 4);
}

UNIT_SUITE(board, UNIT_TEST(test_add_records_and_registers),
	   UNIT_TEST(test_virtio_mmio_slots), UNIT_TEST(test_board_full),
	   UNIT_TEST(test_virtio_mmio_doorbells));
