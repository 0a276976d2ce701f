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

/*
 * ISA and SBI extension ids Linux added after 6.12 (up to 7.2), whose
 * headers lkvm builds against: they follow 6.12's last ones (ZAWRS, STA)
 * in the kernel's enums, numbers fixed by its ABI
 * (arch/riscv/include/uapi/asm/kvm.h). LKVM_*_EXT_MAX bound the ids lkvm
 * knows by name.
 */
#define LKVM_ISA_EXT_SMNPM (KVM_RISCV_ISA_EXT_ZAWRS + 1)
#define LKVM_ISA_EXT_SSNPM (KVM_RISCV_ISA_EXT_ZAWRS + 2)
#define LKVM_ISA_EXT_SVADE (KVM_RISCV_ISA_EXT_ZAWRS + 3)
#define LKVM_ISA_EXT_SVADU (KVM_RISCV_ISA_EXT_ZAWRS + 4)
#define LKVM_ISA_EXT_SVVPTC (KVM_RISCV_ISA_EXT_ZAWRS + 5)
#define LKVM_ISA_EXT_ZABHA (KVM_RISCV_ISA_EXT_ZAWRS + 6)
#define LKVM_ISA_EXT_ZICCRSE (KVM_RISCV_ISA_EXT_ZAWRS + 7)
#define LKVM_ISA_EXT_ZAAMO (KVM_RISCV_ISA_EXT_ZAWRS + 8)
#define LKVM_ISA_EXT_ZALRSC (KVM_RISCV_ISA_EXT_ZAWRS + 9)
#define LKVM_ISA_EXT_ZICBOP (KVM_RISCV_ISA_EXT_ZAWRS + 10)
#define LKVM_ISA_EXT_ZFBFMIN (KVM_RISCV_ISA_EXT_ZAWRS + 11)
#define LKVM_ISA_EXT_ZVFBFMIN (KVM_RISCV_ISA_EXT_ZAWRS + 12)
#define LKVM_ISA_EXT_ZVFBFWMA (KVM_RISCV_ISA_EXT_ZAWRS + 13)
#define LKVM_ISA_EXT_ZCLSD (KVM_RISCV_ISA_EXT_ZAWRS + 14)
#define LKVM_ISA_EXT_ZILSD (KVM_RISCV_ISA_EXT_ZAWRS + 15)
#define LKVM_ISA_EXT_ZALASR (KVM_RISCV_ISA_EXT_ZAWRS + 16)
#define LKVM_ISA_EXT_MAX (KVM_RISCV_ISA_EXT_ZAWRS + 17)
#define LKVM_SBI_EXT_SUSP (KVM_RISCV_SBI_EXT_STA + 1)
#define LKVM_SBI_EXT_FWFT (KVM_RISCV_SBI_EXT_STA + 2)
#define LKVM_SBI_EXT_MPXY (KVM_RISCV_SBI_EXT_STA + 3)
#define LKVM_SBI_EXT_MAX (KVM_RISCV_SBI_EXT_STA + 4)

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
