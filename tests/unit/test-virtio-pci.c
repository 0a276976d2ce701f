// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for virtio/pci.c over hw/pci.c: the capability list, BARs,
 * the common configuration, notifications, INTx/ISR, MSI-X vectors and the
 * PCI configuration access capability, driven through ECAM and the memory
 * window like a guest driver, with virtio-rng as the device.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-pci.h"
#include "drvq.h"
#include "guest.h"
#include "unit.h"
#include "vdrv.h"

#define DESC_GPA (GUEST_RAM_BASE + 0x1000)
#define AVAIL_GPA (GUEST_RAM_BASE + 0x2000)
#define USED_GPA (GUEST_RAM_BASE + 0x3000)
#define BUF_GPA (GUEST_RAM_BASE + 0x8000)
/* where tests/lib's driver places the BARs */
#define BAR0_GPA VDRV_PCI_BAR0
#define BAR1_GPA VDRV_PCI_BAR1
#define QNUM 8
#define F_V1 (1ULL << VIRTIO_F_VERSION_1)

struct tp {
	struct guest g;
	struct virtio_dev *d;
	struct vdrv v; /* the driver, owning the bridge and the function */
	struct drvq q; /* queue 0 */
	/* what the machine side saw */
	int intx;
	uint64_t notify_base;
	bool notify_on;
	unsigned int fires[4], routes, vec_changes;
};

static void intx_set(void *ctrl, unsigned int irq, int level)
{
	struct tp *t = ctrl;

	(void)irq;
	t->intx = level;
}

static void notify_mapped(void *opaque, struct virtio_dev *d,
			  const struct virtio_doorbells *db)
{
	struct tp *t = opaque;

	(void)d;
	if (db) {
		CHECK_EQ(db->stride, VPCI_NOTIFY_STRIDE);
		CHECK_EQ(db->len, 2);
		t->notify_base = db->addr;
	}
	t->notify_on = db != NULL;
}

static void msi_route(void *opaque, unsigned int vec, uint64_t addr,
		      uint32_t data, bool live)
{
	struct tp *t = opaque;

	(void)vec, (void)addr, (void)data, (void)live;
	t->routes++;
}

static void msi_fire(void *opaque, unsigned int vec)
{
	struct tp *t = opaque;

	if (vec < 4)
		t->fires[vec]++;
}

static void vectors_changed(void *opaque)
{
	struct tp *t = opaque;

	t->vec_changes++;
}

static const struct msix_ops msi_ops = { msi_route, msi_fire };
static const struct virtio_pci_host_ops host_msix = { &msi_ops, notify_mapped,
						      vectors_changed };
static const struct virtio_pci_host_ops host_intx = { NULL, notify_mapped };

static struct tp *tp_new(bool msix)
{
	struct tp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (guest_init(&t->g, GUEST_RAM_BASE, GUEST_RAM_SIZE))
		goto fail;
	if (virtio_rng_create(&t->g.mem, (struct irq_line){ 0 }, &t->d))
		goto fail_guest;
	if (vdrv_pci_attach(&t->v, t->d, msix ? &host_msix : &host_intx, t,
			    (struct irq_line){ intx_set, t, 12 }))
		goto fail_dev;
	drvq_init(&t->q, &t->g, QNUM, DESC_GPA, AVAIL_GPA, USED_GPA);
	return t;
fail_dev:
	virtio_rng_destroy(t->d);
fail_guest:
	guest_destroy(&t->g);
fail:
	unit_fail(__FILE__, __LINE__, "test set-up failed");
	free(t);
	return NULL;
}

static void tp_free(struct tp *t)
{
	virtio_rng_destroy(t->d);
	vdrv_close(&t->v);
	guest_destroy(&t->g);
	free(t);
}

/* The function's configuration space, the window, the common config. */
static uint32_t cfg_rd(struct tp *t, uint32_t off, unsigned int size)
{
	return vdrv_pci_cfg_read(&t->v, off, size);
}

static void cfg_wr(struct tp *t, uint32_t off, unsigned int size, uint32_t v)
{
	vdrv_pci_cfg_write(&t->v, off, size, v);
}

static uint64_t mem_rd(struct tp *t, uint64_t gpa, unsigned int size)
{
	return vdrv_pci_mem_read(&t->v, gpa, size);
}

static void mem_wr(struct tp *t, uint64_t gpa, unsigned int size, uint64_t v)
{
	vdrv_pci_mem_write(&t->v, gpa, size, v);
}

static uint64_t common(uint32_t off)
{
	return BAR0_GPA + VPCI_COMMON_OFF + off;
}

static void test_ids_and_caps(void)
{
	struct tp *t = tp_new(true);
	uint32_t c;

	REQUIRE(t);
	CHECK_EQ(cfg_rd(t, PCI_VENDOR_ID, 2), VPCI_VENDOR);
	CHECK_EQ(cfg_rd(t, PCI_DEVICE_ID, 2), VPCI_DEVICE_BASE + 4);
	CHECK(cfg_rd(t, PCI_REVISION_ID, 1) >= 1);
	CHECK_EQ(cfg_rd(t, PCI_SUBSYSTEM_ID, 2), 4);
	CHECK(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);

	c = vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_COMMON_CFG);
	REQUIRE(c);
	CHECK_EQ(cfg_rd(t, c + VIRTIO_PCI_CAP_BAR, 1), 0);
	CHECK_EQ(cfg_rd(t, c + VIRTIO_PCI_CAP_OFFSET, 4), VPCI_COMMON_OFF);
	CHECK(cfg_rd(t, c + VIRTIO_PCI_CAP_LENGTH, 4) >= 56);
	c = vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_ISR_CFG);
	REQUIRE(c);
	CHECK_EQ(cfg_rd(t, c + VIRTIO_PCI_CAP_OFFSET, 4), VPCI_ISR_OFF);
	c = vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_NOTIFY_CFG);
	REQUIRE(c);
	CHECK_EQ(cfg_rd(t, c + VIRTIO_PCI_CAP_LEN, 1), 20);
	CHECK_EQ(cfg_rd(t, c + VIRTIO_PCI_CAP_OFFSET, 4), VPCI_NOTIFY_OFF);
	CHECK_EQ(cfg_rd(t, c + 16, 4), VPCI_NOTIFY_STRIDE);
	/* virtio-rng has no device configuration */
	CHECK_EQ(vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	CHECK(vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_PCI_CFG));

	c = vdrv_pci_find_cap(&t->v, PCI_CAP_ID_MSIX);
	REQUIRE(c);
	/* one queue + config = 2 vectors; table and PBA in BAR 1 */
	CHECK_EQ(cfg_rd(t, c + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 1);
	CHECK_EQ(cfg_rd(t, c + PCI_MSIX_TABLE, 4), 1);
	CHECK_EQ(cfg_rd(t, c + PCI_MSIX_PBA, 4), VPCI_PBA_OFF | 1);
	CHECK_EQ(virtio_pci_nr_vectors(t->v.vp), 2);
	tp_free(t);

	/* INTx only: no MSI-X capability, no BAR 1 */
	t = tp_new(false);
	REQUIRE(t);
	CHECK_EQ(vdrv_pci_find_cap(&t->v, PCI_CAP_ID_MSIX), 0);
	cfg_wr(t, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(t, PCI_BASE_ADDRESS_1, 4), 0);
	CHECK_EQ(cfg_rd(t, PCI_INTERRUPT_PIN, 1), 1);
	tp_free(t);
}

static void test_bars(void)
{
	struct tp *t = tp_new(true);

	REQUIRE(t);
	cfg_wr(t, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(t, PCI_BASE_ADDRESS_0, 4), ~(VPCI_BAR0_SIZE - 1));
	cfg_wr(t, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	CHECK_EQ(cfg_rd(t, PCI_BASE_ADDRESS_1, 4), ~(VPCI_BAR1_SIZE - 1));
	CHECK(!t->notify_on);
	vdrv_pci_bars_on(&t->v);
	CHECK(t->notify_on);
	CHECK_EQ(t->notify_base, BAR0_GPA + VPCI_NOTIFY_OFF);
	/* moving BAR 0 moves the doorbells */
	cfg_wr(t, PCI_COMMAND, 2, 0);
	CHECK(!t->notify_on);
	cfg_wr(t, PCI_BASE_ADDRESS_0, 4, (uint32_t)(BAR0_GPA + 0x4000));
	cfg_wr(t, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(t->notify_on);
	CHECK_EQ(t->notify_base, BAR0_GPA + 0x4000 + VPCI_NOTIFY_OFF);
	tp_free(t);
}

/*
 * The driver's bring-up through the common configuration (tests/lib's
 * driver), checking what the registers read back on the way.
 */
static void bring_up(struct tp *t)
{
	CHECK(vdrv_device_features(&t->v) & F_V1);
	CHECK_EQ(vdrv_negotiate(&t->v, F_V1), 0); /* FEATURES_OK stays set */
	/* guest_feature_select is still 1 */
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_GF), 4), 1);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_NUMQ), 2), 1);
	vdrv_select_queue(&t->v, 0);
	/* queue_size starts at the maximum */
	CHECK(vdrv_queue_max(&t->v) >= QNUM);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_NOFF), 2), 0);
	/* 64-bit accesses to the ring addresses (the driver then writes
	 * them again in 32-bit halves) */
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_DESCLO), 8, DESC_GPA);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_USEDLO), 8, USED_GPA);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_DESCLO), 8), DESC_GPA);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_USEDLO), 8), USED_GPA);
	/* size, rings, queue_enable reading back 1 */
	CHECK_EQ(vdrv_queue_attach(&t->v, 0, &t->q), 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_SIZE), 2), QNUM);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_DESCLO), 8), DESC_GPA);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_AVAILLO), 4),
		 (uint32_t)AVAIL_GPA);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 1);
	CHECK_EQ(vdrv_driver_ok(&t->v), 0);
	CHECK(virtio_dev_live(t->d));
}

/* Offer one 16-byte writable buffer and ring the doorbell. */
static void offer_buffer(struct tp *t)
{
	drvq_post_buf(&t->q, 0, BUF_GPA, 16, VRING_DESC_F_WRITE);
	vdrv_notify(&t->v, 0);
}

static uint16_t used_idx(struct tp *t)
{
	return drvq_used_idx(&t->q);
}

static void test_intx_isr(void)
{
	struct tp *t = tp_new(false);

	REQUIRE(t);
	vdrv_pci_bars_on(&t->v);
	bring_up(t);
	offer_buffer(t);
	CHECK_EQ(used_idx(t), 1);
	CHECK_EQ(t->intx, 1);
	CHECK(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* ISR: read-to-clear, lowers INTx */
	CHECK_EQ(mem_rd(t, BAR0_GPA + VPCI_ISR_OFF, 1), 1);
	CHECK_EQ(t->intx, 0);
	CHECK_EQ(mem_rd(t, BAR0_GPA + VPCI_ISR_OFF, 1), 0);
	/* INTX_DISABLE keeps the line low, the status bit still shows it */
	cfg_wr(t, PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_DISABLE);
	offer_buffer(t);
	CHECK_EQ(used_idx(t), 2);
	CHECK_EQ(t->intx, 0);
	CHECK(cfg_rd(t, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* reset through device_status */
	mem_wr(t, common(VIRTIO_PCI_COMMON_STATUS), 1, 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_STATUS), 1), 0);
	CHECK(!virtio_dev_live(t->d));
	/* no MSI-X: vectors cannot be set */
	mem_wr(t, common(VIRTIO_PCI_COMMON_MSIX), 2, 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_MSIX), 2),
		 VIRTIO_MSI_NO_VECTOR);
	tp_free(t);
}

/* BARs on, MSI-X table entry 1 unmasked (vector 1 for the queue, 0 for
 * configuration); returns the MSI-X capability's offset, 0 without one. */
static uint32_t msix_table_setup(struct tp *t)
{
	vdrv_pci_bars_on(&t->v);
	mem_wr(t, BAR1_GPA + 16, 8, 0x28000000ULL);
	mem_wr(t, BAR1_GPA + 24, 4, 33);
	mem_wr(t, BAR1_GPA + 28, 4, 0);
	return vdrv_pci_find_cap(&t->v, PCI_CAP_ID_MSIX);
}

static void test_msix_vectors(void)
{
	struct tp *t = tp_new(true);
	uint32_t c;

	REQUIRE(t);
	c = msix_table_setup(t);
	REQUIRE(c);
	cfg_wr(t, c + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK(cfg_rd(t, c + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_ENABLE);
	CHECK(t->routes >= 1);
	mem_wr(t, common(VIRTIO_PCI_COMMON_MSIX), 2, 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_MSIX), 2), 0);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, 7); /* no such */
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2),
		 VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(t->vec_changes, 1);
	CHECK_EQ(virtio_pci_queue_vector(t->v.vp, 0), VIRTIO_MSI_NO_VECTOR);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, 1);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2), 1);
	CHECK_EQ(t->vec_changes, 2);
	CHECK_EQ(virtio_pci_queue_vector(t->v.vp, 0), 1);
	CHECK_EQ(virtio_pci_queue_vector(t->v.vp, VIRTIO_MAX_QUEUES),
		 VIRTIO_MSI_NO_VECTOR);
	bring_up(t);
	offer_buffer(t);
	CHECK_EQ(used_idx(t), 1);
	CHECK_EQ(t->fires[1], 1);
	CHECK_EQ(t->intx, 0); /* MSI-X on: no INTx, no ISR */
	CHECK_EQ(mem_rd(t, BAR0_GPA + VPCI_ISR_OFF, 1), 0);
	/* masked: pending in the PBA, delivered on unmask */
	mem_wr(t, BAR1_GPA + 28, 4, 1);
	offer_buffer(t);
	CHECK_EQ(t->fires[1], 1);
	CHECK_EQ(mem_rd(t, BAR1_GPA + VPCI_PBA_OFF, 8), 2);
	mem_wr(t, BAR1_GPA + 28, 4, 0);
	CHECK_EQ(t->fires[1], 2);
	/* a device reset forgets the vectors, and says so */
	c = t->vec_changes;
	mem_wr(t, common(VIRTIO_PCI_COMMON_STATUS), 1, 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2),
		 VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(t->vec_changes, c + 1);
	tp_free(t);
}

struct enable_race {
	struct tp *t;
	pthread_barrier_t go;
};

static void *complete_one(void *arg)
{
	struct enable_race *r = arg;

	pthread_barrier_wait(&r->go);
	offer_buffer(r->t); /* served inline: a used-buffer interrupt */
	return NULL;
}

/*
 * A completion races with the driver turning MSI-X on: whichever comes
 * first, INTx ends low with MSI-X on and the interrupt arrives as the
 * queue's MSI (on e01647f the completion could pick INTx just before the
 * enable and raise it just after: INTx stuck high, the MSI lost).
 */
static void test_msix_enable_race(void)
{
	struct tp *t = tp_new(true);
	struct enable_race r;
	unsigned int round, before, lost = 0, stuck = 0;
	pthread_t th;
	uint32_t c;

	REQUIRE(t);
	c = msix_table_setup(t);
	REQUIRE(c);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, 0);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_MSIX), 2, 1);
	bring_up(t);
	r.t = t;
	for (round = 0; round < 300; round++) {
		cfg_wr(t, c + PCI_MSIX_FLAGS, 2, 0);
		(void)mem_rd(t, BAR0_GPA + VPCI_ISR_OFF, 1); /* INTx low */
		before = t->fires[1];
		pthread_barrier_init(&r.go, NULL, 2);
		REQUIRE(!pthread_create(&th, NULL, complete_one, &r));
		pthread_barrier_wait(&r.go);
		cfg_wr(t, c + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
		pthread_join(th, NULL);
		pthread_barrier_destroy(&r.go);
		stuck += t->intx != 0;
		lost += t->fires[1] == before;
	}
	CHECK_EQ(stuck, 0);
	CHECK_EQ(lost, 0);
	CHECK_EQ(used_idx(t), 300);
	tp_free(t);
}

static void test_pci_cfg_window(void)
{
	struct tp *t = tp_new(true);
	uint32_t c, data;

	REQUIRE(t);
	vdrv_pci_bars_on(&t->v);
	c = vdrv_pci_find_vcap(&t->v, VIRTIO_PCI_CAP_PCI_CFG);
	REQUIRE(c);
	data = c + 16;
	/* read num_queues (2 bytes at 0x12 of BAR 0) through config space */
	cfg_wr(t, c + VIRTIO_PCI_CAP_BAR, 1, 0);
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, VIRTIO_PCI_COMMON_NUMQ);
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	CHECK_EQ(cfg_rd(t, data, 4) & 0xffff, 1);
	/* write device_status through it */
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, VIRTIO_PCI_COMMON_STATUS);
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	cfg_wr(t, data, 4, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_STATUS), 1),
		 VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* bad windows do nothing: length 3, misaligned, beyond the BAR */
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	cfg_wr(t, data, 4, 0);
	cfg_wr(t, c + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, VIRTIO_PCI_COMMON_STATUS + 1);
	cfg_wr(t, data, 4, 0);
	cfg_wr(t, c + VIRTIO_PCI_CAP_OFFSET, 4, 0xfffffffe);
	cfg_wr(t, data, 4, 0);
	cfg_wr(t, c + VIRTIO_PCI_CAP_BAR, 1, 5);
	cfg_wr(t, data, 4, 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_STATUS), 1),
		 VIRTIO_CONFIG_S_ACKNOWLEDGE);
	tp_free(t);
}

static void test_odd_accesses(void)
{
	struct tp *t = tp_new(true);
	uint64_t off;
	unsigned int size;

	REQUIRE(t);
	vdrv_pci_bars_on(&t->v);
	/* wrong widths on the common configuration are ignored */
	mem_wr(t, common(VIRTIO_PCI_COMMON_STATUS), 4, 0xff);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_SELECT), 1, 3);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_STATUS), 1), 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_SELECT), 2), 0);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_NUMQ), 4), 0);
	/* a queue that does not exist */
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_SELECT), 2, 9);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_SIZE), 2), 0);
	mem_wr(t, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2, 1);
	CHECK_EQ(mem_rd(t, common(VIRTIO_PCI_COMMON_Q_ENABLE), 2), 0);
	mem_wr(t, BAR0_GPA + VPCI_NOTIFY_OFF + 4 * 40, 2, 40);
	/* every offset and size of both BARs is safe */
	for (off = 0; off < VPCI_BAR0_SIZE; off += 1)
		for (size = 1; size <= 8; size <<= 1)
			if (off % size == 0 && off + size <= VPCI_BAR0_SIZE)
				(void)mem_rd(t, BAR0_GPA + off, size);
	for (off = 0; off < VPCI_BAR1_SIZE; off += 1)
		for (size = 1; size <= 8; size <<= 1)
			if (off + size <= VPCI_BAR1_SIZE) {
				(void)mem_rd(t, BAR1_GPA + off, size);
				mem_wr(t, BAR1_GPA + off, size, ~0ULL);
			}
	tp_free(t);
}

/* A device with 8 bytes of configuration, for the shared bounds checks. */
static uint8_t cfg8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static uint64_t cfg8_read(struct virtio_dev *d, uint32_t off, unsigned int size)
{
	uint64_t v = 0;

	(void)d;
	memcpy(&v, cfg8 + off, size);
	return v;
}

static void cfg8_write(struct virtio_dev *d, uint32_t off, unsigned int size,
		       uint64_t value)
{
	(void)d;
	memcpy(cfg8 + off, &value, size);
}

static bool cfg8_notify(struct virtio_dev *d, unsigned int q,
			unsigned int budget)
{
	(void)d, (void)q, (void)budget;
	return false;
}

static const struct virtio_dev_ops cfg8_ops = {
	.name = "cfg8",
	.device_id = 0x42,
	.nr_queues = 1,
	.queue_max = 8,
	.config_size = sizeof(cfg8),
	.config_read = cfg8_read,
	.config_write = cfg8_write,
	.notify = cfg8_notify,
};

/* Both transports reach the device configuration through the same checks:
 * whole accesses inside it work, anything crossing its end reads 0 and is
 * dropped. */
static void test_config_bounds_shared(void)
{
	struct virtio_dev *d;
	struct tp sink = { 0 };
	struct vdrv v;

	REQUIRE(!virtio_dev_new(&cfg8_ops, NULL, NULL, 0,
				(struct irq_line){ 0 }, &d));
	if (!CHECK(!vdrv_pci_attach(&v, d, &host_intx, &sink,
				    (struct irq_line){ 0 }))) {
		virtio_dev_free(d);
		return;
	}
	CHECK_EQ(v.slot, 0);
	vdrv_pci_cfg_write(&v, PCI_BASE_ADDRESS_0, 4, (uint32_t)BAR0_GPA);
	vdrv_pci_cfg_write(&v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* through the device configuration capability, in BAR 0 */
	CHECK_EQ(v.device.bar, 0);
	CHECK_EQ(v.device.off, VPCI_DEVICE_OFF);
	CHECK_EQ(vdrv_config_read(&v, 4, 4), 0x08070605);
	CHECK_EQ(vdrv_config_read(&v, 0, 8), 0x0807060504030201ULL);
	CHECK_EQ(vdrv_config_read(&v, 6, 4), 0); /* crosses the end */
	CHECK_EQ(vdrv_config_read(&v, 8, 1), 0);
	vdrv_config_write(&v, 7, 2, 0xffff);
	CHECK_EQ(cfg8[7], 8);
	vdrv_config_write(&v, 7, 1, 0x99);
	CHECK_EQ(cfg8[7], 0x99);
	/* the same checks as virtio-mmio's, which share the helpers */
	CHECK_EQ(virtio_config_read(d, 6, 4), 0);
	CHECK_EQ(virtio_config_read(d, UINT64_MAX - 1, 4), 0);
	virtio_config_write(d, 8, 1, 0x11);
	CHECK_EQ(virtio_config_read(d, 7, 1), 0x99);
	vdrv_close(&v);
	virtio_dev_free(d);
}

UNIT_SUITE(vpci, UNIT_TEST(test_config_bounds_shared),
	   UNIT_TEST(test_ids_and_caps), UNIT_TEST(test_bars),
	   UNIT_TEST(test_intx_isr), UNIT_TEST(test_msix_vectors),
	   UNIT_TEST(test_msix_enable_race), UNIT_TEST(test_pci_cfg_window),
	   UNIT_TEST(test_odd_accesses));
