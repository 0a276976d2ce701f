// SPDX-License-Identifier: GPL-2.0-only
/* lkvm: subcommand dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/builtin.h"
#include "lkvm/compiler.h"
#include "lkvm/log.h"

#ifndef LKVM_VERSION
#define LKVM_VERSION "unknown"
#endif

const char lkvm_version[] = LKVM_VERSION;

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "boot a guest: lkvm run -k Image [-i initrd]" },
	{ "sandbox", cmd_sandbox,
	  "run a command in a guest with this host's / as its root: lkvm sandbox -k Image -- COMMAND" },
	{ "info", cmd_info, "show what this host's KVM offers a RISC-V guest" },
	{ "version", cmd_version, "print lkvm's version" },
	{ "help", cmd_help, "show this help, or a command's (help COMMAND)" },
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(FILE *f)
{
	size_t i;

	/* kvmtool's heading: scripts (kvm-unit-tests) find the VMM by it */
	fprintf(f, "usage: lkvm COMMAND [OPTIONS]\n\n"
		   "The most commonly used lkvm commands are:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "    %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\n'lkvm COMMAND --help' lists a command's options.\n");
}

int cmd_version(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	printf("lkvm version %s\n", lkvm_version);
	return 0;
}

int cmd_help(int argc, const char **argv)
{
	const struct command *c;
	const char *help[] = { "--help" };

	if (argc < 1) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[0]);
	if (!c) {
		pr_err("help: unknown command '%s'", argv[0]);
		return 1;
	}
	if (c->fn == cmd_help || c->fn == cmd_version) {
		usage(stdout);
		return 0;
	}
	return c->fn(1, help);
}

/*
 * Started with stdin, stdout or stderr closed: /dev/null in their place, so
 * that the first file lkvm opens (a disk image) never becomes fd 1 and
 * receives the console output.
 */
static void std_fds_open(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != fd)
			exit(1);
}

int main(int argc, const char **argv)
{
	const struct command *c;

	/* A closed stdout or stderr must end the output, not lkvm: writes
	 * then fail with EPIPE, which the console treats as output gone. */
	signal(SIGPIPE, SIG_IGN);
	std_fds_open();
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(0, NULL);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	c = find_command(argv[1]);
	if (!c) {
		pr_err("unknown command '%s' (see 'lkvm help')", argv[1]);
		return 1;
	}
	return c->fn(argc - 2, argv + 2);
}
