// SPDX-License-Identifier: GPL-2.0-only
/* Probe what this riscv64 host's KVM offers a guest (for `lkvm info`). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lkvm/compiler.h"
#include "lkvm/kvm-caps.h"
#include "lkvm/log.h"
#include "lkvm/uapi-compat.h"
#include "lkvm/vm.h"
#include "riscv/kvm-aia.h"
#include "riscv/kvm-regs.h"

static const char *const isa_ext_names[] = {
	[KVM_RISCV_ISA_EXT_SVPBMT] = "svpbmt",
	[KVM_RISCV_ISA_EXT_SSTC] = "sstc",
	[KVM_RISCV_ISA_EXT_SVINVAL] = "svinval",
	[KVM_RISCV_ISA_EXT_ZIHINTPAUSE] = "zihintpause",
	[KVM_RISCV_ISA_EXT_ZICBOM] = "zicbom",
	[KVM_RISCV_ISA_EXT_ZICBOZ] = "zicboz",
	[KVM_RISCV_ISA_EXT_ZBB] = "zbb",
	[KVM_RISCV_ISA_EXT_SSAIA] = "ssaia",
	[KVM_RISCV_ISA_EXT_SVNAPOT] = "svnapot",
	[KVM_RISCV_ISA_EXT_ZBA] = "zba",
	[KVM_RISCV_ISA_EXT_ZBS] = "zbs",
	[KVM_RISCV_ISA_EXT_ZICNTR] = "zicntr",
	[KVM_RISCV_ISA_EXT_ZICSR] = "zicsr",
	[KVM_RISCV_ISA_EXT_ZIFENCEI] = "zifencei",
	[KVM_RISCV_ISA_EXT_ZIHPM] = "zihpm",
	[KVM_RISCV_ISA_EXT_SMSTATEEN] = "smstateen",
	[KVM_RISCV_ISA_EXT_ZICOND] = "zicond",
	[KVM_RISCV_ISA_EXT_ZBC] = "zbc",
	[KVM_RISCV_ISA_EXT_ZBKB] = "zbkb",
	[KVM_RISCV_ISA_EXT_ZBKC] = "zbkc",
	[KVM_RISCV_ISA_EXT_ZBKX] = "zbkx",
	[KVM_RISCV_ISA_EXT_ZKND] = "zknd",
	[KVM_RISCV_ISA_EXT_ZKNE] = "zkne",
	[KVM_RISCV_ISA_EXT_ZKNH] = "zknh",
	[KVM_RISCV_ISA_EXT_ZKR] = "zkr",
	[KVM_RISCV_ISA_EXT_ZKSED] = "zksed",
	[KVM_RISCV_ISA_EXT_ZKSH] = "zksh",
	[KVM_RISCV_ISA_EXT_ZKT] = "zkt",
	[KVM_RISCV_ISA_EXT_ZVBB] = "zvbb",
	[KVM_RISCV_ISA_EXT_ZVBC] = "zvbc",
	[KVM_RISCV_ISA_EXT_ZVKB] = "zvkb",
	[KVM_RISCV_ISA_EXT_ZVKG] = "zvkg",
	[KVM_RISCV_ISA_EXT_ZVKNED] = "zvkned",
	[KVM_RISCV_ISA_EXT_ZVKNHA] = "zvknha",
	[KVM_RISCV_ISA_EXT_ZVKNHB] = "zvknhb",
	[KVM_RISCV_ISA_EXT_ZVKSED] = "zvksed",
	[KVM_RISCV_ISA_EXT_ZVKSH] = "zvksh",
	[KVM_RISCV_ISA_EXT_ZVKT] = "zvkt",
	[KVM_RISCV_ISA_EXT_ZFH] = "zfh",
	[KVM_RISCV_ISA_EXT_ZFHMIN] = "zfhmin",
	[KVM_RISCV_ISA_EXT_ZIHINTNTL] = "zihintntl",
	[KVM_RISCV_ISA_EXT_ZVFH] = "zvfh",
	[KVM_RISCV_ISA_EXT_ZVFHMIN] = "zvfhmin",
	[KVM_RISCV_ISA_EXT_ZFA] = "zfa",
	[KVM_RISCV_ISA_EXT_ZTSO] = "ztso",
	[KVM_RISCV_ISA_EXT_ZACAS] = "zacas",
	[KVM_RISCV_ISA_EXT_SSCOFPMF] = "sscofpmf",
	[KVM_RISCV_ISA_EXT_ZIMOP] = "zimop",
	[KVM_RISCV_ISA_EXT_ZCA] = "zca",
	[KVM_RISCV_ISA_EXT_ZCB] = "zcb",
	[KVM_RISCV_ISA_EXT_ZCD] = "zcd",
	[KVM_RISCV_ISA_EXT_ZCF] = "zcf",
	[KVM_RISCV_ISA_EXT_ZCMOP] = "zcmop",
	[KVM_RISCV_ISA_EXT_ZAWRS] = "zawrs",
	/* Linux 6.13..7.2 */
	[LKVM_ISA_EXT_SMNPM] = "smnpm",
	[LKVM_ISA_EXT_SSNPM] = "ssnpm",
	[LKVM_ISA_EXT_SVADE] = "svade",
	[LKVM_ISA_EXT_SVADU] = "svadu",
	[LKVM_ISA_EXT_SVVPTC] = "svvptc",
	[LKVM_ISA_EXT_ZABHA] = "zabha",
	[LKVM_ISA_EXT_ZICCRSE] = "ziccrse",
	[LKVM_ISA_EXT_ZAAMO] = "zaamo",
	[LKVM_ISA_EXT_ZALRSC] = "zalrsc",
	[LKVM_ISA_EXT_ZICBOP] = "zicbop",
	[LKVM_ISA_EXT_ZFBFMIN] = "zfbfmin",
	[LKVM_ISA_EXT_ZVFBFMIN] = "zvfbfmin",
	[LKVM_ISA_EXT_ZVFBFWMA] = "zvfbfwma",
	[LKVM_ISA_EXT_ZCLSD] = "zclsd",
	[LKVM_ISA_EXT_ZILSD] = "zilsd",
	[LKVM_ISA_EXT_ZALASR] = "zalasr",
};

static const char *const sbi_ext_names[] = {
	[KVM_RISCV_SBI_EXT_V01] = "v01",
	[KVM_RISCV_SBI_EXT_TIME] = "time",
	[KVM_RISCV_SBI_EXT_IPI] = "ipi",
	[KVM_RISCV_SBI_EXT_RFENCE] = "rfence",
	[KVM_RISCV_SBI_EXT_SRST] = "srst",
	[KVM_RISCV_SBI_EXT_HSM] = "hsm",
	[KVM_RISCV_SBI_EXT_PMU] = "pmu",
	[KVM_RISCV_SBI_EXT_EXPERIMENTAL] = "experimental",
	[KVM_RISCV_SBI_EXT_VENDOR] = "vendor",
	[KVM_RISCV_SBI_EXT_DBCN] = "dbcn",
	[KVM_RISCV_SBI_EXT_STA] = "sta",
	/* Linux 6.13..7.2 */
	[LKVM_SBI_EXT_SUSP] = "susp",
	[LKVM_SBI_EXT_FWFT] = "fwft",
	[LKVM_SBI_EXT_MPXY] = "mpxy",
};

/* The single letters KVM has an ISA_EXT register for. */
static const struct {
	char letter;
	unsigned int id;
} isa_letters[] = {
	{ 'a', KVM_RISCV_ISA_EXT_A }, { 'c', KVM_RISCV_ISA_EXT_C },
	{ 'd', KVM_RISCV_ISA_EXT_D }, { 'f', KVM_RISCV_ISA_EXT_F },
	{ 'h', KVM_RISCV_ISA_EXT_H }, { 'i', KVM_RISCV_ISA_EXT_I },
	{ 'm', KVM_RISCV_ISA_EXT_M }, { 'v', KVM_RISCV_ISA_EXT_V },
};

int kvm_isa_ext_id(const char *name)
{
	unsigned int i;

	if (name[0] && !name[1]) {
		for (i = 0; i < ARRAY_SIZE(isa_letters); i++)
			if (isa_letters[i].letter == name[0])
				return (int)isa_letters[i].id;
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(isa_ext_names); i++)
		if (isa_ext_names[i] && !strcmp(isa_ext_names[i], name))
			return (int)i;
	return -1;
}

int kvm_sbi_ext_id(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sbi_ext_names); i++)
		if (sbi_ext_names[i] && !strcmp(sbi_ext_names[i], name))
			return (int)i;
	return -1;
}

/* A name for an extension id this build may not know. */
static const char *ext_name(const char *const *table, size_t n, uint64_t id,
			    const char *kind)
{
	static char unknown[CAPS_MAX_EXTS][24];
	static unsigned int next;
	char *buf;

	if (id < n && table[id])
		return table[id];
	buf = unknown[next++ % CAPS_MAX_EXTS];
	snprintf(buf, sizeof(unknown[0]), "%s#%llu", kind,
		 (unsigned long long)id);
	return buf;
}

static bool is_single_letter_ext(uint64_t id)
{
	switch (id) {
	case KVM_RISCV_ISA_EXT_A:
	case KVM_RISCV_ISA_EXT_C:
	case KVM_RISCV_ISA_EXT_D:
	case KVM_RISCV_ISA_EXT_F:
	case KVM_RISCV_ISA_EXT_H:
	case KVM_RISCV_ISA_EXT_I:
	case KVM_RISCV_ISA_EXT_M:
	case KVM_RISCV_ISA_EXT_V:
		return true;
	}
	return false;
}

static void add_isa_ext(struct kvm_caps *c, uint64_t id, bool on)
{
	if (is_single_letter_ext(id) || c->nr_isa_ext >= CAPS_MAX_EXTS)
		return;
	c->isa_ext[c->nr_isa_ext].name =
		ext_name(isa_ext_names, ARRAY_SIZE(isa_ext_names), id, "isa");
	c->isa_ext[c->nr_isa_ext].id = (unsigned int)id;
	c->isa_ext[c->nr_isa_ext++].enabled = on;
}

static void add_sbi_ext(struct kvm_caps *c, uint64_t id, bool on)
{
	if (c->nr_sbi_ext >= ARRAY_SIZE(c->sbi_ext))
		return;
	c->sbi_ext[c->nr_sbi_ext].name =
		ext_name(sbi_ext_names, ARRAY_SIZE(sbi_ext_names), id, "sbi");
	c->sbi_ext[c->nr_sbi_ext].id = (unsigned int)id;
	c->sbi_ext[c->nr_sbi_ext++].enabled = on;
}

/* 6.6+: the kernel lists exactly the registers valid on this host. */
static int probe_reg_list(int vcpu, struct kvm_caps *c)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;
	uint64_t i, n;
	int ret = -1;

	if (ioctl(vcpu, KVM_GET_REG_LIST, &probe) == 0 || errno != E2BIG)
		return -1;
	n = probe.n;
	list = calloc(1, sizeof(*list) + n * sizeof(list->reg[0]));
	if (!list)
		return -1;
	list->n = n;
	if (ioctl(vcpu, KVM_GET_REG_LIST, list) < 0 || list->n > n)
		goto out;
	c->reg_list = true;
	c->nr_regs = (unsigned int)list->n;
	for (i = 0; i < list->n; i++) {
		uint64_t id = list->reg[i], val = 0;
		uint64_t type = id & KVM_REG_RISCV_TYPE_MASK;
		uint64_t sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
		uint64_t num = riscv_reg_index(id);

		if (type == KVM_REG_RISCV_ISA_EXT &&
		    sub == KVM_REG_RISCV_ISA_SINGLE) {
			riscv_get_reg(vcpu, id, &val);
			add_isa_ext(c, num, val);
		} else if (type == KVM_REG_RISCV_SBI_EXT &&
			   sub == KVM_REG_RISCV_SBI_SINGLE) {
			riscv_get_reg(vcpu, id, &val);
			add_sbi_ext(c, num, val);
		}
	}
	ret = 0;
out:
	free(list);
	return ret;
}

/* Before 6.6: ask for every id this build knows, one at a time. */
static void probe_one_by_one(int vcpu, struct kvm_caps *c)
{
	uint64_t id, val;

	for (id = 0; id < LKVM_ISA_EXT_MAX; id++)
		if (!riscv_get_reg(vcpu, RISCV_ISA_EXT_REG(id), &val))
			add_isa_ext(c, id, val);
	for (id = 0; id < LKVM_SBI_EXT_MAX; id++)
		if (!riscv_get_reg(vcpu, RISCV_SBI_EXT_REG(id), &val))
			add_sbi_ext(c, id, val);
}

static const char *satp_mode_name(uint64_t mode)
{
	switch (mode) {
	case 8:
		return "sv39";
	case 9:
		return "sv48";
	case 10:
		return "sv57";
	}
	return NULL;
}

static void probe_config(int vcpu, struct kvm_caps *c)
{
	uint64_t v;

	riscv_get_reg(vcpu, RISCV_CONFIG_REG(isa), &c->isa);
	riscv_get_reg(vcpu, RISCV_CONFIG_REG(zicbom_block_size),
		      &c->zicbom_block_size);
	riscv_get_reg(vcpu, RISCV_CONFIG_REG(zicboz_block_size),
		      &c->zicboz_block_size);
	riscv_get_reg(vcpu, RISCV_CONFIG_REG(mvendorid), &c->mvendorid);
	riscv_get_reg(vcpu, RISCV_CONFIG_REG(marchid), &c->marchid);
	riscv_get_reg(vcpu, RISCV_CONFIG_REG(mimpid), &c->mimpid);
	if (!riscv_get_reg(vcpu, RISCV_CONFIG_REG(satp_mode), &v))
		c->mmu = satp_mode_name(v);
	riscv_get_reg(vcpu, RISCV_TIMER_REG(frequency), &c->timebase_hz);
}

/*
 * Run lkvm's own AIA set-up to INIT on the probe VM (1 vCPU, never run),
 * so that `lkvm info` shows that `lkvm run` can use the in-kernel AIA.
 */
static void probe_aia(int vm, struct kvm_caps *c)
{
	const struct kvm_aia_params p = kvm_aia_lkvm_params(-1, 1);
	struct kvm_aia_info info;
	int r;

	r = kvm_aia_setup(vm, &p, &info);
	if (r != -ENODEV || info.created)
		snprintf(c->aia_err, sizeof(c->aia_err), "%s", info.err);
	if (!info.created)
		return;
	c->aia = true;
	c->aia_mode = info.mode;
	c->aia_ids = info.nr_ids;
	/*
	 * KVM defaults to AUTO exactly when the host has IMSIC guest files,
	 * and accepts HWACCEL exactly then too (aia_device.c:
	 * kvm_riscv_aia_init_vm(), aia_config()).
	 */
	c->aia_hwaccel = !strcmp(info.mode, "auto");
	c->aia_init = !r;
	if (!r)
		close(info.fd);
}

static void probe_caps(int kvm, struct kvm_caps *c)
{
	int v;

	v = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	c->max_vcpus = v > 0 ? (unsigned int)v : 0;
	v = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	c->nr_vcpus = v > 0 ? (unsigned int)v : 0;
	c->one_reg = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG) > 0;
	c->ioeventfd = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
	c->irqfd = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0;
	c->irq_routing =
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) > 0;
	c->user_memory =
		ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) > 0;
	c->irqchip = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0;
}

void kvm_caps_fill(int kvm, int vcpu, struct kvm_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->xlen = 64;
	c->api_version = KVM_API_VERSION;
	probe_caps(kvm, c);
	probe_config(vcpu, c);
	if (probe_reg_list(vcpu, c))
		probe_one_by_one(vcpu, c);
}

/* Whether KVM lets userspace turn reg off: try it on the probe vCPU
 * (never run) and put it back on. */
static bool can_turn_off(int vcpu, uint64_t reg)
{
	if (riscv_set_reg(vcpu, reg, 0))
		return false;
	riscv_set_reg(vcpu, reg, 1);
	return true;
}

/* Which of the extensions a new vCPU has KVM lets userspace turn off: it
 * depends on the kernel (6.1 allows svpbmt and zicbom, 6.12 also zicboz,
 * smstateen, ssaia with Smstateen, v; single letters d and f in both) and
 * on the host, so ask it. */
static void probe_can_disable(int vcpu, struct kvm_caps *c)
{
	unsigned int i;

	for (i = 0; i < c->nr_isa_ext; i++)
		if (c->isa_ext[i].enabled)
			c->isa_ext[i].can_disable = can_turn_off(
				vcpu, RISCV_ISA_EXT_REG(c->isa_ext[i].id));
	for (i = 0; i < c->nr_sbi_ext; i++)
		if (c->sbi_ext[i].enabled)
			c->sbi_ext[i].can_disable = can_turn_off(
				vcpu, RISCV_SBI_EXT_REG(c->sbi_ext[i].id));
	for (i = 0; i < ARRAY_SIZE(isa_letters); i++) {
		uint64_t bit = 1ULL << (isa_letters[i].letter - 'a');

		if ((c->isa & bit) &&
		    can_turn_off(vcpu, RISCV_ISA_EXT_REG(isa_letters[i].id)))
			c->isa_can_disable |= bit;
	}
}

int kvm_caps_probe(const char *dev, struct kvm_caps *c)
{
	struct kvm_enable_cap reset_cap = {
		.cap = KVM_CAP_RISCV_MP_STATE_RESET,
	};
	int kvm, vm = -1, vcpu = -1, ret = -1;

	memset(c, 0, sizeof(*c));
	c->xlen = 64;
	kvm = kvm_open_dev(dev);
	if (kvm < 0)
		return -1;
	c->api_version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (c->api_version != KVM_API_VERSION) {
		pr_err("%s: KVM API version %d, lkvm needs %d", dev,
		       c->api_version, KVM_API_VERSION);
		goto out;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		pr_err("cannot create a VM: %s", strerror(errno));
		goto out;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		pr_err("cannot create a vCPU: %s", strerror(errno));
		goto out;
	}
	kvm_caps_fill(kvm, vcpu, c);
	/* not reported by KVM_CHECK_EXTENSION: enabling it is the probe */
	c->vcpu_reset = ioctl(vm, KVM_ENABLE_CAP, &reset_cap) == 0;
	probe_can_disable(vcpu, c);
	probe_aia(vm, c);
	ret = 0;
out:
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret;
}
