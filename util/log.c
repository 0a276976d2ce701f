// SPDX-License-Identifier: GPL-2.0-only
/* Logging to stderr, die() for set-up errors, and a rate limiter. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lkvm/log.h"

enum log_level log_level = LOG_INFO;
void (*log_die_hook)(void);
void (*log_sink)(enum log_level level, const char *msg);

static const char *const level_prefix[] = {
	[LOG_ERR] = "error: ",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

/*
 * A message is one line: control characters, which may come from the
 * user's arguments or from a guest (a newline, a terminal escape), are
 * shown as '?'.
 */
static void log_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void log_vmsg_prefix(enum log_level level, const char *prefix,
			    const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_sanitize(buf);
	if (log_sink) {
		log_sink(level, buf);
		return;
	}
	/* One fprintf call so that lines from several threads do not mix. */
	fprintf(stderr, "lkvm: %s%s\n", prefix, buf);
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	log_vmsg_prefix(level, level_prefix[level], fmt, ap);
}

void pr_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg_prefix(LOG_ERR, "Fatal: ", fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	if (log_die_hook)
		log_die_hook();
	exit(1);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	time_t now = time(NULL);
	bool ok;

	pthread_mutex_lock(&lock);
	if (!rl->begin || now - rl->begin >= (time_t)rl->interval) {
		if (rl->missed)
			fprintf(stderr, "lkvm: %lu messages suppressed\n",
				rl->missed);
		rl->begin = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	pthread_mutex_unlock(&lock);
	return ok;
}
