// SPDX-License-Identifier: GPL-2.0-only
/* The RISC-V PLIC: priorities, pending, enables, claim/complete per context. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "lkvm/log.h"
#include "lkvm/plic.h"

/*
 * Per-source state is kept as bitmaps of nr_words 32-bit words, laid out
 * like the guest-visible pending and enable registers, so that register
 * reads are plain copies and arbitration walks whole words.
 */
struct plic {
	pthread_mutex_t lock;
	const struct plic_ops *ops;
	void *opaque;
	unsigned int nr_sources;
	unsigned int nr_contexts;
	unsigned int nr_words;
	bool warned; /* an unknown access was logged */
	uint8_t *priority; /* [nr_sources + 1], 0..PLIC_MAX_PRIORITY */
	uint32_t *level; /* input levels */
	uint32_t *edge; /* set: edge-triggered */
	uint32_t *pending;
	uint32_t *in_service; /* claimed and not yet completed */
	uint32_t *enable; /* [nr_contexts][nr_words] */
	uint8_t *threshold; /* [nr_contexts] */
	bool *eip; /* [nr_contexts], last value given to set_eip */
};

enum plic_reg {
	PLIC_REG_NONE,
	PLIC_REG_PRIORITY,
	PLIC_REG_PENDING,
	PLIC_REG_ENABLE,
	PLIC_REG_THRESHOLD,
	PLIC_REG_CLAIM,
};

static bool bit_test(const uint32_t *map, unsigned int id)
{
	return map[id / 32] & (1u << (id % 32));
}

static void bit_assign(uint32_t *map, unsigned int id, bool val)
{
	if (val)
		map[id / 32] |= 1u << (id % 32);
	else
		map[id / 32] &= ~(1u << (id % 32));
}

/* The bits of word w that name existing sources (never source 0). */
static uint32_t plic_valid_bits(const struct plic *p, unsigned int w)
{
	uint32_t bits = ~0u;
	unsigned int last = p->nr_sources - w * 32; /* w < nr_words */

	if (last < 31)
		bits = (2u << last) - 1;
	if (w == 0)
		bits &= ~1u;
	return bits;
}

static uint32_t *plic_enable_words(const struct plic *p, unsigned int ctx)
{
	return p->enable + (size_t)ctx * p->nr_words;
}

/*
 * The pending, enabled, not-in-service source of ctx with the highest
 * priority above floor, lowest id on ties; 0 when there is none.
 */
static unsigned int plic_best(const struct plic *p, unsigned int ctx,
			      unsigned int floor)
{
	const uint32_t *en = plic_enable_words(p, ctx);
	unsigned int w, best = 0, best_prio = floor;

	for (w = 0; w < p->nr_words; w++) {
		uint32_t bits = p->pending[w] & ~p->in_service[w] & en[w];

		while (bits) {
			unsigned int src =
				w * 32 + (unsigned int)__builtin_ctz(bits);

			if (p->priority[src] > best_prio) {
				best = src;
				best_prio = p->priority[src];
			}
			bits &= bits - 1;
		}
	}
	return best;
}

/* Recompute every context's EIP; report only the changes. Lock held. */
static void plic_update(struct plic *p)
{
	unsigned int ctx;

	for (ctx = 0; ctx < p->nr_contexts; ctx++) {
		bool level = plic_best(p, ctx, p->threshold[ctx]) != 0;

		if (level != p->eip[ctx]) {
			p->eip[ctx] = level;
			p->ops->set_eip(p->opaque, ctx, level);
		}
	}
}

/*
 * The claim ignores the threshold: the PLIC specification (1.0.0,
 * "Interrupt Claim Process") says "the claim operation is not affected by
 * the setting of the priority threshold register", and that a hart may set
 * the threshold to its maximum and poll with claims. The threshold only
 * gates the EIP line (plic_update()). Priority 0 is never claimed. QEMU's
 * sifive_plic applies the threshold to claims too; Linux claims after an
 * EIP and runs its contexts at threshold 0, where the two agree.
 */
static unsigned int plic_claim(struct plic *p, unsigned int ctx)
{
	unsigned int src = plic_best(p, ctx, 0);

	if (src) {
		bit_assign(p->pending, src, false);
		bit_assign(p->in_service, src, true);
		plic_update(p);
	}
	return src;
}

static void plic_complete(struct plic *p, unsigned int ctx, uint64_t id)
{
	unsigned int src;

	if (id == 0 || id > p->nr_sources)
		return;
	src = (unsigned int)id;
	if (!bit_test(plic_enable_words(p, ctx), src) ||
	    !bit_test(p->in_service, src))
		return;
	bit_assign(p->in_service, src, false);
	/* A level source still asserted asks again at once. */
	if (!bit_test(p->edge, src) && bit_test(p->level, src))
		bit_assign(p->pending, src, true);
	plic_update(p);
}

static enum plic_reg plic_decode_global(const struct plic *p, uint64_t off,
					unsigned int *ctx, unsigned int *idx)
{
	if (off < PLIC_PENDING_BASE) {
		*idx = (unsigned int)(off / 4);
		if (*idx == 0 || *idx > p->nr_sources)
			return PLIC_REG_NONE;
		return PLIC_REG_PRIORITY;
	}
	if (off < PLIC_ENABLE_BASE) {
		*idx = (unsigned int)((off - PLIC_PENDING_BASE) / 4);
		return *idx < p->nr_words ? PLIC_REG_PENDING : PLIC_REG_NONE;
	}
	off -= PLIC_ENABLE_BASE;
	*ctx = (unsigned int)(off / PLIC_ENABLE_STRIDE);
	*idx = (unsigned int)(off % PLIC_ENABLE_STRIDE / 4);
	if (*ctx >= p->nr_contexts || *idx >= p->nr_words)
		return PLIC_REG_NONE;
	return PLIC_REG_ENABLE;
}

/*
 * Map an access to a register; *ctx and *idx (source, word or context)
 * are set for the kinds that use them. Every bound is checked on the
 * 64-bit offset before it is narrowed.
 */
static enum plic_reg plic_decode(const struct plic *p, uint64_t off,
				 unsigned int size, unsigned int *ctx,
				 unsigned int *idx)
{
	uint64_t reg;

	if (size != 4 || off % 4 || off >= plic_mmio_size(p->nr_contexts))
		return PLIC_REG_NONE;
	if (off < PLIC_CONTEXT_BASE)
		return plic_decode_global(p, off, ctx, idx);
	off -= PLIC_CONTEXT_BASE;
	*ctx = (unsigned int)(off / PLIC_CONTEXT_STRIDE);
	reg = off % PLIC_CONTEXT_STRIDE;
	if (*ctx >= p->nr_contexts)
		return PLIC_REG_NONE;
	if (reg == PLIC_CONTEXT_THRESHOLD)
		return PLIC_REG_THRESHOLD;
	if (reg == PLIC_CONTEXT_CLAIM)
		return PLIC_REG_CLAIM;
	return PLIC_REG_NONE;
}

/* Log the first unknown access only: a guest can repeat it at will. */
static void plic_warn_unknown(struct plic *p, const char *what, uint64_t off,
			      unsigned int size)
{
	if (p->warned)
		return;
	p->warned = true;
	pr_warn("plic: ignoring %u-byte %s at offset %#llx (not a register; further ones not logged)",
		size, what, (unsigned long long)off);
}

static uint64_t plic_mmio_read(void *dev, uint64_t offset, unsigned int size)
{
	struct plic *p = dev;
	unsigned int ctx = 0, idx = 0;
	uint64_t val = 0;

	pthread_mutex_lock(&p->lock);
	switch (plic_decode(p, offset, size, &ctx, &idx)) {
	case PLIC_REG_PRIORITY:
		val = p->priority[idx];
		break;
	case PLIC_REG_PENDING:
		val = p->pending[idx];
		break;
	case PLIC_REG_ENABLE:
		val = plic_enable_words(p, ctx)[idx];
		break;
	case PLIC_REG_THRESHOLD:
		val = p->threshold[ctx];
		break;
	case PLIC_REG_CLAIM:
		val = plic_claim(p, ctx);
		break;
	case PLIC_REG_NONE:
		plic_warn_unknown(p, "read", offset, size);
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return val;
}

static void plic_mmio_write(void *dev, uint64_t offset, unsigned int size,
			    uint64_t value)
{
	struct plic *p = dev;
	unsigned int ctx = 0, idx = 0;

	pthread_mutex_lock(&p->lock);
	switch (plic_decode(p, offset, size, &ctx, &idx)) {
	case PLIC_REG_PRIORITY:
		p->priority[idx] = (uint8_t)(value & PLIC_MAX_PRIORITY);
		plic_update(p);
		break;
	case PLIC_REG_PENDING:
		break; /* read-only */
	case PLIC_REG_ENABLE:
		plic_enable_words(p, ctx)[idx] =
			(uint32_t)value & plic_valid_bits(p, idx);
		plic_update(p);
		break;
	case PLIC_REG_THRESHOLD:
		p->threshold[ctx] = (uint8_t)(value & PLIC_MAX_PRIORITY);
		plic_update(p);
		break;
	case PLIC_REG_CLAIM:
		plic_complete(p, ctx, value);
		break;
	case PLIC_REG_NONE:
		plic_warn_unknown(p, "write", offset, size);
		break;
	}
	pthread_mutex_unlock(&p->lock);
}

const struct mmio_ops plic_mmio_ops = {
	.read = plic_mmio_read,
	.write = plic_mmio_write,
};

/* Lock held. */
static void plic_input(struct plic *p, unsigned int src, bool level)
{
	bool old = bit_test(p->level, src);

	bit_assign(p->level, src, level);
	if (bit_test(p->edge, src)) {
		if (level && !old)
			bit_assign(p->pending, src, true);
	} else if (!bit_test(p->in_service, src)) {
		/* Follows the line: a pulse dropped before the claim is gone. */
		bit_assign(p->pending, src, level);
	}
}

void plic_set_irq(void *plic, unsigned int irq, int level)
{
	struct plic *p = plic;

	if (irq == 0 || irq > p->nr_sources)
		return;
	pthread_mutex_lock(&p->lock);
	plic_input(p, irq, level != 0);
	plic_update(p);
	pthread_mutex_unlock(&p->lock);
}

int plic_set_trigger(struct plic *p, unsigned int irq, enum plic_trigger t)
{
	if (irq == 0 || irq > p->nr_sources ||
	    (t != PLIC_LEVEL && t != PLIC_EDGE))
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	bit_assign(p->edge, irq, t == PLIC_EDGE);
	if (t == PLIC_LEVEL && !bit_test(p->in_service, irq))
		bit_assign(p->pending, irq, bit_test(p->level, irq));
	plic_update(p);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

unsigned int plic_nr_sources(const struct plic *p)
{
	return p->nr_sources;
}

unsigned int plic_nr_contexts(const struct plic *p)
{
	return p->nr_contexts;
}

uint64_t plic_mmio_size(unsigned int nr_contexts)
{
	if (nr_contexts == 0 || nr_contexts > PLIC_MAX_CONTEXTS)
		return 0;
	return PLIC_CONTEXT_BASE + (uint64_t)PLIC_CONTEXT_STRIDE * nr_contexts;
}

static void plic_free(struct plic *p)
{
	free(p->priority);
	free(p->level);
	free(p->edge);
	free(p->pending);
	free(p->in_service);
	free(p->enable);
	free(p->threshold);
	free(p->eip);
	free(p);
}

static int plic_alloc(struct plic *p)
{
	size_t words = p->nr_words, ctxs = p->nr_contexts;

	p->priority = calloc(p->nr_sources + 1, sizeof(*p->priority));
	p->level = calloc(words, sizeof(uint32_t));
	p->edge = calloc(words, sizeof(uint32_t));
	p->pending = calloc(words, sizeof(uint32_t));
	p->in_service = calloc(words, sizeof(uint32_t));
	p->enable = calloc(words * ctxs, sizeof(uint32_t));
	p->threshold = calloc(ctxs, sizeof(*p->threshold));
	p->eip = calloc(ctxs, sizeof(*p->eip));
	if (!p->priority || !p->level || !p->edge || !p->pending ||
	    !p->in_service || !p->enable || !p->threshold || !p->eip)
		return -ENOMEM;
	return 0;
}

int plic_create(struct plic **out, unsigned int nr_sources,
		unsigned int nr_contexts, const struct plic_ops *ops,
		void *opaque)
{
	struct plic *p;
	int ret;

	if (nr_sources == 0 || nr_sources > PLIC_MAX_SOURCES ||
	    nr_contexts == 0 || nr_contexts > PLIC_MAX_CONTEXTS || !ops ||
	    !ops->set_eip)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = ops;
	p->opaque = opaque;
	p->nr_sources = nr_sources;
	p->nr_contexts = nr_contexts;
	p->nr_words = (nr_sources + 1 + 31) / 32;
	ret = plic_alloc(p);
	if (!ret)
		ret = -pthread_mutex_init(&p->lock, NULL);
	if (ret) {
		plic_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void plic_destroy(struct plic *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	plic_free(p);
}
