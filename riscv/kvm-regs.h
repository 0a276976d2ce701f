/* SPDX-License-Identifier: GPL-2.0-only */
/* ONE_REG register ids and accessors for RISC-V vCPUs (riscv64 hosts only). */
#ifndef LKVM_RISCV_KVM_REGS_H
#define LKVM_RISCV_KVM_REGS_H

#include <stdint.h>

#include <linux/kvm.h>

#define RISCV_REG_SIZE_ULONG \
	(sizeof(unsigned long) == 8 ? KVM_REG_SIZE_U64 : KVM_REG_SIZE_U32)
#define RISCV_REG_UL(type) (KVM_REG_RISCV | RISCV_REG_SIZE_ULONG | (type))

#define RISCV_CONFIG_REG(name) \
	RISCV_REG_UL(KVM_REG_RISCV_CONFIG | KVM_REG_RISCV_CONFIG_REG(name))
#define RISCV_CORE_REG(name) \
	RISCV_REG_UL(KVM_REG_RISCV_CORE | KVM_REG_RISCV_CORE_REG(name))
#define RISCV_CSR_REG(name)                                          \
	RISCV_REG_UL(KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_GENERAL | \
		     KVM_REG_RISCV_CSR_REG(name))
#define RISCV_TIMER_REG(name)                                     \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER | \
	 KVM_REG_RISCV_TIMER_REG(name))
#define RISCV_ISA_EXT_REG(id) \
	RISCV_REG_UL(KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE | (id))
#define RISCV_SBI_EXT_REG(id) \
	RISCV_REG_UL(KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE | (id))

/* The register number inside its type and subtype. */
static inline uint64_t riscv_reg_index(uint64_t id)
{
	return id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK |
		      KVM_REG_RISCV_TYPE_MASK | KVM_REG_RISCV_SUBTYPE_MASK);
}

/* Read a 32- or 64-bit ONE_REG register into *val. Returns 0 or -errno. */
int riscv_get_reg(int vcpu_fd, uint64_t id, uint64_t *val);
/* Write a 32- or 64-bit ONE_REG register. Returns 0 or -errno. */
int riscv_set_reg(int vcpu_fd, uint64_t id, uint64_t val);

struct kvm_caps;

/*
 * Fill caps from the KVM device fd (capabilities) and a created vCPU
 * (CONFIG, TIMER, ISA_EXT and SBI_EXT registers). Leaves the AIA fields
 * clear: probing them would create the VM's irqchip.
 */
void kvm_caps_fill(int kvm_fd, int vcpu_fd, struct kvm_caps *caps);

/*
 * KVM's number for an ISA extension named as in the ISA string ("v",
 * "zicboz"; single letters too) or for an SBI extension as `lkvm info`
 * names it ("dbcn", "hsm"). -1 when this build knows no such name.
 */
int kvm_isa_ext_id(const char *name);
int kvm_sbi_ext_id(const char *name);

/*
 * Open the KVM device at path. On failure print one line saying why (no
 * such device and whether the CPU lacks the H extension, no permission, ...)
 * and return -1.
 */
int kvm_open_dev(const char *path);

#endif
