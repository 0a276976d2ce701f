// SPDX-License-Identifier: GPL-2.0-only
/* ONE_REG accessors and opening /dev/kvm with a precise error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lkvm/kvm-caps.h"
#include "lkvm/log.h"
#include "riscv/kvm-regs.h"

int riscv_get_reg(int vcpu_fd, uint64_t id, uint64_t *val)
{
	uint32_t v32 = 0;
	uint64_t v64 = 0;
	struct kvm_one_reg reg = { .id = id };

	if ((id & KVM_REG_SIZE_MASK) == KVM_REG_SIZE_U32)
		reg.addr = (uint64_t)(unsigned long)&v32;
	else if ((id & KVM_REG_SIZE_MASK) == KVM_REG_SIZE_U64)
		reg.addr = (uint64_t)(unsigned long)&v64;
	else
		return -EINVAL;
	if (ioctl(vcpu_fd, KVM_GET_ONE_REG, &reg) < 0)
		return -errno;
	*val = (id & KVM_REG_SIZE_MASK) == KVM_REG_SIZE_U32 ? v32 : v64;
	return 0;
}

int riscv_set_reg(int vcpu_fd, uint64_t id, uint64_t val)
{
	uint32_t v32 = (uint32_t)val;
	struct kvm_one_reg reg = { .id = id };

	if ((id & KVM_REG_SIZE_MASK) == KVM_REG_SIZE_U32)
		reg.addr = (uint64_t)(unsigned long)&v32;
	else if ((id & KVM_REG_SIZE_MASK) == KVM_REG_SIZE_U64)
		reg.addr = (uint64_t)(unsigned long)&val;
	else
		return -EINVAL;
	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

/* 1 when the CPU has the H extension, 0 when not, -1 when unknown. */
static int host_has_h(void)
{
	static char text[65536];
	FILE *f = fopen("/proc/cpuinfo", "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return cpuinfo_has_h(text);
}

int kvm_open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		if (host_has_h() == 0)
			pr_err("%s: not available: this CPU has no hypervisor (H) extension, so KVM cannot run guests",
			       path);
		else
			pr_err("%s: not available: the kernel has no KVM (CONFIG_KVM) or it failed to initialise (see dmesg)",
			       path);
		break;
	case EACCES:
	case EPERM:
		pr_err("%s: permission denied: run as root or join the group that owns it",
		       path);
		break;
	default:
		pr_err("cannot open %s: %s", path, strerror(errno));
	}
	return -1;
}
