// SPDX-License-Identifier: GPL-2.0-only
/* The tests' fake guest: RAM in host memory and accessors at GPAs. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"

static int add_region(struct guest *g, uint64_t base, uint64_t size)
{
	void *host;
	int ret;

	if (!size || size > SIZE_MAX || posix_memalign(&host, 4096, size))
		return -ENOMEM;
	memset(host, 0, size);
	ret = gmem_add(&g->mem, base, size, host);
	if (ret) {
		free(host);
		return ret;
	}
	return 0;
}

int guest_init(struct guest *g, uint64_t base, uint64_t size)
{
	int ret;

	memset(g, 0, sizeof(*g));
	ret = add_region(g, base, size);
	if (ret)
		return ret;
	g->base = base;
	g->size = size;
	g->ram = g->mem.r[0].host;
	return 0;
}

int guest_add_ram(struct guest *g, uint64_t base, uint64_t size)
{
	return add_region(g, base, size);
}

void guest_destroy(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < g->mem.nr; i++)
		free(g->mem.r[i].host);
	memset(g, 0, sizeof(*g));
}

void guest_clear(struct guest *g)
{
	unsigned int i;

	for (i = 0; i < g->mem.nr; i++)
		memset(g->mem.r[i].host, 0, g->mem.r[i].size);
}

bool guest_valid(const struct guest *g, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&g->mem, gpa, len) != NULL;
}

void *guest_ptr(const struct guest *g, uint64_t gpa, uint64_t len)
{
	void *p = gmem_ptr(&g->mem, gpa, len);

	if (!p) {
		fprintf(stderr,
			"test bug: guest range 0x%llx+0x%llx is not in RAM\n",
			(unsigned long long)gpa, (unsigned long long)len);
		abort();
	}
	return p;
}

bool guest_owns(const struct guest *g, const void *p, size_t len)
{
	const uint8_t *b = p;
	unsigned int i;

	for (i = 0; i < g->mem.nr; i++) {
		const uint8_t *h = g->mem.r[i].host;
		uint64_t off;

		if (b < h)
			continue;
		off = (uint64_t)(b - h);
		if (off <= g->mem.r[i].size && len <= g->mem.r[i].size - off)
			return true;
	}
	return false;
}

void guest_write(const struct guest *g, uint64_t gpa, const void *src,
		 size_t len)
{
	memcpy(guest_ptr(g, gpa, len), src, len);
}

void guest_read(const struct guest *g, uint64_t gpa, void *dst, size_t len)
{
	memcpy(dst, guest_ptr(g, gpa, len), len);
}

void guest_fill(const struct guest *g, uint64_t gpa, uint8_t byte, size_t len)
{
	memset(guest_ptr(g, gpa, len), byte, len);
}

uint8_t guest_get8(const struct guest *g, uint64_t gpa)
{
	return *(uint8_t *)guest_ptr(g, gpa, 1);
}

uint16_t guest_get16(const struct guest *g, uint64_t gpa)
{
	uint16_t v;

	guest_read(g, gpa, &v, sizeof(v));
	return le16toh(v);
}

uint32_t guest_get32(const struct guest *g, uint64_t gpa)
{
	uint32_t v;

	guest_read(g, gpa, &v, sizeof(v));
	return le32toh(v);
}

uint64_t guest_get64(const struct guest *g, uint64_t gpa)
{
	uint64_t v;

	guest_read(g, gpa, &v, sizeof(v));
	return le64toh(v);
}

void guest_put8(const struct guest *g, uint64_t gpa, uint8_t v)
{
	*(uint8_t *)guest_ptr(g, gpa, 1) = v;
}

void guest_put16(const struct guest *g, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	guest_write(g, gpa, &v, sizeof(v));
}

void guest_put32(const struct guest *g, uint64_t gpa, uint32_t v)
{
	v = htole32(v);
	guest_write(g, gpa, &v, sizeof(v));
}

void guest_put64(const struct guest *g, uint64_t gpa, uint64_t v)
{
	v = htole64(v);
	guest_write(g, gpa, &v, sizeof(v));
}

static uint16_t *idx_ptr(const struct guest *g, uint64_t gpa)
{
	if (gpa & 1) {
		fprintf(stderr, "test bug: ring index at odd gpa 0x%llx\n",
			(unsigned long long)gpa);
		abort();
	}
	return guest_ptr(g, gpa, 2);
}

uint16_t guest_load16_acquire(const struct guest *g, uint64_t gpa)
{
	return le16toh(__atomic_load_n(idx_ptr(g, gpa), __ATOMIC_ACQUIRE));
}

void guest_store16_release(const struct guest *g, uint64_t gpa, uint16_t v)
{
	__atomic_store_n(idx_ptr(g, gpa), htole16(v), __ATOMIC_RELEASE);
}
