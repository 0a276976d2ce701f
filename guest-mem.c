// SPDX-License-Identifier: GPL-2.0-only
/* Guest physical memory regions and their bounds-checked accessors. */
#include <errno.h>
#include <string.h>

#include "lkvm/guest-mem.h"

int gmem_add_shared(struct gmem *m, uint64_t gpa, uint64_t size, void *host,
		    int fd, uint64_t off)
{
	uint64_t end;
	unsigned int i;

	if (!size || __builtin_add_overflow(gpa, size - 1, &end) || !host ||
	    m->nr >= GMEM_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < m->nr; i++)
		if (gpa <= m->r[i].gpa + (m->r[i].size - 1) &&
		    m->r[i].gpa <= end)
			return -EINVAL;
	m->r[m->nr++] = (struct gmem_region){ gpa, size, host, fd, off };
	return 0;
}

int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *host)
{
	return gmem_add_shared(m, gpa, size, host, -1, 0);
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	unsigned int i;
	uint64_t off;

	for (i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* off < size and len <= size - off, without overflow */
		if (off < r->size && len <= r->size - off)
			return r->host + off;
	}
	return NULL;
}

int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, size_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
