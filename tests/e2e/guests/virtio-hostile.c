// SPDX-License-Identifier: GPL-2.0-only
/* Test guest: drives lkvm's virtio-rng queue (the first virtio-mmio slot)
 * with malformed chains — a descriptor loop, a buffer outside RAM, a head
 * index beyond the queue — and checks that the device answers per the spec
 * (DEVICE_NEEDS_RESET, nothing written) and that after a reset it still
 * serves a good request. */
#include "guest.h"

#define VMMIO 0x10001000UL
#define R(off) (*(volatile unsigned int *)(VMMIO + (off)))
#define QSIZE 8
#define F_NEXT 1
#define F_WRITE 2
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

struct desc {
	unsigned long addr;
	unsigned int len;
	unsigned short flags, next;
};

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct {
	unsigned short flags, idx, ring[QSIZE], used_event;
} avail __attribute__((aligned(4096)));
static volatile struct {
	unsigned short flags, idx;
	struct {
		unsigned int id, len;
	} ring[QSIZE];
	unsigned short avail_event;
} used __attribute__((aligned(4096)));
static unsigned char buf[64];
static int failures;

static void check(const char *what, long ok)
{
	puts_legacy("virtio-hostile: ");
	puts_legacy(what);
	puts_legacy(ok ? " ok\n" : " WRONG\n");
	failures += !ok;
}

static int setup(void)
{
	R(0x070) = 0; /* reset */
	if (R(0x000) != 0x74726976 || R(0x004) != 2 || R(0x008) != 4)
		return -1;
	R(0x070) = S_ACK | S_DRIVER;
	R(0x024) = 1;
	R(0x020) = 1; /* VIRTIO_F_VERSION_1 only */
	R(0x024) = 0;
	R(0x020) = 0;
	R(0x070) = S_ACK | S_DRIVER | S_FEATURES_OK;
	if (!(R(0x070) & S_FEATURES_OK))
		return -2;
	R(0x030) = 0;
	R(0x038) = QSIZE;
	R(0x080) = (unsigned int)(unsigned long)descs;
	R(0x084) = 0;
	R(0x090) = (unsigned int)(unsigned long)&avail;
	R(0x094) = 0;
	R(0x0a0) = (unsigned int)(unsigned long)&used;
	R(0x0a4) = 0;
	avail.idx = 0;
	used.idx = 0;
	R(0x044) = 1;
	R(0x070) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
	return R(0x044) == 1 ? 0 : -3;
}

/* Offer head; wait until the device uses it or flags NEEDS_RESET.
 * Returns 1 used, 2 needs reset, 0 neither (timeout). */
static int post(unsigned short head)
{
	unsigned long spin;
	unsigned short want = (unsigned short)(avail.idx + 1);

	avail.ring[avail.idx % QSIZE] = head;
	asm volatile("fence rw, rw" ::: "memory");
	avail.idx = want;
	asm volatile("fence rw, rw" ::: "memory");
	R(0x050) = 0; /* QueueNotify */
	for (spin = 0; spin < 200000000UL; spin++) {
		if (used.idx == want)
			return 1;
		if (R(0x070) & S_NEEDS_RESET)
			return 2;
	}
	return 0;
}

int main(long hartid, long fdt);

int main(long hartid, long fdt)
{
	int i;

	(void)hartid;
	(void)fdt;
	check("device set-up", setup() == 0);

	descs[0] = (struct desc){ (unsigned long)buf, 32, F_WRITE, 0 };
	check("good request is served", post(0) == 1 && used.ring[0].len == 32);

	/* 1 -> 2 -> 1: a loop */
	descs[1] = (struct desc){ (unsigned long)buf, 8, F_WRITE | F_NEXT, 2 };
	descs[2] = (struct desc){ (unsigned long)buf, 8, F_WRITE | F_NEXT, 1 };
	check("descriptor loop: DEVICE_NEEDS_RESET", post(1) == 2);

	check("reset and set-up again", setup() == 0);
	descs[3] = (struct desc){ 0x4000000000UL, 64, F_WRITE, 0 };
	check("buffer outside RAM: DEVICE_NEEDS_RESET", post(3) == 2);

	check("reset and set-up again", setup() == 0);
	check("head >= queue size: DEVICE_NEEDS_RESET", post(QSIZE + 5) == 2);

	check("reset and set-up again", setup() == 0);
	descs[4] = (struct desc){ (unsigned long)buf, 16, F_WRITE | F_NEXT, 9 };
	check("next >= queue size: DEVICE_NEEDS_RESET", post(4) == 2);

	check("reset and set-up again", setup() == 0);
	for (i = 0; i < 3; i++)
		check("good request after the abuse", post(0) == 1);
	puts_legacy(failures ? "virtio-hostile: FAILED\n"
			     : "virtio-hostile: PASSED\n");
	shutdown();
}
