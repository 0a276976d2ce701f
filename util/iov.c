// SPDX-License-Identifier: GPL-2.0-only
/* Byte ranges of scatter-gather lists (lkvm/iov.h). */
#include <string.h>

#include "lkvm/iov.h"

size_t iov_length(const struct iovec *iov, unsigned int n)
{
	size_t t = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t off,
		       uint64_t len, struct iovec *out, unsigned int max)
{
	unsigned int i, k = 0;
	uint64_t c;

	for (i = 0; i < n && len && k < max; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - off;
		c = c < len ? c : len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k++].iov_len = (size_t)c;
		len -= c;
		off = 0;
	}
	return k;
}

/* The copy both ways: to_iov copies buf into the list, else out of it. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, uint64_t off,
		       uint8_t *buf, size_t len, int to_iov)
{
	size_t done = 0, c;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - (size_t)off;
		c = c < len - done ? c : len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + off, buf + done, c);
		else
			memcpy(buf + done, (uint8_t *)iov[i].iov_base + off, c);
		done += c;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t off,
		  void *dst, size_t len)
{
	return iov_copy(iov, n, off, dst, len, 0);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, uint64_t off,
		    const void *src, size_t len)
{
	/* iov_copy() only reads buf when copying into the list */
	return iov_copy(iov, n, off, (uint8_t *)(uintptr_t)src, len, 1);
}
