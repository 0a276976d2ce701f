/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small unit-test harness. A test is a void function; CHECK() records a
 * failure and goes on, REQUIRE() records it and returns from the test.
 * Each test file defines one suite; main.c lists the suites.
 */
#ifndef LKVM_UNIT_H
#define LKVM_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_test *tests;
	unsigned int nr_tests;
};

#define UNIT_SUITE(sname, ...)                                           \
	static const struct unit_test sname##_tests[] = { __VA_ARGS__ }; \
	const struct unit_suite sname##_suite = {                        \
		#sname, sname##_tests,                                   \
		sizeof(sname##_tests) / sizeof(sname##_tests[0])         \
	}
#define UNIT_TEST(fn)   \
	{               \
#fn, fn \
	}

/* Record a failure of the running test. Returns false. */
bool unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define CHECK(cond) ((cond) ? true : unit_fail(__FILE__, __LINE__, "%s", #cond))
#define CHECK_EQ(a, b)                                                      \
	({                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);         \
		_a == _b ? true                                             \
			 : unit_fail(__FILE__, __LINE__,                    \
				     "%s == %s (%lld != %lld)", #a, #b, _a, \
				     _b);                                   \
	})
#define CHECK_STR(a, b)                                                      \
	({                                                                   \
		const char *_a = (a), *_b = (b);                             \
		(_a && _b && !strcmp(_a, _b))                                \
			? true                                               \
			: unit_fail(__FILE__, __LINE__,                      \
				    "%s == %s (\"%s\" != \"%s\")", #a, #b,   \
				    _a ? _a : "(null)", _b ? _b : "(null)"); \
	})
#define REQUIRE(cond)             \
	do {                      \
		if (!CHECK(cond)) \
			return;   \
	} while (0)

#endif
