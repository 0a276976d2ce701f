// SPDX-License-Identifier: GPL-2.0-only
/* Boot images: the kernel and the initrd read into guest RAM. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "riscv/machine.h"

static bool page_is_zero(const uint8_t *p, size_t len)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + sizeof(w) <= len; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if (w)
			return false;
	}
	for (; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Read all of a file into guest RAM at gpa. The RAM is fresh anonymous
 * memory, all zero, so pages of the file that are all zero are not
 * written: about half of a Linux Image is zero padding, and not faulting
 * in and filling those pages roughly halves the time lkvm takes to load
 * it (they stay unallocated until the guest touches them).
 */
static int load_file(struct machine *m, int fd, const char *what,
		     const char *path, uint64_t gpa, uint64_t size)
{
	enum { CHUNK = 64 << 10, PAGE = 4096 };
	uint8_t *dst = gmem_ptr(&m->mem, gpa, size), *buf;
	uint64_t done = 0;
	size_t got = 0, i, n;

	if (!dst)
		return -1;
	buf = malloc(CHUNK);
	if (!buf) {
		pr_err("cannot read %s %s: out of memory", what, path);
		return -1;
	}
	while (done < size) {
		size_t want = size - done < CHUNK ? size - done : CHUNK;
		ssize_t r =
			pread(fd, buf + got, want - got, (off_t)(done + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_err("cannot read %s %s: %s", what, path,
			       r ? strerror(errno) : "file shrank");
			free(buf);
			return -1;
		}
		got += (size_t)r;
		if (got < want)
			continue;
		for (i = 0; i < got; i += n) {
			n = got - i < PAGE ? got - i : PAGE;
			if (!page_is_zero(buf + i, n))
				memcpy(dst + done + i, buf + i, n);
		}
		done += got;
		got = 0;
	}
	free(buf);
	return 0;
}

static int open_sized(const char *what, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		pr_err("cannot open %s %s: %s", what, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int machine_load_images(struct machine *m, struct kernel_info *ki)
{
	const struct vm_config *cfg = m->cfg;
	uint64_t ksize, isize = 0;
	uint8_t head[RISCV_IMAGE_HEADER_SIZE] = { 0 };
	int kfd, ifd = -1, ret = -1;
	char err[256];
	double t0;

	kfd = open_sized("kernel", cfg->kernel, &ksize);
	if (kfd < 0)
		return -1;
	if (pread(kfd, head, sizeof(head), 0) < 0 ||
	    kernel_inspect(head, sizeof(head), ksize, ki, err, sizeof(err))) {
		pr_err("kernel %s: %s", cfg->kernel, err);
		goto out;
	}
	if (cfg->initrd) {
		ifd = open_sized("initrd", cfg->initrd, &isize);
		if (ifd < 0)
			goto out;
	}
	if (boot_plan(MEMMAP_RAM_BASE, m->ram_size, ki, isize, &m->plan, err,
		      sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	t0 = machine_elapsed_ms(m);
	ret = load_file(m, kfd, "kernel", cfg->kernel, m->plan.kernel_addr,
			ksize);
	if (!ret && ifd >= 0)
		ret = load_file(m, ifd, "initrd", cfg->initrd,
				m->plan.initrd_addr, isize);
	if (!ret && (cfg->stats || cfg->debug))
		pr_info("images: kernel and initrd loaded in %.1f ms, from %.1f ms after lkvm run",
			machine_elapsed_ms(m) - t0, t0);
out:
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	return ret;
}
