// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for hw/testdev.c: the test finisher and the pvpanic register,
 * directly and through the MMIO bus as the board serves them. */
#include <stdint.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/mmio.h"
#include "lkvm/testdev.h"
#include "lkvm/vm.h"
#include "riscv/memmap.h"
#include "unit.h"

struct seen {
	unsigned int calls;
	uint32_t value;
	int status;
	unsigned int events;
};

static void on_exit_cb(void *opaque, uint32_t value, int status)
{
	struct seen *s = opaque;

	s->calls++;
	s->value = value;
	s->status = status;
}

static void on_event(void *opaque, unsigned int events)
{
	struct seen *s = opaque;

	s->calls++;
	s->events = events;
}

/* Every value the finisher understands, and some it does not. */
static void test_finisher_decode(void)
{
	static const struct {
		uint32_t value;
		bool ok;
		int status;
	} t[] = {
		{ 0x5555, true, LKVM_EXIT_SHUTDOWN },
		{ 0x00075555, true,
		  LKVM_EXIT_SHUTDOWN }, /* pass: code ignored */
		{ 0x7777, true, LKVM_EXIT_REBOOT },
		{ 0xffff7777, true, LKVM_EXIT_REBOOT },
		{ 0x3333, true, LKVM_EXIT_SYSFAIL }, /* fail, code 0 */
		{ 0x00013333, true, 1 },
		{ 0x00073333, true, 7 },
		{ 0x00ff3333, true, 255 },
		{ 0x01003333, true, 255 }, /* 256: never 0 */
		{ 0x012c3333, true, 255 },
		{ 0xffff3333, true, 255 },
		{ 0, false, 0 },
		{ 0x1234, false, 0 },
		{ 0x5556, false, 0 },
		{ 0x55550000, false, 0 },
		{ 0x3334, false, 0 },
		{ 0xffffffff, false, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		int status = -100;

		CHECK_EQ(finisher_decode(t[i].value, &status), t[i].ok);
		if (t[i].ok)
			CHECK_EQ(status, t[i].status);
		else
			CHECK_EQ(status, -100);
	}
}

/* Only a 32-bit write at offset 0 counts; reads are 0; never fatal. */
static void test_finisher_mmio(void)
{
	struct finisher f;
	struct seen s = { 0 };
	static const uint64_t offsets[] = { 1,	   2,	  4,	  8,
					    0xffc, 0xfff, 0x1000, UINT64_MAX };
	static const unsigned int sizes[] = { 1, 2, 8, 0, 3, 16 };
	unsigned int i;

	finisher_init(&f, on_exit_cb, &s);
	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		finisher_mmio_ops.write(&f, offsets[i], 4, 0x5555);
		CHECK_EQ(finisher_mmio_ops.read(&f, offsets[i], 4), 0);
	}
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		finisher_mmio_ops.write(&f, 0, sizes[i], 0x5555);
	finisher_mmio_ops.write(&f, 0, 4, 0x1234);
	CHECK_EQ(s.calls, 0);
	CHECK_EQ(finisher_mmio_ops.read(&f, 0, 4), 0);
	finisher_mmio_ops.write(&f, 0, 4, 0x002a3333);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.value, 0x002a3333);
	CHECK_EQ(s.status, 42);
	/* a 64-bit value's high half is not the register's */
	finisher_mmio_ops.write(&f, 0, 4, 0xdead00005555ULL);
	CHECK_EQ(s.calls, 2);
	CHECK_EQ(s.value, 0x5555);
	CHECK_EQ(s.status, 0);
	/* no callback: nothing happens */
	finisher_init(&f, NULL, NULL);
	finisher_mmio_ops.write(&f, 0, 4, 0x5555);
}

static void test_pvpanic_mmio(void)
{
	struct pvpanic p;
	struct seen s = { 0 };
	unsigned int i;

	pvpanic_init(&p, on_event, &s);
	CHECK_EQ(pvpanic_mmio_ops.read(&p, 0, 1), 3);
	CHECK_EQ(pvpanic_mmio_ops.read(&p, 1, 1), 0);
	CHECK_EQ(pvpanic_mmio_ops.read(&p, 0, 4), 0);
	CHECK_EQ(pvpanic_mmio_ops.read(&p, UINT64_MAX, 1), 0);
	/* bits it does not offer, other offsets and sizes: ignored */
	pvpanic_mmio_ops.write(&p, 0, 1, 0);
	pvpanic_mmio_ops.write(&p, 0, 1, 4); /* PVPANIC_SHUTDOWN: not offered */
	pvpanic_mmio_ops.write(&p, 0, 1, 0xfc);
	for (i = 1; i < 16; i++)
		pvpanic_mmio_ops.write(&p, i, 1, 1);
	pvpanic_mmio_ops.write(&p, 0, 2, 1);
	pvpanic_mmio_ops.write(&p, 0, 4, 1);
	pvpanic_mmio_ops.write(&p, 0, 8, 1);
	CHECK_EQ(s.calls, 0);
	pvpanic_mmio_ops.write(&p, 0, 1, 1);
	CHECK_EQ(s.calls, 1);
	CHECK_EQ(s.events, PVPANIC_PANICKED);
	pvpanic_mmio_ops.write(&p, 0, 1, 2);
	CHECK_EQ(s.events, PVPANIC_CRASH_LOADED);
	pvpanic_mmio_ops.write(&p, 0, 1, 0xff);
	CHECK_EQ(s.calls, 3);
	CHECK_EQ(s.events, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	pvpanic_init(&p, NULL, NULL);
	pvpanic_mmio_ops.write(&p, 0, 1, 1);
}

/* As the board serves them: the bus drops sizes they did not declare. */
static void test_on_the_bus(void)
{
	struct mmio_bus bus;
	struct finisher f;
	struct pvpanic p;
	struct seen fs = { 0 }, ps = { 0 };
	uint8_t d[8];
	uint32_t v;

	memset(&bus, 0, sizeof(bus));
	finisher_init(&f, on_exit_cb, &fs);
	pvpanic_init(&p, on_event, &ps);
	REQUIRE(CHECK_EQ(mmio_register(&bus, MEMMAP_TEST_FINISHER_BASE,
				       MEMMAP_TEST_FINISHER_SIZE,
				       FINISHER_SIZES, &finisher_mmio_ops, &f,
				       "test-finisher"),
			 0));
	REQUIRE(CHECK_EQ(mmio_register(&bus, MEMMAP_PVPANIC_BASE,
				       MEMMAP_PVPANIC_SIZE, PVPANIC_SIZES,
				       &pvpanic_mmio_ops, &p, "pvpanic"),
			 0));
	v = 0x00053333;
	memcpy(d, &v, 4);
	CHECK(!mmio_access(&bus, MEMMAP_TEST_FINISHER_BASE, d, 2, true));
	CHECK(!mmio_access(&bus, MEMMAP_TEST_FINISHER_BASE, d, 8, true));
	CHECK(!mmio_access(&bus, MEMMAP_TEST_FINISHER_BASE + 0xffe, d, 4,
			   true));
	CHECK_EQ(fs.calls, 0);
	CHECK(mmio_access(&bus, MEMMAP_TEST_FINISHER_BASE, d, 4, true));
	CHECK_EQ(fs.calls, 1);
	CHECK_EQ(fs.status, 5);
	d[0] = 1;
	CHECK(!mmio_access(&bus, MEMMAP_PVPANIC_BASE, d, 4, true));
	CHECK_EQ(ps.calls, 0);
	CHECK(mmio_access(&bus, MEMMAP_PVPANIC_BASE, d, 1, true));
	CHECK_EQ(ps.events, PVPANIC_PANICKED);
	d[0] = 0;
	CHECK(mmio_access(&bus, MEMMAP_PVPANIC_BASE, d, 1, false));
	CHECK_EQ(d[0], PVPANIC_SUPPORTED);
}

/* SBI SRST's reason decides between shutdown and failure. */
static void test_reset_status(void)
{
	CHECK_EQ(vm_exit_status_reset(false, 0), LKVM_EXIT_SHUTDOWN);
	CHECK_EQ(vm_exit_status_reset(true, 0), LKVM_EXIT_REBOOT);
	CHECK_EQ(vm_exit_status_reset(false, 1), LKVM_EXIT_SYSFAIL);
	CHECK_EQ(vm_exit_status_reset(true, 1), LKVM_EXIT_SYSFAIL);
	/* SBI-reserved, implementation and vendor reasons: no reason */
	CHECK_EQ(vm_exit_status_reset(false, 2), LKVM_EXIT_SHUTDOWN);
	CHECK_EQ(vm_exit_status_reset(false, 0xf0000000), LKVM_EXIT_SHUTDOWN);
	CHECK_EQ(vm_exit_status_reset(true, UINT64_MAX), LKVM_EXIT_REBOOT);
	CHECK_EQ(vm_exit_status_reset(false, 1ULL << 32 | 1),
		 LKVM_EXIT_SHUTDOWN);
	/* the documented numbers */
	CHECK_EQ(LKVM_EXIT_SYSFAIL, 3);
	CHECK_EQ(LKVM_EXIT_PANIC, 4);
	CHECK_EQ(LKVM_EXIT_TIMEOUT, 124);
}

UNIT_SUITE(testdev, UNIT_TEST(test_finisher_decode),
	   UNIT_TEST(test_finisher_mmio), UNIT_TEST(test_pvpanic_mmio),
	   UNIT_TEST(test_on_the_bus), UNIT_TEST(test_reset_status));
