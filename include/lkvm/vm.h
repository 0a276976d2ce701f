/* SPDX-License-Identifier: GPL-2.0-only */
/* What `lkvm run` was asked to do, and the guest memory map. */
#ifndef LKVM_VM_H
#define LKVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lkvm/net.h"

/* Limits of -m (MiB) and -c. */
#define VM_MEM_MIN_MIB 16
#define VM_MEM_MAX_MIB (1ULL << 24) /* 16 TiB */
#define VM_MAX_CPUS 512
/* -c above VM_MAX_CPUS (up to this) is clamped with a warning, as kvmtool
 * does: scripts pass the host's CPU count. */
#define VM_CPUS_ARG_MAX 65536

/*
 * Exit statuses of `lkvm run`. The test finisher's fail with code N exits
 * with N (1-255; 255 above it, LKVM_EXIT_SYSFAIL for code 0); 128+N is a
 * signal N, 159 a denied syscall (seccomp).
 */
#define LKVM_EXIT_SHUTDOWN 0 /* the guest powered off */
#define LKVM_EXIT_ERROR 1 /* bad options, set-up or a fatal VM error */
#define LKVM_EXIT_REBOOT 2 /* a reboot with --no-reboot; the finisher's */
#define LKVM_EXIT_SYSFAIL 3 /* SBI SRST with reason SYSTEM_FAILURE */
#define LKVM_EXIT_PANIC 4 /* the guest kernel panicked (pvpanic) */
#define LKVM_EXIT_TIMEOUT 124 /* --timeout ran out, as timeout(1) */

#define VM_MAX_DISKS 16
#define VM_MAX_NICS 8
#define VM_MAX_9P 8
/* The longest virtio-9p mount tag, as virtio-devs.h's P9_TAG_MAX. */
#define VM_9P_TAG_MAX 64
/* kvmtool's default tag for --9p DIR, and the tag of a 9p root. */
#define VM_9P_DEFAULT_TAG "kvm_9p"
#define VM_9P_ROOT_TAG "/dev/root"
/*
 * Mount options of lkvm's own 9p mounts: a 9p root's rootflags= and the
 * shares `lkvm sandbox` mounts read-write. cache=mmap: file data goes
 * through the guest's page cache in msize-sized requests (cache=none, the
 * mount's default, sends a page per round trip), metadata is asked of the
 * server at each use (host changes are seen), and shared writable mmap
 * works (cache=none allows read-only mappings only).
 */
#define VM_9P_MOUNT_OPTS "trans=virtio,version=9p2000.L,msize=512000,cache=mmap"
/*
 * The sandbox's root, the host's / read-only: cache=loose also keeps
 * names and attributes, so a path is looked up once, not at each use, at
 * the price of not seeing host changes made while the sandbox runs.
 */
#define VM_9P_MOUNT_OPTS_LOOSE \
	"trans=virtio,version=9p2000.L,msize=512000,cache=loose"

enum console_kind { CONSOLE_SERIAL, CONSOLE_HV, CONSOLE_VIRTIO };
enum io_engine_kind { IO_ENGINE_AIO, IO_ENGINE_THREADS };

/* -d PATH[,ro][,direct] */
struct disk_spec {
	char path[4096];
	bool ro, direct;
};
/* --9p DIR[,TAG][,ro] */
struct p9_spec {
	char path[4096];
	char tag[VM_9P_TAG_MAX + 1];
	bool ro;
};

enum irqchip_kind { IRQCHIP_PLIC, IRQCHIP_AIA, IRQCHIP_AUTO };
enum virtio_transport_kind { VIRTIO_TRANSPORT_PCI, VIRTIO_TRANSPORT_MMIO };
/* --aia-mode: KVM's default, or its EMUL / HWACCEL / AUTO mode */
enum aia_mode_kind {
	AIA_MODE_DEFAULT,
	AIA_MODE_EMUL,
	AIA_MODE_HWACCEL,
	AIA_MODE_AUTO
};

/* --panic: what a guest panic (pvpanic) does */
enum panic_action { PANIC_STOP, PANIC_CONTINUE };

/* --cpu-type: every extension KVM offers (max), or rv64imafdc and what
 * KVM cannot turn off (min) */
enum cpu_type_kind { CPU_TYPE_MAX, CPU_TYPE_MIN };

/* Extension names given to --disable-NAME or --disable-sbi-NAME: lower
 * case letters and digits, checked against KVM's names when the vCPUs are
 * made. Repeats are kept once. */
#define VM_EXT_NAME_MAX 24
#define VM_MAX_EXT_OFF 64
struct vm_ext_list {
	char name[VM_MAX_EXT_OFF][VM_EXT_NAME_MAX];
	unsigned int n;
};

/* --custom-mvendorid and friends: a CONFIG register's value, when set */
struct vm_custom_id {
	bool set;
	uint64_t val;
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *params;
	const char *name;
	const char *dump_dtb;
	const char *kvm_dev;
	uint64_t mem_mib;
	unsigned int nr_cpus;
	int console; /* enum console_kind */
	int irqchip; /* enum irqchip_kind */
	int transport; /* enum virtio_transport_kind */
	int aia_mode; /* enum aia_mode_kind */
	bool rng; /* virtio-rng */
	struct disk_spec disks[VM_MAX_DISKS];
	unsigned int nr_disks;
	struct net_spec nics[VM_MAX_NICS]; /* -n, in order; mode none skipped */
	unsigned int nr_nics;
	const char *passt; /* --passt: passt's path, NULL to search PATH */
	struct p9_spec shares[VM_MAX_9P]; /* --9p, and -d DIR */
	unsigned int nr_shares;
	bool no_ioeventfd; /* virtio notifications as MMIO exits */
	bool no_coalesced; /* every UART THR write exits */
	bool no_uart_image; /* every UART register read exits */
	bool hugetlb; /* guest RAM from the huge page pool */
	int io_engine; /* enum io_engine_kind */
	bool no_seccomp; /* run without the syscall filter */
	bool nodefaults; /* no kernel parameters of lkvm's own */
	int log_level; /* --loglevel: enum log_level, -1 when not given */
	unsigned int timeout_s; /* --timeout: 0 for none */
	int panic; /* enum panic_action */
	bool no_reboot; /* a guest's reboot ends lkvm (LKVM_EXIT_REBOOT) */
	int cpu_type; /* enum cpu_type_kind */
	struct vm_ext_list isa_off; /* --disable-NAME */
	struct vm_ext_list sbi_off; /* --disable-sbi-NAME */
	struct vm_custom_id mvendorid, marchid, mimpid;
	bool debug;
	bool stats; /* print start-up time and memory use */
	struct timespec t_start; /* CLOCK_MONOTONIC when `lkvm run` began */
};

/*
 * Parse `lkvm run` arguments into cfg (defaults filled in) and check what
 * can be checked without KVM: a kernel is given (-k, or the one positional
 * argument) and is a readable regular file (when it cannot be opened, the
 * line is kvmtool's "Fatal: Unable to open kernel NAME: reason"), an
 * initrd likewise, -c above VM_MAX_CPUS is clamped to it with a warning,
 * -n names no network but mode=none, -m fits in this host's memory, the irqchip
 * is implemented, the kernel command line (board_bootargs()) is shorter than
 * VM_BOOTARGS_MAX (a warning when Linux would cut it). --loglevel is
 * applied to the global log_level before the checks. Returns 0, 1
 * (OPTIONS_HELP: usage was printed to stdout) or -1 after printing one
 * error line.
 */
int run_parse_args(int argc, const char **argv, struct vm_config *cfg);

/*
 * The number of vCPUs to create for -c requested where KVM allows at most
 * kvm_max (0: unknown, no limit): requested, or kvm_max when it is lower.
 */
static inline unsigned int vm_cpus_clamp(unsigned int requested,
					 unsigned int kvm_max)
{
	return kvm_max && requested > kvm_max ? kvm_max : requested;
}

/* SBI SRST reset_reason SYSTEM_FAILURE (SBI 2.0, System Reset extension) */
#define SBI_SRST_REASON_SYSTEM_FAILURE 1

/*
 * The exit status for a guest's system reset: a shutdown or, with reboot,
 * a reboot request; reason is SRST's reset_reason (0 for the legacy SBI
 * shutdown, or when KVM passes none). SYSTEM_FAILURE gives
 * LKVM_EXIT_SYSFAIL either way (the guest says it failed); otherwise
 * LKVM_EXIT_REBOOT or LKVM_EXIT_SHUTDOWN. Other reasons (SBI or vendor
 * specific) count as no reason.
 */
static inline int vm_exit_status_reset(bool reboot, uint64_t reason)
{
	if (reason == SBI_SRST_REASON_SYSTEM_FAILURE)
		return LKVM_EXIT_SYSFAIL;
	return reboot ? LKVM_EXIT_REBOOT : LKVM_EXIT_SHUTDOWN;
}

/* Whether list holds name. */
bool vm_ext_listed(const struct vm_ext_list *list, const char *name);
/*
 * Parse one --9p argument, DIR[,TAG][,ro] (a word "ro" or "rw" is the
 * flag, another the tag; VM_9P_DEFAULT_TAG without one), into spec. DIR
 * must be a directory. Returns 0 or -EINVAL with a message.
 */
int run_parse_9p(const char *arg, struct p9_spec *spec, char *err,
		 size_t errlen);
/* The share whose tag is VM_9P_ROOT_TAG (the guest's root), or NULL. */
const struct p9_spec *vm_9p_root(const struct vm_config *cfg);

/* Parse one -d argument into spec. Returns 0 or -EINVAL with a message. */
int run_parse_disk(const char *arg, struct disk_spec *spec, char *err,
		   size_t errlen);

/* The longest kernel command line lkvm passes, with its NUL: the size of
 * the bootargs buffer the device tree is built from. */
#define VM_BOOTARGS_MAX 4096
/* COMMAND_LINE_SIZE of Linux on RISC-V (arch/riscv/include/uapi/asm/
 * setup.h, 6.1 and 6.12): the kernel keeps one byte less of bootargs. */
#define VM_LINUX_CMDLINE_SIZE 1024

/*
 * Build and run the VM until the guest shuts down, reboots, or lkvm is
 * told to stop. Returns an LKVM_EXIT_* status.
 */
int vm_run(const struct vm_config *cfg);

#endif
