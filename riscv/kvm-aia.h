/* SPDX-License-Identifier: GPL-2.0-only */
/* The in-kernel AIA irqchip (APLIC + IMSICs) of KVM (riscv64 hosts only). */
#ifndef LKVM_RISCV_KVM_AIA_H
#define LKVM_RISCV_KVM_AIA_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/vm.h"
#include "riscv/memmap.h"

/*
 * The rules KVM (Linux 6.5+, checked against 6.12) imposes, and which
 * kvm_aia_setup() follows; the file references are to the kernel tree.
 *
 * - Create the device after every vCPU exists and before any vCPU has run:
 *   KVM_CREATE_DEVICE fails with EBUSY when a vCPU already ran, or when a
 *   vCPU ioctl is in flight on another thread (it try-locks every vCPU),
 *   and with EEXIST for a second AIA device (aia_device.c: aia_create()).
 *   It fails with ENODEV on hosts without AIA (no Ssaia, or 6.1..6.4).
 * - CONFIG and ADDR attributes are writable only until CTRL INIT (EBUSY
 *   after, aia_device.c: aia_config(), aia_aplic_addr(), aia_imsic_addr()).
 * - MODE HWACCEL and AUTO are refused (EINVAL) when the host has no IMSIC
 *   guest interrupt files; EMUL always works. The default is AUTO with
 *   guest files, EMUL without (aia_device.c: kvm_riscv_aia_init_vm()).
 * - IDS: 63 <= ids < 2048, ids % 64 == 63, below the host's limit;
 *   SRCS < 1024 and below the host's ID limit; HART_BITS < 16,
 *   GUEST_BITS < 8, GROUP_BITS < 8 (aia_device.c: aia_config()).
 * - ADDR: the APLIC address is 4 KiB aligned (it decodes 16 KiB); there is
 *   one IMSIC address per vCPU, 4 KiB aligned, and only vCPUs that exist
 *   (online) can be given one: so the vCPUs must be created first
 *   (aia_device.c: aia_set_attr()).
 * - CTRL INIT (once; EBUSY after) checks: no vCPU half-created; SRCS <=
 *   IDS; an APLIC address when SRCS > 0; an IMSIC address for every vCPU;
 *   every IMSIC address has the same bits above bit 12 + GUEST_BITS +
 *   HART_BITS (and outside the group field), and the HART_BITS field of
 *   each address is that vCPU's hart index, the index the APLIC targets
 *   (aia_device.c: aia_init(), aia_imsic_ppn(), aia_imsic_hart_index()).
 *   With GUEST_BITS 0 that means: IMSIC stride 4 KiB and an IMSIC base
 *   aligned to 4 KiB << HART_BITS, which the guest's IMSIC driver assumes
 *   too (its default hart-index bits are ceil(log2(harts))).
 * - KVM_IRQ_LINE: ENXIO before the device exists, EBUSY until INIT, ENODEV
 *   for source 0 or a source above SRCS (vm.c: kvm_vm_ioctl_irq_line(),
 *   aia_aplic.c: kvm_riscv_aia_aplic_inject()). INIT also installs the
 *   default GSI routing: GSI n -> APLIC source n, for n <= SRCS.
 * - A vCPU in HWACCEL mode that finds no free guest file when it is
 *   scheduled exits with KVM_EXIT_FAIL_ENTRY; AUTO falls back to the
 *   emulated file (aia_imsic.c: kvm_riscv_vcpu_aia_imsic_update()).
 */

struct kvm_aia_params {
	int mode; /* KVM_DEV_RISCV_AIA_MODE_*, or -1 for KVM's default */
	unsigned int nr_vcpus; /* all created, none run yet */
	unsigned int nr_sources; /* wired sources 1..nr_sources */
	uint64_t aplic_base;
	uint64_t imsic_base, imsic_stride; /* vCPU i: base + i * stride */
};

/* lkvm's AIA for nr_vcpus vCPUs: its memory map, PLIC_NR_SOURCES sources. */
static inline struct kvm_aia_params kvm_aia_lkvm_params(int mode,
							unsigned int nr_vcpus)
{
	return (struct kvm_aia_params){
		.mode = mode,
		.nr_vcpus = nr_vcpus,
		.nr_sources = PLIC_NR_SOURCES,
		.aplic_base = MEMMAP_APLIC_BASE,
		.imsic_base = MEMMAP_IMSIC_BASE,
		.imsic_stride = MEMMAP_IMSIC_STRIDE,
	};
}

struct kvm_aia_info {
	int fd; /* the AIA device; -1 on failure */
	bool created; /* KVM_CREATE_DEVICE worked (even if a later step not) */
	const char *mode; /* "emul", "hwaccel" or "auto" */
	unsigned int nr_ids; /* MSI IDs per IMSIC file */
	unsigned int nr_sources;
	unsigned int hart_bits, guest_bits;
	char err[160]; /* on failure: "AIA <step>: <reason>" */
};

/*
 * Create and initialise KVM's AIA device on the VM vm_fd, following the
 * rules above: keep KVM's default mode and number of IDs, set the number
 * of sources, just enough hart bits for nr_vcpus, no group or guest bits,
 * the APLIC and per-vCPU IMSIC addresses, then INIT. Fills out (the device
 * fd stays open: the caller owns it). Returns 0, or -errno with out->fd
 * -1, no fd left open, and out->err naming the step that failed; -ENODEV
 * with out->created false means this host's KVM has no AIA. Prints
 * nothing: the caller reports out->err. Once out->created is true the VM
 * has an in-kernel irqchip for good (KVM destroys the device only with the
 * VM), so after a later failure the caller must not fall back to the
 * userspace PLIC on the same VM.
 */
int kvm_aia_setup(int vm_fd, const struct kvm_aia_params *p,
		  struct kvm_aia_info *out);

/*
 * Drive wired source irq (1..nr_sources) of the initialised AIA to level
 * (0 or 1) with KVM_IRQ_LINE. Returns 0 or -errno.
 */
int kvm_aia_set_irq(int vm_fd, unsigned int irq, int level);

/*
 * Put the APLIC of the initialised AIA aia_fd (on the VM vm_fd, with
 * wired sources 1..nr_sources) back to its reset state for a reboot that
 * keeps the VM: every line low, domaincfg 0 (no delivery), every source
 * disabled, inactive, not pending and targeting hart 0. KVM has no reset
 * for the AIA device and destroys it only with the VM, but lets userspace
 * write the APLIC's registers (KVM_DEV_RISCV_AIA_GRP_APLIC, aia_aplic.c:
 * aplic_mmio_write_offset()); genmsi is left alone (a write sends an MSI).
 * The IMSICs are per vCPU: KVM's vCPU reset clears them (aia_device.c:
 * kvm_riscv_vcpu_aia_reset()). Returns 0, or the first -errno (the rest
 * is still tried).
 */
int kvm_aia_reset(int vm_fd, int aia_fd, unsigned int nr_sources);

/* The name of a KVM_DEV_RISCV_AIA_MODE_* value: "emul", "hwaccel", ... */
const char *kvm_aia_mode_name(uint32_t mode);

#endif
