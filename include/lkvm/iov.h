/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte ranges of scatter-gather lists (a chain's buffers): their length,
 * a sub-range as an iovec array of its own, and copies to and from a flat
 * buffer. Offsets and lengths past the list's end are clipped, never an
 * error: callers check what they got against what they need.
 */
#ifndef LKVM_IOV_H
#define LKVM_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* The bytes of iov[0..n) together (the caller bounds n and each length,
 * so the sum cannot wrap: a chain's buffers are validated guest RAM). */
size_t iov_length(const struct iovec *iov, unsigned int n);

/* The bytes [off, off + len) of iov[0..n) as iovecs in out (room for max
 * entries; the range is clipped at the list's end and at max entries).
 * Returns the entries written. */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, uint64_t off,
		       uint64_t len, struct iovec *out, unsigned int max);

/* Copy up to len bytes of iov[0..n), from byte off, into dst; returns the
 * bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, uint64_t off,
		  void *dst, size_t len);

/* Copy up to len bytes of src into iov[0..n) from byte off; returns the
 * bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned int n, uint64_t off,
		    const void *src, size_t len);

#endif
