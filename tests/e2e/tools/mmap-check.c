// SPDX-License-Identifier: GPL-2.0-only
/*
 * L2 guest helper (static riscv64, in the L2 initramfs as /bin/mmap-check):
 * mmap-check FILE writes a pattern into FILE through a shared writable
 * mapping, msyncs, unmaps, and reads it back with read(). Prints
 * "mmap-shared ok" and exits 0 when the bytes match; otherwise one line
 * naming the step that failed and exit 1. A 9p mount with cache=none
 * refuses the mapping (EINVAL, read-only mmap only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN 8192

static int fail(const char *step, const char *path)
{
	printf("mmap-shared failed: %s %s: %s\n", step, path, strerror(errno));
	return 1;
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 31 + 7);
}

int main(int argc, char **argv)
{
	static unsigned char back[LEN];
	unsigned char *p;
	size_t i;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: mmap-check FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open", argv[1]);
	if (ftruncate(fd, LEN))
		return fail("ftruncate", argv[1]);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap(MAP_SHARED, PROT_WRITE)", argv[1]);
	for (i = 0; i < LEN; i++)
		p[i] = pattern(i);
	if (msync(p, LEN, MS_SYNC))
		return fail("msync", argv[1]);
	munmap(p, LEN);
	close(fd);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return fail("reopen", argv[1]);
	errno = 0;
	if (read(fd, back, LEN) != LEN) {
		if (!errno)
			errno = EIO; /* short read */
		return fail("read back", argv[1]);
	}
	close(fd);
	for (i = 0; i < LEN; i++)
		if (back[i] != pattern(i)) {
			printf("mmap-shared failed: byte %zu reads %u, not %u\n",
			       i, back[i], pattern(i));
			return 1;
		}
	printf("mmap-shared ok\n");
	return 0;
}
