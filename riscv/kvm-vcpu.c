// SPDX-License-Identifier: GPL-2.0-only
/* vCPUs: one thread each, KVM_RUN and the exits userspace handles. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/plic.h"
#include "lkvm/seccomp.h"
#include "riscv/kvm-regs.h"
#include "riscv/machine.h"
#include "riscv/pgwalk.h"

#define SIG_KICK SIGUSR1
#define INSN_LEN_CSR 4 /* CSR instructions have no compressed form */
#define EXC_ILLEGAL_INSN 2
#define SSTATUS_SIE (1ULL << 1)
#define SSTATUS_SPIE (1ULL << 5)
#define SSTATUS_SPP (1ULL << 8)

int vcpu_create(struct machine *m, struct vcpu *v, unsigned int id)
{
	v->m = m;
	v->id = id;
	v->stats_fd = -1;
	v->fd = ioctl(m->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		pr_err("cannot create vCPU %u: %s", id, strerror(errno));
		return -1;
	}
	v->run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED) {
		pr_err("cannot map vCPU %u's kvm_run: %s", id, strerror(errno));
		close(v->fd);
		v->fd = -1;
		return -1;
	}
	/* now: the ioctl waits for the vCPU's mutex, which KVM_RUN holds */
	if (m->cfg->stats)
		v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);
	/* the ISA, SBI and ids asked for, and DBCN, before the first run */
	return vcpu_configure(v);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->m->run_size);
	if (v->stats_fd >= 0)
		close(v->stats_fd);
	if (v->fd >= 0)
		close(v->fd);
}

int vcpu_boot_regs(struct vcpu *v, uint64_t pc, uint64_t fdt)
{
	int ret = riscv_set_reg(v->fd, RISCV_CORE_REG(regs.pc), pc);

	ret = ret ?: riscv_set_reg(v->fd, RISCV_CORE_REG(regs.a0), v->id);
	ret = ret ?: riscv_set_reg(v->fd, RISCV_CORE_REG(regs.a1), fdt);
	ret = ret
		      ?: riscv_set_reg(v->fd, RISCV_CORE_REG(mode),
				       KVM_RISCV_MODE_S);
	if (ret)
		pr_err("cannot set vCPU %u's boot registers: %s", v->id,
		       strerror(-ret));
	return ret ? -1 : 0;
}

static void vcpu_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint64_t gpa = r->mmio.phys_addr;
	unsigned int len = r->mmio.len;

	if (len > sizeof(r->mmio.data))
		len = 0; /* the kernel never does this; answer nothing */
	if (!mmio_access(&v->m->bus, gpa, r->mmio.data, len, r->mmio.is_write))
		pr_warn_ratelimited(
			&v->m->rl,
			"vcpu%u: %s of %u bytes at 0x%llx: no device", v->id,
			r->mmio.is_write ? "write" : "read", len,
			(unsigned long long)gpa);
	if (v->m->cfg->debug)
		pr_info("vcpu%u: mmio %s 0x%llx len %u", v->id,
			r->mmio.is_write ? "write" : "read",
			(unsigned long long)gpa, len);
}

static void vcpu_sbi(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	struct sbi_call c = { .ext = r->riscv_sbi.extension_id,
			      .fid = r->riscv_sbi.function_id };
	unsigned int i;

	for (i = 0; i < 6; i++)
		c.args[i] = r->riscv_sbi.args[i];
	sbi_handle(&v->m->sbi, &c);
	r->riscv_sbi.ret[0] = (unsigned long)c.ret[0];
	r->riscv_sbi.ret[1] = (unsigned long)c.ret[1];
	if (v->m->cfg->debug && c.ext != SBI_EXT_0_1_CONSOLE_PUTCHAR &&
	    c.ext != SBI_EXT_DBCN)
		pr_info("vcpu%u: sbi ext 0x%llx fid %llu -> %lld", v->id,
			(unsigned long long)c.ext, (unsigned long long)c.fid,
			(long long)c.ret[0]);
}

/*
 * KVM passes CSR accesses it does not emulate to userspace and, on the
 * next KVM_RUN, writes ret_value to rd and steps sepc over the instruction.
 * lkvm implements no such CSR, so it raises an illegal-instruction trap in
 * the guest instead: the guest's own trap state is set as the hardware
 * would, and pc is set so that KVM's step lands on stvec.
 */
static void vcpu_csr(struct vcpu *v)
{
	uint64_t pc, mode, sstatus, stvec, sie;
	int fd = v->fd;

	pr_warn_ratelimited(
		&v->m->rl,
		"vcpu%u: CSR 0x%lx not emulated: illegal instruction", v->id,
		(unsigned long)v->run->riscv_csr.csr_num);
	if (riscv_get_reg(fd, RISCV_CORE_REG(regs.pc), &pc) ||
	    riscv_get_reg(fd, RISCV_CORE_REG(mode), &mode) ||
	    riscv_get_reg(fd, RISCV_CSR_REG(sstatus), &sstatus) ||
	    riscv_get_reg(fd, RISCV_CSR_REG(stvec), &stvec))
		return;
	/* trap entry: SPIE = SIE, SIE = 0, SPP = previous mode */
	sie = sstatus & SSTATUS_SIE;
	sstatus &= ~(SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE);
	if (sie)
		sstatus |= SSTATUS_SPIE;
	if (mode == KVM_RISCV_MODE_S)
		sstatus |= SSTATUS_SPP;
	riscv_set_reg(fd, RISCV_CSR_REG(sepc), pc);
	riscv_set_reg(fd, RISCV_CSR_REG(scause), EXC_ILLEGAL_INSN);
	riscv_set_reg(fd, RISCV_CSR_REG(stval), 0);
	riscv_set_reg(fd, RISCV_CSR_REG(sstatus), sstatus);
	riscv_set_reg(fd, RISCV_CORE_REG(mode), KVM_RISCV_MODE_S);
	riscv_set_reg(fd, RISCV_CORE_REG(regs.pc),
		      (stvec & ~3ULL) - INSN_LEN_CSR);
	v->run->riscv_csr.ret_value = 0;
}

static void vcpu_system_event(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	/* KVM passes SRST's reset_reason in data[0] (0 for legacy calls) */
	uint64_t reason = r->system_event.ndata ? r->system_event.data[0] : 0;
	bool reboot = r->system_event.type == KVM_SYSTEM_EVENT_RESET;
	int code = vm_exit_status_reset(reboot, reason);

	switch (r->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
	case KVM_SYSTEM_EVENT_RESET:
		if (code == LKVM_EXIT_SYSFAIL) {
			pr_info("guest reported a system failure (SBI SRST %s): exiting with status %d",
				reboot ? "reboot" : "shutdown", code);
		} else if (reboot && v->m->cfg->no_reboot) {
			pr_info("guest asked for a reboot: exiting with status %d (--no-reboot)",
				code);
		} else if (reboot) {
			pr_info("guest asked for a reboot: rebooting");
			code = VM_REBOOT;
		}
		machine_stop(v->m, code);
		break;
	default:
		pr_err("vcpu%u: guest system event %u: stopping", v->id,
		       r->system_event.type);
		machine_stop(v->m, LKVM_EXIT_ERROR);
	}
}

/* Handle one exit; false when the VM must stop. */
static bool vcpu_exit(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	machine_drain_coalesced(v->m);
	switch (r->exit_reason) {
	case KVM_EXIT_MMIO:
		vcpu_mmio(v);
		return true;
	case KVM_EXIT_RISCV_SBI:
		vcpu_sbi(v);
		return true;
	case KVM_EXIT_RISCV_CSR:
		vcpu_csr(v);
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_system_event(v);
		return false;
	case KVM_EXIT_INTR:
		return true;
	default:
		pr_err("vcpu%u: unexpected exit reason %u: stopping the VM",
		       v->id, r->exit_reason);
		machine_stop(v->m, LKVM_EXIT_ERROR);
		return false;
	}
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static enum vcpu_exit_kind vcpu_sbi_kind(const struct kvm_run *r)
{
	if (r->riscv_sbi.extension_id == SBI_EXT_0_1_CONSOLE_PUTCHAR)
		return VEXIT_SBI_PUTCHAR;
	if (r->riscv_sbi.extension_id == SBI_EXT_DBCN)
		return VEXIT_SBI_DBCN;
	return VEXIT_SBI_OTHER;
}

/* Count the exit just handled, which took ns to handle (0: not timed). */
static void vcpu_account(struct vcpu *v, uint64_t ns)
{
	const struct kvm_run *r = v->run;
	struct vcpu_stats *s = &v->stats;
	const struct mmio_region *reg;
	enum vcpu_exit_kind k;
	unsigned int i;

	switch (r->exit_reason) {
	case KVM_EXIT_MMIO:
		reg = mmio_find(&v->m->bus, r->mmio.phys_addr);
		i = reg ? (unsigned int)(reg - v->m->bus.r) : MMIO_MAX_REGIONS;
		stat_add(r->mmio.is_write ? &s->mmio_wr[i] : &s->mmio_rd[i], 1);
		stat_add(&s->mmio_ns[i], ns);
		return;
	case KVM_EXIT_RISCV_SBI:
		k = vcpu_sbi_kind(r);
		break;
	case KVM_EXIT_RISCV_CSR:
		k = VEXIT_CSR;
		break;
	case KVM_EXIT_INTR:
		k = VEXIT_INTR;
		break;
	default:
		k = VEXIT_OTHER;
	}
	stat_add(&s->n[k], 1);
	stat_add(&s->ns[k], ns);
}

/* vcpu_stats summed over the vCPUs, read once. */
struct vcpu_totals {
	uint64_t mmio_rd[MMIO_MAX_REGIONS + 1];
	uint64_t mmio_wr[MMIO_MAX_REGIONS + 1];
	uint64_t mmio_ns[MMIO_MAX_REGIONS + 1];
	uint64_t n[VEXIT_NR];
	uint64_t ns[VEXIT_NR];
};

/*
 * Where the guest's own page tables (its satp, read now) put pc, for the
 * crash line: a guest-physical address in RAM means KVM's report of a
 * fetch with no memory does not match the tables (seen once under nested
 * QEMU TCG, early in an L2 kernel's boot, before its earlycon); outside
 * RAM or unmapped, the guest jumped there itself. Empty when satp is
 * unreadable.
 */
static void vcpu_fetch_where(struct vcpu *v, uint64_t pc, char *buf, size_t len)
{
	uint64_t satp, gpa = 0;
	int ret;

	buf[0] = 0;
	if (riscv_get_reg(v->fd, RISCV_CSR_REG(satp), &satp))
		return;
	ret = riscv_pgwalk(&v->m->mem, satp, pc, &gpa);
	if (ret == -EINVAL)
		snprintf(buf, len, "; satp 0x%llx: a mode lkvm cannot walk",
			 (unsigned long long)satp);
	else if (ret == -EFAULT)
		snprintf(
			buf, len,
			"; satp 0x%llx: its page tables lead outside RAM, to 0x%llx",
			(unsigned long long)satp, (unsigned long long)gpa);
	else if (ret)
		snprintf(buf, len,
			 "; satp 0x%llx: its page tables do not map it",
			 (unsigned long long)satp);
	else
		snprintf(
			buf, len, "; satp 0x%llx%s: guest-physical 0x%llx, %s",
			(unsigned long long)satp,
			satp >> 60 ? "" : " (paging off)",
			(unsigned long long)gpa,
			gmem_valid(&v->m->mem, gpa, 2)
				? "in RAM: KVM's fault does not match the guest's tables"
				: "outside RAM");
}

/*
 * KVM_RUN failed with err: one line. EOPNOTSUPP is KVM giving up on a
 * guest instruction fetch from a guest-physical address with no memslot
 * (Linux 6.12, arch/riscv/kvm/vcpu_exit.c: gstage_page_fault(); later
 * kernels raise an instruction access fault in the guest instead): the
 * guest jumped where it has no memory, typically to a trap vector it never
 * set (0) after an early fault. KVM leaves pc at the fetch address.
 */
static void vcpu_run_failed(struct vcpu *v, int err)
{
	const struct vm_custom_id *vid = &v->m->cfg->mvendorid;
	uint64_t pc = 0;
	char where[160];

	if (err != EOPNOTSUPP ||
	    riscv_get_reg(v->fd, RISCV_CORE_REG(regs.pc), &pc)) {
		pr_err("vcpu%u: KVM_RUN: %s", v->id, strerror(err));
		return;
	}
	vcpu_fetch_where(v, pc, where, sizeof(where));
	pr_err("vcpu%u: the guest crashed: it fetched an instruction at 0x%llx, where it has no memory (KVM_RUN: %s)%s%s",
	       v->id, (unsigned long long)pc, strerror(err), where,
	       vid->set
		       ? "; with --custom-mvendorid a Linux guest applies that vendor's errata, which this CPU may lack"
		       : "");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct machine *m = v->m;
	bool timed = m->cfg->stats, more;
	sigset_t kick;
	uint64_t t = 0;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	seccomp_thread_start(SECCOMP_THREAD_VCPU, name);
	sigemptyset(&kick);
	sigaddset(&kick, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	while (!atomic_load(&m->stopping)) {
		if (v->id == 0 && !atomic_exchange(&m->first_run, 1) &&
		    (m->cfg->debug || m->cfg->stats))
			pr_info("start-up: %.1f ms from lkvm run to the first KVM_RUN",
				machine_elapsed_ms(m));
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vcpu_run_failed(v, errno);
			machine_stop(m, LKVM_EXIT_ERROR);
			break;
		}
		if (timed)
			t = now_ns();
		more = vcpu_exit(v);
		vcpu_account(v, timed ? now_ns() - t : 0);
		if (!more)
			break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *v)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int ret;

	/* No SA_RESTART: the kick must interrupt KVM_RUN. */
	sigaction(SIG_KICK, &sa, NULL);
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (ret) {
		pr_err("cannot start vCPU %u's thread: %s", v->id,
		       strerror(ret));
		return -1;
	}
	v->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	v->run->immediate_exit = 1;
	if (v->thread_started)
		pthread_kill(v->thread, SIG_KICK);
}

static uint64_t ld(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The vCPUs' counters summed, in plain integers. */
static void vcpu_stats_sum(const struct machine *m, struct vcpu_totals *t)
{
	const struct vcpu_stats *s;
	unsigned int i, k;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < m->nr_vcpus; i++) {
		s = &m->vcpus[i].stats;
		for (k = 0; k <= MMIO_MAX_REGIONS; k++) {
			t->mmio_rd[k] += ld(&s->mmio_rd[k]);
			t->mmio_wr[k] += ld(&s->mmio_wr[k]);
			t->mmio_ns[k] += ld(&s->mmio_ns[k]);
		}
		for (k = 0; k < VEXIT_NR; k++) {
			t->n[k] += ld(&s->n[k]);
			t->ns[k] += ld(&s->ns[k]);
		}
	}
}

void vcpu_stats_print(const struct machine *m)
{
	static const char *const kind[VEXIT_NR] = {
		[VEXIT_SBI_PUTCHAR] = "sbi putchar",
		[VEXIT_SBI_DBCN] = "sbi dbcn",
		[VEXIT_SBI_OTHER] = "sbi other",
		[VEXIT_CSR] = "csr",
		[VEXIT_INTR] = "intr",
		[VEXIT_OTHER] = "other",
	};
	struct vcpu_totals t;
	uint64_t total = 0, total_ns = 0;
	char line[2048];
	size_t len = 0;
	unsigned int i;

	vcpu_stats_sum(m, &t);
	line[0] = 0;
	for (i = 0; i <= MMIO_MAX_REGIONS; i++) {
		if (i >= m->bus.nr && i < MMIO_MAX_REGIONS)
			continue;
		total += t.mmio_rd[i] + t.mmio_wr[i];
		total_ns += t.mmio_ns[i];
		if ((t.mmio_rd[i] || t.mmio_wr[i]) && len < sizeof(line))
			len += (size_t)snprintf(
				line + len, sizeof(line) - len,
				", mmio %s r %llu w %llu (%.1f ms)",
				i < m->bus.nr ? m->bus.r[i].name : "none",
				(unsigned long long)t.mmio_rd[i],
				(unsigned long long)t.mmio_wr[i],
				(double)t.mmio_ns[i] / 1e6);
	}
	for (i = 0; i < VEXIT_NR; i++) {
		total += t.n[i];
		total_ns += t.ns[i];
		if (t.n[i] && len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						", %s %llu (%.1f ms)", kind[i],
						(unsigned long long)t.n[i],
						(double)t.ns[i] / 1e6);
	}
	pr_info("stats: exits %llu, handled in lkvm in %.1f ms%s",
		(unsigned long long)total, (double)total_ns / 1e6, line);
}

/* KVM's own counters of a vCPU (KVM_GET_STATS_FD, Linux 5.14+). */
static const char *const kvm_stat_names[] = {
	"exits",	   "mmio_exit_user", "mmio_exit_kernel",
	"ecall_exit_stat", "wfi_exit_stat",  "csr_exit_user",
	"csr_exit_kernel", "signal_exits",
};
#define KVM_NR_STATS ARRAY_SIZE(kvm_stat_names)

/* Add the first value of each named counter of fd's vCPU to sum. */
static bool kvm_stats_add(int fd, uint64_t sum[KVM_NR_STATS])
{
	struct kvm_stats_header h;
	struct kvm_stats_desc d;
	size_t dsize, i, k;
	uint8_t *descs;
	uint64_t v;
	bool ok = false;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.num_desc > 4096 || !h.name_size || h.name_size > 4096)
		return false;
	dsize = sizeof(d) + h.name_size;
	descs = calloc(h.num_desc, dsize);
	if (!descs)
		return false;
	if (pread(fd, descs, h.num_desc * dsize, h.desc_offset) !=
	    (ssize_t)(h.num_desc * dsize))
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		/* descriptors are not 8-byte aligned: copy the fixed part */
		const char *name = (const char *)descs + i * dsize + sizeof(d);

		memcpy(&d, descs + i * dsize, sizeof(d));
		for (k = 0; k < KVM_NR_STATS; k++)
			if (!strncmp(name, kvm_stat_names[k], h.name_size) &&
			    pread(fd, &v, sizeof(v),
				  h.data_offset + d.offset) ==
				    (ssize_t)sizeof(v))
				sum[k] += v;
	}
	ok = true;
out:
	free(descs);
	return ok;
}

void vcpu_kvm_stats_print(const struct machine *m)
{
	uint64_t s[KVM_NR_STATS] = { 0 }, known = 0;
	unsigned int i;

	/* reading a stats fd needs no vCPU lock: vCPUs may still run */
	for (i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i].stats_fd < 0 ||
		    !kvm_stats_add(m->vcpus[i].stats_fd, s))
			return;
	for (i = 1; i < KVM_NR_STATS; i++)
		known += s[i];
	pr_info("stats: kvm counted %llu guest exits: mmio %llu to lkvm, %llu in the kernel; sbi %llu to lkvm; csr %llu to lkvm, %llu in the kernel; wfi %llu; signals %llu; the other %llu (stage-2 faults, interrupts, SBI in the kernel)",
		(unsigned long long)s[0], (unsigned long long)s[1],
		(unsigned long long)s[2], (unsigned long long)s[3],
		(unsigned long long)s[5], (unsigned long long)s[6],
		(unsigned long long)s[4], (unsigned long long)s[7],
		(unsigned long long)(s[0] > known ? s[0] - known : 0));
}
