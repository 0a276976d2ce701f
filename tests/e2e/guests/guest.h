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
	for (;;)
		asm volatile("wfi");
}

/* _start: a stack, then main(hartid, fdt). */
asm(".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "	la sp, guest_stack_top\n"
    "	call main\n"
    "1:	wfi\n"
    "	j 1b\n"
    ".section .bss\n"
    ".balign 16\n"
    "	.space 16384\n"
    "guest_stack_top:\n"
    ".text\n");

#endif
