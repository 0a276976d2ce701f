/* SPDX-License-Identifier: GPL-2.0-only */
/* The lkvm subcommands. Each gets the words after its name; returns the exit
 * status. */
#ifndef LKVM_BUILTIN_H
#define LKVM_BUILTIN_H

int cmd_run(int argc, const char **argv);
int cmd_sandbox(int argc, const char **argv);
int cmd_info(int argc, const char **argv);
int cmd_version(int argc, const char **argv);
int cmd_help(int argc, const char **argv);

/* lkvm's version string, e.g. "0.1.0-12-gabcdef". */
extern const char lkvm_version[];

#endif
