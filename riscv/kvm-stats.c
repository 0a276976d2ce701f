// SPDX-License-Identifier: GPL-2.0-only
/* --stats: what the run cost in time and memory, per device. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/9p.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/procfs.h"
#include "riscv/machine.h"

/* Guest RAM pages resident now, in KiB (they only grow while it runs). */
static uint64_t ram_resident_kib(const struct machine *m)
{
	long psize = sysconf(_SC_PAGESIZE);
	size_t pages = m->ram_size / (uint64_t)psize, i;
	unsigned char *vec = malloc(pages);
	uint64_t n = 0;

	if (!vec)
		return 0;
	if (!mincore(m->ram, m->ram_size, vec))
		for (i = 0; i < pages; i++)
			n += vec[i] & 1;
	free(vec);
	return n * (uint64_t)psize / 1024;
}

void machine_print_stats(struct machine *m)
{
	uint64_t peak = proc_kib("/proc/self/status", "VmHWM"),
		 ram = ram_resident_kib(m);
	unsigned int i;

	pr_info("stats: ran %.1f ms; peak RSS %.1f MiB, guest RAM resident %.1f MiB, lkvm itself %.1f MiB",
		machine_elapsed_ms(m), (double)peak / 1024, (double)ram / 1024,
		(double)(peak > ram ? peak - ram : 0) / 1024);
	if (m->uart_page_size)
		pr_info("stats: uart register image mapped %lu times, unmapped %lu, %.1f ms in memslot changes",
			m->uart_page_maps, m->uart_page_unmaps,
			(double)m->uart_page_ns / 1e6);
	for (i = 0; i < m->nr_disks; i++) {
		struct virtio_blk_stats st;

		if (!m->blks[i])
			continue;
		virtio_blk_get_stats(m->blks[i], &st);
		pr_info("stats: disk vd%c (%s): %llu reads, %llu writes, %llu flushes, %llu syncs, %llu write-through writes",
			'a' + i, m->cfg->disks[i].path,
			(unsigned long long)st.reads,
			(unsigned long long)st.writes,
			(unsigned long long)st.flushes,
			(unsigned long long)st.syncs,
			(unsigned long long)st.dsync_writes);
	}
	for (i = 0; i < m->nr_9p; i++) {
		struct virtio_9p_stats ds;
		struct p9_stats st;

		if (!m->p9[i] || !m->p9srv[i])
			continue;
		virtio_9p_get_stats(m->p9[i], &ds);
		p9_server_get_stats(m->p9srv[i], &st);
		pr_info("stats: 9p %s (%s): %llu requests (%llu errors): %llu Tread %llu bytes, %llu Twrite %llu bytes, %llu Treaddir, %llu Twalk, %llu Tgetattr; %.1f ms serving; %llu wakeups (%llu from lkvm's notify, %.3f ms after it on average, %.3f ms at worst; the rest from KVM's ioeventfd)",
			m->cfg->shares[i].tag, m->cfg->shares[i].path,
			(unsigned long long)st.requests,
			(unsigned long long)st.errors,
			(unsigned long long)st.reads,
			(unsigned long long)st.read_bytes,
			(unsigned long long)st.writes,
			(unsigned long long)st.write_bytes,
			(unsigned long long)st.readdirs,
			(unsigned long long)st.walks,
			(unsigned long long)st.getattrs,
			(double)ds.serve_ns / 1e6,
			(unsigned long long)ds.wakeups,
			(unsigned long long)ds.timed_wakeups,
			ds.timed_wakeups ? (double)ds.wake_ns / 1e6 /
						   (double)ds.timed_wakeups
					 : 0.0,
			(double)ds.wake_max_ns / 1e6);
	}
	for (i = 0; i < m->nr_nics; i++) {
		struct virtio_net_stats st;

		if (!m->nets[i])
			continue;
		virtio_net_get_stats(m->nets[i], &st);
		pr_info("stats: net%u (%s): rx %llu frames %llu bytes, %llu dropped, %llu waits for buffers; tx %llu frames %llu bytes, %llu dropped, %llu errors; ctrl %llu ok %llu refused",
			i, m->net_be[i]->desc,
			(unsigned long long)st.rx_packets,
			(unsigned long long)st.rx_bytes,
			(unsigned long long)st.rx_dropped,
			(unsigned long long)st.rx_waits,
			(unsigned long long)st.tx_packets,
			(unsigned long long)st.tx_bytes,
			(unsigned long long)st.tx_dropped,
			(unsigned long long)st.tx_errors,
			(unsigned long long)st.ctrl_ok,
			(unsigned long long)st.ctrl_err);
		if (m->net_vh[i][0])
			pr_info("stats: net%u vhost: %llu interrupts relayed, %u of %u rings on an irqfd; %u of %u queue pairs in use",
				i, (unsigned long long)st.irq_relayed,
				st.irq_direct, st.irq_rings, st.pairs_on,
				st.pairs);
	}
	if (console_dropped(&m->con))
		pr_info("stats: console output dropped: %llu bytes (its reader was gone or too slow)",
			console_dropped(&m->con));
}
