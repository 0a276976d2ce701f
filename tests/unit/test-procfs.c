// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for util/procfs.c. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lkvm/procfs.h"
#include "unit.h"

static void test_proc_kib(void)
{
	char path[] = "/tmp/lkvm-procfs-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	/* the real files: this process has a peak RSS, the host memory */
	CHECK(proc_kib("/proc/self/status", "VmHWM") > 0);
	CHECK(proc_kib("/proc/meminfo", "MemTotal") > 0);
	CHECK_EQ(proc_kib("/proc/meminfo", "NoSuchField"), 0);
	CHECK_EQ(proc_kib("/nonexistent/lkvm", "MemTotal"), 0);
	REQUIRE(CHECK(fd >= 0));
	f = fdopen(fd, "w");
	REQUIRE(CHECK(f != NULL));
	/* a field is matched whole, not by its prefix */
	fputs("Hugepages_Total:       7\nHugepagesize:    2048 kB\n"
	      "Vm: 1 kB\nVmHWM:\t  12345 kB\n",
	      f);
	fclose(f);
	CHECK_EQ(proc_kib(path, "Hugepagesize"), 2048);
	CHECK_EQ(proc_kib(path, "VmHWM"), 12345);
	CHECK_EQ(proc_kib(path, "Vm"), 1);
	CHECK_EQ(proc_kib(path, "Hugepages"), 0);
	unlink(path);
}

UNIT_SUITE(procfs, UNIT_TEST(test_proc_kib));
