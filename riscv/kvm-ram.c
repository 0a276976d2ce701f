// SPDX-License-Identifier: GPL-2.0-only
/* Guest RAM: anonymous, huge pages or a shared memfd, and its memslot. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/net.h"
#include "lkvm/procfs.h"
#include "riscv/machine.h"

/* The kernel's default huge page size in bytes, 0 when it has none. */
static uint64_t huge_page_size(void)
{
	return proc_kib("/proc/meminfo", "Hugepagesize") << 10;
}

/* Guest RAM another process maps too: some NIC's data path is a
 * vhost-user back end (-n mode=user,vhost=1: passt). */
static bool ram_needs_sharing(const struct vm_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_nics; i++)
		if (cfg->nics[i].mode == NET_MODE_USER && cfg->nics[i].vhost)
			return true;
	return false;
}

static void ram_error(const struct machine *m, bool huge)
{
	if (huge)
		pr_err("cannot allocate %llu MiB of guest RAM from huge pages: %s (the pool is /proc/sys/vm/nr_hugepages)",
		       (unsigned long long)m->cfg->mem_mib, strerror(errno));
	else
		pr_err("cannot allocate %llu MiB of guest RAM: %s",
		       (unsigned long long)m->cfg->mem_mib, strerror(errno));
}

/*
 * Shared guest RAM: a memfd (of huge pages with --hugetlb) of the RAM's
 * size, mapped MAP_SHARED; its fd goes with the memory table to a
 * vhost-user back end. Huge pages are reserved at mmap() as below.
 */
static int vm_map_shared_ram(struct machine *m, bool huge)
{
	int fd = memfd_create("lkvm-ram",
			      MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));

	if (fd < 0) {
		ram_error(m, huge);
		return -1;
	}
	if (ftruncate(fd, (off_t)m->ram_size)) {
		ram_error(m, huge);
		close(fd);
		return -1;
	}
	m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | (huge ? 0 : MAP_NORESERVE), fd, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		ram_error(m, huge);
		close(fd);
		return -1;
	}
	m->ram_fd = fd;
	m->ram_shared = true;
	return 0;
}

/*
 * Anonymous guest RAM, or with --hugetlb huge pages from the kernel's
 * pool: KVM then maps the guest in huge blocks, sparing a stage-2 fault
 * per 4 KiB page (costly when the host itself runs nested). Hugetlb RAM is
 * reserved at mmap() (no MAP_NORESERVE), so a short pool fails here, not
 * with SIGBUS later.
 */
static int vm_map_ram(struct machine *m)
{
	bool huge = m->cfg->hugetlb;
	uint64_t hps = huge ? huge_page_size() : 0;

	m->ram_size = m->cfg->mem_mib << 20;
	if (huge && !hps) {
		pr_err("--hugetlb: this kernel has no huge pages");
		return -1;
	}
	if (huge && m->ram_size % hps) {
		pr_err("--hugetlb: -m %llu MiB is not a multiple of the huge page size (%llu KiB)",
		       (unsigned long long)m->cfg->mem_mib,
		       (unsigned long long)(hps >> 10));
		return -1;
	}
	if (ram_needs_sharing(m->cfg))
		return vm_map_shared_ram(m, huge);
	m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS |
			      (huge ? MAP_HUGETLB : MAP_NORESERVE),
		      -1, 0);
	if (m->ram != MAP_FAILED)
		return 0;
	m->ram = NULL;
	ram_error(m, huge);
	return -1;
}

/*
 * A reboot keeps the mapping and gives the new VM fresh RAM: all zero, as
 * at the first boot (the image loader skips the zero pages of a file).
 * Dropping the pages is what makes them zero, and frees them.
 */
static void vm_clear_ram(struct machine *m)
{
	/* shared RAM: its pages belong to the memfd, which MADV_REMOVE
	 * punches out (MADV_DONTNEED would only unmap them) */
	if (madvise(m->ram, m->ram_size,
		    m->ram_shared ? MADV_REMOVE : MADV_DONTNEED))
		memset(m->ram, 0, m->ram_size);
}

int machine_setup_ram(struct machine *m)
{
	struct kvm_userspace_memory_region region = { .slot = MEMSLOT_RAM };
	bool again = m->ram != NULL;

	if (again) {
		vm_clear_ram(m);
	} else {
		if (vm_map_ram(m))
			return -1;
		madvise(m->ram, m->ram_size, MADV_HUGEPAGE);
		madvise(m->ram, m->ram_size, MADV_MERGEABLE);
	}
	region.guest_phys_addr = MEMMAP_RAM_BASE;
	region.memory_size = m->ram_size;
	region.userspace_addr = (uint64_t)(unsigned long)m->ram;
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		pr_err("cannot give the VM %llu MiB of RAM at 0x%llx: %s",
		       (unsigned long long)m->cfg->mem_mib,
		       (unsigned long long)MEMMAP_RAM_BASE, strerror(errno));
		return -1;
	}
	if (again)
		return 0;
	return m->ram_shared
		       ? gmem_add_shared(&m->mem, MEMMAP_RAM_BASE, m->ram_size,
					 m->ram, m->ram_fd, 0)
		       : gmem_add(&m->mem, MEMMAP_RAM_BASE, m->ram_size,
				  m->ram);
}
