// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: `lkvm run`'s real option table, through run_parse_args(),
 * the entry point cmd_run() uses; argv words are split at NUL bytes. A
 * parse either succeeds with a config that holds its own limits (and
 * parses the same way again) and says no error, or fails with exactly one
 * error line; messages never hold a newline.
 *
 * Words naming files: "@k" is replaced by a 4 KiB file, "@e" by an empty
 * one, and an input with a '/' in any word is skipped, so that the parser
 * (which opens the kernel and initrd) never opens a device node or FIFO
 * somewhere on the host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/log.h"
#include "lkvm/options.h"
#include "lkvm/vm.h"
#include "riscv/board.h"

#define MAX_WORDS 64

static char kernel_path[64], empty_path[64];
static unsigned int nr_errors, nr_lines;

static void count_msg(enum log_level level, const char *msg)
{
	nr_lines++;
	if (level == LOG_ERR)
		nr_errors++;
	if (strchr(msg, '\n') || !msg[0])
		abort();
}

static void remove_files(void)
{
	unlink(kernel_path);
	unlink(empty_path);
}

static int make_file(char *path, size_t len, size_t bytes)
{
	static const char junk[4096];
	int fd;

	snprintf(path, len, "/tmp/lkvm-fuzz-run-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, junk, bytes) != (ssize_t)bytes)
		return -1;
	close(fd);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (make_file(kernel_path, sizeof(kernel_path), 4096) ||
	    make_file(empty_path, sizeof(empty_path), 0))
		abort();
	atexit(remove_files);
	log_sink = count_msg;
	log_level = LOG_DEBUG;
	/* --help prints the usage there */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

static bool in_range(int v, int n)
{
	return v >= 0 && v < n;
}

/* --disable-EXT names: at most VM_MAX_EXT_OFF, each a non-empty
 * NUL-terminated word of lower case letters and digits, none twice. */
static void check_ext_list(const struct vm_ext_list *l)
{
	unsigned int i, j;
	size_t n;

	if (l->n > VM_MAX_EXT_OFF)
		abort();
	for (i = 0; i < l->n; i++) {
		n = strnlen(l->name[i], VM_EXT_NAME_MAX);
		if (!n || n == VM_EXT_NAME_MAX ||
		    strspn(l->name[i],
			   "abcdefghijklmnopqrstuvwxyz0123456789") != n)
			abort();
		for (j = 0; j < i; j++)
			if (!strcmp(l->name[i], l->name[j]))
				abort();
	}
}

/* The limits a successful parse promises (include/lkvm/vm.h). */
static void check_config(const struct vm_config *c)
{
	unsigned int i;

	if (!c->kernel || c->nr_cpus < 1 || c->nr_cpus > VM_MAX_CPUS ||
	    c->mem_mib < VM_MEM_MIN_MIB || c->mem_mib > VM_MEM_MAX_MIB ||
	    !in_range(c->console, 3) || !in_range(c->irqchip, 3) ||
	    !in_range(c->transport, 2) || !in_range(c->aia_mode, 4) ||
	    !in_range(c->io_engine, 2) || c->nr_disks > VM_MAX_DISKS ||
	    !c->kvm_dev || !in_range(c->panic, 2) ||
	    (c->log_level != -1 && !in_range(c->log_level, 4)))
		abort();
	if (!in_range(c->cpu_type, 2))
		abort();
	check_ext_list(&c->isa_off);
	check_ext_list(&c->sbi_off);
	for (i = 0; i < c->nr_disks; i++)
		if (!c->disks[i].path[0] ||
		    !memchr(c->disks[i].path, 0, sizeof(c->disks[i].path)))
			abort();
	if (board_bootargs(c, true, NULL, 0) >= VM_BOOTARGS_MAX)
		abort();
}

static int split(char *buf, size_t size, const char **argv)
{
	size_t i, start = 0;
	int argc = 0;

	for (i = 0; i <= size && argc < MAX_WORDS; i++) {
		if (buf[i])
			continue;
		argv[argc] = buf + start;
		if (!strcmp(argv[argc], "@k"))
			argv[argc] = kernel_path;
		else if (!strcmp(argv[argc], "@e"))
			argv[argc] = empty_path;
		argc++;
		start = i + 1;
	}
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config cfg, again; /* 64 KiB each */
	const char *argv[MAX_WORDS], *argv2[MAX_WORDS];
	char *buf;
	int argc, ret;

	if (memchr(data, '/', size))
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argc = split(buf, size, argv);
	memcpy(argv2, argv, sizeof(argv));
	nr_errors = nr_lines = 0;
	log_level = LOG_DEBUG; /* --loglevel sets it */
	ret = run_parse_args(argc, argv, &cfg);
	if (ret == -1 && (nr_errors != 1 || nr_lines != 1))
		abort();
	if (ret == OPTIONS_HELP && nr_lines)
		abort();
	if (ret == 0) {
		/* at most the warnings that Linux would cut -p and that
		 * -c is clamped */
		if (nr_errors || nr_lines > 2)
			abort();
		check_config(&cfg);
		if (run_parse_args(argc, argv2, &again) ||
		    memcmp(&cfg.disks, &again.disks, sizeof(cfg.disks)) ||
		    cfg.mem_mib != again.mem_mib)
			abort();
	}
	if (ret != 0 && ret != -1 && ret != OPTIONS_HELP)
		abort();
	free(buf);
	return 0;
}
