// SPDX-License-Identifier: GPL-2.0-only
/* UART acceleration: THR writes batched in KVM's coalesced MMIO ring, and
 * the register image KVM maps read-only over the UART so that reads do not exit. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/uart.h"
#include "riscv/machine.h"

static void uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct machine *m = opaque;

	console_write(&m->con, buf, len);
}

static void uart_rx_ready(void *opaque)
{
	struct machine *m = opaque;
	uint64_t one = 1;

	/* The input thread moves queued input into the FIFO. */
	if (write(m->wake_fd, &one, sizeof(one)) < 0)
		pr_warn_ratelimited(&m->rl, "console wake-up lost");
}

/* The UART's THR (offset 0, one byte) as a coalesced zone, or not. */
static void uart_zone_set(struct machine *m, bool on)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = MEMMAP_UART_BASE,
		.size = 1,
	};

	pthread_mutex_lock(&m->zone_lock);
	if (m->cring && m->zone_on != on &&
	    ioctl(m->vm_fd,
		  on ? KVM_REGISTER_COALESCED_MMIO
		     : KVM_UNREGISTER_COALESCED_MMIO,
		  &z) == 0)
		m->zone_on = on;
	pthread_mutex_unlock(&m->zone_lock);
}

/* With ETBEI on, the guest waits for THRE interrupts that only a THR
 * write seen at once can raise: no batching then. */
static void uart_thri(void *opaque, bool on)
{
	uart_zone_set(opaque, !on);
}

/*
 * Show the guest the UART's register image, read-only, over the UART's
 * page: its reads then cost no exit (Linux's console reads LSR before
 * every byte it writes). Writes to a read-only memslot still exit as MMIO,
 * or land in the coalesced ring. Called with the UART lock held.
 */
static void uart_image(void *opaque, const uint8_t *regs)
{
	struct machine *m = opaque;
	struct kvm_userspace_memory_region r = {
		.slot = MEMSLOT_UART_IMAGE,
		.flags = KVM_MEM_READONLY,
		.guest_phys_addr = MEMMAP_UART_BASE,
	};
	double t0 = machine_elapsed_ms(m);

	if (!m->uart_page || m->uart_page_broken)
		return;
	if (regs) {
		memcpy(m->uart_page, regs, UART_NR_REGS);
		if (m->uart_page_mapped)
			return;
		r.memory_size = m->uart_page_size;
		r.userspace_addr = (uint64_t)(unsigned long)m->uart_page;
	} else if (!m->uart_page_mapped) {
		return;
	}
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		if (regs) {
			/* reads keep exiting: correct, only slower */
			pr_warn("UART register image: cannot map it: %s",
				strerror(errno));
			m->uart_page_broken = true;
			return;
		}
		/* the guest would go on reading stale registers */
		pr_err("UART register image: cannot unmap it: %s: stopping the VM",
		       strerror(errno));
		machine_stop(m, LKVM_EXIT_ERROR);
		return;
	}
	m->uart_page_mapped = regs != NULL;
	if (regs)
		m->uart_page_maps++;
	else
		m->uart_page_unmaps++;
	m->uart_page_ns += (uint64_t)((machine_elapsed_ms(m) - t0) * 1e6);
}

const struct uart_backend machine_uart_backend = {
	.tx = uart_tx,
	.rx_ready = uart_rx_ready,
	.thri = uart_thri,
	.image = uart_image,
};

/*
 * A page for the UART's register image when KVM has read-only memslots
 * and the UART's region is exactly one host page. Without it every UART
 * read exits, as before.
 */
void machine_setup_uart_image(struct machine *m)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (m->cfg->no_uart_image || page != UART_MMIO_REGION_SIZE ||
	    MEMMAP_UART_BASE % UART_MMIO_REGION_SIZE ||
	    ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return;
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return;
	m->uart_page_size = (size_t)page;
	m->uart_page = p;
}

void machine_drain_coalesced(struct machine *m)
{
	struct kvm_coalesced_mmio_ring *r = m->cring;
	struct kvm_coalesced_mmio e;
	uint32_t first;

	if (!r || __atomic_load_n(&r->first, __ATOMIC_RELAXED) ==
			  __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&m->cring_lock);
	/* the kernel fills an entry before it moves last (acquire pairs
	 * with its smp_wmb); we copy an entry out before freeing it */
	while ((first = r->first) % m->cring_max !=
	       __atomic_load_n(&r->last, __ATOMIC_ACQUIRE) % m->cring_max) {
		first %= m->cring_max;
		memcpy(&e, &r->coalesced_mmio[first], sizeof(e));
		if (!e.pio && e.len && e.len <= sizeof(e.data))
			mmio_access(&m->bus, e.phys_addr, e.data, e.len, true);
		__atomic_store_n(&r->first, (first + 1) % m->cring_max,
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->cring_lock);
}

/*
 * Map KVM's coalesced MMIO ring (it sits in every vCPU's mapping, one for
 * the VM) and batch THR writes: Linux's console writes a byte per THR
 * write after an LSR read, so this halves the exits of console output.
 * Without the capability every write exits as before.
 */
void machine_setup_coalesced(struct machine *m)
{
	long page = sysconf(_SC_PAGESIZE);
	int off = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	if (m->cfg->no_coalesced || off <= 0 || page <= 0 ||
	    (size_t)(off + 1) * (size_t)page > m->run_size)
		return;
	/* page-aligned: the cast is safe */
	m->cring = (void *)((uint8_t *)m->vcpus[0].run +
			    (size_t)off * (size_t)page);
	m->cring_max = (unsigned int)(((size_t)page - sizeof(*m->cring)) /
				      sizeof(m->cring->coalesced_mmio[0]));
	uart_zone_set(m, true);
	if (!m->zone_on)
		m->cring = NULL;
}

/*
 * A reboot that keeps the VM: take back what the UART registered with KVM
 * (the coalesced zone, the register image's memslot) before the UART and
 * its page go; the next boot's UART registers them again.
 */
void machine_uart_release(struct machine *m)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = MEMMAP_UART_BASE,
		.size = 1,
	};

	if (m->zone_on &&
	    ioctl(m->vm_fd, KVM_UNREGISTER_COALESCED_MMIO, &z) < 0)
		pr_warn("reboot: the UART's coalesced zone stays: %s",
			strerror(errno));
	m->zone_on = false;
	if (m->uart_page_mapped)
		uart_image(m, NULL);
}
