// SPDX-License-Identifier: GPL-2.0-only
/* Test guest that misbehaves: accesses to unmapped MMIO, access sizes and
 * offsets devices do not implement, and a CSR KVM leaves to userspace.
 * lkvm must answer each without crashing and keep serving the guest. */
#include "guest.h"

static volatile unsigned long trap_cause, trap_count;

/* S-mode trap handler: record scause, skip the 4-byte instruction. */
asm(".text\n"
    ".balign 4\n"
    "trap_entry:\n"
    "	csrw sscratch, t0\n"
    "	la t0, trap_cause\n"
    "	csrr t1, scause\n" /* t1 is caller-saved: the tests expect that */
    "	sd t1, 0(t0)\n"
    "	la t0, trap_count\n"
    "	ld t1, 0(t0)\n"
    "	addi t1, t1, 1\n"
    "	sd t1, 0(t0)\n"
    "	csrr t0, sepc\n"
    "	addi t0, t0, 4\n"
    "	csrw sepc, t0\n"
    "	csrr t0, sscratch\n"
    "	sret\n");

static int failures;

static void check(const char *what, long ok)
{
	puts_legacy("misbehave: ");
	puts_legacy(what);
	puts_legacy(ok ? " ok\n" : " WRONG\n");
	failures += !ok;
}

static unsigned long mmio_read32(unsigned long addr)
{
	return *(volatile unsigned int *)addr;
}

#define UART ((volatile unsigned char *)0x10000000)

/* Poll LSR as Linux's console does, writing THR: after a few such reads
 * lkvm lets the guest read a read-only image of the registers. */
static long uart_poll(int n)
{
	long ok = 1;
	int i;

	for (i = 0; i < n; i++) {
		ok &= UART[5] == 0x60; /* THRE | TEMT */
		UART[0] = '.';
	}
	putc_legacy('\n');
	return ok;
}

/* Each change shows at once, with or without the register image. */
static void uart_checks(void)
{
	unsigned long v = *(volatile unsigned long *)0x10000000;

	/* RBR 0, IER 0, IIR 1, LCR 0, MCR 0, LSR 0x60, MSR 0xb0, SCR 0 */
	check("UART 8-byte read is its eight registers",
	      v == 0x00b0600000010000UL);
	UART[3] = 0x03; /* LCR: 8N1 */
	check("UART LSR polling", uart_poll(64));
	UART[7] = 0x5a;
	check("UART SCR write reads back at once", UART[7] == 0x5a);
	UART[1] = 0x02; /* IER: ETBEI */
	check("UART ETBEI: IIR reports THRE at once", (UART[2] & 0x0f) == 0x02);
	check("UART IIR read acknowledged THRE", (UART[2] & 0x0f) == 0x01);
	UART[1] = 0;
	uart_poll(64);
	UART[4] = 0x10; /* MCR: loopback */
	UART[0] = 'L';
	check("UART loopback: DR at once", UART[5] & 0x01);
	check("UART loopback: RBR holds the byte", UART[0] == 'L');
	UART[4] = 0;
	(void)UART[6]; /* the modem lines changed: clear MSR's deltas */
	uart_poll(64);
	UART[3] = 0x83; /* LCR: DLAB */
	UART[0] = 0x12;
	check("UART DLAB: DLL reads back", UART[0] == 0x12);
	UART[3] = 0x03;
	check("UART back to polling", uart_poll(64));
}

int main(long hartid, long fdt);

int main(long hartid, long fdt)
{
	unsigned long v, t1_clobber = 0;
	extern char trap_entry[];

	(void)hartid;
	(void)fdt;
	asm volatile("csrw stvec, %0" ::"r"(trap_entry));

	/* seed (0x015): with Zkr, KVM hands it to lkvm, which must raise an
	 * illegal-instruction trap; without Zkr KVM raises it itself. */
	asm volatile("csrr %0, 0x015" : "=r"(v)::"t0", "t1", "memory");
	check("seed CSR traps as illegal instruction",
	      trap_count == 1 && trap_cause == 2);

	v = mmio_read32(0x20000000);
	check("read of unmapped MMIO returns 0", v == 0);
	*(volatile unsigned int *)0x20000000 = 0xdeadbeef;
	*(volatile unsigned char *)0x0c000001 = 0xff; /* PLIC byte write */
	v = *(volatile unsigned char *)0x0c000004; /* PLIC byte read */
	check("PLIC byte read returns 0", v == 0);
	uart_checks();
	*(volatile unsigned char *)0x10000080 = 0x55; /* past the registers */
	v = *(volatile unsigned char *)0x10000080;
	check("UART offset 0x80 reads 0", v == 0);
	v = mmio_read32(0x0c000000 + 0x200000 + 0x1000 * 100); /* context 100 */
	check("PLIC claim of a missing context reads 0", v == 0);
	check("no stray traps", trap_count == 1);
	(void)t1_clobber;
	puts_legacy(failures ? "misbehave: FAILED\n" : "misbehave: PASSED\n");
	shutdown();
}
