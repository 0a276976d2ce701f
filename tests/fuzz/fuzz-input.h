/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading a fuzz input: shared by the fuzz targets. */
#ifndef LKVM_FUZZ_INPUT_H
#define LKVM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

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

#endif
