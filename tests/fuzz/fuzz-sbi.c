// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: SBI dispatch against 64 KiB of fake guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/sbi.h"
#include "guest.h"
#include "fuzz-input.h"

#define RAM_SIZE 0x10000ULL /* small: much of what pick_addr() gives misses */

/*
 * The input is a series of 72-byte calls: ext, fid, a0, a1, a2 (8 bytes
 * each, little-endian), then 32 bytes of host console input. Small values
 * for ext pick the interesting extensions so they are found quickly.
 */
struct fz_con {
	const uint8_t *in;
	size_t in_len;
	size_t out;
};

static void fz_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct fz_con *f = opaque;
	volatile uint8_t sink = 0;
	size_t i;

	if (len > SBI_DBCN_MAX_CHUNK)
		abort();
	for (i = 0; i < len; i++) /* ASan checks every byte we were given */
		sink ^= buf[i];
	(void)sink;
	f->out += len;
}

static size_t fz_read(void *opaque, uint8_t *buf, size_t len)
{
	struct fz_con *f = opaque;

	if (len > SBI_DBCN_MAX_CHUNK)
		abort();
	if (len > f->in_len)
		len = f->in_len;
	if (len)
		memcpy(buf, f->in, len);
	f->in += len;
	f->in_len -= len;
	return len;
}

static const struct sbi_console_ops fz_ops = {
	.write = fz_write,
	.read = fz_read,
};

/* Map small fuzz values onto the extensions and addresses that matter. */
static uint64_t pick_ext(uint64_t v)
{
	static const uint64_t exts[] = {
		SBI_EXT_0_1_CONSOLE_PUTCHAR,
		SBI_EXT_0_1_CONSOLE_GETCHAR,
		SBI_EXT_DBCN,
		SBI_EXT_EXPERIMENTAL_START,
	};

	return v < 4 ? exts[v] : v;
}

static uint64_t pick_addr(uint64_t v)
{
	/* values below 2^20 become offsets around RAM */
	return v < (1 << 20) ? GUEST_RAM_BASE - 0x1000 + v : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest g;
	struct fz_con con = { 0 };
	struct sbi s;

	if (!g.mem.nr && guest_init(&g, GUEST_RAM_BASE, RAM_SIZE))
		abort();
	sbi_init(&s, &g.mem, &fz_ops, &con);
	s.rl.burst = 0; /* keep the log quiet */
	while (size >= 72) {
		struct sbi_call c = { 0 };
		size_t before = con.out;

		c.ext = pick_ext(fuzz_le64(data));
		c.fid = fuzz_le64(data + 8);
		c.args[0] = fuzz_le64(data + 16);
		c.args[1] = pick_addr(fuzz_le64(data + 24));
		c.args[2] = fuzz_le64(data + 32);
		c.args[3] = c.args[4] = c.args[5] = 0xdead;
		con.in = data + 40;
		con.in_len = 32;
		sbi_handle(&s, &c);

		if (c.ext == SBI_EXT_0_1_CONSOLE_GETCHAR) {
			if (c.ret[0] < -1 || c.ret[0] > 0xff)
				abort();
		} else if (c.ret[0] != SBI_SUCCESS &&
			   c.ret[0] != SBI_ERR_NOT_SUPPORTED &&
			   c.ret[0] != SBI_ERR_INVALID_PARAM) {
			abort();
		}
		if (c.ret[0] != SBI_SUCCESS && con.out != before)
			abort(); /* a rejected call wrote nothing */
		if (c.ext == SBI_EXT_DBCN && c.ret[0] == SBI_SUCCESS &&
		    (c.ret[1] < 0 || c.ret[1] > SBI_DBCN_MAX_CHUNK))
			abort();
		data += 72;
		size -= 72;
	}
	return 0;
}
