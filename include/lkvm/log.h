/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging: one line per message on stderr, prefixed with "lkvm: "; control
 * characters in a message (a newline, an escape) are printed as '?'. */
#ifndef LKVM_LOG_H
#define LKVM_LOG_H

#include <stdbool.h>
#include <time.h>

#include "lkvm/compiler.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO. */
extern enum log_level log_level;

/*
 * Hook run by die() before it exits, e.g. to restore the terminal. May be
 * NULL. Set once during start-up.
 */
extern void (*log_die_hook)(void);

/*
 * When set, each message that passes log_level goes to log_sink (without
 * the "lkvm: " prefix and the newline) instead of stderr: for unit tests
 * and fuzz targets that count what was said. Set once before use.
 */
extern void (*log_sink)(enum log_level level, const char *msg);

void log_msg(enum log_level level, const char *fmt, ...) __printf(2, 3);

/*
 * Print "lkvm: Fatal: <message>" at LOG_ERR: kvmtool's wording, for the one
 * error a script recognises by its text (kvm-unit-tests' runner looks for
 * "Fatal: Unable to open kernel NAME").
 */
void pr_fatal(const char *fmt, ...) __printf(1, 2);

/* Print "lkvm: <message>" and exit(1). For set-up errors only: never on a
 * path a guest can reach. */
void die(const char *fmt, ...) __printf(1, 2) __noreturn;

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A rate limit for messages a guest can trigger: at most `burst` messages
 * per `interval` seconds. Zero-initialise with the two limits set.
 */
struct ratelimit {
	unsigned int interval;
	unsigned int burst;
	time_t begin;
	unsigned int printed;
	unsigned long missed;
};

/* True when a message may be printed now; counts the ones suppressed. */
bool ratelimit_ok(struct ratelimit *rl);

#define pr_warn_ratelimited(rl, ...)          \
	do {                                  \
		if (ratelimit_ok(rl))         \
			pr_warn(__VA_ARGS__); \
	} while (0)

#endif
