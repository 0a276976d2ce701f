// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/sbi.c: legacy console, DBCN, unsupported calls. */
#include <stdint.h>
#include <stdlib.h>

#include "lkvm/compiler.h"
#include "lkvm/sbi.h"
#include "guest.h"
#include "unit.h"

struct fake_con {
	uint8_t out[16384];
	size_t out_len;
	unsigned int writes;
	const uint8_t *in;
	size_t in_len;
};

static void fake_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct fake_con *f = opaque;

	f->writes++;
	if (len > sizeof(f->out) - f->out_len)
		len = sizeof(f->out) - f->out_len;
	memcpy(f->out + f->out_len, buf, len);
	f->out_len += len;
}

static size_t fake_read(void *opaque, uint8_t *buf, size_t len)
{
	struct fake_con *f = opaque;

	if (len > f->in_len)
		len = f->in_len;
	if (!len)
		return 0;
	memcpy(buf, f->in, len);
	f->in += len;
	f->in_len -= len;
	return len;
}

static const struct sbi_console_ops fake_ops = {
	.write = fake_write,
	.read = fake_read,
};

struct env {
	struct guest g;
	struct fake_con con;
	struct sbi sbi;
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (guest_init(&e->g, GUEST_RAM_BASE, GUEST_RAM_SIZE)) {
		free(e);
		return NULL;
	}
	sbi_init(&e->sbi, &e->g.mem, &fake_ops, &e->con);
	return e;
}

static void env_free(struct env *e)
{
	guest_destroy(&e->g);
	free(e);
}

static struct sbi_call call(uint64_t ext, uint64_t fid, uint64_t a0,
			    uint64_t a1, uint64_t a2)
{
	struct sbi_call c = { .ext = ext, .fid = fid, .args = { a0, a1, a2 } };

	/* poison the results so that each test sees them written */
	c.ret[0] = c.ret[1] = 0x5a5a;
	return c;
}

static void test_legacy_putchar(void)
{
	struct env *e = env_new();
	struct sbi_call c;

	REQUIRE(e);
	c = call(SBI_EXT_0_1_CONSOLE_PUTCHAR, 0, 0x141, 0, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], 0);
	CHECK_EQ(e->con.out_len, 1);
	CHECK_EQ(e->con.out[0], 0x41);
	env_free(e);
}

static void test_legacy_getchar(void)
{
	struct env *e = env_new();
	struct sbi_call c;

	REQUIRE(e);
	c = call(SBI_EXT_0_1_CONSOLE_GETCHAR, 0, 0, 0, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], -1);
	e->con.in = (const uint8_t *)"\xffz";
	e->con.in_len = 2;
	c = call(SBI_EXT_0_1_CONSOLE_GETCHAR, 0, 0, 0, 0);
	sbi_handle(&e->sbi, &c);
	/* 0xff is a byte, not the "no input" -1 */
	CHECK_EQ(c.ret[0], 0xff);
	c = call(SBI_EXT_0_1_CONSOLE_GETCHAR, 0, 0, 0, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], 'z');
	c = call(SBI_EXT_0_1_CONSOLE_GETCHAR, 0, 0, 0, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], -1);
	env_free(e);
}

static void test_dbcn_write(void)
{
	struct env *e = env_new();
	struct sbi_call c;

	REQUIRE(e);
	memcpy(e->g.ram + 0x100, "hello", 5);
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, 5, GUEST_RAM_BASE + 0x100, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 5);
	REQUIRE(CHECK_EQ(e->con.out_len, 5));
	CHECK(!memcmp(e->con.out, "hello", 5));
	/* num_bytes 0 writes nothing and succeeds */
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, 0, GUEST_RAM_BASE, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 0);
	/* the very last byte of RAM */
	e->g.ram[GUEST_RAM_SIZE - 1] = '!';
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, 1,
		 GUEST_RAM_BASE + GUEST_RAM_SIZE - 1, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 1);
	CHECK_EQ(e->con.out[5], '!');
	env_free(e);
}

static void test_dbcn_read(void)
{
	struct env *e = env_new();
	struct sbi_call c;

	REQUIRE(e);
	c = call(SBI_EXT_DBCN, SBI_DBCN_READ, 16, GUEST_RAM_BASE + 0x200, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 0);
	e->con.in = (const uint8_t *)"abc";
	e->con.in_len = 3;
	c = call(SBI_EXT_DBCN, SBI_DBCN_READ, 16, GUEST_RAM_BASE + 0x200, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 3);
	CHECK(!memcmp(e->g.ram + 0x200, "abc", 3));
	CHECK_EQ(e->g.ram[0x203], 0);
	env_free(e);
}

static void test_dbcn_write_byte(void)
{
	struct env *e = env_new();
	struct sbi_call c;

	REQUIRE(e);
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, 0xffffff0aULL, 0, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], 0);
	CHECK_EQ(e->con.out_len, 1);
	CHECK_EQ(e->con.out[0], 0x0a);
	env_free(e);
}

static void expect_invalid(struct env *e, uint64_t fid, uint64_t num,
			   uint64_t lo, uint64_t hi)
{
	struct sbi_call c = call(SBI_EXT_DBCN, fid, num, lo, hi);
	unsigned int writes = e->con.writes;

	e->con.in = (const uint8_t *)"xyz";
	e->con.in_len = 3;
	sbi_handle(&e->sbi, &c);
	if (!CHECK_EQ(c.ret[0], SBI_ERR_INVALID_PARAM))
		fprintf(stderr, "    fid %llu num 0x%llx lo 0x%llx hi 0x%llx\n",
			(unsigned long long)fid, (unsigned long long)num,
			(unsigned long long)lo, (unsigned long long)hi);
	CHECK_EQ(e->con.writes, writes);
	CHECK_EQ(e->con.in_len, 3);
}

static void test_dbcn_bad_ranges(void)
{
	static const struct {
		uint64_t num, lo, hi;
	} bad[] = {
		{ 1, 0, 0 }, /* below RAM */
		{ 1, GUEST_RAM_BASE - 1, 0 },
		{ 2, GUEST_RAM_BASE - 1, 0 }, /* straddles the start */
		{ 1, GUEST_RAM_BASE + GUEST_RAM_SIZE,
		  0 }, /* one past the end */
		{ 2, GUEST_RAM_BASE + GUEST_RAM_SIZE - 1,
		  0 }, /* straddles the end */
		{ GUEST_RAM_SIZE + 1, GUEST_RAM_BASE, 0 },
		{ 1, GUEST_RAM_BASE, 1 }, /* base_hi != 0 */
		{ 0, GUEST_RAM_BASE, UINT64_MAX },
		{ UINT64_MAX, GUEST_RAM_BASE, 0 }, /* gpa + len overflows */
		{ 2, UINT64_MAX, 0 },
		{ UINT64_MAX - GUEST_RAM_BASE + 2, GUEST_RAM_BASE + 0x10, 0 },
	};
	struct env *e = env_new();
	unsigned int i;

	REQUIRE(e);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		expect_invalid(e, SBI_DBCN_WRITE, bad[i].num, bad[i].lo,
			       bad[i].hi);
		expect_invalid(e, SBI_DBCN_READ, bad[i].num, bad[i].lo,
			       bad[i].hi);
	}
	env_free(e);
}

static void test_dbcn_chunking(void)
{
	static uint8_t input[SBI_DBCN_MAX_CHUNK * 2];
	struct env *e = env_new();
	struct sbi_call c;
	size_t i;

	REQUIRE(e);
	for (i = 0; i < GUEST_RAM_SIZE; i++)
		e->g.ram[i] = (uint8_t)i;
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, GUEST_RAM_SIZE, GUEST_RAM_BASE,
		 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], SBI_DBCN_MAX_CHUNK);
	CHECK_EQ(e->con.out_len, SBI_DBCN_MAX_CHUNK);
	CHECK(!memcmp(e->con.out, e->g.ram, SBI_DBCN_MAX_CHUNK));
	c = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, SBI_DBCN_MAX_CHUNK + 1,
		 GUEST_RAM_BASE + 1, 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[1], SBI_DBCN_MAX_CHUNK);

	memset(input, 'q', sizeof(input));
	e->con.in = input;
	e->con.in_len = sizeof(input);
	c = call(SBI_EXT_DBCN, SBI_DBCN_READ, GUEST_RAM_SIZE, GUEST_RAM_BASE,
		 0);
	sbi_handle(&e->sbi, &c);
	CHECK_EQ(c.ret[0], SBI_SUCCESS);
	CHECK_EQ(c.ret[1], SBI_DBCN_MAX_CHUNK);
	CHECK_EQ(e->con.in_len, sizeof(input) - SBI_DBCN_MAX_CHUNK);
	CHECK_EQ(e->g.ram[SBI_DBCN_MAX_CHUNK - 1], 'q');
	CHECK_EQ(e->g.ram[SBI_DBCN_MAX_CHUNK],
		 (uint8_t)SBI_DBCN_MAX_CHUNK); /* untouched */
	env_free(e);
}

static void test_not_supported(void)
{
	static const struct {
		uint64_t ext, fid;
	} calls[] = {
		{ 0x0, 0 }, /* legacy set_timer: KVM's, not ours */
		{ 0x3, 0 },
		{ 0x8, 0 },
		{ SBI_EXT_EXPERIMENTAL_START, 0 },
		{ SBI_EXT_EXPERIMENTAL_END, 7 },
		{ SBI_EXT_VENDOR_START, 0 },
		{ 0x10, 0 }, /* base: KVM answers it */
		{ UINT64_MAX, UINT64_MAX },
		{ SBI_EXT_DBCN, 3 },
		{ SBI_EXT_DBCN, UINT64_MAX },
		{ SBI_EXT_DBCN | (1ULL << 32), SBI_DBCN_WRITE_BYTE },
	};
	struct env *e = env_new();
	unsigned int i;

	REQUIRE(e);
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		struct sbi_call c = call(calls[i].ext, calls[i].fid, 'x',
					 GUEST_RAM_BASE, 0);

		sbi_handle(&e->sbi, &c);
		if (!CHECK_EQ(c.ret[0], SBI_ERR_NOT_SUPPORTED))
			fprintf(stderr, "    ext 0x%llx fid %llu\n",
				(unsigned long long)calls[i].ext,
				(unsigned long long)calls[i].fid);
		CHECK_EQ(c.ret[1], 0);
	}
	CHECK_EQ(e->con.writes, 0);
	env_free(e);
}

UNIT_SUITE(sbi, UNIT_TEST(test_legacy_putchar), UNIT_TEST(test_legacy_getchar),
	   UNIT_TEST(test_dbcn_write), UNIT_TEST(test_dbcn_read),
	   UNIT_TEST(test_dbcn_write_byte), UNIT_TEST(test_dbcn_bad_ranges),
	   UNIT_TEST(test_dbcn_chunking), UNIT_TEST(test_not_supported));
