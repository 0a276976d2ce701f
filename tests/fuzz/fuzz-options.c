// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the option parser, with argv words split at NUL bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/options.h"

static const char *const choices[] = { "plic", "aia", "auto", NULL };

static int cb(const struct option *o, const char *arg, char *err, size_t errlen)
{
	unsigned int *count = o->value;

	if (++*count > 16) {
		snprintf(err, errlen, "too many (%s)", arg);
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool b = false;
	const char *s = NULL;
	unsigned int u = 0, count = 0;
	uint64_t mib = 0;
	int choice = -1;
	const struct option opts[] = {
		OPT_GROUP("group"),
		OPT_BOOLEAN('b', "bool", &b, "b"),
		OPT_STR('s', "str", &s, "S", "s"),
		OPT_UNSIGNED('u', "uint", &u, 1, 512, "N", "u"),
		OPT_MIB('m', "mem", &mib, 16, 1ULL << 40, "SIZE", "m"),
		OPT_ONE_OF(0, "irqchip", &choice, choices, "C", "c"),
		OPT_CB('d', "disk", &count, cb, "PATH", "d"),
		OPT_END(),
	};
	char *buf = malloc(size + 1), err[256];
	const char *argv[64];
	int argc = 0, argc_in, ret;
	size_t i, start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && argc < 64; i++) {
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	argc_in = argc;
	/* no NUL anywhere: an error message must terminate itself */
	memset(err, 0xa5, sizeof(err));
	ret = options_parse(opts, &argc, argv, err, sizeof(err));
	if (ret != 0 && ret != OPTIONS_HELP && ret != -EINVAL)
		abort();
	if (ret == -EINVAL && (!memchr(err, '\0', sizeof(err)) || !err[0]))
		abort();
	/* the positional arguments left are some of the words given */
	if (ret == 0 && (argc < 0 || argc > argc_in))
		abort();
	for (i = 0; ret == 0 && i < (size_t)argc; i++)
		if (argv[i] < buf || argv[i] > buf + size)
			abort();
	if (ret == 0 && s && (s < buf || s > buf + size))
		abort();
	if (ret == 0 && mib && (mib < 16 || mib > (1ULL << 40)))
		abort();
	free(buf);
	return 0;
}
