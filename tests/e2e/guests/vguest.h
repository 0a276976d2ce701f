/* SPDX-License-Identifier: GPL-2.0-only */
/* Bare-metal test guests: the FDT's properties, and a minimal virtio driver
 * over virtio-mmio or virtio-pci (modern), with split rings polled (no
 * interrupts). Include after guest.h. */
#ifndef LKVM_TEST_VGUEST_H
#define LKVM_TEST_VGUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

/* ---- the FDT ---- */

static inline u32 be32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

static inline int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The value of the first property called name in any node, or NULL. */
static inline const void *fdt_prop(const void *fdt, const char *name, u32 *len)
{
	const u8 *f = fdt;
	const u8 *p, *end;
	const char *strs;

	if (!fdt || be32(f) != 0xd00dfeed)
		return 0;
	p = f + be32(f + 8);
	end = p + be32(f + 36);
	strs = (const char *)f + be32(f + 12);
	while (p + 4 <= end) {
		u32 tok = be32(p);

		p += 4;
		if (tok == 1) { /* BEGIN_NODE: a name, padded */
			while (*p)
				p++;
			p = (const u8 *)(((u64)p + 4) & ~3UL);
		} else if (tok == 3) { /* PROP: len, nameoff, value */
			u32 l = be32(p), off = be32(p + 4);

			if (str_eq(strs + off, name)) {
				*len = l;
				return p + 8;
			}
			p = (const u8 *)(((u64)p + 8 + l + 3) & ~3UL);
		} else if (tok == 9) {
			break;
		}
	}
	return 0;
}

/* In the space-separated words of args: the value of "key=value" as a
 * pointer and length, or (for a bare "key") an empty value; NULL if absent. */
static inline const char *arg_get(const char *args, const char *key, int *vlen)
{
	const char *w = args;

	while (w && *w) {
		const char *k = key, *e;

		while (*w == ' ')
			w++;
		for (e = w; *e && *e != ' '; e++)
			;
		while (*k && w < e && *w == *k)
			w++, k++;
		if (!*k && (w == e || *w == '=')) {
			if (w < e)
				w++;
			*vlen = (int)(e - w);
			return w;
		}
		w = e;
	}
	return 0;
}

static inline int arg_is(const char *args, const char *key, const char *value)
{
	int n, i;
	const char *v = arg_get(args, key, &n);

	if (!v)
		return 0;
	for (i = 0; i < n && value[i] == v[i]; i++)
		;
	return i == n && !value[n];
}

static inline long arg_num(const char *args, const char *key, long dflt)
{
	int n, i;
	const char *v = arg_get(args, key, &n);
	long r = 0;

	if (!v || !n)
		return dflt;
	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		r = r * 10 + (v[i] - '0');
	return r;
}

/* ---- MMIO accessors ---- */

#define RD8(a) (*(volatile u8 *)(a))
#define RD16(a) (*(volatile u16 *)(a))
#define RD32(a) (*(volatile u32 *)(a))
#define WR8(a, v) (*(volatile u8 *)(a) = (u8)(v))
#define WR16(a, v) (*(volatile u16 *)(a) = (u16)(v))
#define WR32(a, v) (*(volatile u32 *)(a) = (u32)(v))

/* ---- PCI: bus 0 of the ECAM, BARs assigned in the 32-bit window ---- */

#define PCI_ECAM 0x30000000UL
#define PCI_MMIO32 0x40000000UL
#define PCI_CFG(slot, off) (PCI_ECAM + ((u64)(slot) << 15) + (off))

static u64 pci_next_bar __attribute__((unused)) = PCI_MMIO32;

/* Size and place each 32-bit memory BAR of slot, then turn on memory
 * decoding and bus mastering. */
static inline void pci_assign(unsigned int slot)
{
	unsigned int b;

	for (b = 0; b < 6; b++) {
		u64 reg = PCI_CFG(slot, 0x10 + 4 * b);
		u32 v, size;

		WR32(reg, 0xffffffff);
		v = RD32(reg);
		if (!(v & ~0xfu))
			continue;
		size = ~(v & ~0xfu) + 1;
		pci_next_bar = (pci_next_bar + size - 1) & ~(u64)(size - 1);
		WR32(reg, (u32)pci_next_bar);
		pci_next_bar += size;
		if (v & 4) /* 64-bit: the upper half is 0 */
			WR32(PCI_CFG(slot, 0x14 + 4 * b++), 0);
	}
	WR16(PCI_CFG(slot, 0x04), RD16(PCI_CFG(slot, 0x04)) | 0x6);
}

/* The address a BAR was given. */
static inline u64 pci_bar(unsigned int slot, unsigned int bar)
{
	return RD32(PCI_CFG(slot, 0x10 + 4 * bar)) & ~0xfu;
}

/* ---- virtio ---- */

#define VS_ACK 1
#define VS_DRIVER 2
#define VS_DRIVER_OK 4
#define VS_FEATURES_OK 8
#define VS_NEEDS_RESET 0x40
#define VF_EVENT_IDX (1UL << 29)
#define VF_VERSION_1 (1UL << 32)
#define VD_F_NEXT 1
#define VD_F_WRITE 2

struct vdev {
	int pci;
	u64 base; /* mmio: the register file; pci: the common config */
	u64 notify; /* pci: queue 0's doorbell */
	u32 notify_mul;
	u64 devcfg; /* device-specific config */
};

struct vdesc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

#define VQ_MAX 256
/* A queue's rings, each in its own page: room for VQ_MAX entries. */
struct vq {
	struct vdesc desc[VQ_MAX];
	volatile u16 avail[VQ_MAX + 3] __attribute__((aligned(4096)));
	volatile u32 used[2 * VQ_MAX + 2] __attribute__((aligned(4096)));
	unsigned int num;
} __attribute__((aligned(4096)));

static inline volatile u16 *vq_avail_idx(struct vq *q)
{
	return &q->avail[1];
}

static inline volatile u16 *vq_avail_ring(struct vq *q, u16 i)
{
	return &q->avail[2 + (i & (q->num - 1))];
}

static inline u16 vq_used_idx(struct vq *q)
{
	return ((volatile u16 *)q->used)[1];
}

static inline u32 vq_used_len(struct vq *q, u16 i)
{
	return q->used[2 + 2 * (i & (q->num - 1))];
}

/* avail_event (EVENT_IDX): right after the used ring's elements */
static inline u16 vq_avail_event(struct vq *q)
{
	return ((volatile u16 *)q->used)[2 + 4 * q->num];
}

/* Find the index-th (from 0) virtio device of type id. 0 or -1. */
static inline int vd_find(struct vdev *v, int pci, u32 id, int index)
{
	unsigned int i;

	v->pci = pci;
	if (!pci) {
		for (i = 0; i < 8; i++) {
			u64 b = 0x10001000UL + 0x1000UL * i;

			if (RD32(b) != 0x74726976)
				return -1;
			if (RD32(b + 8) == id && !index--) {
				v->base = b;
				v->devcfg = b + 0x100;
				return 0;
			}
		}
		return -1;
	}
	for (i = 0; i < 32; i++) {
		u32 vd = RD32(PCI_CFG(i, 0));
		u8 cap;

		if ((vd & 0xffff) == 0xffff)
			return -1;
		if (vd != ((0x1040 + id) << 16 | 0x1af4) || index--)
			continue;
		/* the modern capabilities: where each structure lies */
		for (cap = RD8(PCI_CFG(i, 0x34)); cap;
		     cap = RD8(PCI_CFG(i, cap + 1))) {
			u8 type = RD8(PCI_CFG(i, cap + 3));
			u64 at;

			if (RD8(PCI_CFG(i, cap)) != 0x09)
				continue;
			at = pci_bar(i, RD8(PCI_CFG(i, cap + 4))) +
			     RD32(PCI_CFG(i, cap + 8));
			if (type == 1)
				v->base = at;
			else if (type == 2) {
				v->notify = at;
				v->notify_mul = RD32(PCI_CFG(i, cap + 16));
			} else if (type == 4)
				v->devcfg = at;
		}
		return v->base && v->notify ? 0 : -1;
	}
	return -1;
}

/* Assign every PCI function's BARs (once, before vd_find over PCI). */
static inline void pci_setup(void)
{
	unsigned int i;

	for (i = 0; i < 32 && (RD32(PCI_CFG(i, 0)) & 0xffff) != 0xffff; i++)
		pci_assign(i);
}

static inline void vd_status(struct vdev *v, u32 s)
{
	if (v->pci)
		WR8(v->base + 0x14, s);
	else
		WR32(v->base + 0x70, s);
}

static inline u32 vd_get_status(struct vdev *v)
{
	return v->pci ? RD8(v->base + 0x14) : RD32(v->base + 0x70);
}

static inline u64 vd_dev_features(struct vdev *v)
{
	u64 lo, hi;

	if (v->pci) {
		WR32(v->base + 0x00, 0);
		lo = RD32(v->base + 0x04);
		WR32(v->base + 0x00, 1);
		hi = RD32(v->base + 0x04);
	} else {
		WR32(v->base + 0x14, 0);
		lo = RD32(v->base + 0x10);
		WR32(v->base + 0x14, 1);
		hi = RD32(v->base + 0x10);
	}
	return hi << 32 | lo;
}

static inline void vd_set_features(struct vdev *v, u64 f)
{
	u64 sel = v->pci ? 0x08 : 0x24, val = v->pci ? 0x0c : 0x20;

	WR32(v->base + sel, 0);
	WR32(v->base + val, (u32)f);
	WR32(v->base + sel, 1);
	WR32(v->base + val, (u32)(f >> 32));
}

/* The raw register writes the SMP races are made of. */
static inline void vd_queue_sel(struct vdev *v, u32 q)
{
	if (v->pci)
		WR16(v->base + 0x16, q);
	else
		WR32(v->base + 0x30, q);
}

static inline void vd_queue_num(struct vdev *v, u32 n)
{
	if (v->pci)
		WR16(v->base + 0x18, n);
	else
		WR32(v->base + 0x38, n);
}

static inline void vd_queue_ready(struct vdev *v, u32 r)
{
	if (v->pci)
		WR16(v->base + 0x1c, r);
	else
		WR32(v->base + 0x44, r);
}

static inline u32 vd_get_queue_ready(struct vdev *v)
{
	return v->pci ? RD16(v->base + 0x1c) : RD32(v->base + 0x44);
}

static inline void vd_queue_addrs(struct vdev *v, struct vq *q)
{
	u64 a[3] = { (u64)q->desc, (u64)q->avail, (u64)q->used };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		u64 off = v->pci ? 0x20 + 8 * i : 0x80 + 0x10 * i;

		WR32(v->base + off, (u32)a[i]);
		WR32(v->base + off + 4, (u32)(a[i] >> 32));
	}
}

static inline void vd_notify(struct vdev *v, u32 q)
{
	fence();
	if (v->pci)
		WR16(v->notify + (u64)q * v->notify_mul, q);
	else
		WR32(v->base + 0x50, q);
}

/*
 * Reset the device and set up queue 0 with num entries over q, empty
 * rings, the features (VERSION_1 always) and DRIVER_OK. 0 when the device
 * took it all, else a negative step number.
 */
static inline int vd_init(struct vdev *v, struct vq *q, unsigned int num,
			  u64 features)
{
	unsigned int i;

	vd_status(v, 0);
	if (vd_get_status(v) != 0)
		return -1;
	vd_status(v, VS_ACK | VS_DRIVER);
	features |= VF_VERSION_1;
	if ((vd_dev_features(v) & features) != features)
		return -2;
	vd_set_features(v, features);
	vd_status(v, VS_ACK | VS_DRIVER | VS_FEATURES_OK);
	if (!(vd_get_status(v) & VS_FEATURES_OK))
		return -3;
	q->num = num;
	for (i = 0; i < VQ_MAX + 3; i++)
		q->avail[i] = 0;
	for (i = 0; i < 2 * VQ_MAX + 2; i++)
		q->used[i] = 0;
	fence();
	vd_queue_sel(v, 0);
	vd_queue_num(v, num);
	vd_queue_addrs(v, q);
	vd_queue_ready(v, 1);
	if (vd_get_queue_ready(v) != 1)
		return -4;
	vd_status(v, VS_ACK | VS_DRIVER | VS_FEATURES_OK | VS_DRIVER_OK);
	return 0;
}

/* Offer head in the next avail slot and ring the doorbell. */
static inline void vq_post(struct vdev *v, struct vq *q, u16 head)
{
	u16 idx = *vq_avail_idx(q);

	*vq_avail_ring(q, idx) = head;
	fence();
	*vq_avail_idx(q) = (u16)(idx + 1);
	vd_notify(v, 0);
}

/* Wait until used idx reaches want or the device flags NEEDS_RESET, at most
 * ticks of the time CSR. 1 used, 2 needs reset, 0 timed out. */
static inline int vq_wait(struct vdev *v, struct vq *q, u16 want, u64 ticks)
{
	u64 t0 = rdtime();
	unsigned long n = 0;

	for (;;) {
		fence();
		if (vq_used_idx(q) == want)
			return 1;
		/* the status read is an exit: not on every spin */
		if (!(++n & 1023) && vd_get_status(v) & VS_NEEDS_RESET)
			return 2;
		if (rdtime() - t0 > ticks)
			return vd_get_status(v) & VS_NEEDS_RESET ? 2 : 0;
	}
}

#endif
