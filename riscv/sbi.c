// SPDX-License-Identifier: GPL-2.0-only
/* Dispatch of the SBI calls KVM forwards to userspace. */
#include <inttypes.h>

#include "lkvm/sbi.h"

void sbi_init(struct sbi *s, const struct gmem *mem,
	      const struct sbi_console_ops *con, void *opaque)
{
	s->mem = mem;
	s->con = con;
	s->opaque = opaque;
	s->xlen = 64;
	s->rl = (struct ratelimit){ .interval = 5, .burst = 10 };
}

static void sbi_ret(struct sbi_call *c, int64_t err, int64_t val)
{
	c->ret[0] = err;
	c->ret[1] = val;
}

/*
 * The guest buffer of a DBCN read or write: num_bytes at base_lo | base_hi
 * << XLEN, which on rv64 means base_hi must be 0. Returns a host pointer to
 * the first *n bytes (at most SBI_DBCN_MAX_CHUNK), or NULL when the range
 * is not wholly inside guest RAM.
 */
static uint8_t *dbcn_buffer(struct sbi *s, const struct sbi_call *c,
			    uint64_t *n)
{
	uint64_t num = c->args[0], lo = c->args[1], hi = c->args[2];

	if (hi || !gmem_valid(s->mem, lo, num))
		return NULL;
	*n = num < SBI_DBCN_MAX_CHUNK ? num : SBI_DBCN_MAX_CHUNK;
	return gmem_ptr(s->mem, lo, *n);
}

static void sbi_dbcn(struct sbi *s, struct sbi_call *c)
{
	uint64_t n = 0;
	uint8_t *buf, byte;

	switch (c->fid) {
	case SBI_DBCN_WRITE:
	case SBI_DBCN_READ:
		buf = dbcn_buffer(s, c, &n);
		if (!buf) {
			sbi_ret(c, SBI_ERR_INVALID_PARAM, 0);
			return;
		}
		if (c->fid == SBI_DBCN_WRITE)
			s->con->write(s->opaque, buf, n);
		else
			n = s->con->read(s->opaque, buf, n);
		sbi_ret(c, SBI_SUCCESS, (int64_t)n);
		return;
	case SBI_DBCN_WRITE_BYTE:
		byte = (uint8_t)c->args[0];
		s->con->write(s->opaque, &byte, 1);
		sbi_ret(c, SBI_SUCCESS, 0);
		return;
	}
	pr_warn_ratelimited(
		&s->rl, "sbi: DBCN function %" PRIu64 " not supported", c->fid);
	sbi_ret(c, SBI_ERR_NOT_SUPPORTED, 0);
}

void sbi_handle(struct sbi *s, struct sbi_call *c)
{
	uint8_t ch;

	switch (c->ext) {
	case SBI_EXT_0_1_CONSOLE_PUTCHAR:
		ch = (uint8_t)c->args[0];
		s->con->write(s->opaque, &ch, 1);
		sbi_ret(c, 0, 0);
		return;
	case SBI_EXT_0_1_CONSOLE_GETCHAR:
		/* legacy calls return only a0: the byte, or -1 for none */
		sbi_ret(c, s->con->read(s->opaque, &ch, 1) ? ch : -1, 0);
		return;
	case SBI_EXT_DBCN:
		sbi_dbcn(s, c);
		return;
	}
	pr_warn_ratelimited(&s->rl,
			    "sbi: extension 0x%" PRIx64 " function %" PRIu64
			    " not supported",
			    c->ext, c->fid);
	sbi_ret(c, SBI_ERR_NOT_SUPPORTED, 0);
}
