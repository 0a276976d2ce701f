// SPDX-License-Identifier: GPL-2.0-only
/* Numbers the kernel reports in /proc files. */
#include <stdio.h>
#include <string.h>

#include "lkvm/procfs.h"

uint64_t proc_kib(const char *path, const char *field)
{
	size_t n = strlen(field);
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, " %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
