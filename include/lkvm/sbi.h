/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SBI calls KVM forwards to userspace (KVM_EXIT_RISCV_SBI): the legacy
 * console, the debug console (DBCN) and everything KVM does not handle
 * itself. Numbers from the RISC-V SBI specification v2.0.
 */
#ifndef LKVM_SBI_H
#define LKVM_SBI_H

#include <stddef.h>
#include <stdint.h>

#include "lkvm/guest-mem.h"
#include "lkvm/log.h"

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED (-1)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_DENIED (-4)
#define SBI_ERR_INVALID_ADDRESS (-5)

#define SBI_EXT_0_1_CONSOLE_PUTCHAR 0x1
#define SBI_EXT_0_1_CONSOLE_GETCHAR 0x2
#define SBI_EXT_DBCN 0x4442434E
#define SBI_DBCN_WRITE 0
#define SBI_DBCN_READ 1
#define SBI_DBCN_WRITE_BYTE 2
#define SBI_EXT_EXPERIMENTAL_START 0x08000000
#define SBI_EXT_EXPERIMENTAL_END 0x08FFFFFF
#define SBI_EXT_VENDOR_START 0x09000000
#define SBI_EXT_VENDOR_END 0x09FFFFFF

/* Most bytes one DBCN call moves; the guest loops for more. */
#define SBI_DBCN_MAX_CHUNK 4096

/* One forwarded call: the guest's a7 (ext), a6 (fid), a0-a5; ret[] is
 * returned in a0/a1. */
struct sbi_call {
	uint64_t ext, fid;
	uint64_t args[6];
	int64_t ret[2];
};

/* The host side of the SBI consoles. */
struct sbi_console_ops {
	/* Write len bytes to the host console. */
	void (*write)(void *opaque, const uint8_t *buf, size_t len);
	/* Take up to len bytes of pending host input; returns the count. */
	size_t (*read)(void *opaque, uint8_t *buf, size_t len);
};

struct sbi {
	const struct gmem *mem;
	const struct sbi_console_ops *con;
	void *opaque;
	unsigned int xlen; /* 64 on riscv64 */
	struct ratelimit rl;
};

/* Set up SBI dispatch over guest memory mem and console con. */
void sbi_init(struct sbi *s, const struct gmem *mem,
	      const struct sbi_console_ops *con, void *opaque);

/*
 * Answer one forwarded call in place: fill c->ret per the SBI spec. Guest
 * buffers are validated whole; unknown extensions and functions get
 * SBI_ERR_NOT_SUPPORTED (with a rate-limited warning). Never fails.
 */
void sbi_handle(struct sbi *s, struct sbi_call *c);

#endif
