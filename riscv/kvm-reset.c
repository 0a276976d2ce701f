// SPDX-License-Identifier: GPL-2.0-only
/*
 * A reboot on the same VM, where KVM can reset a vCPU (Linux 6.16+).
 *
 * What KVM does, checked against 7.2 (arch/riscv/kvm/ in the kernel tree):
 * - KVM_ENABLE_CAP(KVM_CAP_RISCV_MP_STATE_RESET) on the VM makes
 *   KVM_SET_MP_STATE(KVM_MP_STATE_INIT_RECEIVED) reset the vCPU and keep
 *   its MP state (vcpu.c: kvm_arch_vcpu_ioctl_set_mpstate()). Without the
 *   capability that state is EINVAL; before 6.16 enabling it is EINVAL
 *   too, and KVM_CHECK_EXTENSION does not report it (vm.c): enabling it is
 *   the probe.
 * - The reset (vcpu.c: kvm_riscv_reset_vcpu()) clears the guest's
 *   registers and CSRs (sstatus.SPP: S-mode), FP and vector state, the
 *   timer, the vCPU's AIA CSRs and IMSIC file, pending interrupts (the
 *   userspace PLIC's KVM_INTERRUPT line too), the PMU, and the SBI
 *   extensions' own state (STA, FWFT). It keeps what lkvm configured
 *   through ONE_REG before the first run, which KVM refuses to change
 *   after it (EBUSY): the ISA extensions (arch.isa), mvendorid, marchid,
 *   mimpid and which SBI extensions are on (sbi_context.ext_status). So
 *   lkvm re-applies nothing but the boot registers.
 * - An SBI system reset stops every vCPU (vcpu_sbi.c:
 *   kvm_riscv_vcpu_sbi_system_reset()): lkvm makes vCPU 0 runnable again;
 *   the others stay stopped until the guest starts them with SBI HSM, as
 *   after KVM_CREATE_VCPU.
 * - The next KVM_RUN first completes the exit userspace handled last
 *   (vcpu.c: kvm_arch_vcpu_ioctl_run(): MMIO, SBI and CSR returns move pc):
 *   a KVM_RUN with immediate_exit does that before the reset.
 * - The in-kernel AIA has no reset and outlives nothing but the VM; its
 *   APLIC's registers are writable as device attributes, so
 *   kvm_aia_reset() puts them back (kvm-aia.h), and the IMSICs are reset
 *   with their vCPUs. lkvm's MSI routes start again from the wired pins.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lkvm/uapi-compat.h"
#include "riscv/kvm-aia.h"
#include "riscv/kvm-regs.h"
#include "riscv/machine.h"

bool machine_vcpu_reset_enable(struct machine *m)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_RISCV_MP_STATE_RESET };

	return ioctl(m->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

static int mp_state_set(struct vcpu *v, uint32_t state, const char *what)
{
	struct kvm_mp_state st = { .mp_state = state };

	if (ioctl(v->fd, KVM_SET_MP_STATE, &st) == 0)
		return 0;
	pr_err("reboot: cannot %s vCPU %u: %s", what, v->id, strerror(errno));
	return -1;
}

/* Reset one stopped vCPU (its thread has been joined) for the next boot. */
static int vcpu_reset(struct vcpu *v)
{
	unsigned int k;

	/*
	 * An MMIO, SBI or CSR exit lkvm handled last is completed by the next
	 * KVM_RUN (the result into a register, pc past the instruction),
	 * before anything else: after the reset that would move the boot pc.
	 * api.rst: KVM_RUN with immediate_exit set completes pending
	 * operations without running the guest (and fails with EINTR).
	 */
	v->run->immediate_exit = 1;
	if (ioctl(v->fd, KVM_RUN, 0) == 0 || errno != EINTR) {
		pr_err("reboot: cannot complete vCPU %u's last exit: %s", v->id,
		       strerror(errno));
		return -1;
	}
	if (mp_state_set(v, KVM_MP_STATE_INIT_RECEIVED, "reset") ||
	    mp_state_set(v,
			 v->id ? KVM_MP_STATE_STOPPED : KVM_MP_STATE_RUNNABLE,
			 v->id ? "stop" : "start"))
		return -1;
	/* vcpu_kick() left it set: the next KVM_RUN would return at once */
	v->run->immediate_exit = 0;
	v->thread_started = false;
	/* --stats counts per boot, as with a new vCPU */
	for (k = 0; k <= MMIO_MAX_REGIONS; k++) {
		atomic_store(&v->stats.mmio_rd[k], 0);
		atomic_store(&v->stats.mmio_wr[k], 0);
		atomic_store(&v->stats.mmio_ns[k], 0);
	}
	for (k = 0; k < VEXIT_NR; k++) {
		atomic_store(&v->stats.n[k], 0);
		atomic_store(&v->stats.ns[k], 0);
	}
	return 0;
}

/* The AIA as after its INIT: APLIC reset, only the wired GSI routes. */
static int aia_reset(struct machine *m)
{
	struct kvm_irq_routing *tab;
	int ret = kvm_aia_reset(m->vm_fd, m->aia_fd, PLIC_NR_SOURCES);

	if (ret) {
		pr_err("reboot: cannot reset the in-kernel APLIC: %s",
		       strerror(-ret));
		return -1;
	}
	ret = msi_routes_init(&m->routes, PLIC_NR_SOURCES + 1, 64);
	if (ret) {
		pr_err("cannot set up MSI routing: %s", strerror(-ret));
		return -1;
	}
	m->routes_ready = true;
	/* the last boot's MSI routes go; their irqfds went with it */
	tab = msi_routes_build(&m->routes);
	if (!tab || ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, tab) < 0) {
		pr_err("reboot: cannot reset the GSI routes: %s",
		       tab ? strerror(errno) : "out of memory");
		free(tab);
		return -1;
	}
	free(tab);
	return 0;
}

/* The guest's ISA and SBI extensions are what they were at the first boot
 * (the device tree says so): KVM keeps them, and this checks it. */
static bool vcpu_config_kept(struct machine *m)
{
	struct kvm_caps now; /* a few KiB */
	unsigned int i;

	kvm_caps_fill(m->kvm_fd, m->vcpus[0].fd, &now);
	if (now.isa != m->caps.isa || now.nr_isa_ext != m->caps.nr_isa_ext ||
	    now.nr_sbi_ext != m->caps.nr_sbi_ext ||
	    now.mvendorid != m->caps.mvendorid)
		return false;
	for (i = 0; i < now.nr_isa_ext; i++)
		if (now.isa_ext[i].enabled != m->caps.isa_ext[i].enabled)
			return false;
	for (i = 0; i < now.nr_sbi_ext; i++)
		if (now.sbi_ext[i].enabled != m->caps.sbi_ext[i].enabled)
			return false;
	return true;
}

int machine_reset_vm(struct machine *m)
{
	unsigned int i;

	/* fresh RAM in the same memslot (KVM keeps an unchanged slot) */
	if (machine_setup_ram(m))
		return -1;
	for (i = 0; i < m->nr_vcpus; i++)
		if (vcpu_reset(&m->vcpus[i]))
			return -1;
	if (!vcpu_config_kept(m)) {
		pr_err("reboot: KVM's vCPU reset changed vCPU 0's ISA or SBI extensions");
		return -1;
	}
	return m->aia ? aia_reset(m) : 0;
}
