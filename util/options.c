// SPDX-License-Identifier: GPL-2.0-only
/* Command-line option parsing: long and short options, typed values. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/options.h"

static int opt_error(char *err, size_t errlen, const char *fmt, ...)
	__printf(3, 4);

static int opt_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "--name" or "-n", for messages. */
static const char *opt_name(const struct option *o, char *buf, size_t len)
{
	if (o->type == OPT_PREFIX)
		snprintf(buf, len, "--%s%s", o->long_name,
			 o->argh ? o->argh : "WORD");
	else if (o->long_name)
		snprintf(buf, len, "--%s", o->long_name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

static bool opt_takes_arg(const struct option *o)
{
	return o->type != OPT_BOOL && o->type != OPT_PREFIX;
}

static int parse_ull(const char *s, unsigned long long *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*end = e;
	return 0;
}

int parse_size_mib(const char *s, uint64_t *mib)
{
	unsigned long long v;
	const char *end;
	int shift = 20; /* a bare number means MiB */
	int ret;

	ret = parse_ull(s, &v, &end);
	if (ret)
		return ret;
	switch (tolower((unsigned char)*end)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (shift < 20) {
		if (v % (1ULL << (20 - shift)))
			return -EINVAL;
		v >>= 20 - shift;
	} else if (v > (UINT64_MAX >> 20) >> (shift - 20)) {
		return -ERANGE;
	} else {
		v <<= shift - 20;
	}
	*mib = v;
	return 0;
}

static int set_uint(const struct option *o, const char *arg, char *err,
		    size_t errlen)
{
	unsigned long long v;
	const char *end;
	char n[64];

	int ret = parse_ull(arg, &v, &end);

	if (ret == -EINVAL || (!ret && *end))
		return opt_error(err, errlen, "%s: '%s' is not a number",
				 opt_name(o, n, sizeof(n)), arg);
	if (ret || v < o->min || v > o->max)
		return opt_error(
			err, errlen, "%s: %s is out of range %llu-%llu",
			opt_name(o, n, sizeof(n)), arg, o->min, o->max);
	*(unsigned int *)o->value = (unsigned int)v;
	return 0;
}

static int set_size(const struct option *o, const char *arg, char *err,
		    size_t errlen)
{
	uint64_t mib;
	char n[64];
	int ret = parse_size_mib(arg, &mib);

	if (ret == -EINVAL)
		return opt_error(err, errlen,
				 "%s: '%s' is not a size (e.g. 512, 512M, 2G)",
				 opt_name(o, n, sizeof(n)), arg);
	if (ret || mib < o->min || mib > o->max)
		return opt_error(
			err, errlen, "%s: %s is out of range %llu-%llu MiB",
			opt_name(o, n, sizeof(n)), arg, o->min, o->max);
	*(uint64_t *)o->value = mib;
	return 0;
}

static int set_choice(const struct option *o, const char *arg, char *err,
		      size_t errlen)
{
	char list[256] = "", n[64];
	size_t used = 0;
	int i;

	for (i = 0; o->choices[i]; i++) {
		if (!strcmp(arg, o->choices[i])) {
			*(int *)o->value = i;
			return 0;
		}
		used += snprintf(list + used, sizeof(list) - used, "%s%s",
				 i ? ", " : "", o->choices[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	return opt_error(err, errlen, "%s: '%s' is not one of: %s",
			 opt_name(o, n, sizeof(n)), arg, list);
}

/* Store the value of option o; arg is NULL for a boolean. */
static int opt_apply(const struct option *o, const char *arg, bool negate,
		     char *err, size_t errlen)
{
	char n[64];
	int ret;

	switch (o->type) {
	case OPT_BOOL:
		*(bool *)o->value = !negate;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_UINT:
		return set_uint(o, arg, err, errlen);
	case OPT_SIZE_MIB:
		return set_size(o, arg, err, errlen);
	case OPT_CHOICE:
		return set_choice(o, arg, err, errlen);
	case OPT_CALLBACK:
	case OPT_PREFIX:
		ret = o->cb(o, arg, err, errlen);
		if (ret && errlen) {
			char msg[256];

			snprintf(msg, sizeof(msg), "%s", err);
			snprintf(err, errlen, "%s: %s",
				 opt_name(o, n, sizeof(n)), msg);
		}
		return ret ? -EINVAL : 0;
	default:
		return opt_error(err, errlen, "internal: bad option table");
	}
}

static const struct option *find_long(const struct option *opts,
				      const char *name, size_t len)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->long_name && opts->type != OPT_PREFIX &&
		    strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

/* The OPT_PREFIX option with the longest prefix of name[0..len). */
static const struct option *find_prefix(const struct option *opts,
					const char *name, size_t len)
{
	const struct option *best = NULL;
	size_t n;

	for (; opts->type != OPT_END; opts++) {
		if (opts->type != OPT_PREFIX)
			continue;
		n = strlen(opts->long_name);
		if (n < len && !strncmp(opts->long_name, name, n) &&
		    (!best || n > strlen(best->long_name)))
			best = opts;
	}
	return best;
}

static const struct option *find_short(const struct option *opts, int c)
{
	for (; opts->type != OPT_END; opts++)
		if (opts->type != OPT_GROUP && opts->short_name == c)
			return opts;
	return NULL;
}

/* One "--name[=value]" word; *i indexes it and moves past a separate value. */
static int parse_long(const struct option *opts, const char *word, int *i,
		      int argc, const char **argv, char *err, size_t errlen)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *o = find_long(opts, name, len);
	bool negate = false;

	if (!o && len > 3 && !strncmp(name, "no-", 3)) {
		o = find_long(opts, name + 3, len - 3);
		if (o && o->type != OPT_BOOL)
			o = NULL;
		negate = o != NULL;
	}
	if (!o) {
		o = find_prefix(opts, name, len);
		if (o && eq)
			return opt_error(err, errlen, "--%.*s takes no value",
					 (int)(len > 64 ? 64 : len), name);
		if (o) {
			size_t plen = strlen(o->long_name);
			char rest[64];

			if (len - plen >= sizeof(rest))
				return opt_error(err, errlen,
						 "--%s%.16s...: name too long",
						 o->long_name, name + plen);
			snprintf(rest, sizeof(rest), "%.*s", (int)(len - plen),
				 name + plen);
			return opt_apply(o, rest, false, err, errlen);
		}
	}
	if (!o)
		return opt_error(err, errlen, "unknown option '--%.*s'",
				 (int)(len > 64 ? 64 : len), name);
	if (!opt_takes_arg(o)) {
		if (eq)
			return opt_error(err, errlen, "--%s takes no value",
					 o->long_name);
		return opt_apply(o, NULL, negate, err, errlen);
	}
	if (eq)
		return opt_apply(o, eq + 1, false, err, errlen);
	if (*i + 1 >= argc)
		return opt_error(err, errlen, "--%s needs a value (%s)",
				 o->long_name, o->argh ? o->argh : "ARG");
	return opt_apply(o, argv[++*i], false, err, errlen);
}

/* One "-abc" or "-kVALUE" word. */
static int parse_short(const struct option *opts, const char *word, int *i,
		       int argc, const char **argv, char *err, size_t errlen)
{
	const char *p;

	for (p = word + 1; *p; p++) {
		const struct option *o = find_short(opts, (unsigned char)*p);

		if (!o)
			return opt_error(err, errlen, "unknown option '-%c'",
					 isprint((unsigned char)*p) ? *p : '?');
		if (!opt_takes_arg(o)) {
			int ret = opt_apply(o, NULL, false, err, errlen);

			if (ret)
				return ret;
			continue;
		}
		if (p[1])
			return opt_apply(o, p + 1, false, err, errlen);
		if (*i + 1 >= argc)
			return opt_error(err, errlen, "-%c needs a value (%s)",
					 *p, o->argh ? o->argh : "ARG");
		return opt_apply(o, argv[++*i], false, err, errlen);
	}
	return 0;
}

int options_parse(const struct option *opts, int *argc, const char **argv,
		  char *err, size_t errlen)
{
	int i, npos = 0, ret;
	bool only_args = false;

	if (errlen)
		err[0] = '\0';
	for (i = 0; i < *argc; i++) {
		const char *w = argv[i];

		if (only_args || w[0] != '-' || !w[1]) {
			argv[npos++] = w;
			continue;
		}
		if (!strcmp(w, "--")) {
			only_args = true;
			continue;
		}
		if (!strcmp(w, "--help") || !strcmp(w, "-h"))
			return OPTIONS_HELP;
		if (w[1] == '-')
			ret = parse_long(opts, w, &i, *argc, argv, err, errlen);
		else
			ret = parse_short(opts, w, &i, *argc, argv, err,
					  errlen);
		if (ret)
			return ret;
	}
	*argc = npos;
	return 0;
}

void options_usage(FILE *f, const char *usage, const struct option *opts)
{
	fprintf(f, "usage: %s\n", usage);
	for (; opts->type != OPT_END; opts++) {
		char left[64];
		int n = 0;

		if (opts->type == OPT_GROUP) {
			fprintf(f, "\n%s\n", opts->help);
			continue;
		}
		if (opts->short_name)
			n += snprintf(left + n, sizeof(left) - n, "-%c%s",
				      opts->short_name,
				      opts->long_name ? ", " : "");
		else
			n += snprintf(left + n, sizeof(left) - n, "    ");
		if (opts->long_name && n < (int)sizeof(left))
			n += snprintf(left + n, sizeof(left) - n, "--%s",
				      opts->long_name);
		if (opts->type == OPT_PREFIX && n < (int)sizeof(left))
			snprintf(left + n, sizeof(left) - n, "%s",
				 opts->argh ? opts->argh : "WORD");
		if (opt_takes_arg(opts) && n < (int)sizeof(left))
			snprintf(left + n, sizeof(left) - n, " %s",
				 opts->argh ? opts->argh : "ARG");
		fprintf(f, "    %-26s %s\n", left,
			opts->help ? opts->help : "");
	}
}
