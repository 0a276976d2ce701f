// SPDX-License-Identifier: GPL-2.0-only
/* In-guest disk benchmark for tests/bench/disk.sh (static riscv64 binary in
 * the L2 initramfs): O_DIRECT sequential and random I/O on a block device. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

static const char *dev;
static uint64_t size;
static double seconds = 3;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_dev(int flags)
{
	int fd = open(dev, flags | O_DIRECT);

	if (fd < 0) {
		perror(dev);
		exit(1);
	}
	return fd;
}

static void *aligned(size_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n))
		exit(1);
	memset(p, 0x5a, n);
	return p;
}

/* 1 MiB blocks over the whole device; MB/s */
static double seq(int write)
{
	int fd = open_dev(write ? O_WRONLY : O_RDONLY);
	size_t bs = 1 << 20;
	char *buf = aligned(bs);
	uint64_t off;
	double t = now();

	for (off = 0; off + bs <= size; off += bs)
		if ((write ? pwrite(fd, buf, bs, off)
			   : pread(fd, buf, bs, off)) != (ssize_t)bs) {
			perror("seq");
			exit(1);
		}
	if (write)
		fdatasync(fd);
	t = now() - t;
	close(fd);
	free(buf);
	return size / 1e6 / t;
}

static volatile int stop;
static unsigned long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *rand_worker(void *arg)
{
	int fd = open_dev(O_RDONLY);
	char *buf = aligned(4096);
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919 + 1;
	unsigned long n = 0;

	while (!stop) {
		uint64_t off = ((uint64_t)rand_r(&seed) % (size / 4096)) * 4096;

		if (pread(fd, buf, 4096, off) != 4096) {
			perror("randread");
			exit(1);
		}
		n++;
	}
	pthread_mutex_lock(&lock);
	total += n;
	pthread_mutex_unlock(&lock);
	close(fd);
	free(buf);
	return NULL;
}

/* 4 KiB random reads with qd threads; IOPS */
static double randread(int qd)
{
	pthread_t t[64];
	double t0 = now();
	int i;

	total = 0;
	stop = 0;
	for (i = 0; i < qd; i++)
		pthread_create(&t[i], NULL, rand_worker, (void *)(uintptr_t)i);
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	for (i = 0; i < qd; i++)
		pthread_join(t[i], NULL);
	return total / (now() - t0);
}

/* 4 KiB write + fdatasync; operations per second */
static double wsync(void)
{
	int fd = open_dev(O_WRONLY);
	char *buf = aligned(4096);
	double t0 = now(), t;
	unsigned long n = 0;

	do {
		if (pwrite(fd, buf, 4096, (n % 1024) * 4096) != 4096 ||
		    fdatasync(fd)) {
			perror("fsync");
			exit(1);
		}
		n++;
	} while ((t = now() - t0) < seconds);
	close(fd);
	free(buf);
	return n / t;
}

int main(int argc, char **argv)
{
	int fd, qd = argc > 3 ? atoi(argv[3]) : 1;

	if (argc < 3) {
		fprintf(stderr,
			"usage: diskbench DEV seqread|seqwrite|randread|fsync [QD]\n");
		return 2;
	}
	dev = argv[1];
	fd = open_dev(O_RDONLY);
	if (ioctl(fd, BLKGETSIZE64, &size) || size < (1 << 20)) {
		perror("size");
		return 1;
	}
	close(fd);
	if (qd < 1 || qd > 64)
		qd = 1;
	if (!strcmp(argv[2], "seqread"))
		printf("seqread: %.1f MB/s\n", seq(0));
	else if (!strcmp(argv[2], "seqwrite"))
		printf("seqwrite: %.1f MB/s\n", seq(1));
	else if (!strcmp(argv[2], "randread"))
		printf("randread-qd%d: %.0f IOPS\n", qd, randread(qd));
	else if (!strcmp(argv[2], "fsync"))
		printf("fsync: %.0f writes/s\n", wsync());
	else
		return 2;
	return 0;
}
