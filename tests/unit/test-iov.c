// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/iov.c: every split point of a three-buffer list. */
#include <string.h>

#include "lkvm/iov.h"
#include "unit.h"

/* 3 + 0 + 5 + 2 bytes: an empty buffer in the middle, as chains can have */
static uint8_t b0[3], b1[1], b2[5], b3[2];
static struct iovec list[4] = {
	{ b0, sizeof(b0) }, { b1, 0 }, { b2, sizeof(b2) }, { b3, sizeof(b3) }
};
#define TOTAL 10

static void fill(void)
{
	uint8_t v = 0;
	unsigned int i;
	size_t j;

	for (i = 0; i < 4; i++)
		for (j = 0; j < list[i].iov_len; j++)
			((uint8_t *)list[i].iov_base)[j] = v++;
}

static void test_length(void)
{
	CHECK_EQ(iov_length(list, 4), TOTAL);
	CHECK_EQ(iov_length(list, 0), 0);
	CHECK_EQ(iov_length(list + 1, 1), 0);
}

/* Every [off, off + len) within and past the end, slice and copy agree
 * with the flat view of the list. */
static void test_every_range(void)
{
	uint8_t out[TOTAL + 4], flat[TOTAL];
	struct iovec v[4];
	uint64_t off, len, want;
	unsigned int k, i;
	size_t got, sum;

	fill();
	for (i = 0; i < TOTAL; i++)
		flat[i] = (uint8_t)i;
	for (off = 0; off <= TOTAL + 2; off++)
		for (len = 0; len <= TOTAL + 3; len++) {
			want = off >= TOTAL	   ? 0
			       : len > TOTAL - off ? TOTAL - off
						   : len;
			memset(out, 0xee, sizeof(out));
			got = iov_to_buf(list, 4, off, out, (size_t)len);
			CHECK_EQ(got, want);
			CHECK(!memcmp(out, flat + (off < TOTAL ? off : 0),
				      (size_t)want));
			CHECK_EQ(out[want], 0xee);
			k = iov_slice(list, 4, off, len, v, 4);
			for (i = 0, sum = 0; i < k; i++) {
				CHECK(v[i].iov_len > 0);
				CHECK(!memcmp(v[i].iov_base, flat + off + sum,
					      v[i].iov_len));
				sum += v[i].iov_len;
			}
			CHECK_EQ(sum, want);
		}
}

static void test_slice_room(void)
{
	struct iovec v[1];

	fill();
	/* room for one entry: the first buffer's part only */
	CHECK_EQ(iov_slice(list, 4, 1, TOTAL, v, 1), 1);
	CHECK_EQ(v[0].iov_len, 2);
	CHECK(v[0].iov_base == b0 + 1);
	CHECK_EQ(iov_slice(list, 4, 0, TOTAL, v, 0), 0);
}

static void test_from_buf(void)
{
	static const uint8_t src[TOTAL] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	uint8_t back[TOTAL];

	fill();
	CHECK_EQ(iov_from_buf(list, 4, 2, src, 5), 5);
	CHECK_EQ(iov_to_buf(list, 4, 0, back, TOTAL), TOTAL);
	CHECK_EQ(back[0], 0);
	CHECK_EQ(back[1], 1);
	CHECK(!memcmp(back + 2, src, 5));
	CHECK_EQ(back[7], 7);
	/* clipped at the end */
	CHECK_EQ(iov_from_buf(list, 4, 8, src, 5), 2);
	CHECK_EQ(b3[0], 9);
	CHECK_EQ(b3[1], 8);
	CHECK_EQ(iov_from_buf(list, 4, TOTAL, src, 5), 0);
}

UNIT_SUITE(iov, UNIT_TEST(test_length), UNIT_TEST(test_every_range),
	   UNIT_TEST(test_slice_room), UNIT_TEST(test_from_buf));
