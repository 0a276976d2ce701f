/* SPDX-License-Identifier: GPL-2.0-only */
/* Small compiler helpers shared by every file. */
#ifndef LKVM_COMPILER_H
#define LKVM_COMPILER_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))
/* The structure of type t whose member m is at p. */
#define container_of(p, t, m) ((t *)(void *)((char *)(p)-offsetof(t, m)))

#endif
