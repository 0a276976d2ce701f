/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal S-mode runtime for bare-metal test guests: SBI calls, output. */
#ifndef LKVM_TEST_GUEST_H
#define LKVM_TEST_GUEST_H

struct sbiret {
	long error;
	long value;
};

static inline struct sbiret sbi_call(long ext, long fid, long a0, long a1,
				     long a2)
{
	register long r0 asm("a0") = a0;
	register long r1 asm("a1") = a1;
	register long r2 asm("a2") = a2;
	register long r6 asm("a6") = fid;
	register long r7 asm("a7") = ext;

	asm volatile("ecall"
		     : "+r"(r0), "+r"(r1)
		     : "r"(r2), "r"(r6), "r"(r7)
		     : "memory");
	return (struct sbiret){ r0, r1 };
}

static inline void putc_legacy(char c)
{
	sbi_call(0x1, 0, c, 0, 0);
}

static inline void puts_legacy(const char *s)
{
	while (*s)
		putc_legacy(*s++);
}

static inline void put_dec(long v)
{
	char buf[24];
	int i = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	if (v < 0)
		putc_legacy('-');
	do {
		buf[i++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (i--)
		putc_legacy(buf[i]);
}

static inline void __attribute__((noreturn)) shutdown(void)
{
	sbi_call(0x53525354, 0, 0, 0, 0); /* SRST: shutdown, no reason */
	sbi_call(0x8, 0, 0, 0, 0); /* legacy shutdown (--disable-sbi-srst) */
	for (;;)
		asm volatile("wfi");
}

/* SBI HSM hart_start: hart begins at addr in S-mode, a0 = hartid,
 * a1 = opaque, paging off. */
static inline long hart_start(long hartid, void (*addr)(void), long opaque)
{
	return sbi_call(0x48534D, 0, hartid, (long)addr, opaque).error;
}

static inline unsigned long rdtime(void)
{
	unsigned long t;

	asm volatile("csrr %0, time" : "=r"(t));
	return t;
}

static inline void fence(void)
{
	asm volatile("fence iorw, iorw" ::: "memory");
}

/* A lock for output from several harts. */
static volatile int guest_print_lock __attribute__((unused));

static inline void print_lock(void)
{
	while (__atomic_exchange_n(&guest_print_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static inline void print_unlock(void)
{
	__atomic_store_n(&guest_print_lock, 0, __ATOMIC_RELEASE);
}

/*
 * _start: every hart, the boot hart from lkvm and others from hart_start()
 * with _start as the address, gets its own 16 KiB stack (harts 0 to
 * GUEST_MAX_HARTS - 1; others park), then main(hartid, a1): a1 is the FDT
 * on the boot hart and hart_start()'s opaque elsewhere.
 */
#define GUEST_MAX_HARTS 4
void _start(void);
asm(".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "	li t0, 4\n" /* GUEST_MAX_HARTS */
    "	bgeu a0, t0, 1f\n"
    "	la sp, guest_stacks\n"
    "	addi t0, a0, 1\n"
    "	slli t0, t0, 14\n"
    "	add sp, sp, t0\n"
    "	call main\n"
    "1:	wfi\n"
    "	j 1b\n"
    ".section .bss\n"
    ".balign 16\n"
    "guest_stacks:\n"
    "	.space 16384 * 4\n"
    ".text\n");

#endif
