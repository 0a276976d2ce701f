// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test guest shaped like a kvm-unit-tests program: it prints its argv (the
 * FDT's bootargs, which --nodefaults passes verbatim) and its environment
 * (the initrd, a plain-text file of KEY=VALUE lines), then leaves as the
 * environment's ACTION says:
 *   shutdown (the default)  SBI SRST shutdown, no reason
 *   sysfail                 SBI SRST shutdown, reason SYSTEM_FAILURE
 *   pass / reset            the test finisher: 0x5555 / 0x7777
 *   fail:N                  the test finisher: 0x3333 | N << 16
 *   panic                   pvpanic: read the supported events (not 3:
 *                           SRST system failure), write PANICKED, then
 *                           (lkvm running on) shut down
 *   hang                    never exits
 */
#include "guest.h"
#include "vguest.h"

#define SBI_EXT_SRST 0x53525354
#define FINISHER ((volatile u32 *)0x100000)
#define PVPANIC ((volatile u8 *)0x101000)

static u64 be64(const void *p)
{
	return (u64)be32(p) << 32 | be32((const u8 *)p + 4);
}

static void put_hex(u64 v)
{
	int i;

	puts_legacy("0x");
	for (i = 60; i >= 0; i -= 4)
		if (v >> i || !i)
			putc_legacy("0123456789abcdef"[(v >> i) & 15]);
}

/* Print each line of [p, end) as "testexit: env: LINE"; return the value
 * of ACTION= in act (at most len - 1 bytes). */
static void print_env(const char *p, const char *end, char *act, int len)
{
	while (p < end && *p) {
		const char *l = p;
		int i;

		while (p < end && *p && *p != '\n')
			p++;
		puts_legacy("testexit: env: ");
		for (i = 0; l + i < p; i++)
			putc_legacy(l[i]);
		putc_legacy('\n');
		if (p - l > 7 && l[0] == 'A' && l[1] == 'C' && l[2] == 'T' &&
		    l[3] == 'I' && l[4] == 'O' && l[5] == 'N' && l[6] == '=') {
			for (i = 0; i < len - 1 && l + 7 + i < p; i++)
				act[i] = l[7 + i];
			act[i] = 0;
		}
		if (p < end && *p == '\n')
			p++;
	}
}

static int starts(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return !*prefix;
}

static long number(const char *s)
{
	long v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static void __attribute__((noreturn)) srst(long reason)
{
	sbi_call(SBI_EXT_SRST, 0, 0, reason, 0);
	puts_legacy("testexit: SRST returned\n");
	for (;;)
		asm volatile("wfi");
}

static u64 tb_hz = 10000000;

/*
 * Let lkvm's console writer put our last line out before the device
 * access that makes lkvm print its own line on stderr (the console goes
 * through a buffer and a thread; stderr does not): 200 ms.
 */
static void settle(void)
{
	u64 t0 = rdtime();

	while (rdtime() - t0 < tb_hz / 5)
		;
}

static void finish(u32 v)
{
	puts_legacy("testexit: finisher ");
	put_hex(v);
	putc_legacy('\n');
	settle();
	*FINISHER = v;
	fence();
}

int main(long hartid, long fdt);

int main(long hartid, long fdt)
{
	const char *args = "", *p;
	static char act[32] = "shutdown";
	const void *s, *e;
	u32 len, sl, el;
	int argc = 0;

	(void)hartid;
	p = fdt_prop((const void *)fdt, "timebase-frequency", &len);
	if (p && len == 4)
		tb_hz = be32(p);
	p = fdt_prop((const void *)fdt, "bootargs", &len);
	if (p)
		args = p;
	puts_legacy("testexit: argv: [");
	puts_legacy(args);
	puts_legacy("]\n");
	for (p = args; *p; p++)
		if (*p != ' ' && (p == args || p[-1] == ' '))
			argc++;
	puts_legacy("testexit: argc: ");
	put_dec(argc);
	putc_legacy('\n');
	s = fdt_prop((const void *)fdt, "linux,initrd-start", &sl);
	e = fdt_prop((const void *)fdt, "linux,initrd-end", &el);
	if (s && e && sl == 8 && el == 8)
		print_env((const char *)be64(s), (const char *)be64(e), act,
			  sizeof(act));
	else
		puts_legacy("testexit: no initrd\n");
	puts_legacy("testexit: action ");
	puts_legacy(act);
	putc_legacy('\n');
	if (starts(act, "sysfail")) {
		settle();
		srst(1);
	}
	if (starts(act, "pass"))
		finish(0x5555);
	if (starts(act, "reset"))
		finish(0x7777);
	if (starts(act, "fail:"))
		finish(0x3333 | (u32)number(act + 5) << 16);
	if (starts(act, "panic")) {
		u8 ev = *PVPANIC;

		puts_legacy("testexit: pvpanic events ");
		put_hex(ev);
		putc_legacy('\n');
		if (ev != 3) { /* PANICKED | CRASH_LOADED */
			puts_legacy("testexit: WRONG pvpanic events\n");
			srst(1);
		}
		settle();
		*PVPANIC = 1;
		fence();
		puts_legacy("testexit: running on after the panic\n");
	}
	if (starts(act, "hang")) {
		puts_legacy("testexit: hanging\n");
		for (;;)
			asm volatile("wfi");
	}
	if (!starts(act, "shutdown") && !starts(act, "panic"))
		puts_legacy("testexit: still running: shutting down\n");
	srst(0);
}
