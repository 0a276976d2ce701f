// SPDX-License-Identifier: GPL-2.0-only
/* The machine's life: the VM, its vCPUs, the run, the stop and the teardown. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <dirent.h>
#include <unistd.h>

#include "lkvm/9p.h"
#include "lkvm/disk.h"
#include "lkvm/plic.h"
#include "lkvm/procfs.h"
#include "lkvm/seccomp.h"
#include "lkvm/term.h"
#include "lkvm/uart.h"
#include "lkvm/virtio-devs.h"
#include "lkvm/virtio-pci.h"
#include "lkvm/virtio-worker.h"
#include "riscv/kvm-regs.h"
#include "riscv/machine.h"

double machine_elapsed_ms(const struct machine *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - m->t_start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - m->t_start.tv_nsec) / 1e6;
}

void machine_stop(struct machine *m, int code)
{
	uint64_t one = 1;

	if (atomic_exchange(&m->stopping, 1))
		return;
	atomic_store(&m->exit_code, code);
	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		pr_err("cannot signal the VM's stop: %s", strerror(errno));
}

static int vm_create(struct machine *m)
{
	int api, size;

	/* a reboot keeps /dev/kvm open: the VM is made again on it */
	if (m->kvm_fd < 0)
		m->kvm_fd = kvm_open_dev(m->cfg->kvm_dev);
	if (m->kvm_fd < 0)
		return -1;
	api = ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		pr_err("%s: KVM API version %d, lkvm needs %d", m->cfg->kvm_dev,
		       api, KVM_API_VERSION);
		return -1;
	}
	size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		return -1;
	}
	m->run_size = (size_t)size;
	if (ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ONE_REG) <= 0) {
		pr_err("this KVM lacks KVM_CAP_USER_MEMORY or KVM_CAP_ONE_REG");
		return -1;
	}
	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0) {
		pr_err("cannot create a VM: %s", strerror(errno));
		return -1;
	}
	/* a reboot then resets the vCPUs instead of building a new VM */
	if (!m->cfg->no_reboot)
		m->vcpu_reset = machine_vcpu_reset_enable(m);
	return 0;
}

static int vm_create_vcpus(struct machine *m)
{
	unsigned int i, n = vm_cpus_clamp(m->cfg->nr_cpus, m->caps.max_vcpus);

	/* kvmtool's way: scripts ask for the host's CPU count */
	if (n < m->cfg->nr_cpus && m->boot <= 1)
		pr_warn("-c %u: this KVM allows at most %u vCPUs: using %u",
			m->cfg->nr_cpus, n, n);
	m->vcpus = calloc(n, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -1;
	for (i = 0; i < n; i++) {
		m->vcpus[i].fd = -1;
		m->vcpus[i].stats_fd = -1;
		int ret = vcpu_create(m, &m->vcpus[i], i);

		if (m->vcpus[i].fd >= 0)
			m->nr_vcpus++; /* torn down with the others */
		if (ret)
			return -1;
	}
	kvm_caps_fill(m->kvm_fd, m->vcpus[0].fd, &m->caps);
	return 0;
}

/* Milliseconds left until --timeout from t0, or -1 (no timeout). */
static int timeout_left_ms(const struct machine *m, const struct timespec *t0)
{
	struct timespec now;
	int64_t ms;

	if (!m->cfg->timeout_s)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)m->cfg->timeout_s * 1000 -
	     ((int64_t)(now.tv_sec - t0->tv_sec) * 1000 +
	      (now.tv_nsec - t0->tv_nsec) / 1000000);
	if (ms < 0)
		return 0;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/*
 * Wait for the guest to stop, for SIGINT/SIGTERM or for --timeout (counted
 * from the vCPUs' start); the exit status.
 */
static int vm_wait(struct machine *m, int sfd, const struct timespec *t0)
{
	struct pollfd pfd[2] = {
		{ .fd = m->stop_fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	struct signalfd_siginfo si;
	int n;

	do {
		n = poll(pfd, 2, timeout_left_ms(m, t0));
	} while (n < 0 && errno == EINTR);
	if (!n) {
		pr_warn("--timeout: the guest ran for %u s: stopping it (exit status %d)",
			m->cfg->timeout_s, LKVM_EXIT_TIMEOUT);
		machine_stop(m, LKVM_EXIT_TIMEOUT);
	}
	if (n > 0 && pfd[1].revents &&
	    read(sfd, &si, sizeof(si)) == sizeof(si)) {
		pr_info("signal %u: stopping the VM", si.ssi_signo);
		machine_stop(m, 128 + (int)si.ssi_signo);
	}
	return atomic_load(&m->exit_code);
}

static int vm_boot(struct machine *m, const struct kernel_info *ki)
{
	unsigned int i;

	(void)ki;
	if (vcpu_boot_regs(&m->vcpus[0], m->plan.kernel_addr, m->plan.fdt_addr))
		return -1;
	for (i = 0; i < m->nr_vcpus; i++)
		if (vcpu_start(&m->vcpus[i]))
			return -1;
	return 0;
}

/* Stop and join the vCPUs: afterwards no guest access reaches a device. */
static void vm_stop_vcpus(struct machine *m)
{
	unsigned int i;

	atomic_store(&m->stopping, 1);
	/* a vCPU resetting a device must not wait for its disk I/O */
	for (i = 0; i < m->nr_disks; i++)
		if (m->blks[i])
			virtio_dev_shutdown(m->blks[i]);
	for (i = 0; i < m->nr_9p; i++)
		if (m->p9[i])
			virtio_dev_shutdown(m->p9[i]);
	if (m->vcon)
		virtio_dev_shutdown(m->vcon);
	if (m->rng)
		virtio_dev_shutdown(m->rng);
	for (i = 0; i < m->nr_nics; i++)
		if (m->nets[i])
			virtio_dev_shutdown(m->nets[i]);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_kick(&m->vcpus[i]);
	for (i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i].thread_started)
			pthread_join(m->vcpus[i].thread, NULL);
	/* the ring lives in vCPU 0's mapping: apply what is left first */
	machine_drain_coalesced(m);
	m->cring = NULL;
}

/* A virtio slot's irqfds: KVM stops injecting from them, then they close
 * (keep_vm: the VM outlives them, and its GSIs are reused). */
static void vm_release_irqfds(struct machine *m, struct vdev_slot *s,
			      bool keep_vm)
{
	struct kvm_irqfd irqfd = { .flags = KVM_IRQFD_FLAG_DEASSIGN };
	unsigned int v;

	for (v = 0; v < MSIX_MAX_VECTORS; v++) {
		if (s->irqfd[v] < 0)
			continue;
		irqfd.fd = (uint32_t)s->irqfd[v];
		irqfd.gsi = s->gsi + v;
		if (keep_vm && v < s->nr_vec &&
		    ioctl(m->vm_fd, KVM_IRQFD, &irqfd) < 0)
			pr_warn("reboot: irqfd of GSI %u stays: %s", irqfd.gsi,
				strerror(errno));
		close(s->irqfd[v]);
	}
	if (s->wired_irqfd >= 0) {
		irqfd.fd = (uint32_t)s->wired_irqfd;
		irqfd.gsi = s->wired_irq;
		if (keep_vm && ioctl(m->vm_fd, KVM_IRQFD, &irqfd) < 0)
			pr_warn("reboot: irqfd of line %u stays: %s", irqfd.gsi,
				strerror(errno));
		close(s->wired_irqfd);
	}
}

/*
 * Free one boot's devices: the vCPUs and the I/O thread have stopped; the
 * devices drain first (a disk completion may still interrupt through the
 * PCI function, the irqchip and a vCPU's fd), then what they signal goes.
 * keep_vm: the VM, its vCPUs and the in-kernel AIA stay for the next boot
 * (kvm-reset.c), so what the devices registered with KVM is taken back
 * too: the UART's memslot and coalesced zone, ioeventfds, irqfds.
 */
static void vm_release_devices(struct machine *m, bool keep_vm)
{
	unsigned int i;

	pthread_mutex_lock(&m->con.lock);
	m->con.uart = NULL;
	pthread_mutex_unlock(&m->con.lock);
	if (keep_vm)
		machine_uart_release(m);
	if (m->uart)
		uart_destroy(m->uart);
	if (m->uart_page_size)
		munmap(m->uart_page, m->uart_page_size);
	virtio_rng_destroy(m->rng);
	/* nothing tells a NIC about its irqfds any more (the vCPUs, which
	 * change them, are joined) */
	for (i = 0; i < m->nr_vdev; i++)
		m->vdev[i].irqfds_changed = NULL;
	/* each NIC's thread stops; its backend stays open across reboots */
	for (i = 0; i < m->nr_nics; i++) {
		unsigned int p;

		virtio_net_destroy(m->nets[i]);
		for (p = 0; p < NET_MAX_PAIRS; p++) {
			net_vhost_close(m->net_vh[i][p]);
			m->net_vh[i][p] = NULL;
		}
		m->nets[i] = NULL;
	}
	virtio_console_destroy(m->vcon);
	for (i = 0; i < m->nr_9p; i++) {
		virtio_9p_destroy(m->p9[i]);
		m->p9[i] = NULL;
	}
	for (i = 0; i < m->nr_disks; i++)
		if (m->blks[i])
			virtio_blk_destroy(m->blks[i]);
	for (i = 0; i < m->nr_vdev; i++) {
		struct vdev_slot *s = &m->vdev[i];

		/* its doorbells' ioeventfds, before the worker's fds close */
		if (keep_vm && s->db_on)
			machine_doorbells(s, s->d, NULL);
		if (s->vp)
			virtio_pci_destroy(s->vp);
		vm_release_irqfds(m, s, keep_vm);
	}
	if (m->pci)
		pci_host_destroy(m->pci);
	if (m->routes_ready)
		msi_routes_destroy(&m->routes);
	virtio_worker_destroy(m->worker);
	if (m->plic)
		plic_destroy(m->plic);
}

/*
 * Free one boot's machine: everything but the disks (open and locked
 * until lkvm exits), the NICs' backends, guest RAM and /dev/kvm, which a
 * reboot keeps. Leaves m ready for vm_setup() again.
 */
static void vm_teardown_boot(struct machine *m)
{
	unsigned int i;

	vm_release_devices(m, false);
	for (i = 0; i < m->nr_vcpus; i++)
		vcpu_destroy(&m->vcpus[i]);
	free(m->vcpus);
	if (m->aia_fd >= 0)
		close(m->aia_fd);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	machine_forget_boot(m);
}

/* What only the last teardown frees: disks, 9p servers, NIC backends,
 * RAM, /dev/kvm. */
static void vm_teardown(struct machine *m)
{
	unsigned int i;

	vm_teardown_boot(m);
	for (i = 0; i < m->nr_disks; i++)
		disk_close(m->disks[i]);
	for (i = 0; i < m->nr_9p; i++)
		p9_server_destroy(m->p9srv[i]);
	/* passt sees its socket close and exits */
	for (i = 0; i < m->nr_nics; i++)
		net_close(m->net_be[i]);
	if (m->ram)
		munmap(m->ram, m->ram_size);
	if (m->ram_shared)
		close(m->ram_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
}

static int vm_setup(struct machine *m, struct kernel_info *ki)
{
	int ret = virtio_worker_create(&m->worker);

	if (ret) {
		pr_err("cannot set up the I/O thread: %s", strerror(-ret));
		return -1;
	}
	if (m->kept ? machine_reset_vm(m)
		    : (vm_create(m) || machine_setup_ram(m) ||
		       vm_create_vcpus(m) || machine_setup_irqchip(m)))
		return -1;
	if (machine_setup_devices(m) || machine_load_images(m, ki) ||
	    machine_setup_fdt(m))
		return -1;
	machine_setup_coalesced(m);
	machine_setup_uart_image(m);
	if (m->cfg->stats)
		pr_info("machine: irqchip %s%s%s, virtio over %s",
			m->aia ? "aia (in-kernel, mode " : "plic (userspace)",
			m->aia ? m->aia_mode : "", m->aia ? ")" : "",
			m->cfg->transport == VIRTIO_TRANSPORT_PCI
				? (m->aia ? "pci (MSI-X)" : "pci (INTx)")
				: "mmio");
	return 0;
}

/*
 * The fields of m one boot sets up, cleared after vm_teardown_boot() has
 * freed what they held, so that vm_setup() starts again from nothing. The
 * rest lives as long as lkvm: cfg, /dev/kvm, RAM (m->ram, m->mem), the
 * disks, the console, the event fds, the rate limit, the locks.
 */
void machine_forget_boot(struct machine *m)
{
	unsigned int i;

	m->vm_fd = m->aia_fd = -1;
	memset(&m->caps, 0, sizeof(m->caps));
	memset(&m->bus, 0, sizeof(m->bus));
	m->plic = NULL;
	m->aia = false;
	m->aia_ids = 0;
	m->aia_mode = NULL;
	memset(&m->routes, 0, sizeof(m->routes));
	m->routes_ready = false;
	m->pci = NULL;
	m->cring = NULL;
	m->cring_max = 0;
	m->zone_on = false;
	m->uart = NULL;
	m->uart_page = NULL;
	m->uart_page_size = 0;
	m->uart_page_mapped = m->uart_page_broken = false;
	memset(&m->sbi, 0, sizeof(m->sbi));
	memset(&m->board, 0, sizeof(m->board));
	memset(m->vdev, 0, sizeof(m->vdev));
	m->nr_vdev = 0;
	m->rng = m->vcon = NULL;
	for (i = 0; i < VM_MAX_DISKS; i++)
		m->blks[i] = NULL;
	m->worker = NULL;
	m->io_started = false;
	m->vcpus = NULL;
	m->nr_vcpus = 0;
	memset(&m->plan, 0, sizeof(m->plan));
	atomic_store(&m->first_run, 0);
	m->vcpu_reset = m->kept = false;
}

/*
 * After vm_release_devices(m, true): clear what the devices held, keep
 * the VM, its vCPUs, the AIA and what was probed on them, and mark the
 * next boot as one on this VM.
 */
static void machine_forget_devices(struct machine *m)
{
	const struct kvm_caps caps = m->caps; /* a few KiB, on the stack */
	int vm_fd = m->vm_fd, aia_fd = m->aia_fd;
	bool aia = m->aia;
	unsigned int aia_ids = m->aia_ids, nr_vcpus = m->nr_vcpus;
	const char *aia_mode = m->aia_mode;
	struct vcpu *vcpus = m->vcpus;

	machine_forget_boot(m);
	m->vm_fd = vm_fd;
	m->aia_fd = aia_fd;
	m->aia = aia;
	m->aia_ids = aia_ids;
	m->aia_mode = aia_mode;
	m->vcpus = vcpus;
	m->nr_vcpus = nr_vcpus;
	m->caps = caps;
	m->vcpu_reset = true;
	m->kept = true;
}

/* Say once which reboot this KVM gives the guest. */
static void vm_say_reboot(struct machine *m)
{
	if (m->reboot_said)
		return;
	m->reboot_said = true;
	if (m->vcpu_reset)
		pr_info("reboot: KVM resets the vCPUs in place (KVM_CAP_RISCV_MP_STATE_RESET): the VM, its RAM, vCPUs and in-kernel AIA are kept, the devices made again");
	else
		pr_info("reboot: this KVM cannot reset a vCPU (KVM_CAP_RISCV_MP_STATE_RESET, Linux 6.16+): the VM is built again");
}

/* Open file descriptors and threads of lkvm (--stats): a reboot must
 * leave as many as the one before it. */
static void vm_report_reboot(unsigned int reboots)
{
	unsigned long long fds = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	if (d) {
		while ((e = readdir(d)))
			fds += e->d_name[0] != '.';
		closedir(d);
		fds--; /* the directory's own */
	}
	pr_info("reboot %u: %llu fds open, %llu threads, %llu KiB resident",
		reboots, fds,
		(unsigned long long)proc_kib("/proc/self/status", "Threads"),
		(unsigned long long)proc_kib("/proc/self/status", "VmRSS"));
}

/*
 * One boot: set up the VM (the disks are open already), start its threads
 * and vCPUs, wait for the end, stop and free it. Returns the exit status,
 * or VM_REBOOT when the guest asked for a reboot and lkvm may give it one.
 */
static int vm_run_boot(struct machine *m, int sfd, unsigned int boot,
		       const struct timespec *t0)
{
	const struct vm_config *cfg = m->cfg;
	struct kernel_info ki;
	pthread_t input;
	bool input_started = false;
	int code = LKVM_EXIT_ERROR;

	m->boot = boot;
	atomic_store(&m->stopping, 0);
	atomic_store(&m->exit_code, LKVM_EXIT_ERROR);
	m->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (m->stop_fd < 0) {
		pr_err("cannot create an event fd: %s", strerror(errno));
		return LKVM_EXIT_ERROR;
	}
	if (vm_setup(m, &ki))
		goto out;
	/* the 9p servers' calls join the process filter only with a share */
	if (boot == 1 && m->nr_9p)
		seccomp_thread_kind_enable(SECCOMP_THREAD_FS);
	if (boot == 1 &&
	    seccomp_run_setup(!cfg->no_seccomp, cfg->stats || cfg->debug))
		goto out;
	if (boot == 1)
		term_raw_enable(STDIN_FILENO);
	if (!pthread_create(&input, NULL, machine_input_thread, m))
		input_started = true;
	if (pthread_create(&m->io_thread, NULL, virtio_worker_thread,
			   m->worker)) {
		pr_err("cannot start the I/O thread");
		machine_stop(m, LKVM_EXIT_ERROR);
	} else {
		m->io_started = true;
	}
	if (!m->stopping && vm_boot(m, &ki))
		machine_stop(m, LKVM_EXIT_ERROR);
	/*
	 * Every thread has started: they would have inherited its filter.
	 * A guest may reboot unless --no-reboot: then this thread builds the
	 * VM again and keeps the process filter, which allows set-up.
	 */
	if (cfg->no_reboot)
		seccomp_thread_start(SECCOMP_THREAD_MAIN, "main");
	code = vm_wait(m, sfd, t0);
	console_drain(&m->con);
	if (cfg->stats) {
		machine_print_stats(m);
		vcpu_stats_print(m);
		vcpu_kvm_stats_print(m);
	}
out:
	/* the order: vCPUs, then the threads that serve them, then memory */
	machine_stop(m, code);
	vm_stop_vcpus(m);
	if (input_started)
		pthread_join(input, NULL);
	if (m->io_started) {
		virtio_worker_stop(m->worker);
		pthread_join(m->io_thread, NULL);
	}
	if (code == VM_REBOOT)
		vm_say_reboot(m);
	if (code == VM_REBOOT && m->vcpu_reset) {
		vm_release_devices(m, true);
		machine_forget_devices(m);
	} else {
		vm_teardown_boot(m);
	}
	close(m->stop_fd);
	m->stop_fd = -1;
	return code;
}

int vm_run(const struct vm_config *cfg)
{
	struct machine *m = calloc(1, sizeof(*m));
	struct timespec t0;
	unsigned int boot;
	sigset_t set;
	int sfd, code = LKVM_EXIT_ERROR;

	if (!m)
		return LKVM_EXIT_ERROR;
	m->t_start = cfg->t_start;
	if (!m->t_start.tv_sec && !m->t_start.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &m->t_start);
	m->cfg = cfg;
	m->kvm_fd = m->vm_fd = m->aia_fd = m->stop_fd = -1;
	pthread_mutex_init(&m->cring_lock, NULL);
	pthread_mutex_init(&m->zone_lock, NULL);
	m->rl = (struct ratelimit){ .interval = 5, .burst = 10 };
	/* SIGINT/SIGTERM go to the signalfd; the kick signal is unblocked
	 * only in vCPU threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR1);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* the console outlives reboots: output stays in order */
	console_init(&m->con, STDOUT_FILENO);
	if (sfd < 0 || m->wake_fd < 0) {
		pr_err("cannot create event fds: %s", strerror(errno));
		goto out;
	}
	/* a write(2) per line, not per byte: the 8250 sends a byte per exit */
	if (console_buffer_output(&m->con))
		pr_warn("console output unbuffered: cannot start its thread");
	/* the disks stay open (and locked) across reboots, and so do the
	 * NICs' backends (a tap device, a passt process) */
	if (machine_open_disks(m) || machine_open_nics(m))
		goto out;
	/* --timeout counts from the first boot, reboots included */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (boot = 1;; boot++) {
		code = vm_run_boot(m, sfd, boot, &t0);
		if (code != VM_REBOOT)
			break;
		if (cfg->stats || cfg->debug)
			vm_report_reboot(boot);
	}
out:
	vm_teardown(m);
	term_restore();
	console_destroy(&m->con);
	close(m->wake_fd);
	close(sfd);
	free(m);
	return code;
}
