// SPDX-License-Identifier: GPL-2.0-only
/* kvm_caps_probe() for hosts that are not riscv64: KVM cannot run RISC-V. */
#include "lkvm/kvm-caps.h"
#include "lkvm/log.h"

#ifndef LKVM_HOST_ARCH
#define LKVM_HOST_ARCH "this host"
#endif

int kvm_caps_probe(const char *dev, struct kvm_caps *caps)
{
	(void)dev;
	(void)caps;
	pr_err("this lkvm is built for %s: RISC-V guests need a riscv64 host with KVM (cross-build with CROSS_COMPILE=riscv64-linux-gnu-)",
	       LKVM_HOST_ARCH);
	return -1;
}
