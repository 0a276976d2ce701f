/* SPDX-License-Identifier: GPL-2.0-only */
/* What `lkvm run` was asked to do, and the guest memory map. */
#ifndef LKVM_VM_H
#define LKVM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits of -m (MiB) and -c. */
#define VM_MEM_MIN_MIB 16
#define VM_MEM_MAX_MIB (1ULL << 24) /* 16 TiB */
#define VM_MAX_CPUS 512

/* Exit statuses of `lkvm run`. */
#define LKVM_EXIT_SHUTDOWN 0 /* the guest powered off */
#define LKVM_EXIT_ERROR 1 /* bad options, set-up or a fatal VM error */
#define LKVM_EXIT_REBOOT 2 /* the guest asked for a reboot */

#define VM_MAX_DISKS 16

enum console_kind { CONSOLE_SERIAL, CONSOLE_HV, CONSOLE_VIRTIO };
enum io_engine_kind { IO_ENGINE_AIO, IO_ENGINE_THREADS };

/* -d PATH[,ro][,direct] */
struct disk_spec {
	char path[4096];
	bool ro, direct;
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
	bool no_ioeventfd; /* virtio notifications as MMIO exits */
	bool no_coalesced; /* every UART THR write exits */
	bool no_uart_image; /* every UART register read exits */
	bool hugetlb; /* guest RAM from the huge page pool */
	int io_engine; /* enum io_engine_kind */
	bool no_seccomp; /* run without the syscall filter */
	bool debug;
	bool stats; /* print start-up time and memory use */
	struct timespec t_start; /* CLOCK_MONOTONIC when `lkvm run` began */
};

/*
 * Parse `lkvm run` arguments into cfg (defaults filled in) and check what
 * can be checked without KVM: a kernel is given and is a readable regular
 * file, an initrd likewise, -m fits in this host's memory, the irqchip
 * is implemented, the kernel command line (board_bootargs()) is shorter than
 * VM_BOOTARGS_MAX (a warning when Linux would cut it). Returns 0, 1
 * (OPTIONS_HELP: usage was printed to stdout) or -1 after printing one
 * error line.
 */
int run_parse_args(int argc, const char **argv, struct vm_config *cfg);

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
