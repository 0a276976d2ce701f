/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest physical memory: the RAM regions and the only accessors device
 * models use to reach them. Every range is checked whole, with overflow-safe
 * arithmetic, before a host pointer is formed.
 */
#ifndef LKVM_GUEST_MEM_H
#define LKVM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
	/* the shareable file behind it (a memfd mapped MAP_SHARED, which
	 * another process, passt's vhost-user, may map too) and host's
	 * offset in it; -1 for private memory */
	int fd;
	uint64_t fd_offset;
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned int nr;
};

/*
 * Add a RAM region: [gpa, gpa+size) backed by host. Returns 0, or -EINVAL
 * when the range wraps, is empty, overlaps a region or there is no room.
 * The region is private (fd -1).
 */
int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *host);

/* The same for RAM that is the file fd from offset off on, mapped at host
 * with MAP_SHARED: other processes may be given fd to map it. */
int gmem_add_shared(struct gmem *m, uint64_t gpa, uint64_t size, void *host,
		    int fd, uint64_t off);

/*
 * A host pointer to [gpa, gpa+len) when the whole range lies inside one RAM
 * region, NULL otherwise (also when gpa+len overflows). len 0 is allowed
 * and checks gpa alone.
 */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/* Copy len bytes from guest memory at gpa. Returns 0 or -EFAULT. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *dst, size_t len);

/* Copy len bytes to guest memory at gpa. Returns 0 or -EFAULT. */
int gmem_write(const struct gmem *m, uint64_t gpa, const void *src, size_t len);

/* True when [gpa, gpa+len) lies inside one RAM region. */
static inline bool gmem_valid(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(m, gpa, len) != NULL;
}

#endif
