// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the 9P2000.L server's dispatcher against a scratch
 * directory. Each input is a series of raw 9P messages, served after a
 * Tversion and a Tattach of fid 0; between the inputs the share is put
 * back as it was.
 *
 * Input: records of a 2-byte length L and L bytes of message; when the
 * first byte of the input has bit 0 set, each message's size field is
 * replaced by L (so that mutations reach the bodies).
 *
 * Invariants: no crash, leak or sanitizer report; a reply is never longer
 * than its buffer and its size field says its length; nothing outside the
 * share changes (a sibling directory with one file, "outside/secret",
 * which the share's symlinks point at, stays as it was, and nothing new
 * appears next to the share).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/9p.h"
#include "fuzz-input.h"

#define REPLY_CAP 16384

static char top[64], share[96], outside[96];
static uint8_t reply[REPLY_CAP];

/* Remove everything below dirfd (depth-bounded by the fuzzer's walks). */
static void clear_dir(int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!unlinkat(dirfd, e->d_name, 0))
			continue;
		fchmodat(dirfd, e->d_name, 0700, 0);
		sub = openat(dirfd, e->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			clear_dir(sub);
		unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void share_reset(void)
{
	char p[160];
	int fd = open(share, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		clear_dir(fd);
	chmod(share, 0755);
	write_file(share, "file", "hello");
	snprintf(p, sizeof(p), "%s/dir", share);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/up", share);
	if (symlink("../outside", p)) {
		/* the check below still holds */
	}
	snprintf(p, sizeof(p), "%s/root", share);
	if (symlink("/", p)) {
		/* likewise */
	}
}

/* outside/ holds exactly "secret" with "secret", and top/ only share and
 * outside. */
static void check_outside(void)
{
	char p[160], buf[16] = { 0 };
	unsigned int n = 0;
	struct dirent *e;
	DIR *d;
	FILE *f;

	d = opendir(top);
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	d = opendir(outside);
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	snprintf(p, sizeof(p), "%s/secret", outside);
	f = fopen(p, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	if (n != 3 || strcmp(buf, "secret"))
		__builtin_trap(); /* the server touched a path outside */
}

/* At exit: the scratch directory goes. */
static void scratch_remove(void)
{
	int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		clear_dir(fd);
	rmdir(top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(top, sizeof(top), "/tmp/lkvm-fuzz-9p-XXXXXX");
	if (!mkdtemp(top))
		abort();
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	mkdir(share, 0755);
	mkdir(outside, 0755);
	write_file(outside, "secret", "secret");
	atexit(scratch_remove);
	return 0;
}

static void serve(struct p9_server *s, const uint8_t *msg, size_t len)
{
	long r = p9_serve_buf(s, msg, len, reply, sizeof(reply));
	uint32_t size;

	if (r < 0)
		return;
	memcpy(&size, reply, 4);
	if (r > REPLY_CAP || size != (uint32_t)r)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t start[] = {
		/* Tversion 8192 "9P2000.L" */
		19, 0, 0,   0,	 100, 0,   0,	0,   32,  0,   0,
		8,  0, '9', 'P', '2', '0', '0', '0', '.', 'L',
	};
	static const uint8_t att[] = {
		/* Tattach fid 0, afid ~0, "", "", uid 0 */
		23,   0,    0,	  0, 104, 1, 0, 0, 0, 0, 0, 0xff,
		0xff, 0xff, 0xff, 0, 0,	  0, 0, 0, 0, 0, 0,
	};
	struct p9_options o = { .max_fids = 64 };
	static uint8_t msg[65536];
	struct p9_server *s;
	bool fix;
	char err[256];

	share_reset();
	if (p9_server_create(share, &o, &s, err, sizeof(err)))
		abort();
	serve(s, start, sizeof(start));
	serve(s, att, sizeof(att));
	fix = fuzz_byte(&data, &size) & 1;
	while (size >= 2) {
		size_t n = (size_t)fuzz_take(&data, &size, 2);

		n = fuzz_copy(&data, &size, msg, n);
		if (fix && n >= 4) {
			uint32_t l = (uint32_t)n;

			memcpy(msg, &l, 4);
		}
		serve(s, msg, n);
	}
	p9_server_destroy(s);
	check_outside();
	return 0;
}
