// SPDX-License-Identifier: GPL-2.0-only
/* `lkvm run`: options, their checks, and the kernel command line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/builtin.h"
#include "lkvm/log.h"
#include "lkvm/options.h"
#include "lkvm/vm.h"
#include "riscv/board.h"

static const char run_usage[] =
	"lkvm run [-k] IMAGE [-i INITRD] [-p PARAMS] [-m SIZE] [-c N] [options]";
static const char *const console_names[] = { "serial", "hv", "virtio", NULL };
static const char *const irqchip_names[] = { "plic", "aia", "auto", NULL };
/* in enum virtio_transport_kind order */
static const char *const transport_names[] = { "pci", "mmio", NULL };
/* in enum aia_mode_kind order */
static const char *const aia_mode_names[] = { "default", "emul", "hwaccel",
					      "auto", NULL };
static const char *const io_engine_names[] = { "aio", "threads", NULL };
/* in enum log_level order */
static const char *const log_level_names[] = { "error", "warning", "info",
					       "debug", NULL };
/* in enum panic_action order */
static const char *const panic_names[] = { "stop", "continue", NULL };
/* in enum cpu_type_kind order */
static const char *const cpu_type_names[] = { "max", "min", NULL };

/* A file the user named must be a readable regular file. */
static int check_file(const char *what, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && !strcmp(what, "kernel")) {
		/* kvmtool's words: kvm-unit-tests' runner probes for them */
		pr_fatal("Unable to open kernel %s: %s", path, strerror(errno));
		return -1;
	}
	if (fd < 0) {
		pr_err("cannot open %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s %s is not a regular file", what, path);
		close(fd);
		return -1;
	}
	close(fd);
	if (!st.st_size) {
		pr_err("%s %s is empty", what, path);
		return -1;
	}
	return 0;
}

int run_parse_disk(const char *arg, struct disk_spec *spec, char *err,
		   size_t errlen)
{
	const char *comma = strchr(arg, ','), *opt;
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	memset(spec, 0, sizeof(*spec));
	if (!n || n >= sizeof(spec->path)) {
		snprintf(err, errlen, "'%s': no image path", arg);
		return -EINVAL;
	}
	memcpy(spec->path, arg, n);
	for (opt = comma; opt; opt = strchr(opt + 1, ',')) {
		const char *end = strchr(opt + 1, ',');
		size_t len = end ? (size_t)(end - opt - 1) : strlen(opt + 1);

		if (len == 2 && !strncmp(opt + 1, "ro", 2)) {
			spec->ro = true;
		} else if (len == 6 && !strncmp(opt + 1, "direct", 6)) {
			spec->direct = true;
		} else {
			snprintf(err, errlen,
				 "'%s': unknown flag '%.*s' (ro, direct)", arg,
				 (int)(len > 32 ? 32 : len), opt + 1);
			return -EINVAL;
		}
	}
	return 0;
}

int run_parse_9p(const char *arg, struct p9_spec *spec, char *err,
		 size_t errlen)
{
	const char *comma = strchr(arg, ','), *opt;
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	bool tagged = false;
	struct stat st;

	memset(spec, 0, sizeof(*spec));
	if (!n || n >= sizeof(spec->path)) {
		snprintf(err, errlen, "'%s': no directory", arg);
		return -EINVAL;
	}
	memcpy(spec->path, arg, n);
	strcpy(spec->tag, VM_9P_DEFAULT_TAG);
	for (opt = comma; opt; opt = strchr(opt + 1, ',')) {
		const char *end = strchr(opt + 1, ',');
		size_t len = end ? (size_t)(end - opt - 1) : strlen(opt + 1);

		if (len == 2 && !strncmp(opt + 1, "ro", 2)) {
			spec->ro = true;
		} else if (len == 2 && !strncmp(opt + 1, "rw", 2)) {
			spec->ro = false;
		} else if (!tagged && len && len <= VM_9P_TAG_MAX) {
			memcpy(spec->tag, opt + 1, len);
			spec->tag[len] = 0;
			tagged = true;
		} else {
			snprintf(
				err, errlen,
				"'%.64s': %s '%.*s' (DIR[,TAG][,ro], a tag of 1-%d bytes)",
				arg, tagged ? "a second tag" : "a bad tag",
				(int)(len > 32 ? 32 : len), opt + 1,
				VM_9P_TAG_MAX);
			return -EINVAL;
		}
	}
	if (stat(spec->path, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "'%.64s': %s is not a directory", arg,
			 spec->path);
		return -EINVAL;
	}
	return 0;
}

const struct p9_spec *vm_9p_root(const struct vm_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_shares; i++)
		if (!strcmp(cfg->shares[i].tag, VM_9P_ROOT_TAG))
			return &cfg->shares[i];
	return NULL;
}

static int add_9p(const struct option *o, const char *arg, char *err,
		  size_t errlen)
{
	struct vm_config *cfg = o->value;
	unsigned int i;

	if (cfg->nr_shares >= VM_MAX_9P) {
		snprintf(err, errlen, "at most %d 9p shares", VM_MAX_9P);
		return -E2BIG;
	}
	if (run_parse_9p(arg, &cfg->shares[cfg->nr_shares], err, errlen))
		return -EINVAL;
	for (i = 0; i < cfg->nr_shares; i++)
		if (!strcmp(cfg->shares[i].tag,
			    cfg->shares[cfg->nr_shares].tag)) {
			snprintf(err, errlen, "'%.64s': tag %s is taken", arg,
				 cfg->shares[i].tag);
			return -EINVAL;
		}
	cfg->nr_shares++;
	return 0;
}

/* kvmtool's -d DIR: the directory is the guest's root, over 9p. */
static int add_disk_dir(struct vm_config *cfg, const char *arg, char *err,
			size_t errlen)
{
	const char *comma = strchr(arg, ',');
	char spec[4200];
	struct option o = { .value = cfg };

	snprintf(spec, sizeof(spec), "%.*s,%s%s",
		 (int)(comma ? (size_t)(comma - arg) : strlen(arg)), arg,
		 VM_9P_ROOT_TAG, comma ? comma : "");
	return add_9p(&o, spec, err, errlen);
}

static int add_disk(const struct option *o, const char *arg, char *err,
		    size_t errlen)
{
	struct vm_config *cfg = o->value;
	const char *comma = strchr(arg, ',');
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%.*s",
		 (int)(comma ? (size_t)(comma - arg) : strlen(arg)), arg);
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return add_disk_dir(cfg, arg, err, errlen);

	if (cfg->nr_disks >= VM_MAX_DISKS) {
		snprintf(err, errlen, "at most %d disks", VM_MAX_DISKS);
		return -E2BIG;
	}
	if (run_parse_disk(arg, &cfg->disks[cfg->nr_disks], err, errlen))
		return -EINVAL;
	cfg->nr_disks++;
	return 0;
}

bool vm_ext_listed(const struct vm_ext_list *list, const char *name)
{
	unsigned int i;

	for (i = 0; i < list->n; i++)
		if (!strcmp(list->name[i], name))
			return true;
	return false;
}

/* --disable-NAME and --disable-sbi-NAME: a name KVM may know, kept once. */
static int add_ext_off(const struct option *o, const char *arg, char *err,
		       size_t errlen)
{
	struct vm_ext_list *list = o->value;
	size_t n = strlen(arg);

	if (!n || n >= VM_EXT_NAME_MAX ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789") != n) {
		snprintf(
			err, errlen,
			"'%.32s' is not an extension name (lower case letters and digits, at most %d)",
			arg, VM_EXT_NAME_MAX - 1);
		return -EINVAL;
	}
	if (vm_ext_listed(list, arg))
		return 0;
	if (list->n >= VM_MAX_EXT_OFF) {
		snprintf(err, errlen, "at most %d extensions", VM_MAX_EXT_OFF);
		return -E2BIG;
	}
	memcpy(list->name[list->n++], arg, n + 1);
	return 0;
}

/* --custom-mvendorid and friends: a 64-bit number, decimal or 0x hex. */
static int set_custom_id(const struct option *o, const char *arg, char *err,
			 size_t errlen)
{
	struct vm_custom_id *id = o->value;
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (!*arg || *end || errno || arg[0] == '-' || arg[0] == '+') {
		snprintf(err, errlen,
			 "'%.32s' is not a 64-bit number (decimal or 0x hex)",
			 arg);
		return -EINVAL;
	}
	id->set = true;
	id->val = v;
	return 0;
}

/*
 * -n/--network: kvmtool's syntax (net_parse_spec()), one NIC each; mode=none
 * (or "none") adds none. Without -n the guest has no NIC (see README).
 */
static int add_network(const struct option *o, const char *arg, char *err,
		       size_t errlen)
{
	struct vm_config *cfg = o->value;
	struct net_spec spec;

	if (net_parse_spec(arg, &spec, err, errlen))
		return -EINVAL;
	if (spec.mode == NET_MODE_NONE)
		return 0;
	if (cfg->nr_nics >= VM_MAX_NICS) {
		snprintf(err, errlen, "-n: at most %d network devices",
			 VM_MAX_NICS);
		return -E2BIG;
	}
	cfg->nics[cfg->nr_nics++] = spec;
	return 0;
}

static uint64_t host_mem_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || psize <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)psize >> 20;
}

/*
 * The command line must fit the device tree's bootargs buffer: refused
 * above it. Linux on RISC-V copies only COMMAND_LINE_SIZE - 1 bytes of
 * bootargs and drops the rest without a word: warned about, since a guest
 * that is not Linux may take more. Checked with earlycon=sbi counted,
 * which lkvm adds only where KVM offers the SBI debug console.
 */
static int check_bootargs(const struct vm_config *cfg)
{
	size_t need = board_bootargs(cfg, true, NULL, 0);

	if (need >= VM_BOOTARGS_MAX) {
		pr_err("run: the kernel command line is %zu bytes with lkvm's own parameters, above the limit of %d",
		       need, VM_BOOTARGS_MAX - 1);
		return -1;
	}
	return 0;
}

/* After every check passed, so that a failure stays one line. */
static void warn_bootargs(const struct vm_config *cfg)
{
	size_t need = board_bootargs(cfg, true, NULL, 0);

	if (need >= VM_LINUX_CMDLINE_SIZE)
		pr_warn("run: the kernel command line is %zu bytes: Linux on RISC-V keeps only the first %d",
			need, VM_LINUX_CMDLINE_SIZE - 1);
}

static int check_config(struct vm_config *cfg)
{
	uint64_t host = host_mem_mib();

	if (!cfg->kernel) {
		pr_err("run: no kernel given (-k/--kernel IMAGE)");
		return -1;
	}

	if (check_bootargs(cfg) || check_file("kernel", cfg->kernel))
		return -1;
	if (cfg->initrd && check_file("initrd", cfg->initrd))
		return -1;
	for (unsigned int i = 0; i < cfg->nr_nics; i++) {
		int t = cfg->nics[i].trans;

		if (t >= 0 && t != cfg->transport) {
			pr_err("-n trans=%s: every virtio device uses --virtio-transport %s",
			       t ? "mmio" : "pci",
			       cfg->transport == VIRTIO_TRANSPORT_PCI ? "pci"
								      : "mmio");
			return -1;
		}
	}
	if (host && cfg->mem_mib > host) {
		pr_err("-m %llu MiB is more than this host's memory (%llu MiB)",
		       (unsigned long long)cfg->mem_mib,
		       (unsigned long long)host);
		return -1;
	}
	warn_bootargs(cfg);
	/* after every check, as the warning above */
	if (cfg->nr_cpus > VM_MAX_CPUS) {
		pr_warn("-c %u: lkvm runs at most %u vCPUs: using %u",
			cfg->nr_cpus, VM_MAX_CPUS, VM_MAX_CPUS);
		cfg->nr_cpus = VM_MAX_CPUS;
	}
	return 0;
}

static void print_exit_statuses(void)
{
	printf("\nExit status: %d guest powered off (SBI SRST or the test finisher's pass),\n"
	       "  %d lkvm's error, %d guest asked to reboot (SBI SRST or the finisher's\n"
	       "  reset) with --no-reboot (without it the guest boots again), %d SBI SRST with reason\n"
	       "  SYSTEM_FAILURE, %d guest kernel panic (pvpanic), %d --timeout ran out,\n"
	       "  N the test finisher's fail with code N (1-255; 255 above, %d for 0),\n"
	       "  128+N stopped by signal N, 159 a syscall the seccomp filter denies.\n"
	       "Test devices (always present): a \"sifive,test0\" finisher at 0x%llx\n"
	       "  (write 0x5555 pass, 0x3333 | code << 16 fail, 0x7777 reboot) and a\n"
	       "  \"qemu,pvpanic-mmio\" register at 0x%llx.\n"
	       "Console: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n",
	       LKVM_EXIT_SHUTDOWN, LKVM_EXIT_ERROR, LKVM_EXIT_REBOOT,
	       LKVM_EXIT_SYSFAIL, LKVM_EXIT_PANIC, LKVM_EXIT_TIMEOUT,
	       LKVM_EXIT_SYSFAIL, (unsigned long long)MEMMAP_TEST_FINISHER_BASE,
	       (unsigned long long)MEMMAP_PVPANIC_BASE);
}

int run_parse_args(int argc, const char **argv, struct vm_config *cfg)
{
	const struct option opts[] = {
		OPT_GROUP("Basic options:"),
		OPT_STR(0, "name", &cfg->name, "NAME", "a name for the guest"),
		OPT_UNSIGNED(
			'c', "cpus", &cfg->nr_cpus, 1, VM_CPUS_ARG_MAX, "N",
			"number of vCPUs (default 1); above KVM's limit: the limit, with a warning"),
		OPT_MIB('m', "mem", &cfg->mem_mib, VM_MEM_MIN_MIB,
			VM_MEM_MAX_MIB, "SIZE",
			"guest RAM: MiB, or with a K/M/G/T suffix (default 256)"),
		OPT_ONE_OF(
			0, "console", &cfg->console, console_names,
			"serial|hv|virtio",
			"guest console: 8250, SBI (hvc0) or virtio-console (default serial)"),
		OPT_CB('d', "disk", cfg, add_disk, "PATH[,ro][,direct]",
		       "a virtio-blk disk (raw, qcow2 or block device; a directory: a 9p root); up to 16"),
		OPT_CB(0, "9p", cfg, add_9p, "DIR[,TAG][,ro]",
		       "share DIR over virtio-9p (tag kvm_9p; /dev/root: the guest's root; ro: EROFS); up to 8"),
		OPT_BOOLEAN(0, "rng", &cfg->rng,
			    "a virtio-rng device fed from getrandom()"),
		OPT_CB('n', "network", cfg, add_network,
		       "mode=tap|user|none[,KEY=VALUE]...",
		       "a virtio-net device (kvmtool's keys: tapif, script, downscript, host_ip, guest_ip, guest_mac, host_mac, vhost, fd, trans, mq; hostfwd=tcp:HOSTPORT:GUESTPORT for user mode); repeat for more; none without -n"),
		OPT_STR(0, "passt", &cfg->passt, "PATH",
			"passt for -n mode=user (default: found on PATH)"),
		OPT_GROUP("Kernel options:"),
		OPT_STR('k', "kernel", &cfg->kernel, "IMAGE",
			"Linux Image, or a flat binary loaded at RAM + 2 MiB (or IMAGE without -k)"),
		OPT_STR('i', "initrd", &cfg->initrd, "FILE", "initial ramdisk"),
		OPT_STR('p', "params", &cfg->params, "PARAMS",
			"kernel command line"),
		OPT_BOOLEAN(
			0, "nodefaults", &cfg->nodefaults,
			"pass -p verbatim: no console=, earlycon= or root= of lkvm's own"),
		OPT_GROUP("Machine options:"),
		OPT_ONE_OF(
			0, "irqchip", &cfg->irqchip, irqchip_names,
			"plic|aia|auto",
			"interrupt controller: userspace PLIC, in-kernel AIA, or auto (default: AIA when KVM offers it)"),
		OPT_ONE_OF(
			0, "aia-mode", &cfg->aia_mode, aia_mode_names,
			"default|emul|hwaccel|auto",
			"in-kernel AIA: IMSIC files emulated by KVM, in hardware, or either (default: KVM's choice)"),
		OPT_ONE_OF(0, "virtio-transport", &cfg->transport,
			   transport_names, "pci|mmio",
			   "transport of every virtio device (default pci)"),
		OPT_BOOLEAN(
			0, "hugetlb", &cfg->hugetlb,
			"guest RAM from the kernel's huge page pool (/proc/sys/vm/nr_hugepages): fewer stage-2 faults"),
		OPT_STR(0, "dump-dtb", &cfg->dump_dtb, "FILE",
			"write the guest's device tree to FILE"),
		OPT_STR(0, "dev", &cfg->kvm_dev, "PATH",
			"KVM device (default /dev/kvm)"),
		OPT_ONE_OF(
			0, "io-engine", &cfg->io_engine, io_engine_names,
			"aio|threads",
			"disk I/O: libaio (default, when built in) or worker threads"),
		OPT_BOOLEAN(0, "no-ioeventfd", &cfg->no_ioeventfd,
			    "handle virtio notifications on the vCPU thread"),
		OPT_BOOLEAN(
			0, "no-coalesced-mmio", &cfg->no_coalesced,
			"let every 8250 THR write exit (no batching in KVM)"),
		OPT_BOOLEAN(
			0, "no-uart-image", &cfg->no_uart_image,
			"let every 8250 register read exit (no read-only register page)"),
		OPT_BOOLEAN(
			0, "no-seccomp", &cfg->no_seccomp,
			"run without the seccomp syscall filter (on by default once set-up is done)"),
		OPT_GROUP("CPU options (as KVM allows, per vCPU):"),
		OPT_ONE_OF(
			0, "cpu-type", &cfg->cpu_type, cpu_type_names,
			"max|min",
			"max: every extension KVM offers (default); min: rv64imafdc, plus what KVM cannot turn off"),
		/* before --disable-: the longest prefix wins anyway */
		OPT_PREFIX_CB(
			"disable-sbi-", &cfg->sbi_off, add_ext_off, "EXT",
			"hide SBI extension EXT (e.g. dbcn, hsm, srst) from the guest"),
		OPT_PREFIX_CB(
			"disable-", &cfg->isa_off, add_ext_off, "EXT",
			"turn ISA extension EXT off (e.g. svpbmt, zicboz, v, f); `lkvm info` lists those KVM can"),
		OPT_CB(0, "custom-mvendorid", &cfg->mvendorid, set_custom_id,
		       "N",
		       "the mvendorid the guest reads (not in Linux 6.1's KVM)"),
		OPT_CB(0, "custom-marchid", &cfg->marchid, set_custom_id, "N",
		       "the marchid the guest reads"),
		OPT_CB(0, "custom-mimpid", &cfg->mimpid, set_custom_id, "N",
		       "the mimpid the guest reads"),
		OPT_GROUP("Test options:"),
		OPT_UNSIGNED(
			0, "timeout", &cfg->timeout_s, 0, 86400 * 365,
			"SECONDS",
			"stop the guest after SECONDS and exit 124, as timeout(1) (0: never)"),
		OPT_ONE_OF(
			0, "panic", &cfg->panic, panic_names, "stop|continue",
			"a guest panic (pvpanic): exit 4 (default), or say so and keep running"),
		OPT_BOOLEAN(
			0, "no-reboot", &cfg->no_reboot,
			"a guest's reboot (SBI SRST) exits 2 instead of booting it again"),
		OPT_GROUP("Debug options:"),
		OPT_ONE_OF(
			0, "loglevel", &cfg->log_level, log_level_names,
			"error|warning|info|debug",
			"lkvm's messages on stderr up to this level (default info)"),
		OPT_BOOLEAN(0, "debug", &cfg->debug, "trace every VM exit"),
		OPT_BOOLEAN(0, "stats", &cfg->stats,
			    "print start-up time, memory use and VM exits "
			    "on stderr"),
		OPT_END(),
	};
	char err[256];
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_mib = 256;
	cfg->nr_cpus = 1;
	cfg->console = CONSOLE_SERIAL;
	cfg->irqchip = IRQCHIP_AUTO;
	cfg->transport = VIRTIO_TRANSPORT_PCI;
	cfg->kvm_dev = "/dev/kvm";
	cfg->log_level = -1;
	ret = options_parse(opts, &argc, argv, err, sizeof(err));
	if (ret == OPTIONS_HELP) {
		options_usage(stdout, run_usage, opts);
		print_exit_statuses();
		return OPTIONS_HELP;
	}
	if (ret) {
		pr_err("run: %s", err);
		return -1;
	}
	if (cfg->log_level >= 0)
		log_level = (enum log_level)cfg->log_level;
	/* kvmtool's `lkvm run IMAGE` */
	if (argc && !cfg->kernel) {
		cfg->kernel = argv[0];
		argc--;
		argv++;
	}
	if (argc) {
		pr_err("run: unexpected argument '%s'", argv[0]);
		return -1;
	}
	return check_config(cfg);
}

int cmd_run(int argc, const char **argv)
{
	struct timespec t0;
	struct vm_config cfg;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = run_parse_args(argc, argv, &cfg);
	cfg.t_start = t0;

	if (ret == OPTIONS_HELP)
		return 0;
	if (ret)
		return LKVM_EXIT_ERROR;
	return vm_run(&cfg);
}
