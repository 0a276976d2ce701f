// SPDX-License-Identifier: GPL-2.0-only
/* The raw disk backend: a file or block device, locked, with its engine. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

#include "lkvm/compiler.h"
#include "lkvm/disk-raw.h"

#define RAW_IO_THREADS 4
#define RAW_AIO_DEPTH 128

struct raw_disk {
	struct disk disk;
	int fd;
	bool direct;
	uint32_t align; /* O_DIRECT alignment, 1 without O_DIRECT */
	struct blkio *io;
	uint64_t bounce_bytes; /* atomic: bounce buffers allocated now */
};

/* An unaligned O_DIRECT request, run through an aligned copy. */
struct raw_bounce {
	struct disk_req req; /* what the engine runs */
	struct disk_req *orig;
	struct raw_disk *rd;
	struct iovec iov;
};

static const struct disk_ops raw_ops;

static struct raw_disk *to_raw(const struct disk *d)
{
	return container_of(d, struct raw_disk, disk);
}

static int disk_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__printf(4, 5);

static int disk_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* The command name of pid, or "" when it cannot be read. */
static void proc_comm(long pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * The pid holding a FLOCK on the file st describes, from /proc/locks
 * ("1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"), or 0. Waiters
 * ("1: -> FLOCK ...") are skipped.
 */
static long lock_holder(const struct stat *st)
{
	char line[256], type[16];
	unsigned int maj, min;
	unsigned long long ino;
	long pid, found = 0;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &pid,
			   &maj, &min, &ino) != 5 ||
		    strcmp(type, "FLOCK"))
			continue;
		if (ino == (unsigned long long)st->st_ino &&
		    maj == major(st->st_dev) && min == minor(st->st_dev))
			found = pid;
	}
	fclose(f);
	return found;
}

static int disk_lock(int fd, const char *path, bool ro, char *err,
		     size_t errlen)
{
	struct stat st;
	char comm[64];
	long pid;

	if (!flock(fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB))
		return 0;
	if (errno != EWOULDBLOCK)
		return disk_err(err, errlen, -errno, "cannot lock %s: %s", path,
				strerror(errno));
	pid = fstat(fd, &st) ? 0 : lock_holder(&st);
	if (pid)
		proc_comm(pid, comm, sizeof(comm));
	if (pid && comm[0])
		return disk_err(err, errlen, -EBUSY,
				"%s is in use by %s (pid %ld)", path, comm,
				pid);
	if (pid)
		return disk_err(err, errlen, -EBUSY, "%s is in use by pid %ld",
				path, pid);
	return disk_err(err, errlen, -EBUSY, "%s is in use", path);
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

uint32_t disk_dio_align(const struct disk_dio_probe *p)
{
	uint32_t a;

	if (pow2(p->offset_align) && (!p->mem_align || pow2(p->mem_align)))
		a = p->offset_align > p->mem_align ? p->offset_align
						   : p->mem_align;
	else if (pow2(p->dev_block_size))
		a = p->dev_block_size;
	else
		a = DISK_DIO_FALLBACK;
	return a < DISK_SECTOR_SIZE ? DISK_SECTOR_SIZE : a;
}

/*
 * What statx() says O_DIRECT on fd needs (Linux 6.1+); zeroes if nothing.
 * glibc 2.36 takes struct statx from <linux/stat.h> when that exists, so
 * STATX_DIOALIGN (6.1 uapi) defined means the stx_dio_* fields are there.
 */
static void dio_probe_statx(int fd, struct disk_dio_probe *p)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) ||
	    !(stx.stx_mask & STATX_DIOALIGN))
		return;
	/* 0 here means the file cannot do direct I/O: let the later steps
	 * answer, the open with O_DIRECT succeeded after all. */
	p->mem_align = stx.stx_dio_mem_align;
	p->offset_align = stx.stx_dio_offset_align;
#else
	(void)fd;
	(void)p;
#endif
}

/*
 * The logical block size of the device holding a file system, from sysfs
 * (a partition keeps its queue/ in the parent disk's directory); 0 for a
 * device sysfs does not know, such as the anonymous ones of tmpfs, btrfs or
 * overlayfs.
 */
static uint32_t dev_logical_block_size(dev_t dev)
{
	static const char *const sub[] = { "", "../" };
	char path[96];
	unsigned int i, v;
	FILE *f;
	int n;

	if (!major(dev))
		return 0;
	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/%squeue/logical_block_size",
			 major(dev), minor(dev), sub[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fscanf(f, "%u", &v);
		fclose(f);
		if (n == 1)
			return v;
	}
	return 0;
}

/* The alignment O_DIRECT needs on the regular file behind d->fd. */
static uint32_t disk_file_dio_align(const struct raw_disk *d,
				    const struct stat *st)
{
	struct disk_dio_probe p = { 0 };

	dio_probe_statx(d->fd, &p);
	if (!pow2(p.offset_align))
		p.dev_block_size = dev_logical_block_size(st->st_dev);
	return disk_dio_align(&p);
}

/* Size and block size of the open image. */
static int disk_geometry(struct raw_disk *d, const char *path, char *err,
			 size_t errlen)
{
	struct disk_info *info = &d->disk.info;
	struct stat st;
	int bs;

	if (fstat(d->fd, &st))
		return disk_err(err, errlen, -errno, "cannot stat %s: %s", path,
				strerror(errno));
	info->block_size = DISK_SECTOR_SIZE;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &info->size))
			return disk_err(err, errlen, -errno,
					"cannot get the size of %s: %s", path,
					strerror(errno));
		if (!ioctl(d->fd, BLKSSZGET, &bs) && bs >= DISK_SECTOR_SIZE &&
		    pow2((uint32_t)bs))
			info->block_size = (uint32_t)bs;
	} else if (S_ISREG(st.st_mode)) {
		info->size = (uint64_t)st.st_size;
		if (d->direct)
			info->block_size = disk_file_dio_align(d, &st);
	} else {
		return disk_err(err, errlen, -EINVAL,
				"%s is not a regular file or block device",
				path);
	}
	if (d->direct && info->block_size > DISK_MAX_BLOCK_SIZE)
		return disk_err(err, errlen, -EINVAL,
				"%s: direct I/O needs %" PRIu32 "-byte blocks, "
				"above lkvm's limit of %u: drop direct",
				path, info->block_size, DISK_MAX_BLOCK_SIZE);
	if (!info->size || info->size % DISK_SECTOR_SIZE)
		return disk_err(err, errlen, -EINVAL,
				"%s: size %" PRIu64
				" is not a non-zero multiple of 512 bytes",
				path, info->size);
	return 0;
}

static void disk_set_serial(struct disk_info *info, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	snprintf(info->serial, sizeof(info->serial), "%s", base);
}

static void raw_bounce_free(struct raw_bounce *bb)
{
	__atomic_sub_fetch(&bb->rd->bounce_bytes, bb->iov.iov_len,
			   __ATOMIC_RELAXED);
	free(bb->iov.iov_base);
	free(bb);
}

/* Copy n bytes from (iov, cnt) to dst, or from src to (iov, cnt). */
static void iov_copy(const struct iovec *iov, int cnt, void *dst,
		     const void *src, size_t n)
{
	size_t done = 0, k;
	int i;

	for (i = 0; i < cnt && done < n; i++) {
		k = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;
		if (dst)
			memcpy((char *)dst + done, iov[i].iov_base, k);
		else
			memcpy(iov[i].iov_base, (const char *)src + done, k);
		done += k;
	}
}

static void raw_bounce_done(struct disk_req *r, int status)
{
	struct raw_bounce *bb = container_of(r, struct raw_bounce, req);
	struct disk_req *orig = bb->orig;

	/* copied out before the caller hears the data is there */
	if (!status && orig->op == DISK_OP_READ)
		iov_copy(orig->iov, orig->iovcnt, NULL, bb->iov.iov_base,
			 bb->iov.iov_len);
	raw_bounce_free(bb);
	orig->done(orig, status);
}

/* r's buffers are not aligned for O_DIRECT: run it through a copy. */
static int raw_submit_bounced(struct raw_disk *rd, struct disk_req *r)
{
	struct raw_bounce *bb;
	void *buf;
	int ret;

	if (r->len > DISK_RAW_BOUNCE_MAX)
		return -EINVAL;
	if (__atomic_add_fetch(&rd->bounce_bytes, r->len, __ATOMIC_RELAXED) >
	    DISK_RAW_BOUNCE_TOTAL)
		goto out_nomem;
	bb = malloc(sizeof(*bb));
	if (!bb)
		goto out_nomem;
	if (posix_memalign(&buf, DISK_MAX_BLOCK_SIZE, r->len)) {
		free(bb);
		goto out_nomem;
	}
	bb->orig = r;
	bb->rd = rd;
	bb->iov = (struct iovec){ .iov_base = buf, .iov_len = r->len };
	bb->req = *r;
	bb->req.iov = &bb->iov;
	bb->req.iovcnt = 1;
	bb->req.done = raw_bounce_done;
	if (r->op == DISK_OP_WRITE)
		iov_copy(r->iov, r->iovcnt, buf, NULL, r->len);
	ret = blkio_submit(rd->io, &bb->req);
	if (ret)
		raw_bounce_free(bb);
	return ret;

out_nomem:
	__atomic_sub_fetch(&rd->bounce_bytes, r->len, __ATOMIC_RELAXED);
	return -ENOMEM;
}

/* With O_DIRECT: are r's buffers aligned? (offset and length are.) */
static bool raw_iov_aligned(const struct raw_disk *rd, const struct disk_req *r)
{
	int i;

	for (i = 0; i < r->iovcnt; i++)
		if ((uintptr_t)r->iov[i].iov_base % rd->align ||
		    r->iov[i].iov_len % rd->align)
			return false;
	return true;
}

static int raw_submit(struct disk *d, struct disk_req *r)
{
	struct raw_disk *rd = to_raw(d);

	if (rd->align > 1 &&
	    (r->op == DISK_OP_READ || r->op == DISK_OP_WRITE)) {
		if (r->offset % rd->align || r->len % rd->align)
			return -EINVAL;
		if (!raw_iov_aligned(rd, r))
			return raw_submit_bounced(rd, r);
	}
	return blkio_submit(rd->io, r);
}

static int raw_flush(struct disk *d)
{
	return blkio_flush(to_raw(d)->io);
}

static void raw_get_stats(struct disk *d, struct disk_stats *st)
{
	blkio_get_stats(to_raw(d)->io, st);
}

static void raw_close(struct disk *d)
{
	struct raw_disk *rd = to_raw(d);

	blkio_destroy(rd->io); /* every done() has returned */
	close(rd->fd);
	free(rd);
}

static const struct disk_ops raw_ops = {
	.name = "raw",
	.submit = raw_submit,
	.flush = raw_flush,
	.get_stats = raw_get_stats,
	.close = raw_close,
};

/* AIO when asked for and possible, else (or when it fails) threads. */
static int raw_start_io(struct raw_disk *rd, enum blkio_engine engine)
{
	int ret = -ENOTSUP;

	if (engine == BLKIO_ENGINE_AIO && blkio_have_aio())
		ret = blkio_create(&rd->io, rd->fd, BLKIO_ENGINE_AIO,
				   RAW_AIO_DEPTH);
	if (ret)
		ret = blkio_create(&rd->io, rd->fd, BLKIO_ENGINE_THREADS,
				   RAW_IO_THREADS);
	return ret;
}

int disk_raw_open(struct disk **out, const char *path,
		  const struct disk_raw_opts *o, char *err, size_t errlen)
{
	int flags = (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct raw_disk *rd;
	int ret;

	if (o->direct)
		flags |= O_DIRECT;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return disk_err(err, errlen, -ENOMEM, "%s: out of memory",
				path);
	rd->disk.ops = &raw_ops;
	rd->disk.info.ro = o->ro;
	rd->disk.info.caps =
		o->ro ? 0 : DISK_CAP_DISCARD | DISK_CAP_WRITE_ZEROES;
	rd->direct = o->direct;
	rd->fd = open(path, flags);
	if (rd->fd < 0) {
		ret = disk_err(err, errlen, -errno, "cannot open %s: %s", path,
			       strerror(errno));
		goto out_free;
	}
	ret = disk_geometry(rd, path, err, errlen);
	if (ret)
		goto out_close;
	ret = disk_lock(rd->fd, path, o->ro, err, errlen);
	if (ret)
		goto out_close;
	rd->align = o->direct ? rd->disk.info.block_size : 1;
	disk_set_serial(&rd->disk.info, path);
	ret = raw_start_io(rd, o->engine);
	if (ret) {
		disk_err(err, errlen, ret, "%s: cannot start its I/O: %s", path,
			 strerror(-ret));
		goto out_close;
	}
	*out = &rd->disk;
	return 0;

out_close:
	close(rd->fd);
out_free:
	free(rd);
	return ret;
}

bool disk_raw_direct(const struct disk *d)
{
	return d->ops == &raw_ops && to_raw(d)->direct;
}
