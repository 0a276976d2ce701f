/* SPDX-License-Identifier: GPL-2.0-only */
/* The running VM shared by the machine set-up and the vCPU threads
 * (riscv64 hosts only). */
#ifndef LKVM_RISCV_MACHINE_H
#define LKVM_RISCV_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <linux/kvm.h>

#include "lkvm/boot.h"
#include "lkvm/console.h"
#include "lkvm/guest-mem.h"
#include "lkvm/kvm-caps.h"
#include "lkvm/log.h"
#include "lkvm/mmio.h"
#include "lkvm/msi-routes.h"
#include "lkvm/msix.h"
#include "lkvm/net.h"
#include "lkvm/pci.h"
#include "lkvm/sbi.h"
#include "lkvm/testdev.h"
#include "lkvm/uart.h"
#include "lkvm/virtio.h"
#include "lkvm/vm.h"
#include "riscv/board.h"
#include "riscv/memmap.h"

struct machine;
struct p9_server;
struct virtio_pci;

/* A virtio device as the machine serves it: its transport, its doorbells
 * (which KVM signals through the I/O thread's eventfds) and, on PCI with
 * the in-kernel AIA, its MSI vectors. */
struct vdev_slot {
	struct machine *m;
	struct virtio_dev *d;
	struct virtio_pci *vp; /* virtio-pci's function, NULL on virtio-mmio */
	unsigned int first_notify; /* its first queue's index in m->worker */
	bool own_notify; /* the device's notify_fd, not the I/O thread's */
	unsigned int nr_queues; /* doorbells KVM may signal, or 0 */
	/* where they decode while db_on: written at set-up (virtio-mmio) or
	 * by machine_doorbells() under the PCI bridge's cfg_lock, which
	 * serialises BAR moves (virtio-pci); no other thread reads them */
	struct virtio_doorbells db;
	bool db_on;
	unsigned int gsi; /* first MSI GSI; one per vector */
	int irqfd[MSIX_MAX_VECTORS]; /* eventfds KVM injects from */
	unsigned int nr_vec;
	/* vector v routed and unmasked (KVM injects from irqfd[v]); set
	 * under the MSI-X table lock, read with atomic loads */
	bool vec_live[MSIX_MAX_VECTORS];
	unsigned int wired_irq; /* virtio-mmio: its interrupt source */
	int wired_irqfd; /* virtio-mmio + AIA, vhost: KVM pulses wired_irq */
	/* a data path outside lkvm (vhost) follows the slot's irqfds: told
	 * when vec_live or a queue's vector changes; NULL: none */
	void (*irqfds_changed)(struct virtio_dev *d);
};

/* Exits by kind (--stats); the MMIO ones are per bus region. */
enum vcpu_exit_kind {
	VEXIT_SBI_PUTCHAR,
	VEXIT_SBI_DBCN,
	VEXIT_SBI_OTHER,
	VEXIT_CSR,
	VEXIT_INTR,
	VEXIT_OTHER,
	VEXIT_NR
};

/*
 * What a vCPU's exits cost in lkvm: counts and nanoseconds spent handling
 * them. Only the vCPU's thread adds (relaxed atomics: --stats reads them
 * while it may still run). mmio_* index MMIO regions; the last slot counts
 * accesses that hit no region.
 */
struct vcpu_stats {
	atomic_uint_fast64_t mmio_rd[MMIO_MAX_REGIONS + 1];
	atomic_uint_fast64_t mmio_wr[MMIO_MAX_REGIONS + 1];
	atomic_uint_fast64_t mmio_ns[MMIO_MAX_REGIONS + 1];
	atomic_uint_fast64_t n[VEXIT_NR];
	atomic_uint_fast64_t ns[VEXIT_NR];
};

struct vcpu {
	struct machine *m;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	bool dbcn; /* the guest has the SBI debug console */
	int stats_fd; /* KVM's counters (--stats), or -1 */
	struct vcpu_stats stats;
};

struct machine {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd;
	size_t run_size;
	struct kvm_caps caps;
	uint8_t *ram;
	uint64_t ram_size;
	/* ram_shared: RAM is the memfd ram_fd mapped MAP_SHARED (a vhost-user
	 * back end maps it too), else anonymous memory */
	bool ram_shared;
	int ram_fd;
	struct gmem mem;
	struct mmio_bus bus;
	struct plic *plic; /* the userspace PLIC, or NULL with AIA */
	bool aia; /* the in-kernel AIA is the irqchip */
	int aia_fd;
	unsigned int aia_ids; /* MSI IDs per IMSIC file */
	const char *aia_mode; /* "emul", "hwaccel" or "auto" */
	struct msi_routes routes; /* with AIA */
	bool routes_ready;
	struct pci_host *pci; /* --virtio-transport pci */
	/* KVM's coalesced MMIO ring: THR writes the guest makes while it
	 * polls the UART (ETBEI off) wait there instead of exiting */
	struct kvm_coalesced_mmio_ring *cring;
	unsigned int cring_max;
	pthread_mutex_t cring_lock; /* one drainer at a time, in order */
	pthread_mutex_t zone_lock; /* the zone's registration */
	bool zone_on;
	struct uart *uart;
	/* The UART's register image: its page, which KVM maps read-only
	 * over the UART while reads have no effect (see uart_backend) */
	uint8_t *uart_page;
	size_t uart_page_size;
	bool uart_page_mapped;
	bool uart_page_broken; /* mapping failed: reads keep exiting */
	unsigned long uart_page_maps, uart_page_unmaps;
	uint64_t uart_page_ns; /* spent changing the memslot */
	struct console con;
	struct sbi sbi;
	struct finisher finisher; /* the test devices (hw/testdev.c) */
	struct pvpanic pvpanic;
	struct board board; /* every device placed, for the device tree */
	struct vdev_slot vdev[VM_MAX_VIRTIO];
	unsigned int nr_vdev;
	struct virtio_dev *rng;
	struct virtio_dev *vcon; /* --console virtio */
	struct disk *disks[VM_MAX_DISKS]; /* the backends, raw for now */
	struct virtio_dev *blks[VM_MAX_DISKS];
	unsigned int nr_disks;
	/* -n: the backends (tap, passt), their devices, passt's pids */
	struct net_backend *net_be[VM_MAX_NICS];
	struct virtio_dev *nets[VM_MAX_NICS];
	struct net_vhost *net_vh[VM_MAX_NICS][NET_MAX_PAIRS]; /* vhost=1 */
	unsigned int net_pairs[VM_MAX_NICS]; /* queue pairs served */
	int passt_pid[VM_MAX_NICS];
	/* passt's vhost-user answered once: its going away later is a link
	 * down, not an error (a reboot after passt died boots on) */
	bool passt_vu_seen[VM_MAX_NICS];
	unsigned int nr_nics;
	struct p9_server *p9srv[VM_MAX_9P]; /* --9p, in order */
	struct virtio_dev *p9[VM_MAX_9P];
	unsigned int nr_9p;
	/* the I/O thread: every virtio queue's work, in fair turns */
	struct virtio_worker *worker;
	pthread_t io_thread;
	bool io_started;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;
	struct boot_plan plan;
	int wake_fd; /* eventfd: the UART FIFO has room again */
	int stop_fd; /* eventfd: the VM is stopping */
	atomic_int stopping;
	atomic_int exit_code;
	atomic_int first_run;
	/* KVM resets vCPUs (KVM_CAP_RISCV_MP_STATE_RESET enabled on this VM,
	 * Linux 6.16+): a reboot keeps the VM (kvm-reset.c) */
	bool vcpu_reset;
	bool kept; /* this boot runs on the last boot's VM, reset */
	bool reboot_said; /* the reboot path was logged */
	/* 1 at the first boot, one more per reboot: set-up warnings about
	 * the options (the same at every boot) are printed at the first */
	unsigned int boot;
	struct timespec t_start;
	struct ratelimit rl;
};

/* machine_stop()'s code for a guest's reboot that lkvm gives it (no
 * --no-reboot): vm_run() builds the VM again; never an exit status. */
#define VM_REBOOT (-2)

/* Clear the fields a boot set up, after they were freed (kvm-machine.c). */
void machine_forget_boot(struct machine *m);

/* Stop the VM with exit status code; the first call wins. Any thread. */
void machine_stop(struct machine *m, int code);

/* Create vCPU id (fd, kvm_run mapping). Returns 0 or -1 (error printed). */
int vcpu_create(struct machine *m, struct vcpu *v, unsigned int id);
/*
 * kvm-cpu-config.c: --cpu-type, --disable-EXT, --disable-sbi-EXT and
 * --custom-m*id on a vCPU that has never run, and the SBI debug console
 * unless hidden (v->dbcn). 0, or -1 after one error line.
 */
int vcpu_configure(struct vcpu *v);
/* Set the boot registers: pc, a0 = hartid, a1 = FDT (boot hart only). */
int vcpu_boot_regs(struct vcpu *v, uint64_t pc, uint64_t fdt);
/* Start the vCPU's thread. Returns 0 or -1. */
int vcpu_start(struct vcpu *v);
/* Make a running vCPU leave KVM_RUN and notice the VM is stopping. */
void vcpu_kick(struct vcpu *v);
/* Release the vCPU (after its thread has been joined). */
void vcpu_destroy(struct vcpu *v);

/* Print the vCPUs' exit counts and handling times (--stats). */
/* KVM's own exit counters of all vCPUs (one line; nothing without
 * KVM_GET_STATS_FD): the traps lkvm never sees. */
void vcpu_kvm_stats_print(const struct machine *m);
void vcpu_stats_print(const struct machine *m);

/*
 * Apply the MMIO writes KVM batched in the coalesced ring, in order. Every
 * thread that handles an exit calls it first, so that no guest read or
 * call is answered before the writes that preceded it. Any thread.
 */
void machine_drain_coalesced(struct machine *m);

/* Milliseconds since `lkvm run` started. */
double machine_elapsed_ms(const struct machine *m);

/*
 * The machine's parts, one file each (riscv/kvm-*.c); each returns 0 or -1
 * after printing one error line unless it says otherwise.
 */

/* Memslots: 0 is RAM, 1 the UART's register image. */
#define MEMSLOT_RAM 0
#define MEMSLOT_UART_IMAGE 1

/* kvm-ram.c: guest RAM (-m, --hugetlb) in memslot 0 and in m->mem. */
int machine_setup_ram(struct machine *m);

/* kvm-irqchip.c: the in-kernel AIA or the userspace PLIC (after the vCPUs
 * exist), their wired lines, and MSI routes. */
int machine_setup_irqchip(struct machine *m);
/* Wired interrupt source irq of whichever controller the VM has. */
struct irq_line machine_wired_irq(struct machine *m, unsigned int irq);
extern const struct plic_ops machine_plic_ops;
extern const struct msix_ops machine_msix_ops;
/* One GSI and irqfd per MSI-X vector of s. Returns 0 or -errno. */
int machine_add_msi(struct machine *m, struct vdev_slot *s);
/* virtio-pci: a queue's vector changed (virtio_pci_host_ops). */
void machine_vectors_changed(void *opaque);
/*
 * The eventfd KVM turns into queue q's interrupt of s (opaque) now: the
 * irqfd of its live MSI-X vector, or under virtio-mmio the wired line's
 * (after machine_add_wired_irqfd()), else -1. Reads atomics only.
 */
int machine_queue_irqfd(void *opaque, unsigned int q);
/* virtio-mmio with the in-kernel AIA: an irqfd on s's wired source, for a
 * data path outside lkvm. 0 or -errno. */
int machine_add_wired_irqfd(struct machine *m, struct vdev_slot *s);

/* kvm-doorbells.c: the I/O thread serves s's queues; KVM signals their
 * eventfds where it can. Returns 0 or -errno. */
int machine_add_doorbells(struct machine *m, struct vdev_slot *s);
/* Both transports' report of where a device's doorbells decode (opaque:
 * its struct vdev_slot). */
virtio_doorbells_fn machine_doorbells;

/* kvm-uart.c: the UART's host side and its acceleration. */
extern const struct uart_backend machine_uart_backend;
void machine_setup_coalesced(struct machine *m);
void machine_setup_uart_image(struct machine *m);
/* Unregister the UART's coalesced zone and unmap its register image, for
 * a reboot that keeps the VM (the vCPUs have stopped). */
void machine_uart_release(struct machine *m);

/* kvm-console.c: the SBI console, and the input thread. */
extern const struct sbi_console_ops machine_sbi_console;
void *machine_input_thread(void *arg);

/* kvm-board.c: the board: devices, memory map, device tree. */
int machine_open_disks(struct machine *m);
/* The -n backends: taps created and configured, passt started; before
 * the VM exists (their scripts and passt are forked from a small lkvm). */
int machine_open_nics(struct machine *m);
int machine_setup_devices(struct machine *m);
int machine_setup_fdt(struct machine *m);

/* kvm-images.c: the kernel and initrd into RAM, where ki plans them. */
int machine_load_images(struct machine *m, struct kernel_info *ki);

/*
 * kvm-reset.c: a reboot on the same VM, where KVM can reset a vCPU.
 * machine_vcpu_reset_enable() asks for it on a new VM (true when KVM has
 * it: Linux 6.16+); machine_reset_vm() then stands in for creating the VM,
 * its RAM, vCPUs and irqchip at the next boot: RAM cleared, every vCPU
 * reset (vCPU 0 runnable, the others stopped until SBI HSM starts them),
 * the in-kernel AIA's APLIC reset and fresh MSI routes. The devices were
 * freed and are made again as at the first boot.
 */
bool machine_vcpu_reset_enable(struct machine *m);
int machine_reset_vm(struct machine *m);

/* kvm-stats.c: --stats at the end of the run. */
void machine_print_stats(struct machine *m);

#endif
