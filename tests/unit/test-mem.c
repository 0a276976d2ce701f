// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for guest-mem.c and mmio.c: ranges, overflow, dispatch. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/guest-mem.h"
#include "lkvm/mmio.h"
#include "unit.h"

static uint8_t ram_a[0x1000], ram_b[0x1000];

static void test_gmem_add(void)
{
	struct gmem m = { 0 };

	CHECK_EQ(gmem_add(&m, 0x80000000, 0x1000, ram_a), 0);
	/* overlaps: same start, inside, straddling either end, covering */
	CHECK_EQ(gmem_add(&m, 0x80000000, 0x1000, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0x80000800, 0x10, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0x7ffff000, 0x1001, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0x80000fff, 0x1000, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0, UINT64_MAX, ram_b), -EINVAL);
	/* empty, wrapping, no host memory */
	CHECK_EQ(gmem_add(&m, 0x1000, 0, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, UINT64_MAX, 2, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0xfffffffffffff001ULL, 0x1000, ram_b), -EINVAL);
	CHECK_EQ(gmem_add(&m, 0x1000, 0x1000, NULL), -EINVAL);
	CHECK_EQ(m.nr, 1);
	/* adjacent on both sides is fine, and so is the very top */
	CHECK_EQ(gmem_add(&m, 0x7ffff000, 0x1000, ram_b), 0);
	CHECK_EQ(gmem_add(&m, 0x80001000, 0x1000, ram_b), 0);
	CHECK_EQ(gmem_add(&m, 0xfffffffffffff000ULL, 0x1000, ram_b), 0);
	CHECK_EQ(m.nr, 4);
	/* no room left */
	CHECK_EQ(gmem_add(&m, 0x1000, 0x1000, ram_b), -EINVAL);
}

static void test_gmem_ptr_bounds(void)
{
	struct gmem m = { 0 };
	uint8_t *base = ram_a;

	REQUIRE(CHECK_EQ(gmem_add(&m, 0x80000000, sizeof(ram_a), ram_a), 0));
	CHECK(gmem_ptr(&m, 0x80000000, sizeof(ram_a)) == base);
	CHECK(gmem_ptr(&m, 0x80000fff, 1) == base + 0xfff);
	CHECK(gmem_ptr(&m, 0x80000fff, 2) == NULL);
	CHECK(gmem_ptr(&m, 0x80001000, 1) == NULL);
	CHECK(gmem_ptr(&m, 0x80000000, sizeof(ram_a) + 1) == NULL);
	CHECK(gmem_ptr(&m, 0x7fffffff, 1) == NULL);
	CHECK(gmem_ptr(&m, 0x7fffffff, 2) == NULL);
	/* len 0 checks gpa alone */
	CHECK(gmem_ptr(&m, 0x80000fff, 0) == base + 0xfff);
	CHECK(gmem_ptr(&m, 0x80000000, 0) == base);
	CHECK(gmem_ptr(&m, 0x80001000, 0) == NULL);
	CHECK(gmem_ptr(&m, 0, 0) == NULL);
	/* gpa + len overflows */
	CHECK(gmem_ptr(&m, 0x80000010, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&m, 0x80000010, UINT64_MAX - 0x80000000) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&m, UINT64_MAX, 0) == NULL);
	CHECK(!gmem_valid(&m, 0x80000800, 0x801));
	CHECK(gmem_valid(&m, 0x80000800, 0x800));
}

static void test_gmem_two_regions(void)
{
	struct gmem m = { 0 };
	uint32_t v = 0xdeadbeef, r = 0;

	REQUIRE(CHECK_EQ(gmem_add(&m, 0x2000, 0x1000, ram_b), 0));
	REQUIRE(CHECK_EQ(gmem_add(&m, 0x1000, 0x1000, ram_a), 0));
	CHECK(gmem_ptr(&m, 0x1800, 4) == ram_a + 0x800);
	CHECK(gmem_ptr(&m, 0x2800, 4) == ram_b + 0x800);
	/* adjacent regions still are two: no access spans both */
	CHECK(gmem_ptr(&m, 0x1ffe, 4) == NULL);
	CHECK_EQ(gmem_write(&m, 0x1ffc, &v, 4), 0);
	CHECK_EQ(gmem_read(&m, 0x1ffc, &r, 4), 0);
	CHECK_EQ(r, 0xdeadbeef);
	CHECK_EQ(gmem_write(&m, 0x1ffe, &v, 4), -EFAULT);
	CHECK_EQ(gmem_read(&m, 0x2ffe, &r, 4), -EFAULT);
	CHECK_EQ(gmem_read(&m, 0x3000, &r, 1), -EFAULT);
}

struct fake_dev {
	uint64_t last_off, last_val;
	unsigned int last_size, reads, writes;
	uint64_t value;
};

static uint64_t fake_read(void *dev, uint64_t offset, unsigned int size)
{
	struct fake_dev *d = dev;

	d->reads++;
	d->last_off = offset;
	d->last_size = size;
	return d->value;
}

static void fake_write(void *dev, uint64_t offset, unsigned int size,
		       uint64_t value)
{
	struct fake_dev *d = dev;

	d->writes++;
	d->last_off = offset;
	d->last_size = size;
	d->last_val = value;
}

static const struct mmio_ops fake_ops = {
	.read = fake_read,
	.write = fake_write,
};

#define ALL_SIZES (MMIO_SIZE(1) | MMIO_SIZE(2) | MMIO_SIZE(4) | MMIO_SIZE(8))

static void test_mmio_register(void)
{
	static struct mmio_bus bus;
	struct fake_dev d = { 0 };
	unsigned int i;

	memset(&bus, 0, sizeof(bus));
	CHECK_EQ(mmio_register(&bus, 0x3000, 0x1000, ALL_SIZES, &fake_ops, &d,
			       "c"),
		 0);
	CHECK_EQ(mmio_register(&bus, 0x1000, 0x1000, ALL_SIZES, &fake_ops, &d,
			       "a"),
		 0);
	CHECK_EQ(mmio_register(&bus, 0x2000, 0x1000, ALL_SIZES, &fake_ops, &d,
			       "b"),
		 0);
	/* overlaps, empty, wrapping */
	CHECK_EQ(mmio_register(&bus, 0x2fff, 2, ALL_SIZES, &fake_ops, &d, "x"),
		 -EINVAL);
	CHECK_EQ(mmio_register(&bus, 0, 0x1001, ALL_SIZES, &fake_ops, &d, "x"),
		 -EINVAL);
	CHECK_EQ(mmio_register(&bus, 0x3800, 1, ALL_SIZES, &fake_ops, &d, "x"),
		 -EINVAL);
	CHECK_EQ(mmio_register(&bus, 0, UINT64_MAX, ALL_SIZES, &fake_ops, &d,
			       "x"),
		 -EINVAL);
	CHECK_EQ(mmio_register(&bus, 0x5000, 0, ALL_SIZES, &fake_ops, &d, "x"),
		 -EINVAL);
	CHECK_EQ(mmio_register(&bus, UINT64_MAX, 2, ALL_SIZES, &fake_ops, &d,
			       "x"),
		 -EINVAL);
	REQUIRE(CHECK_EQ(bus.nr, 3));
	/* kept sorted by base */
	CHECK_STR(bus.r[0].name, "a");
	CHECK_STR(bus.r[1].name, "b");
	CHECK_STR(bus.r[2].name, "c");
	/* the top of the address space can be registered */
	CHECK_EQ(mmio_register(&bus, UINT64_MAX, 1, ALL_SIZES, &fake_ops, &d,
			       "top"),
		 0);
	for (i = bus.nr; i < MMIO_MAX_REGIONS; i++)
		CHECK_EQ(mmio_register(&bus, 0x100000 + 0x100 * (uint64_t)i,
				       0x100, ALL_SIZES, &fake_ops, &d, "n"),
			 0);
	CHECK_EQ(mmio_register(&bus, 0x900000, 0x100, ALL_SIZES, &fake_ops, &d,
			       "full"),
		 -ENOSPC);
	for (i = 1; i < bus.nr; i++)
		CHECK(bus.r[i - 1].base < bus.r[i].base);
}

static void test_mmio_find(void)
{
	static struct mmio_bus bus;
	struct fake_dev d = { 0 };
	const struct mmio_region *r;

	memset(&bus, 0, sizeof(bus));
	CHECK(mmio_find(&bus, 0x1000) == NULL);
	mmio_register(&bus, 0x10000000, 0x100, ALL_SIZES, &fake_ops, &d,
		      "uart");
	mmio_register(&bus, 0x0c000000, 0x4000000, ALL_SIZES, &fake_ops, &d,
		      "plic");
	mmio_register(&bus, 0x10001000, 0x200, ALL_SIZES, &fake_ops, &d, "vio");
	mmio_register(&bus, UINT64_MAX - 0xff, 0x100, ALL_SIZES, &fake_ops, &d,
		      "top");
	r = mmio_find(&bus, 0x0c000000);
	CHECK(r && !strcmp(r->name, "plic"));
	r = mmio_find(&bus, 0x0fffffff);
	CHECK(r && !strcmp(r->name, "plic"));
	r = mmio_find(&bus, 0x100000ff);
	CHECK(r && !strcmp(r->name, "uart"));
	CHECK(mmio_find(&bus, 0x10000100) == NULL);
	CHECK(mmio_find(&bus, 0x10000fff) == NULL);
	r = mmio_find(&bus, 0x100011ff);
	CHECK(r && !strcmp(r->name, "vio"));
	CHECK(mmio_find(&bus, 0x10001200) == NULL);
	CHECK(mmio_find(&bus, 0x0bffffff) == NULL);
	CHECK(mmio_find(&bus, 0) == NULL);
	r = mmio_find(&bus, UINT64_MAX);
	CHECK(r && !strcmp(r->name, "top"));
	CHECK(mmio_find(&bus, UINT64_MAX - 0x100) == NULL);
}

static void test_mmio_access_le(void)
{
	static struct mmio_bus bus;
	struct fake_dev d = { 0 };
	uint8_t data[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };

	memset(&bus, 0, sizeof(bus));
	mmio_register(&bus, 0x1000, 0x100, ALL_SIZES, &fake_ops, &d, "d");
	CHECK(mmio_access(&bus, 0x1010, data, 4, true));
	CHECK_EQ(d.last_off, 0x10);
	CHECK_EQ(d.last_size, 4);
	CHECK_EQ(d.last_val, 0x44332211);
	CHECK(mmio_access(&bus, 0x10f8, data, 8, true));
	CHECK_EQ(d.last_off, 0xf8);
	CHECK(d.last_val == 0x8877665544332211ULL);
	CHECK(mmio_access(&bus, 0x1001, data, 2, true));
	CHECK_EQ(d.last_val, 0x2211);
	CHECK(mmio_access(&bus, 0x1003, data, 1, true));
	CHECK_EQ(d.last_val, 0x11);

	d.value = 0x0102030405060708ULL;
	memset(data, 0xee, sizeof(data));
	CHECK(mmio_access(&bus, 0x1020, data, 2, false));
	CHECK_EQ(data[0], 0x08);
	CHECK_EQ(data[1], 0x07);
	CHECK_EQ(data[2], 0xee); /* only len bytes are written */
	CHECK(mmio_access(&bus, 0x1020, data, 8, false));
	CHECK_EQ(data[0], 0x08);
	CHECK_EQ(data[7], 0x01);
}

static void test_mmio_access_rejects(void)
{
	static struct mmio_bus bus;
	struct fake_dev d = { .value = 0xffffffffffffffffULL };
	uint8_t data[16];
	unsigned int len;

	memset(&bus, 0, sizeof(bus));
	mmio_register(&bus, 0x1000, 0x100, MMIO_SIZE(4), &fake_ops, &d, "w");
	/* sizes the region did not declare: reads give zeros */
	for (len = 0; len <= 16; len++) {
		if (len == 4)
			continue;
		memset(data, 0xee, sizeof(data));
		CHECK(!mmio_access(&bus, 0x1000, data, len, false));
		if (len && !CHECK_EQ(data[len - 1], 0))
			fprintf(stderr, "    len %u\n", len);
		CHECK(!mmio_access(&bus, 0x1000, data, len, true));
	}
	/* crossing the end of the region */
	memset(data, 0xee, sizeof(data));
	CHECK(!mmio_access(&bus, 0x10fe, data, 4, false));
	CHECK_EQ(data[0], 0);
	CHECK_EQ(data[3], 0);
	CHECK(!mmio_access(&bus, 0x10fd, data, 4, true));
	CHECK(mmio_access(&bus, 0x10fc, data, 4, false));
	/* unmapped */
	memset(data, 0xee, sizeof(data));
	CHECK(!mmio_access(&bus, 0x2000, data, 4, false));
	CHECK_EQ(data[0], 0);
	CHECK(!mmio_access(&bus, 0xfff, data, 4, true));
	CHECK_EQ(d.writes, 0);
	CHECK_EQ(d.reads, 1);
}

UNIT_SUITE(mem, UNIT_TEST(test_gmem_add), UNIT_TEST(test_gmem_ptr_bounds),
	   UNIT_TEST(test_gmem_two_regions), UNIT_TEST(test_mmio_register),
	   UNIT_TEST(test_mmio_find), UNIT_TEST(test_mmio_access_le),
	   UNIT_TEST(test_mmio_access_rejects));
