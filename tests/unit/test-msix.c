// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for hw/msix.c and riscv/msi-routes.c. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/msi-routes.h"
#include "lkvm/msix.h"
#include "unit.h"

#define NR 4

/* What the owner was told: routes and deliveries. */
struct sink {
	bool live[NR];
	uint64_t addr[NR];
	uint32_t data[NR];
	unsigned int routes, fires[NR];
};

static void sink_route(void *opaque, unsigned int vec, uint64_t addr,
		       uint32_t data, bool live)
{
	struct sink *s = opaque;

	if (vec >= NR)
		return;
	s->live[vec] = live;
	s->addr[vec] = addr;
	s->data[vec] = data;
	s->routes++;
}

static void sink_fire(void *opaque, unsigned int vec)
{
	struct sink *s = opaque;

	if (vec < NR)
		s->fires[vec]++;
}

static const struct msix_ops sink_ops = { sink_route, sink_fire };

static void setup(struct msix *x, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	if (msix_init(x, NR, &sink_ops, s))
		unit_fail(__FILE__, __LINE__, "msix_init");
}

/* Program vector vec with a message and unmask it. */
static void program(struct msix *x, unsigned int vec, uint64_t addr,
		    uint32_t data)
{
	msix_table_write(x, vec * 16 + 0, 8, addr);
	msix_table_write(x, vec * 16 + 8, 4, data);
	msix_table_write(x, vec * 16 + 12, 4, 0);
}

static void test_reset_state(void)
{
	struct msix x;
	struct sink s;
	unsigned int v;

	setup(&x, &s);
	CHECK_EQ(msix_table_size(&x), NR * 16);
	CHECK_EQ(msix_pba_size(&x), 8);
	for (v = 0; v < NR; v++) {
		CHECK_EQ(msix_table_read(&x, v * 16 + 12, 4), 1); /* masked */
		CHECK_EQ(msix_table_read(&x, v * 16, 8), 0);
	}
	CHECK(!msix_enabled(&x));
	/* disabled: the device must use INTx */
	CHECK(!msix_notify(&x, 0));
	CHECK_EQ(s.routes, 0);
	CHECK_EQ(msix_init(&x, 0, &sink_ops, &s), -EINVAL);
	CHECK_EQ(msix_init(&x, MSIX_MAX_VECTORS + 1, &sink_ops, &s), -EINVAL);
	msix_destroy(&x);
}

static void test_route_and_fire(void)
{
	struct msix x;
	struct sink s;

	setup(&x, &s);
	msix_set_control(&x, true, false);
	CHECK_EQ(s.routes, 0); /* all masked still */
	program(&x, 1, 0x28001000ULL, 7);
	CHECK(s.live[1]);
	CHECK_EQ(s.addr[1], 0x28001000ULL);
	CHECK_EQ(s.data[1], 7);
	CHECK(msix_notify(&x, 1));
	CHECK_EQ(s.fires[1], 1);
	/* a message change while live re-routes */
	msix_table_write(&x, 1 * 16 + 8, 4, 9);
	CHECK_EQ(s.data[1], 9);
	/* the same value again does not */
	s.routes = 0;
	msix_table_write(&x, 1 * 16 + 8, 4, 9);
	CHECK_EQ(s.routes, 0);
	/* out of range (NO_VECTOR): consumed, nothing fired */
	CHECK(msix_notify(&x, 0xffff));
	CHECK_EQ(s.fires[0] + s.fires[2] + s.fires[3], 0);
	/* reading back the entry */
	CHECK_EQ(msix_table_read(&x, 16, 4), 0x28001000u);
	CHECK_EQ(msix_table_read(&x, 20, 4), 0);
	CHECK_EQ(msix_table_read(&x, 24, 4), 9);
	CHECK_EQ(msix_table_read(&x, 28, 4), 0);
	msix_destroy(&x);
}

static void test_mask_pending(void)
{
	struct msix x;
	struct sink s;

	setup(&x, &s);
	msix_set_control(&x, true, false);
	program(&x, 2, 0x28000000ULL, 3);
	/* masked: pending, not fired */
	msix_table_write(&x, 2 * 16 + 12, 4, 1);
	CHECK(!s.live[2]);
	CHECK(msix_notify(&x, 2));
	CHECK_EQ(s.fires[2], 0);
	CHECK_EQ(msix_pba_read(&x, 0, 8), 1u << 2);
	CHECK_EQ(msix_pba_read(&x, 0, 4), 1u << 2);
	/* unmask: routed again, the pending message is delivered */
	msix_table_write(&x, 2 * 16 + 12, 4, 0);
	CHECK(s.live[2]);
	CHECK_EQ(s.fires[2], 1);
	CHECK_EQ(msix_pba_read(&x, 0, 8), 0);
	/* function mask: the same */
	msix_set_control(&x, true, true);
	CHECK(!s.live[2]);
	CHECK(msix_notify(&x, 2));
	CHECK_EQ(s.fires[2], 1);
	msix_set_control(&x, true, false);
	CHECK_EQ(s.fires[2], 2);
	/* disable: not live, the device falls back to INTx */
	msix_set_control(&x, false, false);
	CHECK(!s.live[2]);
	CHECK(!msix_notify(&x, 2));
	/* the PBA is read-only */
	msix_table_write(&x, 2 * 16 + 12, 4, 1);
	msix_set_control(&x, true, false);
	msix_notify(&x, 2);
	CHECK_EQ(msix_pba_read(&x, 0, 8), 1u << 2);
	msix_destroy(&x);
}

static void test_bad_accesses(void)
{
	struct msix x;
	struct sink s;

	setup(&x, &s);
	msix_set_control(&x, true, false);
	/* unaligned, odd sizes, beyond the table: ignored, read 0 */
	msix_table_write(&x, 2, 4, 0xffffffff);
	msix_table_write(&x, 12, 2, 0);
	msix_table_write(&x, 12, 1, 0);
	msix_table_write(&x, NR * 16, 4, 0);
	msix_table_write(&x, (NR - 1) * 16 + 12, 8, 0);
	msix_table_write(&x, UINT64_MAX - 3, 4, 0);
	CHECK_EQ(s.routes, 0);
	CHECK_EQ(msix_table_read(&x, 12, 2), 0);
	CHECK_EQ(msix_table_read(&x, NR * 16, 4), 0);
	CHECK_EQ(msix_table_read(&x, UINT64_MAX - 7, 8), 0);
	CHECK_EQ(msix_pba_read(&x, 8, 4), 0);
	CHECK_EQ(msix_pba_read(&x, 1, 4), 0);
	/* reserved Vector Control bits read 0 */
	msix_table_write(&x, 12, 4, 0xfffffffe);
	CHECK_EQ(msix_table_read(&x, 12, 4), 0);
	msix_destroy(&x);
}

static void test_reset(void)
{
	struct msix x;
	struct sink s;

	setup(&x, &s);
	msix_set_control(&x, true, false);
	program(&x, 0, 0x28000000ULL, 1);
	CHECK(s.live[0]);
	msix_reset(&x);
	CHECK(!s.live[0]);
	CHECK(!msix_enabled(&x));
	CHECK_EQ(msix_table_read(&x, 12, 4), 1);
	CHECK_EQ(msix_table_read(&x, 0, 8), 0);
	msix_destroy(&x);
}

static void test_routes_table(void)
{
	struct msi_routes t;
	struct kvm_irq_routing *tab;
	int a, b;

	REQUIRE(!msi_routes_init(&t, 64, 64));
	a = msi_routes_alloc(&t, 3);
	b = msi_routes_alloc(&t, 2);
	CHECK_EQ(a, 64);
	CHECK_EQ(b, 67);
	tab = msi_routes_build(&t);
	REQUIRE(tab);
	CHECK_EQ(tab->nr, 64); /* wired pins only: nothing live */
	CHECK_EQ(tab->entries[10].type, KVM_IRQ_ROUTING_IRQCHIP);
	CHECK_EQ(tab->entries[10].gsi, 10);
	CHECK_EQ(tab->entries[10].u.irqchip.pin, 10);
	free(tab);

	CHECK_EQ(msi_routes_set(&t, 65, 0x128001000ULL, 5, true), 1);
	CHECK_EQ(msi_routes_set(&t, 65, 0x128001000ULL, 5, true), 0);
	CHECK_EQ(msi_routes_set(&t, 68, 0x28000000ULL, 6, true), 1);
	CHECK_EQ(msi_routes_set(&t, 66, 0, 0, false), 0);
	CHECK_EQ(msi_routes_set(&t, 69, 0, 0, true), -EINVAL);
	CHECK_EQ(msi_routes_set(&t, 63, 0, 0, true), -EINVAL);
	tab = msi_routes_build(&t);
	REQUIRE(tab);
	CHECK_EQ(tab->nr, 66);
	CHECK_EQ(tab->entries[64].type, KVM_IRQ_ROUTING_MSI);
	CHECK_EQ(tab->entries[64].gsi, 65);
	CHECK_EQ(tab->entries[64].u.msi.address_lo, 0x28001000u);
	CHECK_EQ(tab->entries[64].u.msi.address_hi, 1);
	CHECK_EQ(tab->entries[64].u.msi.data, 5);
	CHECK_EQ(tab->entries[65].gsi, 68);
	free(tab);

	/* a route taken out disappears from the table */
	CHECK_EQ(msi_routes_set(&t, 65, 0, 0, false), 1);
	tab = msi_routes_build(&t);
	REQUIRE(tab);
	CHECK_EQ(tab->nr, 65);
	CHECK_EQ(tab->entries[64].gsi, 68);
	free(tab);

	/* KVM's limit on entries */
	CHECK_EQ(msi_routes_alloc(&t, MSI_ROUTES_MAX), -ENOSPC);
	CHECK_EQ(msi_routes_alloc(&t, 0), -ENOSPC);
	msi_routes_destroy(&t);
	CHECK_EQ(msi_routes_init(&t, 64, 10), -EINVAL);
}

UNIT_SUITE(msix, UNIT_TEST(test_reset_state), UNIT_TEST(test_route_and_fire),
	   UNIT_TEST(test_mask_pending), UNIT_TEST(test_bad_accesses),
	   UNIT_TEST(test_reset), UNIT_TEST(test_routes_table));
