// SPDX-License-Identifier: GPL-2.0-only
/* Raw disk images: open, size, lock and describe a file or block device. */
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
#include "lkvm/disk.h"

struct disk {
	int fd;
	bool ro, direct;
	uint64_t size;
	uint32_t block_size;
	char serial[DISK_SERIAL_MAX + 1];
};

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
static uint32_t disk_file_dio_align(const struct disk *d, const struct stat *st)
{
	struct disk_dio_probe p = { 0 };

	dio_probe_statx(d->fd, &p);
	if (!pow2(p.offset_align))
		p.dev_block_size = dev_logical_block_size(st->st_dev);
	return disk_dio_align(&p);
}

/* Size and block size of the open image. */
static int disk_geometry(struct disk *d, const char *path, char *err,
			 size_t errlen)
{
	struct stat st;
	int bs;

	if (fstat(d->fd, &st))
		return disk_err(err, errlen, -errno, "cannot stat %s: %s", path,
				strerror(errno));
	d->block_size = DISK_SECTOR_SIZE;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &d->size))
			return disk_err(err, errlen, -errno,
					"cannot get the size of %s: %s", path,
					strerror(errno));
		if (!ioctl(d->fd, BLKSSZGET, &bs) && bs >= DISK_SECTOR_SIZE &&
		    pow2((uint32_t)bs))
			d->block_size = (uint32_t)bs;
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
		if (d->direct)
			d->block_size = disk_file_dio_align(d, &st);
	} else {
		return disk_err(err, errlen, -EINVAL,
				"%s is not a regular file or block device",
				path);
	}
	if (d->direct && d->block_size > DISK_MAX_BLOCK_SIZE)
		return disk_err(err, errlen, -EINVAL,
				"%s: direct I/O needs %" PRIu32 "-byte blocks, "
				"above lkvm's limit of %u: drop direct",
				path, d->block_size, DISK_MAX_BLOCK_SIZE);
	if (!d->size || d->size % DISK_SECTOR_SIZE)
		return disk_err(err, errlen, -EINVAL,
				"%s: size %" PRIu64
				" is not a non-zero multiple of 512 bytes",
				path, d->size);
	return 0;
}

static void disk_set_serial(struct disk *d, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	snprintf(d->serial, sizeof(d->serial), "%s", base);
}

int disk_open(struct disk **out, const char *path, bool ro, bool direct,
	      char *err, size_t errlen)
{
	int flags = (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct disk *d;
	int ret;

	if (direct)
		flags |= O_DIRECT;
	d = calloc(1, sizeof(*d));
	if (!d)
		return disk_err(err, errlen, -ENOMEM, "%s: out of memory",
				path);
	d->ro = ro;
	d->direct = direct;
	d->fd = open(path, flags);
	if (d->fd < 0) {
		ret = disk_err(err, errlen, -errno, "cannot open %s: %s", path,
			       strerror(errno));
		goto out_free;
	}
	ret = disk_geometry(d, path, err, errlen);
	if (ret)
		goto out_close;
	ret = disk_lock(d->fd, path, ro, err, errlen);
	if (ret)
		goto out_close;
	disk_set_serial(d, path);
	*out = d;
	return 0;

out_close:
	close(d->fd);
out_free:
	free(d);
	return ret;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d);
}

uint64_t disk_size(const struct disk *d)
{
	return d->size;
}

bool disk_ro(const struct disk *d)
{
	return d->ro;
}

bool disk_direct(const struct disk *d)
{
	return d->direct;
}

int disk_fd(const struct disk *d)
{
	return d->fd;
}

uint32_t disk_block_size(const struct disk *d)
{
	return d->block_size;
}

const char *disk_serial(const struct disk *d)
{
	return d->serial;
}
