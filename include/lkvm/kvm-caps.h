/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the host's KVM offers a RISC-V guest, as probed by kvm_caps_probe()
 * and reported by `lkvm info`. Plain data, so that the report and the FDT
 * code can be tested on any host.
 */
#ifndef LKVM_KVM_CAPS_H
#define LKVM_KVM_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAPS_MAX_EXTS 128

/* An ISA or SBI extension KVM knows, and whether a new vCPU has it on. */
struct caps_ext {
	const char *name;
	bool enabled;
	/* KVM lets userspace turn it off (probed by `lkvm info` only) */
	bool can_disable;
	unsigned int id; /* KVM's number for it */
};

struct kvm_caps {
	int api_version;
	unsigned int max_vcpus;
	unsigned int nr_vcpus; /* recommended */
	uint64_t isa; /* CONFIG isa: bit n is letter 'a' + n */
	/* letters of isa KVM lets userspace turn off (`lkvm info` only) */
	uint64_t isa_can_disable;
	unsigned int xlen; /* 64 on riscv64 */
	const char *mmu; /* "sv39".."sv57", NULL when not reported */
	uint64_t mvendorid, marchid, mimpid;
	uint64_t zicbom_block_size, zicboz_block_size;
	uint64_t timebase_hz;

	/* Multi-letter ISA extensions the host can give a guest. */
	struct caps_ext isa_ext[CAPS_MAX_EXTS];
	unsigned int nr_isa_ext;
	/* SBI extensions userspace may switch on or off per vCPU. */
	struct caps_ext sbi_ext[32];
	unsigned int nr_sbi_ext;

	bool reg_list; /* KVM_GET_REG_LIST works (6.6+) */
	unsigned int nr_regs; /* registers it lists */
	bool one_reg, ioeventfd, irqfd, irq_routing, user_memory;
	bool irqchip; /* KVM_CAP_IRQCHIP: in-kernel irqchip */
	/* KVM resets a vCPU on request (KVM_CAP_RISCV_MP_STATE_RESET, Linux
	 * 6.16+): a reboot keeps the VM (probed by `lkvm info` only) */
	bool vcpu_reset;
	bool aia; /* a KVM_DEV_TYPE_RISCV_AIA device can be made */
	bool aia_hwaccel; /* ...in HWACCEL mode (IMSIC guest files) */
	const char *aia_mode; /* its default mode: "emul" or "auto" */
	unsigned int aia_ids; /* its default number of MSI IDs */
	/* lkvm's whole AIA set-up reached INIT on a 1-vCPU probe VM; when
	 * not, aia_err says which step failed and why (also when the device
	 * could not be made for a reason other than a host without AIA). */
	bool aia_init;
	char aia_err[160];
};

/*
 * Probe /dev/kvm (path dev) into caps. Returns 0, or -1 after printing one
 * error line saying why KVM cannot be used: no such device, no permission,
 * no H extension on this CPU, a wrong API version, or a host that is not
 * riscv64.
 */
int kvm_caps_probe(const char *dev, struct kvm_caps *caps);

/*
 * Write the ISA string ("rv64imafdc_zicbom_...") for caps into buf (at most
 * len bytes, NUL included). Only enabled multi-letter extensions appear.
 * Returns the length, or -1 when buf is too small.
 */
int caps_isa_string(const struct kvm_caps *caps, char *buf, size_t len);

/*
 * Whether an extension name may be shown to a guest: lkvm names an id it
 * does not know (a kernel newer than its table) "isa#N"; such an
 * extension stays out of the device tree's riscv,isa and
 * riscv,isa-extensions (a guest would not parse it) but shows in `lkvm
 * info`.
 */
static inline bool caps_ext_known(const char *name)
{
	return name && !strchr(name, '#');
}

/* Whether a new vCPU has the multi-letter ISA extension name on. */
bool caps_isa_ext_on(const struct kvm_caps *caps, const char *name);

/* Print caps as text (json false) or as one JSON object to f. */
void caps_report(FILE *f, const struct kvm_caps *caps, bool json);

/*
 * Decide from the text of /proc/cpuinfo whether the CPU has the H
 * extension: looks at the single letters of every "isa" line. Returns 1
 * yes, 0 no, -1 when the text has no isa line.
 */
int cpuinfo_has_h(const char *text);

#endif
