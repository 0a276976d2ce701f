// SPDX-License-Identifier: GPL-2.0-only
/* vm_run() for hosts that are not riscv64: KVM cannot run RISC-V guests. */
#include "lkvm/log.h"
#include "lkvm/vm.h"

#ifndef LKVM_HOST_ARCH
#define LKVM_HOST_ARCH "this host"
#endif

int vm_run(const struct vm_config *cfg)
{
	(void)cfg;
	pr_err("this lkvm is built for %s: RISC-V guests need a riscv64 host with KVM (cross-build with CROSS_COMPILE=riscv64-linux-gnu-)",
	       LKVM_HOST_ARCH);
	return LKVM_EXIT_ERROR;
}
