// SPDX-License-Identifier: GPL-2.0-only
/* The disk interface: every request checked once, then the backend's. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "lkvm/disk.h"

/* offset + len inside the disk, without overflow. */
static bool disk_range_ok(const struct disk *d, uint64_t offset, uint64_t len)
{
	return len <= DISK_REQ_MAX_LEN && len <= d->info.size &&
	       offset <= d->info.size - len;
}

/* READ/WRITE: the iovecs total exactly len, summed without overflow. */
static bool disk_iov_ok(const struct disk_req *r)
{
	uint64_t total = 0;
	int i;

	if (r->iovcnt < 1 || r->iovcnt > IOV_MAX || !r->iov)
		return false;
	for (i = 0; i < r->iovcnt; i++) {
		if (r->iov[i].iov_len > r->len - total)
			return false;
		total += r->iov[i].iov_len;
	}
	return total == r->len;
}

static int disk_req_check(const struct disk *d, const struct disk_req *r)
{
	bool modifies = r->op == DISK_OP_WRITE || r->op == DISK_OP_DISCARD ||
			r->op == DISK_OP_WRITE_ZEROES;

	if (!r->done || (r->flags & ~DISK_REQ_DSYNC))
		return -EINVAL;
	if (modifies && d->info.ro)
		return -EROFS;
	switch (r->op) {
	case DISK_OP_READ:
	case DISK_OP_WRITE:
		if (!disk_iov_ok(r))
			return -EINVAL;
		break;
	case DISK_OP_FLUSH:
		return 0;
	case DISK_OP_DISCARD:
		if (!(d->info.caps & DISK_CAP_DISCARD))
			return -EOPNOTSUPP;
		break;
	case DISK_OP_WRITE_ZEROES:
		if (!(d->info.caps & DISK_CAP_WRITE_ZEROES))
			return -EOPNOTSUPP;
		break;
	default:
		return -EINVAL;
	}
	return disk_range_ok(d, r->offset, r->len) ? 0 : -EINVAL;
}

int disk_submit(struct disk *d, struct disk_req *r)
{
	int ret = disk_req_check(d, r);

	return ret ? ret : d->ops->submit(d, r);
}

int disk_flush(struct disk *d)
{
	return d->ops->flush(d);
}

void disk_get_stats(struct disk *d, struct disk_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (d->ops->get_stats)
		d->ops->get_stats(d, st);
}

void disk_close(struct disk *d)
{
	if (d)
		d->ops->close(d);
}
