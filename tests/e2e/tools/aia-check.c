// SPDX-License-Identifier: GPL-2.0-only
/* Runs riscv/kvm-aia.c against the real KVM of an AIA L1 (e2e helper). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lkvm/vm.h"
#include "riscv/kvm-aia.h"

static int failures;

static void expect(int cond, const char *what)
{
	printf("%s %s\n", cond ? "ok  " : "FAIL", what);
	failures += !cond;
}

/* A VM with n vCPUs that never run; returns the VM fd. */
static int vm_with_vcpus(int kvm, unsigned int n, int *vcpus)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	unsigned int i;

	for (i = 0; vm >= 0 && i < n; i++)
		vcpus[i] = ioctl(vm, KVM_CREATE_VCPU, i);
	return vm;
}

static void close_vm(int vm, int *vcpus, unsigned int n)
{
	while (n--)
		close(vcpus[n]);
	close(vm);
}

static struct kvm_aia_params params(unsigned int n)
{
	return (struct kvm_aia_params){
		.mode = -1,
		.nr_vcpus = n,
		.nr_sources = PLIC_NR_SOURCES,
		.aplic_base = MEMMAP_APLIC_BASE,
		.imsic_base = MEMMAP_IMSIC_BASE,
		.imsic_stride = MEMMAP_IMSIC_STRIDE,
	};
}

/* Set up the AIA for n vCPUs, then drive the wired sources. */
static void check_setup(int kvm, unsigned int n)
{
	struct kvm_aia_params p = params(n);
	struct kvm_aia_info info;
	int vcpus[8], vm, r;
	char what[320];

	vm = vm_with_vcpus(kvm, n, vcpus);
	r = kvm_aia_setup(vm, &p, &info);
	snprintf(what, sizeof(what),
		 "%u vCPUs: set-up %d (%s) mode %s ids %u srcs %u hart_bits %u",
		 n, r, r ? info.err : "", info.mode, info.nr_ids,
		 info.nr_sources, info.hart_bits);
	expect(!r && info.fd >= 0 && info.nr_sources == PLIC_NR_SOURCES, what);
	expect((1U << info.hart_bits) >= n &&
		       (!info.hart_bits || (1U << (info.hart_bits - 1)) < n),
	       "  hart bits = ceil(log2(vCPUs))");
	expect(!kvm_aia_set_irq(vm, 1, 1) && !kvm_aia_set_irq(vm, 1, 0),
	       "  KVM_IRQ_LINE source 1 up and down");
	expect(!kvm_aia_set_irq(vm, PLIC_NR_SOURCES, 1),
	       "  KVM_IRQ_LINE the last source");
	expect(kvm_aia_set_irq(vm, 0, 1) == -ENODEV,
	       "  KVM_IRQ_LINE source 0: ENODEV");
	expect(kvm_aia_set_irq(vm, PLIC_NR_SOURCES + 1, 1) == -ENODEV,
	       "  KVM_IRQ_LINE past the last source: ENODEV");
	r = kvm_aia_setup(vm, &p, &info);
	snprintf(what, sizeof(what), "  a second set-up: %d (%s)", r, info.err);
	expect(r == -EEXIST && !info.created, what);
	close_vm(vm, vcpus, n);
}

static uint32_t aplic_get(int fd, uint64_t off)
{
	uint32_t v = 0xdeadbeef;
	struct kvm_device_attr a = {
		.group = KVM_DEV_RISCV_AIA_GRP_APLIC,
		.attr = off,
		.addr = (uint64_t)(unsigned long)&v,
	};

	return ioctl(fd, KVM_GET_DEVICE_ATTR, &a) < 0 ? 0xdeadbeef : v;
}

static int aplic_set(int fd, uint64_t off, uint32_t v)
{
	struct kvm_device_attr a = {
		.group = KVM_DEV_RISCV_AIA_GRP_APLIC,
		.attr = off,
		.addr = (uint64_t)(unsigned long)&v,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a);
}

/* kvm_aia_reset() (a reboot that keeps the VM): a guest's APLIC set-up
 * and a line left high are gone afterwards. */
static void check_reset(int kvm)
{
	struct kvm_aia_params p = params(2);
	struct kvm_aia_info info;
	int vcpus[8], vm, r;
	char what[320];

	vm = vm_with_vcpus(kvm, 2, vcpus);
	r = kvm_aia_setup(vm, &p, &info);
	expect(!r, "reset: set-up");
	if (r) {
		close_vm(vm, vcpus, 2);
		return;
	}
	/* source 3 level-high, enabled, to hart 1 EIID 5, its line high;
	 * the domain off, so that it stays pending (no MSI is sent) */
	r = aplic_set(info.fd, 0x4 + 4 * 2, 6) ||
	    aplic_set(info.fd, 0x3004 + 4 * 2, (1U << 18) | 5) ||
	    aplic_set(info.fd, 0x1edc, 3) || kvm_aia_set_irq(vm, 3, 1);
	expect(!r && aplic_get(info.fd, 0x4 + 4 * 2) == 6 &&
		       aplic_get(info.fd, 0x1e00) == 1U << 3 &&
		       aplic_get(info.fd, 0x1c00) == 1U << 3 &&
		       aplic_get(info.fd, 0x1d00) == 1U << 3,
	       "reset: a guest's APLIC set-up as written (sourcecfg, IE, IP, input)");
	aplic_set(info.fd, 0, 0x100);
	r = kvm_aia_reset(vm, info.fd, PLIC_NR_SOURCES);
	/* in_clrip reads the lines' levels */
	snprintf(
		what, sizeof(what),
		"reset: %d: domaincfg 0x%x sourcecfg 0x%x target 0x%x ie 0x%x ip 0x%x input 0x%x",
		r, aplic_get(info.fd, 0) & 0x100, aplic_get(info.fd, 0x4 + 8),
		aplic_get(info.fd, 0x3004 + 8), aplic_get(info.fd, 0x1e00),
		aplic_get(info.fd, 0x1c00), aplic_get(info.fd, 0x1d00));
	expect(!r && !(aplic_get(info.fd, 0) & 0x100) &&
		       !aplic_get(info.fd, 0x4 + 8) &&
		       !aplic_get(info.fd, 0x3004 + 8) &&
		       !aplic_get(info.fd, 0x1e00) &&
		       !aplic_get(info.fd, 0x1c00) &&
		       !aplic_get(info.fd, 0x1d00),
	       what);
	close(info.fd);
	close_vm(vm, vcpus, 2);
}

/* What kvm_aia_setup() and KVM refuse. */
static void check_refusals(int kvm)
{
	struct kvm_aia_params p = params(2);
	struct kvm_aia_info info;
	int vcpus[8], vm, r;
	char what[320];

	vm = vm_with_vcpus(kvm, 2, vcpus);
	p.imsic_base += MEMMAP_IMSIC_STRIDE; /* not 8 KiB aligned */
	r = kvm_aia_setup(vm, &p, &info);
	snprintf(what, sizeof(what), "misaligned IMSIC base: %d (%s)", r,
		 info.err);
	expect(r == -EINVAL && !info.created, what);
	p = params(3); /* one vCPU more than the VM has */
	r = kvm_aia_setup(vm, &p, &info);
	snprintf(what, sizeof(what), "an IMSIC for a missing vCPU: %d (%s)", r,
		 info.err);
	expect(r == -ENXIO && info.created && info.fd < 0, what);
	close_vm(vm, vcpus, 2);
	vm = vm_with_vcpus(kvm, 0, vcpus);
	r = kvm_aia_set_irq(vm, 1, 1);
	expect(r == -ENXIO, "KVM_IRQ_LINE without an irqchip: ENXIO");
	close(vm);
}

int main(void)
{
	static const unsigned int counts[] = { 1, 2, 3, 4, 8 };
	unsigned int i;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_setup(kvm, counts[i]);
	check_refusals(kvm);
	check_reset(kvm);
	printf("aia-check: %d failed\n", failures);
	return failures ? 1 : 0;
}
