// SPDX-License-Identifier: GPL-2.0-only
/* Test guest: SBI calls lkvm must answer per the spec while the guest goes
 * on: experimental and vendor extensions, DBCN with bad buffers. */
#include "guest.h"

#define SBI_EXT_DBCN 0x4442434E
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)

static int failures;

static void expect(const char *what, long got, long want)
{
	puts_legacy("sbi-probe: ");
	puts_legacy(what);
	puts_legacy(" -> ");
	put_dec(got);
	if (got == want) {
		puts_legacy(" ok\n");
	} else {
		puts_legacy(" WRONG, expected ");
		put_dec(want);
		putc_legacy('\n');
		failures++;
	}
}

static const char msg[] = "sbi-probe: hello through DBCN\n";

static const struct {
	const char *name;
	long id;
} probes[] = {
	{ "time", 0x54494D45 },	  { "ipi", 0x735049 },
	{ "rfence", 0x52464E43 }, { "hsm", 0x48534D },
	{ "srst", 0x53525354 },	  { "pmu", 0x504D55 },
};

int main(long hartid, long fdt);

int main(long hartid, long fdt)
{
	struct sbiret r;
	unsigned long i;
	int dbcn;

	(void)hartid;
	(void)fdt;
	r = sbi_call(0x08000000, 0, 1, 2, 3);
	expect("experimental 0x08000000", r.error, SBI_ERR_NOT_SUPPORTED);
	r = sbi_call(0x08FFFFFF, 7, 0, 0, 0);
	expect("experimental 0x08ffffff", r.error, SBI_ERR_NOT_SUPPORTED);
	r = sbi_call(0x09000000, 0, 0, 0, 0);
	expect("vendor 0x09000000", r.error, SBI_ERR_NOT_SUPPORTED);
	/* DBCN exists only where KVM forwards it (6.7+). */
	r = sbi_call(0x10, 3, SBI_EXT_DBCN, 0, 0); /* BASE probe_extension */
	dbcn = r.error == 0 && r.value != 0;
	puts_legacy(dbcn ? "sbi-probe: DBCN present\n"
			 : "sbi-probe: DBCN absent\n");
	if (dbcn) {
		r = sbi_call(SBI_EXT_DBCN, 0, sizeof(msg) - 1, (long)msg, 0);
		expect("DBCN write", r.value, sizeof(msg) - 1);
		r = sbi_call(SBI_EXT_DBCN, 0, 16, 0x1000, 0);
		expect("DBCN write outside RAM", r.error,
		       SBI_ERR_INVALID_PARAM);
		r = sbi_call(SBI_EXT_DBCN, 0, 16, (long)msg, 1);
		expect("DBCN write base_hi 1", r.error, SBI_ERR_INVALID_PARAM);
		r = sbi_call(SBI_EXT_DBCN, 0, -1L, (long)msg, 0);
		expect("DBCN write huge length", r.error,
		       SBI_ERR_INVALID_PARAM);
		r = sbi_call(SBI_EXT_DBCN, 1, 16, -8L, 0);
		expect("DBCN read wrapping", r.error, SBI_ERR_INVALID_PARAM);
		r = sbi_call(SBI_EXT_DBCN, 9, 0, 0, 0);
		expect("DBCN function 9", r.error, SBI_ERR_NOT_SUPPORTED);
	}
	/* what BASE probe_extension says of KVM's own extensions: lkvm
	 * run --disable-sbi-EXT hides them */
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		r = sbi_call(0x10, 3, probes[i].id, 0, 0);
		puts_legacy("sbi-probe: probe ");
		puts_legacy(probes[i].name);
		puts_legacy(" -> ");
		put_dec(r.error ? -1 : r.value);
		putc_legacy('\n');
	}
	puts_legacy(failures ? "sbi-probe: FAILED\n" : "sbi-probe: PASSED\n");
	shutdown();
}
