/* SPDX-License-Identifier: GPL-2.0-only */
/* Numbers the kernel reports in /proc files. */
#ifndef LKVM_PROCFS_H
#define LKVM_PROCFS_H

#include <stdint.h>

/*
 * The value of the line "field: N kB" of a /proc file such as
 * /proc/meminfo or /proc/self/status, in KiB; 0 when the file or the line
 * is missing.
 */
uint64_t proc_kib(const char *path, const char *field);

#endif
