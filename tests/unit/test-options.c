// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/options.c: option forms, values, errors, sizes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/options.h"
#include "unit.h"

static const char *const colours[] = { "red", "green", NULL };

struct vals {
	bool flag;
	const char *kernel;
	unsigned int cpus;
	uint64_t mem;
	int colour;
	int ndisks;
	const char *disks[4];
};

static int add_disk(const struct option *o, const char *arg, char *err,
		    size_t errlen)
{
	struct vals *v = o->value;

	if (v->ndisks >= 4) {
		snprintf(err, errlen, "at most 4 disks");
		return -E2BIG;
	}
	v->disks[v->ndisks++] = arg;
	return 0;
}

static struct vals v;

static const struct option opts[] = {
	OPT_GROUP("Basic:"),
	OPT_BOOLEAN('f', "flag", &v.flag, "a flag"),
	OPT_STR('k', "kernel", &v.kernel, "FILE", "kernel"),
	OPT_UNSIGNED('c', "cpus", &v.cpus, 1, 8, "N", "vCPUs"),
	OPT_MIB('m', "mem", &v.mem, 16, 1 << 20, "SIZE", "memory"),
	OPT_ONE_OF(0, "colour", &v.colour, colours, "C", "colour"),
	OPT_CB('d', "disk", &v, add_disk, "PATH", "disk"),
	OPT_END(),
};

static int parse(char *err, size_t len, int n, const char **argv)
{
	memset(&v, 0, sizeof(v));
	v.colour = -1;
	return options_parse(opts, &n, argv, err, len) ?: n;
}

static void test_long_and_short_forms(void)
{
	const char *argv[] = { "-k",	 "Image",    "--cpus=4",     "-m2G",
			       "--flag", "--colour", "green",	     "pos1",
			       "-d",	 "a.img",    "--disk=b.img", "pos2" };
	char err[128];
	int n = parse(err, sizeof(err), ARRAY_SIZE(argv), argv);

	REQUIRE(CHECK_EQ(n, 2));
	CHECK_STR(argv[0], "pos1");
	CHECK_STR(argv[1], "pos2");
	CHECK_STR(v.kernel, "Image");
	CHECK_EQ(v.cpus, 4);
	CHECK_EQ(v.mem, 2048);
	CHECK(v.flag);
	CHECK_EQ(v.colour, 1);
	CHECK_EQ(v.ndisks, 2);
	CHECK_STR(v.disks[1], "b.img");
}

static void test_combined_short_and_negation(void)
{
	const char *argv[] = { "-fc3", "--no-flag" };
	char err[128];

	CHECK_EQ(parse(err, sizeof(err), 2, argv), 0);
	CHECK(!v.flag);
	CHECK_EQ(v.cpus, 3);
}

static void test_double_dash_ends_options(void)
{
	const char *argv[] = { "--", "-k", "--flag" };
	char err[128];

	CHECK_EQ(parse(err, sizeof(err), 3, argv), 2);
	CHECK(!v.flag);
	CHECK_STR(argv[0], "-k");
}

static void test_help(void)
{
	const char *a1[] = { "-k", "x", "--help" }, *a2[] = { "-h" };
	char err[128];

	CHECK_EQ(parse(err, sizeof(err), 3, a1), OPTIONS_HELP);
	CHECK_EQ(parse(err, sizeof(err), 1, a2), OPTIONS_HELP);
}

static int record_word(const struct option *o, const char *arg, char *err,
		       size_t errlen)
{
	char *out = o->value;

	(void)err;
	(void)errlen;
	snprintf(out, 32, "%s", arg);
	return 0;
}

/* --PREFIXWORD: the longest prefix wins; exact names before prefixes. */
static void test_prefix(void)
{
	char a[32] = "", b[32] = "", err[128], *help = NULL;
	bool exact = false;
	const struct option popts[] = {
		OPT_BOOLEAN(0, "off-all", &exact, "an exact name"),
		OPT_PREFIX_CB("off-", a, record_word, "X", "turn X off"),
		OPT_PREFIX_CB("off-sbi-", b, record_word, "Y", "hide Y"),
		OPT_END(),
	};
	const char *argv[] = { "--off-zba", "--off-sbi-hsm", "--off-all" };
	const char *val[] = { "--off-zba=1" };
	size_t len = 0;
	FILE *f;
	int argc = 3;

	CHECK_EQ(options_parse(popts, &argc, argv, err, sizeof(err)), 0);
	CHECK_STR(a, "zba");
	CHECK_STR(b, "hsm");
	CHECK(exact);
	argc = 1;
	CHECK_EQ(options_parse(popts, &argc, val, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--off-zba takes no value") != NULL);
	f = open_memstream(&help, &len);
	REQUIRE(f);
	options_usage(f, "u", popts);
	fclose(f);
	CHECK(strstr(help, "--off-X ") != NULL);
	CHECK(strstr(help, "--off-sbi-Y ") != NULL);
	free(help);
}

static void expect_error(const char *a, const char *b, const char *needle)
{
	const char *argv[] = { a, b };
	char err[128];
	int n = b ? 2 : 1;

	CHECK_EQ(parse(err, sizeof(err), n, argv), -EINVAL);
	if (!strstr(err, needle))
		unit_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err, needle);
}

static void test_errors_name_the_problem(void)
{
	expect_error("--bogus", NULL, "unknown option '--bogus'");
	expect_error("-x", NULL, "unknown option '-x'");
	expect_error("--kernel", NULL, "--kernel needs a value");
	expect_error("-k", NULL, "-k needs a value");
	expect_error("--cpus=9", NULL, "--cpus: 9 is out of range 1-8");
	expect_error("--cpus", "abc", "'abc' is not a number");
	expect_error("--cpus=-1", NULL, "not a number");
	expect_error("-m", "1", "out of range 16-1048576 MiB");
	expect_error("-m", "12Q", "is not a size");
	expect_error("--colour=blue", NULL, "not one of: red, green");
	expect_error("--flag=1", NULL, "--flag takes no value");
	expect_error("--no-kernel", NULL, "unknown option");
	expect_error("--cpus=99999999999999999999999", NULL, "out of range");
}

static void test_callback_error_is_prefixed(void)
{
	const char *argv[] = { "-da", "-db", "-dc", "-dd", "-de" };
	char err[128];

	CHECK_EQ(parse(err, sizeof(err), 5, argv), -EINVAL);
	CHECK_STR(err, "--disk: at most 4 disks");
}

static void test_size_mib(void)
{
	uint64_t m = 0;

	CHECK(!parse_size_mib("512", &m) && m == 512);
	CHECK(!parse_size_mib("512M", &m) && m == 512);
	CHECK(!parse_size_mib("512MiB", &m) && m == 512);
	CHECK(!parse_size_mib("2g", &m) && m == 2048);
	CHECK(!parse_size_mib("1T", &m) && m == 1 << 20);
	CHECK(!parse_size_mib("2048K", &m) && m == 2);
	CHECK_EQ(parse_size_mib("1000K", &m), -EINVAL);
	CHECK_EQ(parse_size_mib("", &m), -EINVAL);
	CHECK_EQ(parse_size_mib("M", &m), -EINVAL);
	CHECK_EQ(parse_size_mib("1MM", &m), -EINVAL);
	CHECK_EQ(parse_size_mib(" 1", &m), -EINVAL);
	CHECK_EQ(parse_size_mib("-1", &m), -EINVAL);
	/* the size in bytes must fit in 64 bits */
	CHECK(!parse_size_mib("17592186044415", &m) && m == 17592186044415ULL);
	CHECK_EQ(parse_size_mib("17592186044416", &m), -ERANGE);
	CHECK(!parse_size_mib("17179869183G", &m) && m == 17179869183ULL << 10);
	CHECK_EQ(parse_size_mib("17179869184G", &m), -ERANGE);
	CHECK_EQ(parse_size_mib("17592186044416T", &m), -ERANGE);
	CHECK_EQ(parse_size_mib("99999999999999999999", &m), -ERANGE);
}

static void test_usage_lists_every_option(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	options_usage(f, "test [options]", opts);
	fclose(f);
	CHECK(strstr(buf, "usage: test [options]") != NULL);
	CHECK(strstr(buf, "-k, --kernel FILE") != NULL);
	CHECK(strstr(buf, "--colour C") != NULL);
	CHECK(strstr(buf, "Basic:") != NULL);
	free(buf);
}

UNIT_SUITE(options, UNIT_TEST(test_long_and_short_forms),
	   UNIT_TEST(test_combined_short_and_negation),
	   UNIT_TEST(test_double_dash_ends_options), UNIT_TEST(test_help),
	   UNIT_TEST(test_prefix), UNIT_TEST(test_errors_name_the_problem),
	   UNIT_TEST(test_callback_error_is_prefixed), UNIT_TEST(test_size_mib),
	   UNIT_TEST(test_usage_lists_every_option));
