// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test guest: the disk writer of the qcow2 SIGKILL loop (cases/qcow2-kill.sh),
 * on the first virtio-blk device over virtio-mmio. The disk is nb= slots
 * of 64 KiB; write number I goes to slot I * 37 % nb and fills it with
 * 64-byte lines "p=PPPP i=IIIIIIII ....\n" (P the slot, 45 dots).
 *
 * First every slot is read back and reported as "blk-writer: v P I end"
 * (I the write it holds; "zero" when never written, "torn" when its lines
 * differ or name another slot), then "blk-writer: verified". Then writes
 * from I = from=, each followed by a FLUSH, and "blk-writer: synced I end"
 * once the FLUSH completed; after n= writes (0: never) it powers off.
 */
#include "guest.h"
#include "vguest.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_F_FLUSH (1UL << 9)
#define ID_BLK 2
#define SLOT (64 * 1024)
#define LINE 64

struct blk_hdr {
	u32 type, reserved;
	u64 sector;
};

static struct vdev blk;
static struct vq blkq;
static struct blk_hdr hdr;
static volatile u8 status;
static u8 data[SLOT] __attribute__((aligned(4096)));
static const char *args = "";
static u64 tb_hz = 10000000;

static void say(const char *a)
{
	puts_legacy("blk-writer: ");
	puts_legacy(a);
}

/* One request: header, data (unless FLUSH), status. Its status byte, or
 * -1 when it did not complete within 60 s. */
static int blk_req(u32 type, u64 sector)
{
	u16 want = (u16)(vq_used_idx(&blkq) + 1), st = 1;

	hdr = (struct blk_hdr){ type, 0, sector };
	status = 0xff;
	blkq.desc[0] = (struct vdesc){ (u64)&hdr, sizeof(hdr), VD_F_NEXT, 1 };
	if (type != BLK_T_FLUSH) {
		blkq.desc[1] = (struct vdesc){
			(u64)data, SLOT,
			(u16)(VD_F_NEXT | (type == BLK_T_IN ? VD_F_WRITE : 0)),
			2
		};
		st = 2;
	}
	blkq.desc[st] = (struct vdesc){ (u64)&status, 1, VD_F_WRITE, 0 };
	vq_post(&blk, &blkq, 0);
	if (vq_wait(&blk, &blkq, want, tb_hz * 60) != 1)
		return -1;
	return status;
}

/* n in exactly w decimal digits at p. */
static void put_digits(u8 *p, u64 n, int w)
{
	while (w--) {
		p[w] = (u8)('0' + n % 10);
		n /= 10;
	}
}

static long get_digits(const u8 *p, int w)
{
	long n = 0;

	while (w--) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p++ - '0');
	}
	return n;
}

static void fill(u64 p, u64 i)
{
	u8 *l = data;
	int k;

	for (k = 0; k < LINE - 1; k++)
		l[k] = '.';
	l[0] = 'p';
	l[1] = '=';
	put_digits(l + 2, p, 4);
	l[6] = ' ';
	l[7] = 'i';
	l[8] = '=';
	put_digits(l + 9, i, 8);
	l[17] = ' ';
	l[LINE - 1] = '\n';
	for (k = LINE; k < SLOT; k++)
		data[k] = data[k % LINE];
}

/* What slot p holds: the write number, -1 zeroes, -2 torn. */
static long classify(u64 p)
{
	long i;
	int k, zero = 1;

	for (k = 0; k < SLOT; k++)
		zero &= !data[k];
	if (zero)
		return -1;
	for (k = LINE; k < SLOT; k++)
		if (data[k] != data[k % LINE])
			return -2;
	if (data[0] != 'p' || data[1] != '=' ||
	    get_digits(data + 2, 4) != (long)p)
		return -2;
	i = get_digits(data + 9, 8);
	return i < 0 ? -2 : i;
}

static int verify(u64 nb)
{
	u64 p;
	long i;

	for (p = 0; p < nb; p++) {
		if (blk_req(BLK_T_IN, p * (SLOT / 512))) {
			say("read failed\n");
			return -1;
		}
		i = classify(p);
		say("v ");
		put_dec((long)p);
		if (i == -1)
			puts_legacy(" zero");
		else if (i == -2)
			puts_legacy(" torn");
		else {
			putc_legacy(' ');
			put_dec(i);
		}
		puts_legacy(" end\n");
	}
	say("verified\n");
	return 0;
}

int main(long hartid, long a1);

int main(long hartid, long a1)
{
	const void *p;
	u64 nb, i, n, done;
	u32 len;

	(void)hartid;
	p = fdt_prop((const void *)a1, "bootargs", &len);
	if (p)
		args = p;
	p = fdt_prop((const void *)a1, "timebase-frequency", &len);
	if (p && len == 4)
		tb_hz = be32(p);
	nb = (u64)arg_num(args, "nb", 64);
	i = (u64)arg_num(args, "from", 0);
	n = (u64)arg_num(args, "n", 0);
	if (vd_find(&blk, 0, ID_BLK, 0) ||
	    vd_init(&blk, &blkq, 16, BLK_F_FLUSH)) {
		say("no virtio-blk device with FLUSH\n");
		shutdown();
	}
	if (verify(nb))
		shutdown();
	for (done = 0; !n || done < n; done++, i++) {
		fill(i * 37 % nb, i);
		if (blk_req(BLK_T_OUT, i * 37 % nb * (SLOT / 512)) ||
		    blk_req(BLK_T_FLUSH, 0)) {
			say("write failed\n");
			break;
		}
		say("synced ");
		put_dec((long)i);
		puts_legacy(" end\n");
	}
	shutdown();
}
