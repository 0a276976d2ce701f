// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vCPU's ISA and SBI as the user asked (--cpu-type, --disable-EXT,
 * --disable-sbi-EXT, --custom-m*id), set through ONE_REG before the vCPU
 * first runs: KVM refuses these registers afterwards (EBUSY).
 */
#include <errno.h>
#include <string.h>

#include "riscv/kvm-regs.h"
#include "riscv/machine.h"

/* Turn ISA extension id off. 0, 1 when the vCPU does not have it, or
 * -errno from KVM. */
static int isa_off(int fd, unsigned int id)
{
	uint64_t on = 0;

	if (riscv_get_reg(fd, RISCV_ISA_EXT_REG(id), &on) || !on)
		return 1;
	return riscv_set_reg(fd, RISCV_ISA_EXT_REG(id), 0);
}

/* --disable-NAME for one ISA extension. */
static int disable_isa(struct vcpu *v, const char *name)
{
	int id = kvm_isa_ext_id(name), ret;

	if (id < 0) {
		pr_err("--disable-%s: lkvm knows no ISA extension '%s'", name,
		       name);
		return -1;
	}
	/* D needs F: a guest told rv64imadc would be told nonsense */
	if (!strcmp(name, "f"))
		isa_off(v->fd, (unsigned int)kvm_isa_ext_id("d"));
	ret = isa_off(v->fd, (unsigned int)id);
	if (ret == 1 && v->id == 0 && v->m->boot <= 1)
		pr_warn("--disable-%s: the guest does not have %s on this host: nothing to turn off",
			name, name);
	if (ret < 0) {
		pr_err("--disable-%s: this KVM cannot turn %s off (%s); `lkvm info` lists those it can",
		       name, name, strerror(-ret));
		return -1;
	}
	return 0;
}

/* --cpu-type min keeps rv64imafdc, as kvmtool's min does. */
static bool min_keeps(unsigned int id)
{
	switch (id) {
	case KVM_RISCV_ISA_EXT_I:
	case KVM_RISCV_ISA_EXT_M:
	case KVM_RISCV_ISA_EXT_A:
	case KVM_RISCV_ISA_EXT_F:
	case KVM_RISCV_ISA_EXT_D:
	case KVM_RISCV_ISA_EXT_C:
		return true;
	}
	return false;
}

/* --cpu-type min: every extension KVM lets us turn off, but imafdc; those
 * it cannot turn off stay (and stay in the device tree). */
static void cpu_type_min(struct vcpu *v)
{
	unsigned int id;

	for (id = 0; id < LKVM_ISA_EXT_MAX; id++)
		if (!min_keeps(id))
			isa_off(v->fd, id);
}

/* --disable-sbi-NAME for one SBI extension. */
static int disable_sbi(struct vcpu *v, const char *name)
{
	int id = kvm_sbi_ext_id(name), ret;
	uint64_t val;

	if (id < 0) {
		pr_err("--disable-sbi-%s: lkvm knows no SBI extension '%s'",
		       name, name);
		return -1;
	}
	ret = riscv_set_reg(v->fd, RISCV_SBI_EXT_REG((unsigned int)id), 0);
	if (!ret)
		return 0;
	/* 6.4+ has the SBI_EXT registers; V01 and TIME exist on every host */
	if (riscv_get_reg(v->fd, RISCV_SBI_EXT_REG(KVM_RISCV_SBI_EXT_V01),
			  &val) &&
	    riscv_get_reg(v->fd, RISCV_SBI_EXT_REG(KVM_RISCV_SBI_EXT_TIME),
			  &val)) {
		pr_err("--disable-sbi-%s: this KVM has no SBI extension registers (Linux 6.4+): it cannot hide %s",
		       name, name);
		return -1;
	}
	if (ret == -ENOENT) {
		if (v->id == 0 && v->m->boot <= 1)
			pr_warn("--disable-sbi-%s: this KVM does not offer %s: nothing to hide",
				name, name);
		return 0;
	}
	pr_err("--disable-sbi-%s: KVM refused (%s)", name, strerror(-ret));
	return -1;
}

static int custom_id(struct vcpu *v, const char *what, uint64_t reg,
		     const struct vm_custom_id *id)
{
	int ret;

	if (!id->set)
		return 0;
	ret = riscv_set_reg(v->fd, reg, id->val);
	if (ret)
		pr_err("--custom-%s: this KVM cannot set %s (%s)", what, what,
		       strerror(-ret));
	return ret ? -1 : 0;
}

int vcpu_configure(struct vcpu *v)
{
	const struct vm_config *cfg = v->m->cfg;
	unsigned int i;

	if (cfg->cpu_type == CPU_TYPE_MIN)
		cpu_type_min(v);
	for (i = 0; i < cfg->isa_off.n; i++)
		if (disable_isa(v, cfg->isa_off.name[i]))
			return -1;
	for (i = 0; i < cfg->sbi_off.n; i++)
		if (disable_sbi(v, cfg->sbi_off.name[i]))
			return -1;
	if (custom_id(v, "mvendorid", RISCV_CONFIG_REG(mvendorid),
		      &cfg->mvendorid) ||
	    custom_id(v, "marchid", RISCV_CONFIG_REG(marchid), &cfg->marchid) ||
	    custom_id(v, "mimpid", RISCV_CONFIG_REG(mimpid), &cfg->mimpid))
		return -1;
	/* DBCN is off until enabled, and must be before the first run;
	 * kernels before 6.7 (no DBCN) or 6.4 (no SBI_EXT regs) refuse. */
	if (!vm_ext_listed(&cfg->sbi_off, "dbcn"))
		v->dbcn = !riscv_set_reg(
			v->fd, RISCV_SBI_EXT_REG(KVM_RISCV_SBI_EXT_DBCN), 1);
	return 0;
}
