// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test guest: a hostile SMP driver of lkvm's virtio devices, over
 * virtio-mmio or virtio-pci (tr=mmio|pci in the bootargs). Run with -c 2,
 * a virtio-blk disk (the first is the target) and --rng. hostile= picks:
 *
 *   qsel    hart 1 flips QueueSel between 0 and an index far out of range
 *           while hart 0 programs and enables/disables queue 0 (n= rounds)
 *   reset   hart 1 resets and re-initialises the disk with requests queued
 *           (n= rounds) while hart 0 rings its doorbell without pause
 *   repost  hart 0 re-posts one read request's head as fast as the device
 *           takes it (never reading the used ring), for secs= seconds or
 *           until the device sets DEVICE_NEEDS_RESET; hart 1 meanwhile
 *           drives the rng as a well-behaved driver
 *   flood   hart 0 keeps the disk's ring full of GET_ID requests (served at
 *           once) for secs= seconds; hart 1 drives the rng and checks that
 *           each of its requests completes within lat= ms
 *   rowrite one hart writes to a read-only disk regardless of the RO
 *           feature: the device must answer VIRTIO_BLK_S_IOERR
 *
 * The SMP modes end by checking that the disk and the rng serve a good
 * request after a reset, then power off. With "forever", repost and flood
 * never stop (for a host that kills lkvm meanwhile). Lines start with
 * "hostile-smp: "; the verdict is "hostile-smp: PASSED" or "FAILED".
 */
#include "guest.h"
#include "vguest.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_GET_ID 8
#define BLK_T_WRITE_ZEROES 13
#define BLK_F_RO (1UL << 5)
#define ID_RNG 4
#define ID_BLK 2

struct blk_hdr {
	u32 type, reserved;
	u64 sector;
};

static struct vdev blk, rng;
static struct vq blkq, rngq;
static struct blk_hdr hdrs[128];
static u8 status[128], idbuf[128][24], rngbuf[64];
static u8 data[256 * 1024] __attribute__((aligned(4096)));
static const char *args = "";
static u64 tb_hz = 10000000;
static int failures;
static volatile int stop, h1_done;
/* hart 1's rng results */
static volatile long rng_done, rng_late, rng_max_ms;

static void say(const char *a, long n, const char *b)
{
	print_lock();
	puts_legacy("hostile-smp: ");
	puts_legacy(a);
	if (b) {
		put_dec(n);
		puts_legacy(b);
	}
	putc_legacy('\n');
	print_unlock();
}

static void check(const char *what, long ok)
{
	print_lock();
	puts_legacy("hostile-smp: ");
	puts_legacy(what);
	puts_legacy(ok ? " ok\n" : " WRONG\n");
	print_unlock();
	failures += !ok;
}

static u64 ms(long n)
{
	return tb_hz / 1000 * (u64)n;
}

/* Descriptors d, d+1, d+2: header, data (len bytes), status. */
static void blk_chain(struct vq *q, u16 d, u32 type, u64 sector, void *buf,
		      u32 len, int r)
{
	hdrs[r] = (struct blk_hdr){ type, 0, sector };
	status[r] = 0xff;
	q->desc[d] = (struct vdesc){ (u64)&hdrs[r], sizeof(hdrs[r]), VD_F_NEXT,
				     (u16)(d + 1) };
	q->desc[d + 1] = (struct vdesc){
		(u64)buf, len,
		(u16)(VD_F_NEXT |
		      (type == BLK_T_IN || type == BLK_T_GET_ID ? VD_F_WRITE
								: 0)),
		(u16)(d + 2)
	};
	q->desc[d + 2] = (struct vdesc){ (u64)&status[r], 1, VD_F_WRITE, 0 };
}

/* One request on a freshly set-up queue; its status byte, or -1 when it
 * did not complete, -2 when the device asked for a reset. */
static int blk_one(u32 type, u64 sector, void *buf, u32 len)
{
	u16 want = (u16)(vq_used_idx(&blkq) + 1);
	int r;

	blk_chain(&blkq, 0, type, sector, buf, len, 0);
	vq_post(&blk, &blkq, 0);
	r = vq_wait(&blk, &blkq, want, ms(5000));
	return r == 1 ? status[0] : r == 2 ? -2 : -1;
}

static int rng_one(void)
{
	u16 want = (u16)(vq_used_idx(&rngq) + 1);

	rngq.desc[0] = (struct vdesc){ (u64)rngbuf, 16, VD_F_WRITE, 0 };
	vq_post(&rng, &rngq, 0);
	return vq_wait(&rng, &rngq, want, ms(5000)) == 1 &&
	       vq_used_len(&rngq, (u16)(want - 1)) == 16;
}

/* After the abuse: both devices serve a good request after a reset. */
static void final_checks(void)
{
	check("disk set-up after the abuse", vd_init(&blk, &blkq, 16, 0) == 0);
	check("disk serves a read after the abuse",
	      blk_one(BLK_T_IN, 0, data, 4096) == 0);
	check("rng set-up after the abuse", vd_init(&rng, &rngq, 16, 0) == 0);
	check("rng serves after the abuse", rng_one());
}

/* ---- qsel ---- */

static void qsel_hart1(void)
{
	u32 far = blk.pci ? 0xffff : 0x10000000;
	long flips = 0;

	while (!stop) {
		vd_queue_sel(&blk, far);
		vd_queue_sel(&blk, 0);
		flips++;
	}
	say("qsel: hart 1 flipped QueueSel ", flips, " times");
}

static void qsel_hart0(long n)
{
	long i;

	vd_status(&blk, 0);
	vd_status(&blk, VS_ACK | VS_DRIVER);
	vd_set_features(&blk, VF_VERSION_1);
	vd_status(&blk, VS_ACK | VS_DRIVER | VS_FEATURES_OK);
	blkq.num = 16;
	for (i = 0; i < n; i++) {
		vd_queue_num(&blk, 16);
		vd_queue_addrs(&blk, &blkq);
		vd_queue_ready(&blk, 1);
		vd_queue_ready(&blk, 0);
	}
	say("qsel: hart 0 enabled and disabled queue 0 ", n, " times");
}

/* ---- reset ---- */

static void reset_hart1(long n)
{
	long i, bad = 0;
	int r;

	for (i = 0; i < n; i++) {
		bad += vd_init(&blk, &blkq, 16, 0) != 0;
		for (r = 0; r < 4; r++) {
			blk_chain(&blkq, (u16)(3 * r), BLK_T_IN, (u64)r * 8,
				  data + 4096 * r, 4096, r);
			*vq_avail_ring(&blkq, (u16)r) = (u16)(3 * r);
		}
		fence();
		*vq_avail_idx(&blkq) = 4;
	}
	say("reset: hart 1 re-initialised the disk ", n, " times");
	check("reset: every re-initialisation was accepted", !bad);
}

static void reset_hart0(void)
{
	long rings = 0;

	while (!h1_done) {
		vd_notify(&blk, 0);
		rings++;
	}
	say("reset: hart 0 rang the doorbell ", rings, " times");
}

/* ---- the well-behaved rng driver of repost and flood (hart 1) ---- */

/*
 * Wait about ticks, spinning on the time CSR. Not WFI with an SBI timer:
 * on L1 Linux 6.12 under QEMU, a vCPU that sets its timer and WFIs right
 * after is at times never woken (it stays in kvm_vcpu_block while its
 * timer is long past), a KVM matter that would pass for lkvm starving it.
 */
static void nap(u64 ticks)
{
	u64 t0 = rdtime();

	while (rdtime() - t0 < ticks)
		;
}

static void rng_hart1(long lat_ms)
{
	u64 t0, lat;
	u16 want;
	int late;

	if (vd_init(&rng, &rngq, 16, 0)) {
		rng_late = -1;
		return;
	}
	while (!stop) {
		want = (u16)(vq_used_idx(&rngq) + 1);
		rngq.desc[0] = (struct vdesc){ (u64)rngbuf, 16, VD_F_WRITE, 0 };
		t0 = rdtime();
		vq_post(&rng, &rngq, 0);
		late = 0;
		for (;;) {
			fence();
			if (vq_used_idx(&rngq) == want)
				break;
			if (!late && rdtime() - t0 > ms(lat_ms)) {
				late = 1;
				rng_late++;
			}
			if (late && stop)
				return;
			nap(ms(1));
		}
		lat = (rdtime() - t0) / ms(1);
		if ((long)lat > rng_max_ms)
			rng_max_ms = (long)lat;
		rng_done++;
		nap(ms(5));
	}
}

static void rng_verdict(const char *mode)
{
	say(mode, rng_done, " rng requests completed meanwhile");
	say(mode, rng_max_ms, " ms the slowest");
	check("the rng was served meanwhile", rng_done >= 3);
	check("no rng request waited past the limit", rng_late == 0);
}

/* ---- repost ---- */

static void repost_hart0(long secs, int forever)
{
	unsigned int num = 128;
	u64 end = rdtime() + (u64)secs * tb_hz;
	long posted = 0, spins = 0, resets = 0;

	check("repost: disk set-up",
	      vd_init(&blk, &blkq, num, VF_EVENT_IDX) == 0);
	blk_chain(&blkq, 0, BLK_T_IN, 0, data, sizeof(data), 0);
	say("repost: attack running", 0, 0);
	while (forever || rdtime() < end) {
		u16 idx = *vq_avail_idx(&blkq);
		/* the device wrote avail_event when it found the ring empty:
		 * fill it up again, head 0 in every slot */
		u16 target = (u16)(vq_avail_event(&blkq) + num);
		u16 add = (u16)(target - idx);

		if (add && add <= num) {
			fence();
			*vq_avail_idx(&blkq) = target;
			vd_notify(&blk, 0);
			posted += add;
		}
		if (!(++spins & 255) && vd_get_status(&blk) & VS_NEEDS_RESET) {
			/* capped: reset and attack again, to the end */
			resets++;
			vd_init(&blk, &blkq, num, VF_EVENT_IDX);
			blk_chain(&blkq, 0, BLK_T_IN, 0, data, sizeof(data), 0);
		}
	}
	say("repost: posted head 0 ", posted, " times");
	/* lkvm caps the chains in flight at the queue size (the excess sets
	 * DEVICE_NEEDS_RESET); whether the cap is reached depends on how
	 * fast the disk completes, so it is reported, not required (the
	 * unit tests prove the cap) */
	say("repost: the device set DEVICE_NEEDS_RESET ", resets, " times");
}

/* ---- flood ---- */

static void flood_hart0(long secs, int forever)
{
	unsigned int num = 256, chains = 128, i;
	u64 end = rdtime() + (u64)secs * tb_hz;
	long posted = 0;

	check("flood: disk set-up",
	      vd_init(&blk, &blkq, num, VF_EVENT_IDX) == 0);
	for (i = 0; i < chains; i++) {
		hdrs[i] = (struct blk_hdr){ BLK_T_GET_ID, 0, 0 };
		blkq.desc[2 * i] = (struct vdesc){ (u64)&hdrs[i], 16, VD_F_NEXT,
						   (u16)(2 * i + 1) };
		blkq.desc[2 * i + 1] =
			(struct vdesc){ (u64)idbuf[i], 21, VD_F_WRITE, 0 };
	}
	say("flood: attack running", 0, 0);
	while (forever || rdtime() < end) {
		u16 idx = *vq_avail_idx(&blkq), used = vq_used_idx(&blkq);
		u16 ev;

		if ((u16)(idx - used) >= chains)
			continue;
		/* the chain at idx % chains is free: it completed in order */
		*vq_avail_ring(&blkq, idx) = (u16)(2 * (idx % chains));
		fence();
		*vq_avail_idx(&blkq) = (u16)(idx + 1);
		posted++;
		fence();
		ev = vq_avail_event(&blkq);
		if ((u16)(idx - ev) <
		    1) /* vring_need_event(ev, idx + 1, idx) */
			vd_notify(&blk, 0);
	}
	say("flood: posted ", posted, " GET_ID requests");
	check("flood: the disk kept serving them", posted > chains);
}

/* ---- rowrite ---- */

static void rowrite(void)
{
	struct {
		u64 sector;
		u32 num, flags;
	} seg = { 0, 8, 0 };
	unsigned int i;
	int st;

	check("rowrite: the disk offers VIRTIO_BLK_F_RO",
	      vd_dev_features(&blk) & BLK_F_RO);
	/* a driver that ignores the feature */
	check("rowrite: disk set-up", vd_init(&blk, &blkq, 16, 0) == 0);
	for (i = 0; i < 4096; i++)
		data[i] = 0x5a;
	st = blk_one(BLK_T_OUT, 0, data, 4096);
	say("rowrite: write status ", st, "");
	check("rowrite: a write gets VIRTIO_BLK_S_IOERR", st == 1);
	st = blk_one(BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg));
	say("rowrite: write-zeroes status ", st, "");
	check("rowrite: write-zeroes is refused", st == 1 || st == 2);
	st = blk_one(BLK_T_IN, 0, data, 4096);
	check("rowrite: a read still works", st == 0);
	for (i = 0; i < 4096 && data[i] == 0x5a; i++)
		;
	check("rowrite: sector 0 does not hold what was written", i < 4096);
	for (i = 0; i < 4096; i++)
		data[i] = 0;
	st = blk_one(BLK_T_OUT, 8, data, 4096);
	check("rowrite: a write of zeros gets VIRTIO_BLK_S_IOERR too", st == 1);
}

/* ---- harts ---- */

static volatile int mode; /* 1 qsel, 2 reset, 3 repost, 4 flood */

static void hart1(void)
{
	switch (mode) {
	case 1:
		qsel_hart1();
		break;
	case 2:
		reset_hart1(arg_num(args, "n", 300));
		break;
	default:
		rng_hart1(arg_num(args, "lat", 2000));
		break;
	}
	__atomic_store_n(&h1_done, 1, __ATOMIC_RELEASE);
	for (;;)
		asm volatile("wfi");
}

static int setup(long fdt)
{
	const void *p;
	u32 len;
	int pci;

	p = fdt_prop((const void *)fdt, "bootargs", &len);
	if (p)
		args = p;
	p = fdt_prop((const void *)fdt, "timebase-frequency", &len);
	if (p && len == 4)
		tb_hz = be32(p);
	pci = arg_is(args, "tr", "pci");
	if (pci)
		pci_setup();
	if (vd_find(&blk, pci, ID_BLK, 0)) {
		say("no virtio-blk device found", 0, 0);
		return -1;
	}
	if (!arg_is(args, "hostile", "rowrite") &&
	    vd_find(&rng, pci, ID_RNG, 0)) {
		say("no virtio-rng device found", 0, 0);
		return -1;
	}
	say(pci ? "transport virtio-pci" : "transport virtio-mmio", 0, 0);
	return 0;
}

static void wait_hart1(void)
{
	u64 t0 = rdtime();

	while (!__atomic_load_n(&h1_done, __ATOMIC_ACQUIRE))
		if (rdtime() - t0 > ms(60000)) {
			check("hart 1 finished", 0);
			return;
		}
}

int main(long hartid, long a1);

int main(long hartid, long a1)
{
	long secs;
	int forever;

	if (hartid)
		hart1();
	if (setup(a1))
		goto out;
	secs = arg_num(args, "secs", 5);
	forever = arg_get(args, "forever", &(int){ 0 }) != 0;
	if (arg_is(args, "hostile", "rowrite")) {
		rowrite();
		goto out;
	}
	mode = arg_is(args, "hostile", "qsel")	   ? 1
	       : arg_is(args, "hostile", "reset")  ? 2
	       : arg_is(args, "hostile", "repost") ? 3
	       : arg_is(args, "hostile", "flood")  ? 4
						   : 0;
	if (!mode) {
		say("hostile= must be qsel, reset, repost, flood or rowrite", 0,
		    0);
		failures++;
		goto out;
	}
	fence();
	if (hart_start(1, _start, 0)) {
		check("hart 1 started (run with -c 2)", 0);
		goto out;
	}
	switch (mode) {
	case 1:
		qsel_hart0(arg_num(args, "n", 20000));
		break;
	case 2:
		reset_hart0();
		break;
	case 3:
		repost_hart0(secs, forever);
		break;
	case 4:
		flood_hart0(secs, forever);
		break;
	}
	stop = 1;
	wait_hart1();
	if (mode >= 3)
		rng_verdict(mode == 3 ? "repost: " : "flood: ");
	final_checks();
out:
	say(failures ? "FAILED" : "PASSED", 0, 0);
	shutdown();
}
