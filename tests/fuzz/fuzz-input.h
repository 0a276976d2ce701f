/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading a fuzz input: shared by the fuzz targets. */
#ifndef LKVM_FUZZ_INPUT_H
#define LKVM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Consume up to k bytes of *data (big-endian) and return them; a short
 * input gives what is left, and 0 once it is empty.
 */
static inline uint64_t fuzz_take(const uint8_t **data, size_t *size,
				 unsigned int k)
{
	uint64_t v = 0;

	while (k-- && *size) {
		v = v << 8 | **data;
		(*data)++;
		(*size)--;
	}
	return v;
}

/* One byte of the input, 0 once it is empty. */
static inline uint8_t fuzz_byte(const uint8_t **data, size_t *size)
{
	return (uint8_t)fuzz_take(data, size, 1);
}

/*
 * Copy the next n bytes of *data to dst and consume them; a short input
 * copies what is left and zeroes the rest of dst. Returns the bytes taken.
 */
static inline size_t fuzz_copy(const uint8_t **data, size_t *size, void *dst,
			       size_t n)
{
	size_t k = *size < n ? *size : n;

	memcpy(dst, *data, k);
	memset((uint8_t *)dst + k, 0, n - k);
	*data += k;
	*size -= k;
	return k;
}

/* The little-endian 64-bit value at p (8 bytes, any alignment). */
static inline uint64_t fuzz_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif
