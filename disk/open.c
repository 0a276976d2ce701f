// SPDX-License-Identifier: GPL-2.0-only
/* disk_open(): the image's format from its magic, then its backend. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/disk-open.h"
#include "lkvm/disk-qcow2.h"
#include "lkvm/disk-raw.h"

int disk_open(struct disk **out, const char *path,
	      const struct disk_open_opts *o, char *err, size_t errlen)
{
	struct disk_raw_opts ro = {
		.ro = o->ro,
		.direct = o->direct,
		.engine = o->engine,
	};
	struct disk_qcow2_opts qo = {
		.ro = o->ro,
		.l2_cache_bytes = o->l2_cache_bytes,
		.engine = o->engine,
	};
	unsigned char head[4];
	ssize_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, head, sizeof(head), 0);
		close(fd);
	}
	/* an unreadable file: the raw backend says why */
	if (n <= 0 || !disk_qcow2_probe(head, (size_t)n))
		return disk_raw_open(out, path, &ro, err, errlen);
	if (o->direct) {
		snprintf(err, errlen,
			 "%s: direct is not supported for qcow2 images", path);
		return -EINVAL;
	}
	return disk_qcow2_open(out, path, &qo, err, errlen);
}
