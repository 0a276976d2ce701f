// SPDX-License-Identifier: GPL-2.0-only
/* Set up KVM's in-kernel AIA irqchip and drive its wired sources. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lkvm/compiler.h"
#include "riscv/kvm-aia.h"

#define IMSIC_PAGE_SHIFT 12

static int aia_fail(struct kvm_aia_info *out, int err, const char *fmt, ...)
	__printf(3, 4);

/* Record "AIA <step>: <reason>" and return -err. */
static int aia_fail(struct kvm_aia_info *out, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out->err, sizeof(out->err), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(out->err))
		snprintf(out->err + n, sizeof(out->err) - (size_t)n, ": %s",
			 strerror(err));
	return -err;
}

static int aia_attr(int fd, unsigned long req, uint32_t group, uint64_t attr,
		    void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(unsigned long)val,
	};

	return ioctl(fd, req, &a) < 0 ? -errno : 0;
}

const char *kvm_aia_mode_name(uint32_t mode)
{
	switch (mode) {
	case KVM_DEV_RISCV_AIA_MODE_EMUL:
		return "emul";
	case KVM_DEV_RISCV_AIA_MODE_HWACCEL:
		return "hwaccel";
	case KVM_DEV_RISCV_AIA_MODE_AUTO:
		return "auto";
	}
	return "unknown";
}

/* ceil(log2(n)): the hart-index bits for n harts (0 for one hart). */
static unsigned int aia_hart_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

/* What KVM would refuse at INIT, said before anything is created. */
static int aia_check_params(const struct kvm_aia_params *p,
			    struct kvm_aia_info *out)
{
	uint64_t align = 1ULL << (IMSIC_PAGE_SHIFT + out->hart_bits);

	if (!p->nr_vcpus)
		return aia_fail(out, EINVAL, "AIA set-up: no vCPUs");
	if (out->hart_bits >= KVM_DEV_RISCV_AIA_HART_BITS_MAX)
		return aia_fail(
			out, EINVAL,
			"AIA set-up: %u vCPUs need %u hart bits, KVM allows %u",
			p->nr_vcpus, out->hart_bits,
			KVM_DEV_RISCV_AIA_HART_BITS_MAX - 1);
	if (p->nr_sources >= KVM_DEV_RISCV_AIA_SRCS_MAX)
		return aia_fail(out, EINVAL,
				"AIA set-up: %u sources, KVM allows %u",
				p->nr_sources, KVM_DEV_RISCV_AIA_SRCS_MAX - 1);
	if (p->aplic_base & (KVM_DEV_RISCV_APLIC_ALIGN - 1))
		return aia_fail(
			out, EINVAL,
			"AIA set-up: APLIC at 0x%llx is not %u-byte aligned",
			(unsigned long long)p->aplic_base,
			KVM_DEV_RISCV_APLIC_ALIGN);
	if (p->imsic_stride != KVM_DEV_RISCV_IMSIC_SIZE)
		return aia_fail(
			out, EINVAL,
			"AIA set-up: IMSIC stride 0x%llx, KVM needs 0x%x without guest bits",
			(unsigned long long)p->imsic_stride,
			KVM_DEV_RISCV_IMSIC_SIZE);
	if (p->imsic_base & (align - 1))
		return aia_fail(
			out, EINVAL,
			"AIA set-up: IMSIC base 0x%llx is not 0x%llx-aligned (%u vCPUs)",
			(unsigned long long)p->imsic_base,
			(unsigned long long)align, p->nr_vcpus);
	return 0;
}

/* Read the defaults KVM chose for this host, then write our layout. */
static int aia_config(int fd, const struct kvm_aia_params *p,
		      struct kvm_aia_info *out)
{
	uint32_t mode, ids, v;
	int r;

	r = aia_attr(fd, KVM_GET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_MODE, &mode);
	if (r)
		return aia_fail(out, -r, "AIA read MODE");
	r = aia_attr(fd, KVM_GET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_IDS, &ids);
	if (r)
		return aia_fail(out, -r, "AIA read IDS");
	if (p->mode >= 0 && (uint32_t)p->mode != mode) {
		mode = (uint32_t)p->mode;
		r = aia_attr(fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_CONFIG,
			     KVM_DEV_RISCV_AIA_CONFIG_MODE, &mode);
		if (r)
			return aia_fail(out, -r, "AIA set MODE=%s",
					kvm_aia_mode_name(mode));
	}
	out->mode = kvm_aia_mode_name(mode);
	out->nr_ids = ids;
	if (p->nr_sources > ids)
		return aia_fail(out, EINVAL,
				"AIA set-up: %u sources but only %u IDs",
				p->nr_sources, ids);
	v = p->nr_sources;
	r = aia_attr(fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_SRCS, &v);
	if (r)
		return aia_fail(out, -r, "AIA set SRCS=%u", v);
	v = out->hart_bits;
	r = aia_attr(fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_CONFIG,
		     KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, &v);
	if (r)
		return aia_fail(out, -r, "AIA set HART_BITS=%u", v);
	out->nr_sources = p->nr_sources;
	return 0;
}

static int aia_addrs(int fd, const struct kvm_aia_params *p,
		     struct kvm_aia_info *out)
{
	uint64_t addr = p->aplic_base;
	unsigned int i;
	int r;

	r = aia_attr(fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_ADDR,
		     KVM_DEV_RISCV_AIA_ADDR_APLIC, &addr);
	if (r)
		return aia_fail(out, -r, "AIA set APLIC address 0x%llx",
				(unsigned long long)addr);
	for (i = 0; i < p->nr_vcpus; i++) {
		addr = p->imsic_base + i * p->imsic_stride;
		r = aia_attr(fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_ADDR,
			     KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), &addr);
		if (r)
			return aia_fail(out, -r,
					"AIA set vCPU %u IMSIC address 0x%llx",
					i, (unsigned long long)addr);
	}
	return 0;
}

int kvm_aia_setup(int vm_fd, const struct kvm_aia_params *p,
		  struct kvm_aia_info *out)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_RISCV_AIA };
	int r;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->mode = "none";
	out->hart_bits = aia_hart_bits(p->nr_vcpus);
	r = aia_check_params(p, out);
	if (r)
		return r;
	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return aia_fail(out, errno, "AIA create device");
	out->created = true;
	r = aia_config((int)cd.fd, p, out);
	if (!r)
		r = aia_addrs((int)cd.fd, p, out);
	if (!r) {
		r = aia_attr((int)cd.fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_CTRL,
			     KVM_DEV_RISCV_AIA_CTRL_INIT, NULL);
		if (r)
			aia_fail(out, -r, "AIA init");
	}
	if (r) {
		close((int)cd.fd);
		return r;
	}
	out->fd = (int)cd.fd;
	out->guest_bits = 0;
	return 0;
}

int kvm_aia_set_irq(int vm_fd, unsigned int irq, int level)
{
	struct kvm_irq_level il = { .irq = irq, .level = level ? 1 : 0 };

	return ioctl(vm_fd, KVM_IRQ_LINE, &il) < 0 ? -errno : 0;
}

/* APLIC register offsets (the AIA specification's, which KVM's
 * KVM_DEV_RISCV_AIA_GRP_APLIC attributes name registers by). */
#define APLIC_DOMAINCFG 0x0000
#define APLIC_SOURCECFG_BASE 0x0004
#define APLIC_CLRIP_BASE 0x1d00
#define APLIC_CLRIE_BASE 0x1f00
#define APLIC_TARGET_BASE 0x3004

int kvm_aia_reset(int vm_fd, int aia_fd, unsigned int nr_sources)
{
	uint32_t zero = 0, ones = ~0U;
	unsigned int i, words = (nr_sources + 1 + 31) / 32;
	int ret = 0, r;

	/* the lines first: a level the old devices left high would stay
	 * pending for the new ones, which start low */
	for (i = 1; i <= nr_sources; i++) {
		r = kvm_aia_set_irq(vm_fd, i, 0);
		ret = ret ?: r;
	}
	/* nothing delivered while the rest is cleared (domaincfg.IE) */
	r = aia_attr(aia_fd, KVM_SET_DEVICE_ATTR, KVM_DEV_RISCV_AIA_GRP_APLIC,
		     APLIC_DOMAINCFG, &zero);
	ret = ret ?: r;
	for (i = 0; i < words; i++) {
		r = aia_attr(aia_fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_APLIC,
			     APLIC_CLRIE_BASE + 4 * i, &ones);
		ret = ret ?: r;
	}
	for (i = 1; i <= nr_sources; i++) {
		r = aia_attr(aia_fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_APLIC,
			     APLIC_SOURCECFG_BASE + 4 * (i - 1), &zero);
		ret = ret ?: r;
		r = aia_attr(aia_fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_APLIC,
			     APLIC_TARGET_BASE + 4 * (i - 1), &zero);
		ret = ret ?: r;
	}
	for (i = 0; i < words; i++) {
		r = aia_attr(aia_fd, KVM_SET_DEVICE_ATTR,
			     KVM_DEV_RISCV_AIA_GRP_APLIC,
			     APLIC_CLRIP_BASE + 4 * i, &ones);
		ret = ret ?: r;
	}
	return ret;
}
