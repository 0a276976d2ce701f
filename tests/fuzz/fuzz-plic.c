// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: PLIC registers, inputs and claims, with invariant checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/log.h"
#include "lkvm/plic.h"
#include "fuzz-input.h"

#define NR_SOURCES 64
#define NR_CTX 4

struct fake {
	bool eip[NR_CTX];
};

/* set_eip must name a real context and report changes only. */
static void fake_set_eip(void *opaque, unsigned int ctx, bool level)
{
	struct fake *f = opaque;

	if (ctx >= NR_CTX || f->eip[ctx] == level)
		abort();
	f->eip[ctx] = level;
}

static const struct plic_ops fake_ops = { .set_eip = fake_set_eip };

struct input {
	const uint8_t *data;
	size_t size;
};

static uint32_t rd(struct plic *p, uint64_t off)
{
	uint64_t v = plic_mmio_ops.read(p, off, 4);

	if (v > UINT32_MAX)
		abort();
	return (uint32_t)v;
}

static uint64_t ctx_reg(unsigned int ctx, unsigned int reg)
{
	return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + reg;
}

/* An offset aimed at one of the register blocks, or anywhere. */
static uint64_t pick_offset(struct input *in)
{
	uint64_t x = fuzz_take(&in->data, &in->size, 2);

	switch (x >> 14) {
	case 0:
		return PLIC_PRIORITY_BASE + 4 * (x & 0x7f);
	case 1:
		return PLIC_PENDING_BASE + (x & 0x1f);
	case 2:
		return PLIC_ENABLE_BASE + (x & 0x3ff);
	default:
		return ctx_reg((x >> 8) & 7, x & 0xff);
	}
}

/* A claim's result agrees with the EIP line and the registers. */
static void check_claim(struct plic *p, struct fake *f, unsigned int ctx)
{
	bool eip = f->eip[ctx];
	uint32_t id = rd(p, ctx_reg(ctx, PLIC_CONTEXT_CLAIM));
	uint32_t thr = rd(p, ctx_reg(ctx, PLIC_CONTEXT_THRESHOLD));
	uint64_t en = PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * ctx + id / 32 * 4;

	if (id > NR_SOURCES || (eip && !id) || (!thr && eip != !!id))
		abort();
	if (!id)
		return;
	if (!(rd(p, en) & 1u << (id % 32)) || !rd(p, 4 * id))
		abort();
	if (rd(p, PLIC_PENDING_BASE + id / 32 * 4) & 1u << (id % 32))
		abort();
}

static void check_regs(struct plic *p)
{
	unsigned int i;

	if (rd(p, PLIC_PENDING_BASE) & 1 || rd(p, PLIC_PENDING_BASE + 8) > 1)
		abort();
	for (i = 0; i < NR_CTX; i++)
		if (rd(p, ctx_reg(i, 0)) > PLIC_MAX_PRIORITY ||
		    rd(p, PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * i) & 1)
			abort();
	for (i = 0; i <= NR_SOURCES + 1; i++)
		if (rd(p, 4 * i) > PLIC_MAX_PRIORITY)
			abort();
}

static void step(struct plic *p, struct fake *f, struct input *in)
{
	unsigned int op = fuzz_byte(&in->data, &in->size);
	unsigned int ctx = (op >> 3) & (NR_CTX - 1);
	uint64_t off;

	switch (op & 7) {
	case 0:
		off = pick_offset(in);
		/* A claim through any path never names a missing source. */
		if (rd(p, off) > NR_SOURCES && off >= PLIC_CONTEXT_BASE &&
		    off % PLIC_CONTEXT_STRIDE == PLIC_CONTEXT_CLAIM)
			abort();
		break;
	case 1:
		off = pick_offset(in);
		plic_mmio_ops.write(p, off, 4,
				    fuzz_take(&in->data, &in->size, 4));
		break;
	case 2:
		plic_set_irq(p, fuzz_byte(&in->data, &in->size), (op >> 3) & 1);
		break;
	case 3:
		check_claim(p, f, ctx);
		break;
	case 4:
		plic_set_trigger(p, fuzz_byte(&in->data, &in->size),
				 (enum plic_trigger)((op >> 3) & 3));
		break;
	case 5:
		plic_mmio_ops.read(p, fuzz_take(&in->data, &in->size, 8),
				   1u << ((op >> 3) & 3));
		break;
	case 6:
		plic_mmio_ops.write(p, ctx_reg(ctx, PLIC_CONTEXT_CLAIM), 4,
				    fuzz_take(&in->data, &in->size, 1) %
					    (NR_SOURCES + 2));
		break;
	default:
		plic_mmio_ops.write(p, fuzz_take(&in->data, &in->size, 8),
				    1u << ((op >> 3) & 3),
				    fuzz_take(&in->data, &in->size, 4));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct fake f;
	struct plic *p;

	log_level = LOG_ERR;
	memset(&f, 0, sizeof(f));
	if (plic_create(&p, NR_SOURCES, NR_CTX, &fake_ops, &f))
		abort();
	while (in.size) {
		step(p, &f, &in);
		check_regs(p);
	}
	plic_destroy(p);
	return 0;
}
