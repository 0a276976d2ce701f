// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the qcow2 backend over a fuzzed image in memory (a memfd,
 * the only file it can reach): the header and table checks at open, then
 * reads, writes, WRITE_ZEROES, DISCARD and FLUSH through disk_submit(),
 * with a two-table L2 cache so that write-back and eviction run too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lkvm/disk-qcow2.h"
#include "lkvm/log.h"
#include "fuzz-input.h"

/*
 * Input: FUZZ_OPS records of 4 bytes (op, sector offset as 2 bytes, sector
 * count), then the image file. Offsets wrap at the virtual size.
 */
#define FUZZ_OPS 6
#define FUZZ_MAX_IMAGE (1u << 20)

static void quiet(enum log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

static int req_status;

static void req_done(struct disk_req *r, int status)
{
	(void)r;
	req_status = status;
}

static void run_op(struct disk *d, const uint8_t *rec, uint8_t *buf)
{
	static const int ops[] = { DISK_OP_READ,    DISK_OP_WRITE,
				   DISK_OP_READ,    DISK_OP_WRITE_ZEROES,
				   DISK_OP_DISCARD, DISK_OP_FLUSH,
				   DISK_OP_WRITE };
	uint64_t sectors = disk_size(d) / 512;
	uint64_t off = ((uint64_t)rec[1] << 8 | rec[2]) % sectors;
	uint64_t n = (rec[3] & 15) + 1;
	struct iovec iov;
	struct disk_req r = { .op = ops[rec[0] % 7], .done = req_done };

	if (n > sectors - off)
		n = sectors - off;
	iov.iov_base = buf;
	iov.iov_len = n * 512;
	r.iov = &iov;
	r.iovcnt = 1;
	r.offset = off * 512;
	r.len = n * 512;
	r.flags = rec[0] & 0x80 ? DISK_REQ_DSYNC : 0;
	memset(buf, rec[0] ^ rec[3], n * 512);
	req_status = 1;
	/* inline: done() has run when submit returns 0 */
	if (!disk_submit(d, &r) && req_status == 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_qcow2_opts o = {
		.l2_cache_bytes = 1, /* two tables */
		.inline_io = true,
		.no_backing = true,
	};
	static uint8_t buf[16 * 512];
	uint8_t rec[FUZZ_OPS][4];
	struct disk *d = NULL;
	char err[256];
	unsigned int i;
	int fd;

	log_sink = quiet;
	fuzz_copy(&data, &size, rec, sizeof(rec));
	if (size > FUZZ_MAX_IMAGE)
		return 0;
	fd = memfd_create("qcow2-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	o.ro = rec[0][0] & 0x40; /* read-only opens take other paths */
	if (disk_qcow2_open_fd(&d, fd, "fuzz.qcow2", &o, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			abort(); /* a refusal says one line */
		return 0;
	}
	if (disk_size(d) % 512 || !disk_size(d))
		abort();
	for (i = 0; i < FUZZ_OPS; i++)
		run_op(d, rec[i], buf);
	disk_close(d);
	return 0;
}
