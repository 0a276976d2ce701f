/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line option parsing for the lkvm subcommands. */
#ifndef LKVM_OPTIONS_H
#define LKVM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_END = 0,
	OPT_GROUP, /* a heading in --help output */
	OPT_BOOL, /* bool *; --no-NAME clears it */
	OPT_STRING, /* const char **; the last one given wins */
	OPT_UINT, /* unsigned int *, within [min, max] */
	OPT_SIZE_MIB, /* uint64_t * in MiB: "512", "512M", "2G", "1T" */
	OPT_CHOICE, /* int *: index of the argument in choices[] */
	OPT_CALLBACK, /* cb() sees every occurrence (repeatable options) */
	/* --PREFIXWORD, no value: long_name is the prefix (ending in '-'),
	 * cb() gets WORD as its argument; the longest prefix wins */
	OPT_PREFIX,
};

struct option;

/*
 * Callback for OPT_CALLBACK: return 0, or a negative errno with a message
 * (without the option name, which the parser adds) written to err.
 */
typedef int (*option_cb)(const struct option *opt, const char *arg, char *err,
			 size_t errlen);

struct option {
	enum opt_type type;
	int short_name; /* 0 when there is none */
	const char *long_name; /* NULL when there is none */
	void *value;
	const char *argh; /* name of the argument in --help, e.g. "FILE" */
	const char *help;
	unsigned long long min, max;
	const char *const *choices; /* NULL-terminated, for OPT_CHOICE */
	option_cb cb;
};

#define OPT_GROUP(h)                           \
	{                                      \
		.type = OPT_GROUP, .help = (h) \
	}
#define OPT_BOOLEAN(s, l, v, h)                                        \
	{                                                              \
		.type = OPT_BOOL, .short_name = (s), .long_name = (l), \
		.value = (v), .help = (h)                              \
	}
#define OPT_STR(s, l, v, a, h)                                           \
	{                                                                \
		.type = OPT_STRING, .short_name = (s), .long_name = (l), \
		.value = (v), .argh = (a), .help = (h)                   \
	}
#define OPT_UNSIGNED(s, l, v, lo, hi, a, h)                            \
	{                                                              \
		.type = OPT_UINT, .short_name = (s), .long_name = (l), \
		.value = (v), .min = (lo), .max = (hi), .argh = (a),   \
		.help = (h)                                            \
	}
#define OPT_MIB(s, l, v, lo, hi, a, h)                                     \
	{                                                                  \
		.type = OPT_SIZE_MIB, .short_name = (s), .long_name = (l), \
		.value = (v), .min = (lo), .max = (hi), .argh = (a),       \
		.help = (h)                                                \
	}
#define OPT_ONE_OF(s, l, v, c, a, h)                                     \
	{                                                                \
		.type = OPT_CHOICE, .short_name = (s), .long_name = (l), \
		.value = (v), .choices = (c), .argh = (a), .help = (h)   \
	}
#define OPT_CB(s, l, v, f, a, h)                                           \
	{                                                                  \
		.type = OPT_CALLBACK, .short_name = (s), .long_name = (l), \
		.value = (v), .cb = (f), .argh = (a), .help = (h)          \
	}
#define OPT_PREFIX_CB(l, v, f, a, h)                                           \
	{                                                                      \
		.type = OPT_PREFIX, .long_name = (l), .value = (v), .cb = (f), \
		.argh = (a), .help = (h)                                       \
	}
#define OPT_END()               \
	{                       \
		.type = OPT_END \
	}

/* options_parse() result when -h or --help was given. */
#define OPTIONS_HELP 1

/*
 * Parse argv[0..*argc) (argv[0] is an option or argument, not the program
 * name). Options and positional arguments may be mixed; "--" ends the
 * options. On return argv[0..*argc) holds the positional arguments in order.
 * Returns 0, OPTIONS_HELP, or -EINVAL with a one-line message in err naming
 * the option and what was wrong with it.
 */
int options_parse(const struct option *opts, int *argc, const char **argv,
		  char *err, size_t errlen);

/* Print "usage: <usage>" and one line per option to f. */
void options_usage(FILE *f, const char *usage, const struct option *opts);

/*
 * Parse a memory size given in MiB: a plain number means MiB, a K, M, G or
 * T suffix (any case, optional "iB"/"B") scales it; the result must be a
 * whole number of MiB. Returns 0, -EINVAL for a malformed string, or
 * -ERANGE when the value does not fit in 64 bits.
 */
int parse_size_mib(const char *s, uint64_t *mib);

#endif
