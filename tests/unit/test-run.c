// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for builtin-run.c: `lkvm run` options, checks and bootargs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/compiler.h"
#include "lkvm/log.h"
#include "lkvm/vm.h"
#include "riscv/board.h"
#include "unit.h"

/* A temporary file holding len bytes; path receives its name. */
static bool temp_file(char *path, size_t pathlen, size_t len)
{
	static const char junk[64];
	int fd;

	snprintf(path, pathlen, "/tmp/lkvm-run-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return false;
	while (len) {
		size_t n = len < sizeof(junk) ? len : sizeof(junk);

		if (write(fd, junk, n) != (ssize_t)n) {
			close(fd);
			unlink(path);
			return false;
		}
		len -= n;
	}
	close(fd);
	return true;
}

static int parse(struct vm_config *cfg, int argc, const char **argv)
{
	return run_parse_args(argc, argv, cfg);
}

static void test_defaults(void)
{
	struct vm_config cfg;
	char k[64];
	const char *argv[] = { "-k", k };

	REQUIRE(temp_file(k, sizeof(k), 4096));
	CHECK_EQ(parse(&cfg, 2, argv), 0);
	CHECK_STR(cfg.kernel, k);
	CHECK_EQ(cfg.mem_mib, 256);
	CHECK_EQ(cfg.nr_cpus, 1);
	CHECK_EQ(cfg.console, CONSOLE_SERIAL);
	CHECK_EQ(cfg.irqchip, IRQCHIP_AUTO);
	CHECK_EQ(cfg.transport, VIRTIO_TRANSPORT_PCI);
	CHECK(cfg.initrd == NULL);
	CHECK(cfg.params == NULL);
	CHECK(!cfg.debug);
	CHECK_STR(cfg.kvm_dev, "/dev/kvm");
	unlink(k);
}

static void test_options_set(void)
{
	struct vm_config cfg;
	char k[64], i[64];
	const char *argv[] = {
		"--kernel",  k,	      "-i",	   i,
		"-m",	     "64",    "-c",	   "2",
		"-p",	     "quiet", "--console", "hv",
		"--irqchip", "plic",  "--debug",   "--virtio-transport",
		"mmio"
	};

	REQUIRE(temp_file(k, sizeof(k), 100));
	if (!CHECK(temp_file(i, sizeof(i), 1))) {
		unlink(k);
		return;
	}
	CHECK_EQ(parse(&cfg, ARRAY_SIZE(argv), argv), 0);
	CHECK_EQ(cfg.mem_mib, 64);
	CHECK_EQ(cfg.nr_cpus, 2);
	CHECK_STR(cfg.initrd, i);
	CHECK_STR(cfg.params, "quiet");
	CHECK_EQ(cfg.console, CONSOLE_HV);
	CHECK_EQ(cfg.irqchip, IRQCHIP_PLIC);
	CHECK_EQ(cfg.transport, VIRTIO_TRANSPORT_MMIO);
	CHECK(cfg.debug);
	unlink(k);
	unlink(i);
}

static void test_bad_values(void)
{
	struct vm_config cfg;
	char k[64];
	const char *mem1[] = { "-k", k, "-m", "1" };
	const char *cpu0[] = { "-k", k, "-c", "0" };
	const char *cpus[] = { "-k", k, "-c", "65537" };
	const char *huge[] = { "-k", k, "-m", "16T" };
	const char *unknown[] = { "-k", k, "--frobnicate" };
	const char *aia[] = { "-k", k, "--irqchip", "aia" };
	const char *tr[] = { "-k", k, "--virtio-transport", "isa" };
	const char *stray[] = { "-k", k, "extra" };

	REQUIRE(temp_file(k, sizeof(k), 4096));
	CHECK_EQ(parse(&cfg, 4, mem1), -1);
	CHECK_EQ(parse(&cfg, 4, cpu0), -1);
	CHECK_EQ(parse(&cfg, 4, cpus), -1);
	CHECK_EQ(parse(&cfg, 4, huge), -1);
	CHECK_EQ(parse(&cfg, 3, unknown), -1);
	/* aia is decided against KVM at run time, not here */
	CHECK_EQ(parse(&cfg, 4, aia), 0);
	CHECK_EQ(cfg.irqchip, IRQCHIP_AIA);
	CHECK_EQ(parse(&cfg, 4, tr), -1);
	CHECK_EQ(parse(&cfg, 3, stray), -1);
	unlink(k);
}

static void test_bad_kernels(void)
{
	struct vm_config cfg;
	char empty[64], dir[] = "/tmp/lkvm-run-dir-XXXXXX", k[64];
	const char *none[] = { "-m", "64" };
	const char *missing[] = { "-k", "/nonexistent/lkvm/Image" };
	const char *a_dir[] = { "-k", dir };
	const char *zero[] = { "-k", empty };
	const char *bad_initrd[] = { "-k", k, "-i", "/nonexistent/initrd" };
	const char *empty_initrd[] = { "-k", k, "-i", empty };

	REQUIRE(temp_file(empty, sizeof(empty), 0));
	if (!CHECK(temp_file(k, sizeof(k), 10))) {
		unlink(empty);
		return;
	}
	CHECK_EQ(parse(&cfg, 2, none), -1);
	CHECK_EQ(parse(&cfg, 2, missing), -1);
	CHECK_EQ(parse(&cfg, 2, zero), -1);
	CHECK_EQ(parse(&cfg, 4, bad_initrd), -1);
	CHECK_EQ(parse(&cfg, 4, empty_initrd), -1);
	if (CHECK(mkdtemp(dir) != NULL)) {
		CHECK_EQ(parse(&cfg, 2, a_dir), -1);
		rmdir(dir);
	}
	unlink(empty);
	unlink(k);
}

static void test_bootargs(void)
{
	struct vm_config cfg = { 0 };
	char buf[128];

	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0");
	cfg.console = CONSOLE_HV;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=hvc0");
	cfg.params = "";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=hvc0");
	cfg.params = "root=/dev/vda rw";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=hvc0 root=/dev/vda rw");
	cfg.console = CONSOLE_SERIAL;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw");
	/* params naming a console are kept as they are */
	cfg.params = "earlycon console=hvc0 quiet";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "earlycon console=hvc0 quiet");
	/* truncated to the buffer, still terminated */
	cfg.params = "root=/dev/vda";
	board_bootargs(&cfg, false, buf, 8);
	CHECK_STR(buf, "console");
	/* a disk and no root=: the first disk is the root, read-write */
	cfg.nr_disks = 1;
	cfg.params = NULL;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw");
	cfg.params = "quiet";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw quiet");
	cfg.params = "quiet root=/dev/vdb ro";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 quiet root=/dev/vdb ro");
	/* virtio-console: hvc1, after the SBI console's hvc0 */
	cfg.console = CONSOLE_VIRTIO;
	cfg.params = NULL;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=hvc1 root=/dev/vda rw");
	cfg.console = CONSOLE_SERIAL;
	/* "xroot=" is not a root= parameter */
	cfg.params = "xroot=1";
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw xroot=1");
	/* -d ...,ro on the first disk: the root is mounted read-only; only
	 * the first disk decides */
	cfg.params = NULL;
	cfg.disks[0].ro = true;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda ro");
	cfg.disks[0].ro = false;
	cfg.disks[1].ro = true;
	cfg.nr_disks = 2;
	board_bootargs(&cfg, false, buf, sizeof(buf));
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw");
}

/* With the SBI debug console, earlycon=sbi follows the console, unless
 * params choose an earlycon themselves. */
static void test_bootargs_earlycon(void)
{
	static const struct {
		enum console_kind con;
		unsigned int disks;
		const char *params, *want;
	} t[] = {
		{ CONSOLE_SERIAL, 0, NULL, "console=ttyS0 earlycon=sbi" },
		{ CONSOLE_SERIAL, 1, "quiet",
		  "console=ttyS0 earlycon=sbi root=/dev/vda rw quiet" },
		{ CONSOLE_HV, 0, "quiet", "console=hvc0 earlycon=sbi quiet" },
		{ CONSOLE_HV, 0, "earlycon=uart8250,mmio,0x10000000 quiet",
		  "console=hvc0 earlycon=uart8250,mmio,0x10000000 quiet" },
		{ CONSOLE_HV, 0, "earlycon", "console=hvc0 earlycon" },
		{ CONSOLE_HV, 0, "console=ttyS0",
		  "earlycon=sbi console=ttyS0" },
		/* "noearlycon=1" is not an earlycon */
		{ CONSOLE_HV, 0, "noearlycon=1",
		  "console=hvc0 earlycon=sbi noearlycon=1" },
	};
	struct vm_config cfg = { 0 };
	char buf[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		cfg.console = t[i].con;
		cfg.nr_disks = t[i].disks;
		cfg.params = t[i].params;
		board_bootargs(&cfg, true, buf, sizeof(buf));
		CHECK_STR(buf, t[i].want);
	}
	/* truncated, terminated */
	board_bootargs(&cfg, true, buf, 16);
	CHECK_STR(buf, "console=hvc0 ea");
	/* no room at all: nothing written */
	buf[0] = 'x';
	board_bootargs(&cfg, true, buf, 0);
	CHECK_EQ(buf[0], 'x');
}

/* Run parse() with stderr in a file; the lines it printed go to out. */
static int parse_capture(struct vm_config *cfg, int argc, const char **argv,
			 char *out, size_t outlen)
{
	FILE *f = tmpfile();
	int saved, ret;
	size_t n;

	out[0] = 0;
	if (!f)
		return -1000;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	ret = parse(cfg, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = 0;
	fclose(f);
	return ret;
}

static unsigned int count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The whole command line is counted, and a cut one is never passed. */
static void test_bootargs_length(void)
{
	struct vm_config cfg = { 0 };
	static char params[5000];
	char buf[64];

	memset(params, 'a', sizeof(params) - 1);
	cfg.params = params;
	cfg.nr_disks = 1;
	/* "console=ttyS0 root=/dev/vda rw " is 31 bytes */
	CHECK_EQ(board_bootargs(&cfg, false, buf, sizeof(buf)), 31 + 4999);
	CHECK_EQ(strlen(buf), sizeof(buf) - 1);
	CHECK_EQ(board_bootargs(&cfg, true, NULL, 0), 44 + 4999);
	params[10] = 0;
	CHECK_EQ(board_bootargs(&cfg, false, buf, sizeof(buf)), 41);
	CHECK_STR(buf, "console=ttyS0 root=/dev/vda rw aaaaaaaaaa");
	params[10] = 'a';
}

/* -p too long for lkvm: one error line naming the limit, before any VM;
 * too long for Linux on RISC-V: a warning naming its limit. */
static void test_bootargs_too_long(void)
{
	struct vm_config cfg;
	static char params[4096];
	char k[64], out[1024];
	const char *argv[] = { "-k", k, "-p", params };

	REQUIRE(temp_file(k, sizeof(k), 4096));
	/* console=ttyS0 earlycon=sbi: 26 bytes and a space */
	memset(params, 'x', VM_BOOTARGS_MAX - 1 - 27);
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), 0);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out, "warning") && strstr(out, "1023"));
	params[VM_BOOTARGS_MAX - 1 - 27] = 'x';
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out, "error") && strstr(out, "4096 bytes") &&
	      strstr(out, "limit of 4095"));
	/* within Linux's limit: nothing said */
	memset(params, 0, sizeof(params));
	memset(params, 'x', VM_LINUX_CMDLINE_SIZE - 1 - 27);
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	params[VM_LINUX_CMDLINE_SIZE - 1 - 27] = 'x';
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), 0);
	CHECK(strstr(out, "Linux on RISC-V keeps only the first 1023"));
	/* a failure is one line: no warning before the error */
	argv[1] = "/nonexistent/lkvm/Image";
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out,
		     "Fatal: Unable to open kernel /nonexistent/lkvm/Image"));
	unlink(k);
}

/*
 * kvm-unit-tests' runner: its early-failure probe must read kvmtool's line
 * on stderr, and its command line must parse (only the missing kernel
 * fails).
 */
static void test_kut_probe(void)
{
	struct vm_config cfg;
	char env[64], out[1024];
	const char *argv[] = { "--kernel",     "_NO_FILE_4Uhere_",
			       "--cpus",       "4",
			       "--params",     "-f x",
			       "--nodefaults", "--network",
			       "mode=none",    "--loglevel=warning",
			       "--initrd",     env };
	enum log_level saved = log_level;

	REQUIRE(temp_file(env, sizeof(env), 10));
	CHECK_EQ(parse_capture(&cfg, ARRAY_SIZE(argv), argv, out, sizeof(out)),
		 -1);
	CHECK_STR(
		out,
		"lkvm: Fatal: Unable to open kernel _NO_FILE_4Uhere_: No such file or directory\n");
	CHECK_EQ(log_level, LOG_WARN);
	log_level = saved;
	unlink(env);
}

/* The command line kvm-unit-tests gives a test, with a real kernel. */
static void test_kut_command(void)
{
	struct vm_config cfg;
	char k[64], env[64], out[1024];
	const char *argv[] = { "run-me",   "--cpus",	"3",
			       "--params", "a  b c ",	"--nodefaults",
			       "-n",	   "mode=none", "--loglevel",
			       "error",	   "--initrd",	env };
	enum log_level saved = log_level;

	REQUIRE(temp_file(k, sizeof(k), 4096));
	argv[0] = k;
	if (!CHECK(temp_file(env, sizeof(env), 10))) {
		unlink(k);
		return;
	}
	CHECK_EQ(parse_capture(&cfg, ARRAY_SIZE(argv), argv, out, sizeof(out)),
		 0);
	CHECK_STR(out, "");
	CHECK_STR(cfg.kernel, k);
	CHECK_STR(cfg.initrd, env);
	CHECK_EQ(cfg.nr_cpus, 3);
	CHECK(cfg.nodefaults);
	CHECK_EQ(cfg.log_level, LOG_ERR);
	CHECK_EQ(log_level, LOG_ERR);
	/* verbatim: no console=, earlycon= or root=, spaces kept */
	CHECK_EQ(board_bootargs(&cfg, true, out, sizeof(out)), 7);
	CHECK_STR(out, "a  b c ");
	cfg.nr_disks = 1;
	CHECK_EQ(board_bootargs(&cfg, true, out, sizeof(out)), 7);
	CHECK_STR(out, "a  b c ");
	cfg.params = NULL;
	CHECK_EQ(board_bootargs(&cfg, true, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_EQ(board_bootargs(&cfg, true, NULL, 0), 0);
	log_level = saved;
	unlink(k);
	unlink(env);
}

/* Every spelling of the options kvmtool's scripts use. */
static void test_kvmtool_spellings(void)
{
	struct vm_config cfg;
	char k[64];
	static const char *const levels[] = { "error", "warning", "info",
					      "debug" };
	const char *lvl[] = { "-k", k, "--loglevel", NULL };
	const char *lvl_eq[] = { "-k", k, NULL };
	const char *net[] = {
		"-k",	     k,		 "-n", "mode=none", "--network=none",
		"--network", "mode=none"
	};
	const char *tap[] = { "-k", k, "-n", "mode=tap,bogus=1" };
	const char *two[] = {
		"-k", k, "-n", "mode=tap", "-n", "mode=user,hostfwd=tcp:2222:22"
	};
	const char *bad_lvl[] = { "-k", k, "--loglevel", "verbose" };
	const char *pos_and_k[] = { "-k", k, k };
	const char *params[] = { "-k", k,	  "--params=x=1 y", "--timeout",
				 "30", "--panic", "continue" };
	const char *bad_timeout[] = { "-k", k, "--timeout", "-1" };
	const char *bad_panic[] = { "-k", k, "--panic", "reboot" };
	enum log_level saved = log_level;
	char eq[64], out[1024];
	unsigned int i;

	REQUIRE(temp_file(k, sizeof(k), 4096));
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		lvl[3] = levels[i];
		CHECK_EQ(parse(&cfg, 4, lvl), 0);
		CHECK_EQ(cfg.log_level, (int)i);
		CHECK_EQ(log_level, (enum log_level)i);
		snprintf(eq, sizeof(eq), "--loglevel=%s", levels[i]);
		lvl_eq[2] = eq;
		CHECK_EQ(parse(&cfg, 3, lvl_eq), 0);
		CHECK_EQ(cfg.log_level, (int)i);
	}
	log_level = saved;
	/* not given: unchanged */
	CHECK_EQ(parse(&cfg, 2, lvl), 0);
	CHECK_EQ(cfg.log_level, -1);
	CHECK_EQ(log_level, saved);
	CHECK_EQ(cfg.timeout_s, 0);
	CHECK_EQ(cfg.panic, PANIC_STOP);
	CHECK(!cfg.nodefaults);
	CHECK_EQ(parse(&cfg, 7, net), 0);
	CHECK_EQ(cfg.nr_nics, 0);
	CHECK_EQ(parse(&cfg, 6, two), 0);
	CHECK_EQ(cfg.nr_nics, 2);
	CHECK_EQ(cfg.nics[0].mode, NET_MODE_TAP);
	CHECK_EQ(cfg.nics[1].mode, NET_MODE_USER);
	CHECK_EQ(cfg.nics[1].hostfwd[0].guest_port, 22);
	CHECK_EQ(parse_capture(&cfg, 4, tap, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out, "--network: unknown key 'bogus'"));
	CHECK_EQ(parse_capture(&cfg, 4, bad_lvl, out, sizeof(out)), -1);
	CHECK(strstr(out,
		     "'verbose' is not one of: error, warning, info, debug"));
	CHECK_EQ(log_level, saved);
	CHECK_EQ(parse(&cfg, 3, pos_and_k), -1);
	CHECK_EQ(parse(&cfg, 7, params), 0);
	CHECK_STR(cfg.params, "x=1 y");
	CHECK_EQ(cfg.timeout_s, 30);
	CHECK_EQ(cfg.panic, PANIC_CONTINUE);
	CHECK_EQ(parse(&cfg, 4, bad_timeout), -1);
	CHECK_EQ(parse(&cfg, 4, bad_panic), -1);
	unlink(k);
}

/* --cpu-type, --disable-EXT, --disable-sbi-EXT, --custom-m*id. */
static void test_cpu_options(void)
{
	struct vm_config cfg;
	char k[64], out[1024], many[VM_MAX_EXT_OFF + 1][32];
	const char *argv[] = { "-k",
			       k,
			       "--cpu-type",
			       "min",
			       "--disable-svpbmt",
			       "--disable-sbi-dbcn",
			       "--disable-v",
			       "--disable-svpbmt",
			       "--disable-sbi-hsm",
			       "--custom-mvendorid",
			       "0x5b7",
			       "--custom-marchid=18446744073709551615",
			       "--custom-mimpid",
			       "0" };
	const char *bad_name[] = { "-k", k, "--disable-Zba" };
	const char *empty[] = { "-k", k, "--disable-" };
	const char *sbi_empty[] = { "-k", k, "--disable-sbi-" };
	const char *value[] = { "-k", k, "--disable-zba=1" };
	const char *long_name[] = {
		"-k", k, "--disable-abcdefghijklmnopqrstuvwxyz0123456789"
	};
	const char *bad_type[] = { "-k", k, "--cpu-type", "host" };
	const char *bad_id[] = { "-k", k, "--custom-mimpid", "12x" };
	const char *neg_id[] = { "-k", k, "--custom-marchid", "-1" };
	const char *big_id[] = { "-k", k, "--custom-marchid",
				 "18446744073709551616" };
	const char *too_many[VM_MAX_EXT_OFF + 3] = { "-k", k };
	unsigned int i;

	REQUIRE(temp_file(k, sizeof(k), 4096));
	CHECK_EQ(parse(&cfg, 2, argv), 0);
	CHECK_EQ(cfg.cpu_type, CPU_TYPE_MAX);
	CHECK_EQ(cfg.isa_off.n, 0);
	CHECK(!cfg.mvendorid.set && !cfg.marchid.set && !cfg.mimpid.set);
	CHECK_EQ(parse(&cfg, ARRAY_SIZE(argv), argv), 0);
	CHECK_EQ(cfg.cpu_type, CPU_TYPE_MIN);
	CHECK_EQ(cfg.isa_off.n, 2);
	CHECK_STR(cfg.isa_off.name[0], "svpbmt");
	CHECK_STR(cfg.isa_off.name[1], "v");
	CHECK_EQ(cfg.sbi_off.n, 2);
	CHECK_STR(cfg.sbi_off.name[0], "dbcn");
	CHECK(vm_ext_listed(&cfg.sbi_off, "hsm"));
	CHECK(!vm_ext_listed(&cfg.sbi_off, "svpbmt"));
	CHECK(vm_ext_listed(&cfg.isa_off, "v"));
	CHECK(cfg.mvendorid.set && cfg.mvendorid.val == 0x5b7);
	CHECK(cfg.marchid.set && cfg.marchid.val == UINT64_MAX);
	CHECK(cfg.mimpid.set && cfg.mimpid.val == 0);
	CHECK_EQ(parse_capture(&cfg, 3, bad_name, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out, "--disable-EXT: 'Zba' is not an extension name"));
	CHECK_EQ(parse(&cfg, 3, empty), -1);
	CHECK_EQ(parse_capture(&cfg, 3, sbi_empty, out, sizeof(out)), -1);
	CHECK(strstr(out, "'sbi-' is not an extension name"));
	CHECK_EQ(parse_capture(&cfg, 3, value, out, sizeof(out)), -1);
	CHECK(strstr(out, "--disable-zba takes no value"));
	CHECK_EQ(parse_capture(&cfg, 3, long_name, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK_EQ(parse_capture(&cfg, 4, bad_type, out, sizeof(out)), -1);
	CHECK(strstr(out, "'host' is not one of: max, min"));
	CHECK_EQ(parse_capture(&cfg, 4, bad_id, out, sizeof(out)), -1);
	CHECK(strstr(out, "--custom-mimpid: '12x' is not a 64-bit number"));
	CHECK_EQ(parse(&cfg, 4, neg_id), -1);
	CHECK_EQ(parse(&cfg, 4, big_id), -1);
	for (i = 0; i <= VM_MAX_EXT_OFF; i++) {
		snprintf(many[i], sizeof(many[i]), "--disable-x%u", i);
		too_many[2 + i] = many[i];
	}
	CHECK_EQ(parse(&cfg, VM_MAX_EXT_OFF + 2, too_many), 0);
	CHECK_EQ(cfg.isa_off.n, VM_MAX_EXT_OFF);
	CHECK_EQ(parse_capture(&cfg, VM_MAX_EXT_OFF + 3, too_many, out,
			       sizeof(out)),
		 -1);
	CHECK(strstr(out, "at most 64 extensions"));
	unlink(k);
}

/* -c above lkvm's limit is clamped with a warning; above KVM's at run time. */
static void test_cpus_clamp(void)
{
	struct vm_config cfg;
	char k[64], out[1024];
	const char *argv[] = { "-k", k, "--cpus", "4096" };
	const char *max[] = { "-k", k, "-c", "512" };

	REQUIRE(temp_file(k, sizeof(k), 4096));
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), 0);
	CHECK_EQ(cfg.nr_cpus, VM_MAX_CPUS);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(
		out,
		"warning: -c 4096: lkvm runs at most 512 vCPUs: using 512"));
	CHECK_EQ(parse_capture(&cfg, 4, max, out, sizeof(out)), 0);
	CHECK_EQ(cfg.nr_cpus, 512);
	CHECK_STR(out, "");
	CHECK_EQ(vm_cpus_clamp(8, 4), 4);
	CHECK_EQ(vm_cpus_clamp(4, 4), 4);
	CHECK_EQ(vm_cpus_clamp(3, 4), 3);
	CHECK_EQ(vm_cpus_clamp(512, 0), 512);
	CHECK_EQ(vm_cpus_clamp(1, 1), 1);
	unlink(k);
}

/* A value with a newline or an escape in it is still one error line. */
static void test_error_is_one_line(void)
{
	struct vm_config cfg;
	char k[64], out[1024];
	const char *argv[] = { "-k", k, "--irqchip", "plic\n--x\033[2J" };

	REQUIRE(temp_file(k, sizeof(k), 4096));
	CHECK_EQ(parse_capture(&cfg, 4, argv, out, sizeof(out)), -1);
	CHECK_EQ(count_lines(out), 1);
	CHECK(strstr(out, "'plic?--x?[2J'"));
	unlink(k);
}

static void test_parse_disk(void)
{
	struct disk_spec d;
	char err[128];

	CHECK_EQ(run_parse_disk("a.img", &d, err, sizeof(err)), 0);
	CHECK_STR(d.path, "a.img");
	CHECK(!d.ro && !d.direct);
	CHECK_EQ(run_parse_disk("/x/b.img,ro,direct", &d, err, sizeof(err)), 0);
	CHECK_STR(d.path, "/x/b.img");
	CHECK(d.ro && d.direct);
	CHECK_EQ(run_parse_disk("b.img,rw", &d, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unknown flag 'rw'") != NULL);
	CHECK_EQ(run_parse_disk(",ro", &d, err, sizeof(err)), -EINVAL);
	CHECK_EQ(run_parse_disk("", &d, err, sizeof(err)), -EINVAL);
	CHECK_EQ(run_parse_disk("a.img,", &d, err, sizeof(err)), -EINVAL);
}

UNIT_SUITE(run, UNIT_TEST(test_parse_disk), UNIT_TEST(test_defaults),
	   UNIT_TEST(test_options_set), UNIT_TEST(test_bad_values),
	   UNIT_TEST(test_bad_kernels), UNIT_TEST(test_bootargs),
	   UNIT_TEST(test_bootargs_earlycon), UNIT_TEST(test_bootargs_length),
	   UNIT_TEST(test_bootargs_too_long), UNIT_TEST(test_error_is_one_line),
	   UNIT_TEST(test_kut_probe), UNIT_TEST(test_kut_command),
	   UNIT_TEST(test_kvmtool_spellings), UNIT_TEST(test_cpus_clamp),
	   UNIT_TEST(test_cpu_options));
