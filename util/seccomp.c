// SPDX-License-Identifier: GPL-2.0-only
/* The seccomp-bpf allowlists of `lkvm run`: the process and each thread kind. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/prctl.h>

#include "lkvm/log.h"
#include "lkvm/seccomp.h"

/* The kernel's name of a thread other than the main one (ps -T, top -H,
 * /proc/PID/task/TID/comm): "lkvm-" and name, 15 characters at most. The
 * main thread keeps the process's name. */
static void thread_set_comm(enum seccomp_thread kind, const char *name)
{
	char comm[16];

	if (kind == SECCOMP_THREAD_MAIN)
		return;
	snprintf(comm, sizeof(comm), "lkvm-%s", name);
	prctl(PR_SET_NAME, comm);
}

#ifdef HAVE_SECCOMP

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>

#include "lkvm/compiler.h"

/* si_code of a seccomp SIGSYS (asm-generic/siginfo.h, which clashes
 * with glibc's signal.h) */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* Thread kinds as rule masks. */
#define T_MAIN (1u << SECCOMP_THREAD_MAIN)
#define T_VCPU (1u << SECCOMP_THREAD_VCPU)
#define T_IO (1u << SECCOMP_THREAD_IO)
#define T_INPUT (1u << SECCOMP_THREAD_INPUT)
#define T_CONSOLE (1u << SECCOMP_THREAD_CONSOLE)
#define T_DISK (1u << SECCOMP_THREAD_DISK)
#define T_NET (1u << SECCOMP_THREAD_NET)
#define T_FS (1u << SECCOMP_THREAD_FS)
#define T_ALL ((1u << SECCOMP_THREAD_NR) - 1)
/* threads that run device code, which raises interrupts */
#define T_DEV (T_MAIN | T_VCPU | T_IO | T_INPUT | T_DISK | T_NET | T_FS)
/* threads that change the 8250's state: its register image and the
 * coalesced zone of THR follow it (teardown drains the ring: main) */
#define T_UART (T_MAIN | T_VCPU | T_INPUT)
/* only in the process filter: what a new thread does before it puts on
 * its own filter, and what the main thread does before it puts on its */
#define T_START 0u

/*
 * One allowlist entry. A syscall this architecture does not have (poll on
 * riscv64, ppoll's twin on x86_64) is skipped. Rules for the same syscall
 * combine as a union; every argument condition of one rule must hold.
 */
struct sc_rule {
	const char *name;
	unsigned int threads; /* T_* mask; T_START: the process filter only */
	int err; /* non-zero: fail with this errno instead of allowing */
	bool own_pid; /* argument 0 must be lkvm's pid */
	bool thread_only; /* in the kinds' own filters, not the process's */
	unsigned int nr_args;
	struct scmp_arg_cmp args[2];
	const char *why;
};

#define SC_EQ(i, v)                                           \
	{                                                     \
		.arg = (i), .op = SCMP_CMP_EQ, .datum_a = (v) \
	}
#define SC_MASK(i, m, v)                                              \
	{                                                             \
		.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (m), \
		.datum_b = (v)                                        \
	}
#define RULE(n, t, w)                                   \
	{                                               \
		.name = (n), .threads = (t), .why = (w) \
	}
#define RULE_ARG(n, t, a, w)                                              \
	{                                                                 \
		.name = (n), .threads = (t), .nr_args = 1, .args = { a }, \
		.why = (w)                                                \
	}
/* The kernel reads an ioctl request as 32 bits: compare those. */
#define RULE_IOCTL(req, t, w) \
	RULE_ARG("ioctl", t, SC_MASK(1, 0xffffffffu, (req)), #req ": " w)
/* No new executable memory: prot (argument 2) without PROT_EXEC. */
#define NO_EXEC SC_MASK(2, PROT_EXEC, 0)
/* Opened read-only, never created or truncated (openat's flags). */
#define READ_ONLY SC_MASK(2, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY)

/*
 * Not in any list, so denied: execve, fork (clone without CLONE_THREAD),
 * socket and the other network calls, ptrace, process_vm_*, kill of other
 * processes, opening files for writing, executable mappings, mount,
 * bpf, io_uring, userfaultfd, and everything else.
 */
static const struct sc_rule sc_rules[] = {
	/* every thread */
	RULE("futex", T_ALL, "mutexes, condition variables, pthread_join"),
	RULE("write", T_ALL,
	     "log lines to stderr, console output, eventfd signals (irqfds, stop, wake-ups)"),
	RULE("exit", T_ALL, "a thread returning from its function"),
	RULE("exit_group", T_ALL, "exit(), and the SIGSYS handler's exit"),
	RULE("rt_sigreturn", T_ALL,
	     "back from a signal handler (the vCPU kick)"),
	RULE("rt_sigprocmask", T_ALL,
	     "glibc masks signals in pthread_kill, abort and thread exit; vCPUs unmask the kick"),
	RULE_ARG(
		"mmap", T_ALL, NO_EXEC,
		"malloc's arenas and large blocks, thread stacks: never executable"),
	RULE_ARG("mprotect", T_ALL, NO_EXEC,
		 "malloc grows its arenas, stack guards: never executable"),
	RULE("munmap", T_ALL, "free() of large blocks, joined threads' stacks"),
	RULE("mremap", T_ALL, "realloc() of large blocks"),
	RULE("madvise", T_ALL,
	     "malloc trims its arenas; an exiting thread drops its stack pages"),
	RULE("brk", T_ALL, "malloc's main arena"),
	RULE("sched_getaffinity", T_ALL,
	     "malloc counts the CPUs once a ninth thread needs an arena"),
	RULE("clock_gettime", T_ALL,
	     "timestamps (--stats, the console's deadline, rate limits) when the vDSO falls back"),
	RULE("getpid", T_ALL,
	     "glibc's pthread_kill and abort name the process"),
	RULE("gettid", T_ALL, "glibc's raise and abort name the thread itself"),
	{ .name = "tgkill",
	  .threads = T_ALL,
	  .own_pid = true,
	  .why = "signals to lkvm's own threads only: the vCPU kick, abort()" },
	RULE_IOCTL(
		TCSETS, T_ALL,
		"the terminal put back: at exit, and by the SIGSYS handler on any thread"),
	RULE_IOCTL(
		TCGETS, T_ALL,
		"glibc's tcsetattr reads the mode back; isatty(stdin) in the input thread"),

	/* threads that run devices */
	RULE_IOCTL(KVM_IRQ_LINE, T_DEV,
		   "a wired interrupt to the in-kernel APLIC"),
	RULE_IOCTL(KVM_INTERRUPT, T_DEV,
		   "the userspace PLIC drives a hart's external interrupt"),
	RULE_IOCTL(KVM_SET_USER_MEMORY_REGION, T_UART,
		   "the 8250's read-only register image mapped and unmapped"),
	RULE_IOCTL(KVM_REGISTER_COALESCED_MMIO, T_UART,
		   "THR writes batched again once the guest turns ETBEI off"),
	RULE_IOCTL(
		KVM_UNREGISTER_COALESCED_MMIO, T_UART,
		"THR writes exit at once while the guest waits for THRE interrupts"),

	/* vCPU threads; with --no-ioeventfd they run queue work too */
	RULE_IOCTL(KVM_RUN, T_VCPU, "run the guest"),
	RULE_IOCTL(KVM_GET_ONE_REG, T_VCPU,
		   "a CSR exit reads the guest's trap state"),
	RULE_IOCTL(
		KVM_SET_ONE_REG, T_VCPU,
		"a CSR exit raises an illegal-instruction trap; boot registers"),
	RULE_IOCTL(KVM_IOEVENTFD, T_VCPU,
		   "the guest moved a virtio-pci BAR: its doorbells follow"),
	RULE_IOCTL(KVM_SET_GSI_ROUTING, T_VCPU,
		   "the guest wrote an MSI-X table entry"),
	RULE("io_submit", T_VCPU | T_IO, "virtio-blk reads and writes to AIO"),
	RULE("getrandom", T_VCPU | T_IO,
	     "virtio-rng fills the guest's buffers"),

	/* threads that wait on file descriptors */
	RULE("read",
	     T_MAIN | T_IO | T_INPUT | T_CONSOLE | T_DISK | T_NET | T_FS,
	     "eventfds, the signalfd, stdin; frames from a tap or passt; 9p: its doorbell's eventfd"),
	RULE("ppoll", T_MAIN | T_IO | T_INPUT | T_CONSOLE | T_NET,
	     "poll() on riscv64: eventfds, stdin, stdout, a NIC's backend"),
	RULE("poll", T_MAIN | T_IO | T_INPUT | T_CONSOLE | T_NET,
	     "poll() on x86_64 (unit tests)"),

	/* NIC threads */
	RULE("writev", T_NET, "a frame to a tap, header and data gathered"),
	/* vhost=1: the driver's DRIVER_OK (a vCPU) or reset (a vCPU, or
	 * the main thread's teardown) hands the rings to vhost and back */
	RULE_IOCTL(VHOST_SET_FEATURES, T_VCPU, "the negotiated features"),
	RULE_IOCTL(VHOST_SET_VRING_NUM, T_VCPU, "a ring's size"),
	RULE_IOCTL(VHOST_SET_VRING_BASE, T_VCPU, "a ring's first index"),
	RULE_IOCTL(VHOST_SET_VRING_ADDR, T_VCPU, "a ring's host addresses"),
	RULE_IOCTL(VHOST_SET_VRING_KICK, T_VCPU, "a ring's doorbell eventfd"),
	RULE_IOCTL(VHOST_SET_VRING_CALL, T_VCPU, "a ring's interrupt eventfd"),
	RULE_IOCTL(VHOST_NET_SET_BACKEND, T_VCPU | T_MAIN,
		   "the tap attached at DRIVER_OK, detached at a reset"),
	RULE("sendto", T_NET,
	     "frames to passt's socket with MSG_NOSIGNAL (send())"),
	/* -n mode=user,vhost=1: the same hand-over as vhost-net's, as
	 * vhost-user requests on passt's socket */
	RULE("sendmsg", T_VCPU | T_MAIN,
	     "vhost-user requests to passt, eventfds attached (DRIVER_OK, reset, MSI-X)"),
	RULE("recvfrom", T_VCPU | T_MAIN, "vhost-user replies from passt"),
	RULE_IOCTL(
		TUNSETQUEUE, T_NET | T_VCPU,
		"mq=N: the tap queues of the pairs in use (DRIVER_OK, VQ_PAIRS_SET)"),
	RULE_IOCTL(TUNSETOFFLOAD, T_NET | T_VCPU,
		   "the tap's offloads follow what the guest negotiated"),

	/* the console output thread and the main thread */
	RULE_ARG("fcntl", T_MAIN | T_CONSOLE, SC_EQ(1, F_GETFL),
		 "stdout's flags, to make it non-blocking and back"),
	RULE_ARG(
		"fcntl", T_MAIN | T_CONSOLE, SC_EQ(1, F_SETFL),
		"stdout non-blocking for the console thread, blocking again at exit"),

	/* disk threads: workers and the AIO completion thread */
	RULE("preadv", T_DISK, "virtio-blk reads, AIO's short reads finished"),
	RULE("pwritev", T_DISK,
	     "virtio-blk writes, AIO's short writes finished"),
	RULE("pwritev2", T_DISK, "write-through disks: RWF_DSYNC writes"),
	RULE("fdatasync", T_DISK, "virtio-blk flush"),
	RULE("pwrite64", T_DISK, "qcow2: data clusters and tables"),
	RULE("fallocate", T_DISK,
	     "virtio-blk discard (punch hole) and write zeroes"),
	RULE("io_getevents", T_DISK, "AIO completions"),
	RULE("io_pgetevents", T_DISK, "AIO completions (newer libaio)"),

	/* virtio-9p's server (only with a share, seccomp_thread_kind_enable):
	 * each call on descriptors beneath a share, see virtio/9p-server.c */
	RULE("openat", T_FS,
	     "9p: files re-opened through /proc/self/fd/N (their own inode)"),
	RULE("openat2", T_FS,
	     "9p: walks and creates, one component beneath a directory fid"),
	RULE("close", T_FS, "9p: clunked fids"),
	RULE("fcntl", T_FS, "9p: fids duplicated, open flags, OFD locks"),
	RULE("newfstatat", T_FS, "9p: getattr and qids (fstatat, fstat)"),
	RULE("fstat", T_FS, "9p: a created file's qid"),
	RULE("statx", T_FS, "9p: fstatat where glibc uses statx"),
	RULE("fstatfs", T_FS,
	     "9p: statfs, and the file system type a walk enters"),
	RULE("getdents64", T_FS, "9p: readdir, many entries a call"),
	RULE("lseek", T_FS, "9p: readdir at an offset"),
	RULE("preadv", T_FS, "9p: reads straight into guest buffers"),
	RULE("pwritev", T_FS, "9p: writes straight from guest buffers"),
	RULE("ftruncate", T_FS, "9p: setattr size"),
	RULE("fsync", T_FS, "9p: fsync"),
	RULE("fdatasync", T_FS, "9p: fsync with datasync"),
	RULE("mkdirat", T_FS, "9p: mkdir"),
	RULE("mknodat", T_FS, "9p: mknod (fifos and sockets only)"),
	RULE("symlinkat", T_FS, "9p: symlink"),
	RULE("linkat", T_FS, "9p: link"),
	RULE("renameat", T_FS, "9p: renameat (x86_64)"),
	RULE("renameat2", T_FS, "9p: renameat (riscv64 has only renameat2)"),
	RULE("unlinkat", T_FS, "9p: unlinkat"),
	RULE("readlinkat", T_FS, "9p: readlink"),
	RULE("fchownat", T_FS, "9p: setattr uid/gid, new files' owner"),
	RULE("fchown", T_FS, "9p: a created file's owner (lkvm as root)"),
	RULE("fchmodat", T_FS, "9p: setattr mode, a create's exact mode"),
	RULE("utimensat", T_FS, "9p: setattr times"),
	RULE("getxattr", T_FS, "9p: xattrwalk"),
	RULE("listxattr", T_FS, "9p: xattrwalk of every name"),
	RULE("setxattr", T_FS, "9p: xattrcreate committed at clunk"),
	RULE("removexattr", T_FS, "9p: xattrcreate of an empty value"),

	/* the main thread once the vCPUs run */
	RULE_ARG("openat", T_MAIN, READ_ONLY,
		 "--stats reads /proc/self/status at exit: read-only"),
	/* glibc's free() reads /proc/sys/vm/overcommit_memory the first time
	 * a thread's arena shrinks, on whichever thread that is, and copes
	 * when it cannot: any other thread's open fails (the process filter
	 * still stops an open for writing) */
	{ .name = "openat",
	  .threads = T_ALL & ~T_MAIN & ~T_FS,
	  .err = EACCES,
	  .thread_only = true,
	  .why = "fails: glibc's malloc probes a /proc file once, on any thread" },
	RULE("close", T_MAIN, "teardown closes what set-up opened"),
	RULE("fstat", T_MAIN, "stdio sizes its buffer (--stats)"),
	RULE("newfstatat", T_MAIN, "fstat() in glibc (--stats)"),
	RULE("statx", T_MAIN | T_DISK,
	     "fstat() where glibc uses statx; a disk's O_DIRECT alignment"),
	RULE("pread64", T_MAIN | T_DISK,
	     "--stats reads KVM's per-vCPU counters; qcow2 clusters and tables"),
	RULE("mincore", T_MAIN, "--stats counts guest RAM resident"),
	RULE("io_destroy", T_MAIN, "teardown of a disk's AIO context"),

	/* A reboot: the main thread builds the VM again (no --no-reboot, so
	 * it has no filter of its own). Only in the process filter, under
	 * the other threads' own filters, which lack them. */
	RULE_IOCTL(KVM_GET_API_VERSION, T_START, "reboot: checks /dev/kvm"),
	RULE_IOCTL(KVM_CHECK_EXTENSION, T_START, "reboot: KVM's capabilities"),
	RULE_IOCTL(KVM_GET_VCPU_MMAP_SIZE, T_START,
		   "reboot: the size of a vCPU's kvm_run"),
	RULE_IOCTL(KVM_CREATE_VM, T_START, "reboot: the new VM"),
	RULE_IOCTL(KVM_CREATE_VCPU, T_START, "reboot: its vCPUs"),
	RULE_IOCTL(KVM_GET_REG_LIST, T_START,
		   "reboot: the new vCPU's ISA and SBI extensions"),
	RULE_IOCTL(KVM_GET_STATS_FD, T_START, "reboot: --stats counters"),
	RULE_ARG("prctl", T_START, SC_EQ(0, PR_SET_NAME),
		 "a new thread names itself: lkvm-vcpu0, lkvm-net0 (ps -T)"),
	RULE_IOCTL(KVM_CREATE_DEVICE, T_START, "reboot: the in-kernel AIA"),
	RULE_IOCTL(KVM_SET_DEVICE_ATTR, T_START, "reboot: AIA configuration"),
	RULE_IOCTL(KVM_GET_DEVICE_ATTR, T_START, "reboot: AIA defaults"),
	RULE_IOCTL(
		KVM_IRQFD, T_START,
		"reboot: MSI-X vectors' irqfds, and their removal from a kept VM"),
	RULE_IOCTL(
		KVM_ENABLE_CAP, T_START,
		"reboot: the new VM's vCPU reset (KVM_CAP_RISCV_MP_STATE_RESET)"),
	RULE_IOCTL(KVM_SET_MP_STATE, T_START,
		   "reboot: KVM resets each vCPU of the kept VM (Linux 6.16+)"),
	RULE("eventfd2", T_START, "reboot: irqfds, doorbells, the stop fd"),
	RULE("getdents64", T_START,
	     "reboot: --stats counts the fds in /proc/self/fd"),
	RULE("getsockopt", T_START,
	     "reboot: vhost-user again: the socket's type"),
	RULE("setsockopt", T_START,
	     "reboot: vhost-user again: the socket's timeouts"),

	/* thread start-up: only in the process filter */
	RULE_ARG("clone", T_START, SC_MASK(0, CLONE_THREAD, CLONE_THREAD),
		 "pthread_create: threads only, no new processes"),
	{ .name = "clone3",
	  .threads = T_START,
	  .err = ENOSYS,
	  .why = "its flags are in memory, out of BPF's sight: ENOSYS sends glibc to clone" },
	RULE("set_robust_list", T_START, "a new thread's start in glibc"),
	RULE("rseq", T_START, "a new thread's start in glibc 2.35+"),
	RULE("rt_sigaction", T_START,
	     "the vCPU kick's handler, set as vCPUs start"),
	{ .name = "seccomp",
	  .threads = T_START,
	  .nr_args = 2,
	  .args = { SC_EQ(0, SECCOMP_SET_MODE_FILTER), SC_EQ(1, 0) },
	  .why = "a thread stacks its own filter on this one, never TSYNC" },
};

/*
 * Process-wide state, written once by seccomp_install() before the flag
 * is set (release) and read by the threads after they see it (acquire),
 * and by the SIGSYS handler, which may use nothing else.
 */
#define SC_MAX_NR 1024
static const char *sc_names[SC_MAX_NR];
static uint32_t sc_arch;
static struct sock_fprog sc_prog[SECCOMP_THREAD_NR];
static unsigned int sc_count[SECCOMP_THREAD_NR];
static atomic_bool sc_installed;
static char sc_selftest[16];

/* thread kinds that will run (T_FS only with a 9p share) */
static unsigned int sc_enabled = T_ALL & ~T_FS;

static __thread char sc_thread_name[16];
static __thread int sc_thread_kind = -1;
static __thread bool sc_thread_on;

bool seccomp_available(void)
{
	return true;
}

void seccomp_thread_kind_enable(enum seccomp_thread kind)
{
	sc_enabled |= 1u << kind;
}

const char *seccomp_syscall_name(int nr)
{
	return nr >= 0 && nr < SC_MAX_NR ? sc_names[nr] : NULL;
}

/* Append s to buf (of len, holding n bytes); async-signal-safe. */
static size_t sc_cat(char *buf, size_t n, size_t len, const char *s)
{
	while (*s && n < len)
		buf[n++] = *s++;
	return n;
}

static size_t sc_cat_num(char *buf, size_t n, size_t len, long v)
{
	char d[24];
	size_t i = sizeof(d) - 1;
	unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + u % 10);
	while ((u /= 10) && i > 1);
	if (v < 0)
		d[--i] = '-';
	return sc_cat(buf, n, len, d + i);
}

/* SIGSYS from a denied syscall: say which, put the terminal back, exit. */
static void sc_sigsys(int sig, siginfo_t *si, void *ctx)
{
	const char *name = NULL;
	char buf[200];
	size_t n;

	(void)sig;
	(void)ctx;
	if (si->si_code != SYS_SECCOMP) {
		n = sc_cat(buf, 0, sizeof(buf), "lkvm: SIGSYS: stopping\n");
	} else {
		if ((uint32_t)si->si_arch == sc_arch)
			name = seccomp_syscall_name(si->si_syscall);
		n = sc_cat(buf, 0, sizeof(buf),
			   "lkvm: seccomp: denied syscall ");
		n = sc_cat(buf, n, sizeof(buf), name ? name : "?");
		n = sc_cat(buf, n, sizeof(buf), " (");
		n = sc_cat_num(buf, n, sizeof(buf), si->si_syscall);
		n = sc_cat(buf, n, sizeof(buf), ") on thread ");
		n = sc_cat(buf, n, sizeof(buf),
			   sc_thread_name[0] ? sc_thread_name : "?");
		n = sc_cat(buf, n, sizeof(buf), ": stopping\n");
	}
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* nothing more to try */
	}
	if (log_die_hook)
		log_die_hook();
	/* the syscall itself: no exit hooks (a sanitizer's) may run here */
	syscall(SYS_exit_group, SECCOMP_EXIT_STATUS);
}

/* Add rule r to ctx; *added counts it. Returns 0 or -errno. */
static int sc_add(scmp_filter_ctx ctx, const struct sc_rule *r,
		  unsigned int *added)
{
	struct scmp_arg_cmp args[2];
	int nr = seccomp_syscall_resolve_name(r->name);
	unsigned int n = r->nr_args;

	if (nr < 0)
		return 0; /* not a syscall of this architecture */
	memcpy(args, r->args, sizeof(args));
	if (r->own_pid) {
		args[0] = (struct scmp_arg_cmp)SC_EQ(0, (uint64_t)getpid());
		n = n ? n : 1;
	}
	(*added)++;
	return seccomp_rule_add_array(
		ctx, r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW,
		nr, n, args);
}

/*
 * A filter of the rules for the thread kinds in mask, or with start the
 * process filter: every rule but the thread_only ones (also), SIGSYS for
 * the rest. NULL on failure (*err set).
 */
static scmp_filter_ctx sc_build(unsigned int mask, bool start,
				const char *const *also, unsigned int *added,
				int *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sc_rule extra = { .threads = T_ALL, .why = "asked for" };
	size_t i;

	*added = 0;
	*err = -ENOMEM;
	if (!ctx)
		return NULL;
	*err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	for (i = 0; i < ARRAY_SIZE(sc_rules) && !*err; i++)
		if (start ? !sc_rules[i].thread_only &&
				    (sc_rules[i].threads == T_START ||
				     sc_rules[i].threads & sc_enabled)
			  : (sc_rules[i].threads & mask) != 0)
			*err = sc_add(ctx, &sc_rules[i], added);
	for (i = 0; also && also[i] && !*err; i++) {
		extra.name = also[i];
		*err = sc_add(ctx, &extra, added);
	}
	/* KVM_RUN: the hottest syscall, checked first */
	if (!*err)
		*err = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	if (!*err)
		return ctx;
	seccomp_release(ctx);
	return NULL;
}

/* The BPF program of ctx, for a thread to load with one syscall (no
 * malloc, no libseccomp on that path). Returns 0 or -errno. */
static int sc_export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("lkvm-seccomp", MFD_CLOEXEC), ret;
	off_t size;
	void *buf = NULL;

	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	size = ret ? -1 : lseek(fd, 0, SEEK_END);
	ret = ret
		      ?: (size <= 0 || size % sizeof(struct sock_filter) ||
			  size / sizeof(struct sock_filter) > BPF_MAXINSNS)
			 ? -EINVAL
			 : 0;
	if (!ret) {
		buf = malloc((size_t)size);
		ret = !buf					? -ENOMEM
		      : pread(fd, buf, (size_t)size, 0) == size ? 0
								: -EIO;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	prog->len = (unsigned short)(size / sizeof(struct sock_filter));
	prog->filter = buf;
	return 0;
}

static void sc_names_fill(void)
{
	int i;

	sc_arch = seccomp_arch_native();
	for (i = 0; i < SC_MAX_NR; i++)
		if (!sc_names[i])
			sc_names[i] = seccomp_syscall_resolve_num_arch(
				SCMP_ARCH_NATIVE, i);
}

static void sc_set_name(const char *name)
{
	size_t n = strlen(name);

	if (n >= sizeof(sc_thread_name))
		n = sizeof(sc_thread_name) - 1;
	memcpy(sc_thread_name, name, n);
	sc_thread_name[n] = '\0';
}

/* The test hook: a call this thread's filters must deny. */
static void sc_selftest_run(bool process)
{
	long ret;

	if (process)
		ret = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	else
		ret = syscall(SYS_close, -1);
	pr_err("seccomp: self-test on thread %s: %s was not denied",
	       sc_thread_name, process ? "socket()" : "close()");
	if (ret >= 0 && process)
		close((int)ret);
}

/* Put this thread's own filter on, once the process filter is in place. */
static void sc_thread_apply(void)
{
	int kind = sc_thread_kind;

	if (sc_thread_on || kind < 0 ||
	    !atomic_load_explicit(&sc_installed, memory_order_acquire))
		return;
	sc_thread_on = true;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sc_prog[kind]))
		pr_warn("seccomp: thread %s: its own filter is not on (%s); the process filter is",
			sc_thread_name, strerror(errno));
	else if (sc_selftest[0] && !strcmp(sc_selftest, sc_thread_name))
		sc_selftest_run(false);
}

void seccomp_thread_start(enum seccomp_thread kind, const char *name)
{
	thread_set_comm(kind, name);
	sc_set_name(name);
	sc_thread_kind = kind;
	sc_thread_apply();
}

void seccomp_thread_update(void)
{
	if (!sc_thread_on)
		sc_thread_apply();
}

/* Each thread kind's program, made before any filter is on. */
static int sc_prepare_threads(const char *const *also)
{
	scmp_filter_ctx ctx;
	int k, ret;

	for (k = 0; k < SECCOMP_THREAD_NR; k++) {
		ctx = sc_build(1u << k, false, also, &sc_count[k], &ret);
		if (!ctx)
			return ret;
		ret = sc_export(ctx, &sc_prog[k]);
		seccomp_release(ctx);
		if (ret)
			return ret;
	}
	return 0;
}

static void sc_report(unsigned int total)
{
	static const char *const kind[SECCOMP_THREAD_NR] = {
		[SECCOMP_THREAD_MAIN] = "main",
		[SECCOMP_THREAD_VCPU] = "vcpu",
		[SECCOMP_THREAD_IO] = "io",
		[SECCOMP_THREAD_INPUT] = "input",
		[SECCOMP_THREAD_CONSOLE] = "console",
		[SECCOMP_THREAD_DISK] = "disk",
		[SECCOMP_THREAD_NET] = "net",
		[SECCOMP_THREAD_FS] = "9p",
	};
	char line[256];
	size_t n = 0;
	int k;

	line[0] = '\0';
	for (k = 0; k < SECCOMP_THREAD_NR && n < sizeof(line); k++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %u",
				      k ? ", " : "", kind[k], sc_count[k]);
	pr_info("seccomp: filter installed (%u rules); per thread: %s", total,
		line);
}

int seccomp_install(bool verbose)
{
	return seccomp_install_also(verbose, NULL);
}

int seccomp_install_also(bool verbose, const char *const *also)
{
	struct sigaction sa = { .sa_sigaction = sc_sigsys,
				.sa_flags = SA_SIGINFO };
	const char *st = getenv(SECCOMP_SELFTEST_ENV);
	scmp_filter_ctx ctx;
	unsigned int total;
	int ret;

	if (atomic_load(&sc_installed))
		return -EALREADY;
	if (!sc_thread_name[0])
		sc_set_name("main");
	if (st && *st)
		snprintf(sc_selftest, sizeof(sc_selftest), "%s",
			 strcmp(st, "1") ? st : "main");
	sc_names_fill();
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	ret = sc_prepare_threads(also);
	ctx = ret ? NULL : sc_build(T_ALL, true, also, &total, &ret);
	if (!ctx)
		return ret;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	ret = ret ?: seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return ret;
	atomic_store_explicit(&sc_installed, true, memory_order_release);
	if (verbose)
		sc_report(total);
	if (!strcmp(sc_selftest, sc_thread_name))
		sc_selftest_run(true);
	return (int)total;
}

int seccomp_check_rules(char *bad, size_t len)
{
	const struct sc_rule *r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sc_rules); i++) {
		r = &sc_rules[i];
		if (!r->why || !*r->why ||
		    (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64,
						       r->name) < 0 &&
		     seccomp_syscall_resolve_name_arch(SCMP_ARCH_RISCV64,
						       r->name) < 0)) {
			snprintf(bad, len, "%s", r->name);
			return -EINVAL;
		}
	}
	return (int)i;
}

#else /* !HAVE_SECCOMP */

int seccomp_check_rules(char *bad, size_t len)
{
	(void)bad;
	(void)len;
	return -ENOSYS;
}

bool seccomp_available(void)
{
	return false;
}

void seccomp_thread_kind_enable(enum seccomp_thread kind)
{
	(void)kind;
}

int seccomp_install(bool verbose)
{
	(void)verbose;
	return -ENOSYS;
}

int seccomp_install_also(bool verbose, const char *const *also)
{
	(void)verbose;
	(void)also;
	return -ENOSYS;
}

void seccomp_thread_start(enum seccomp_thread kind, const char *name)
{
	thread_set_comm(kind, name);
}

void seccomp_thread_update(void)
{
}

const char *seccomp_syscall_name(int nr)
{
	(void)nr;
	return NULL;
}

#endif

int seccomp_run_setup(bool on, bool verbose)
{
	int ret;

	if (!on) {
		if (verbose)
			pr_info("seccomp: off (--no-seccomp)");
		return 0;
	}
	if (!seccomp_available()) {
		pr_warn("seccomp: lkvm was built without libseccomp: running without a syscall filter (--no-seccomp silences this)");
		return 0;
	}
	ret = seccomp_install(verbose);
	if (ret >= 0)
		return 0;
	pr_err("seccomp: cannot install the syscall filter: %s (--no-seccomp runs without it)",
	       strerror(-ret));
	return -1;
}
