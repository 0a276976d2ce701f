// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/caps-report.c: ISA string, cpuinfo, the report. */
#include <stdlib.h>

#include "lkvm/kvm-caps.h"
#include "unit.h"

#define LETTER(c) (1ULL << ((c) - 'a'))

static void sample_caps(struct kvm_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->api_version = 12;
	c->max_vcpus = 1024;
	c->nr_vcpus = 2;
	c->xlen = 64;
	c->isa = LETTER('a') | LETTER('c') | LETTER('d') | LETTER('f') |
		 LETTER('i') | LETTER('m');
	c->isa_ext[0] = (struct caps_ext){ "sstc", true };
	c->isa_ext[1] = (struct caps_ext){ "zicbom", true };
	c->isa_ext[2] = (struct caps_ext){ "ssaia", false };
	c->isa_ext[3] = (struct caps_ext){ "zba", true };
	c->nr_isa_ext = 4;
	c->sbi_ext[0] = (struct caps_ext){ "dbcn", false };
	c->sbi_ext[1] = (struct caps_ext){ "hsm", true };
	c->nr_sbi_ext = 2;
	c->timebase_hz = 10000000;
	c->mmu = "sv57";
}

static void test_isa_string_order(void)
{
	struct kvm_caps c;
	char buf[128];

	sample_caps(&c);
	CHECK_EQ(caps_isa_string(&c, buf, sizeof(buf)), 26);
	/* canonical letters, then z* and s* in order, disabled ones left out */
	CHECK_STR(buf, "rv64imafdc_zba_zicbom_sstc");
	c.isa |= LETTER('v') | LETTER('h');
	caps_isa_string(&c, buf, sizeof(buf));
	CHECK_STR(buf, "rv64imafdcvh_zba_zicbom_sstc");
}

/* An id newer than lkvm's table ("isa#90") stays out of the guest's ISA
 * string. */
static void test_isa_string_unknown(void)
{
	struct kvm_caps c;
	char buf[128];

	sample_caps(&c);
	c.isa_ext[c.nr_isa_ext++] = (struct caps_ext){ "isa#90", true };
	caps_isa_string(&c, buf, sizeof(buf));
	CHECK_STR(buf, "rv64imafdc_zba_zicbom_sstc");
	CHECK(caps_ext_known("zaamo") && !caps_ext_known("isa#90"));
}

static void test_isa_string_too_small(void)
{
	struct kvm_caps c;
	char buf[27];

	sample_caps(&c);
	/* 26 characters need 27 bytes */
	CHECK_EQ(caps_isa_string(&c, buf, 26), -1);
	CHECK_EQ(caps_isa_string(&c, buf, 5), -1);
	CHECK_EQ(caps_isa_string(&c, buf, 0), -1);
	CHECK_EQ(caps_isa_string(&c, buf, sizeof(buf)), 26);
}

static void test_cpuinfo_h(void)
{
	CHECK_EQ(cpuinfo_has_h("processor\t: 0\nhart\t\t: 0\n"
			       "isa\t\t: rv64imafdch_zicbom_zihintpause\n"
			       "mmu\t\t: sv57\n"),
		 1);
	CHECK_EQ(cpuinfo_has_h("isa\t\t: rv64imafdc_zihintpause\n"), 0);
	/* "hart isa" lines and h inside multi-letter names do not count */
	CHECK_EQ(cpuinfo_has_h("hart isa\t: rv64imafdch\n"), -1);
	CHECK_EQ(cpuinfo_has_h("isa : rv64imafdcsu_h\n"), 0);
	/* every hart must have it */
	CHECK_EQ(cpuinfo_has_h("isa : rv64imafdch\nisa : rv64imafdc\n"), 0);
	CHECK_EQ(cpuinfo_has_h(""), -1);
	CHECK_EQ(cpuinfo_has_h("isa:"), -1);
	CHECK_EQ(cpuinfo_has_h("isa : rv6"), -1);
	CHECK_EQ(cpuinfo_has_h("isa : rv64h"), 1);
}

static char *report(const struct kvm_caps *c, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	caps_report(f, c, json);
	fclose(f);
	return buf;
}

static void test_report_text(void)
{
	struct kvm_caps c;
	char *t;

	sample_caps(&c);
	t = report(&c, false);
	CHECK(strstr(t, "KVM API version       12\n") != NULL);
	CHECK(strstr(t, "ISA                   rv64imafdc_zba_zicbom_sstc\n"));
	CHECK(strstr(t, "ISA extensions        sstc zicbom zba\n") != NULL);
	CHECK(strstr(t, "  available, off      ssaia\n") != NULL);
	CHECK(strstr(t, "In-kernel irqchip     none") != NULL);
	CHECK(strstr(t, "Timebase frequency    10000000 Hz") != NULL);
	CHECK(strstr(t, "Irqchips              plic (userspace)\n") != NULL);
	CHECK(strstr(t,
		     "Transports            virtio-mmio, virtio-pci (INTx)\n"));
	free(t);
	c.aia = true;
	c.aia_init = true;
	c.aia_mode = "emul";
	c.aia_ids = 255;
	t = report(&c, false);
	CHECK(strstr(
		t,
		"In-kernel irqchip     aia (in-kernel APLIC+IMSIC, mode emul, 255 IDs)"));
	CHECK(strstr(
		t,
		"Irqchips              plic (userspace), aia (in-kernel, mode emul, 255 IDs)\n"));
	CHECK(strstr(
		t, "Transports            virtio-mmio, virtio-pci (MSI-X)\n"));
	free(t);
	/* before Linux 6.4 the SBI extensions cannot be listed */
	c.nr_sbi_ext = 0;
	t = report(&c, false);
	CHECK(strstr(t, "SBI extensions        fixed by this KVM") != NULL);
	free(t);
}

static void test_report_json(void)
{
	struct kvm_caps c;
	char *t;

	sample_caps(&c);
	t = report(&c, true);
	CHECK(strstr(t, "{\"api_version\":12,\"max_vcpus\":1024,") == t);
	CHECK(strstr(t, "\"isa\":\"rv64imafdc_zba_zicbom_sstc\"") != NULL);
	CHECK(strstr(t, "\"isa_extensions\":{\"sstc\":true,\"zicbom\":true,"
			"\"ssaia\":false,\"zba\":true}") != NULL);
	CHECK(strstr(t, "\"aia\":{\"available\":false}") != NULL);
	CHECK(strstr(t, "\"irqchips\":[\"plic\"]") != NULL);
	CHECK(strstr(t, "\"transports\":{\"virtio-mmio\":\"wired\","
			"\"virtio-pci\":\"intx\"}"));
	CHECK(t[strlen(t) - 1] == '\n' && t[strlen(t) - 2] == '}');
	free(t);
	c.aia = c.aia_init = c.aia_hwaccel = true;
	c.aia_mode = "auto";
	c.aia_ids = 255;
	t = report(&c, true);
	CHECK(strstr(t, "\"irqchips\":[\"plic\",\"aia\"]") != NULL);
	CHECK(strstr(t, "\"aia\":{\"available\":true,\"default_mode\":\"auto\","
			"\"hwaccel\":true,\"ids\":255,\"init\":true}"));
	CHECK(strstr(t, "\"virtio-pci\":\"msix\"}") != NULL);
	free(t);
}

/* `lkvm info` lists what KVM lets `lkvm run --disable-EXT` turn off. */
static void test_report_can_disable(void)
{
	struct kvm_caps c;
	char *t;

	sample_caps(&c);
	t = report(&c, false);
	CHECK(strstr(t, "  can be turned off   none\n") != NULL);
	free(t);
	c.isa_can_disable = LETTER('d') | LETTER('f');
	c.isa_ext[1].can_disable = true; /* zicbom */
	c.sbi_ext[0] = (struct caps_ext){ "hsm", true, true, 5 };
	c.sbi_ext[1] = (struct caps_ext){ "dbcn", false, false, 9 };
	c.nr_sbi_ext = 2;
	t = report(&c, false);
	CHECK(strstr(t, "  available, off      ssaia\n"
			"  can be turned off   d f zicbom\n") != NULL);
	CHECK(strstr(t, "SBI extensions        hsm\n"
			"  available, off      dbcn\n"
			"  can be turned off   hsm\n") != NULL);
	free(t);
	t = report(&c, true);
	CHECK(strstr(t, "\"isa_can_disable\":[\"d\",\"f\",\"zicbom\"]"));
	CHECK(strstr(t, "\"sbi_can_disable\":[\"hsm\"]") != NULL);
	free(t);
}

/* A device KVM makes but lkvm's set-up cannot INIT is not offered. */
static void test_report_aia_init_failed(void)
{
	struct kvm_caps c;
	char *t;

	sample_caps(&c);
	c.aia = true;
	c.aia_mode = "emul";
	c.aia_ids = 255;
	snprintf(c.aia_err, sizeof(c.aia_err), "AIA init: Invalid argument");
	t = report(&c, false);
	CHECK(strstr(
		t,
		"In-kernel irqchip     aia unusable (AIA init: Invalid argument): lkvm emulates a PLIC\n"));
	CHECK(strstr(t, "Irqchips              plic (userspace)\n") != NULL);
	CHECK(strstr(t, "virtio-pci (INTx)\n") != NULL);
	free(t);
	t = report(&c, true);
	CHECK(strstr(t, "\"irqchips\":[\"plic\"]") != NULL);
	CHECK(strstr(t, "\"ids\":255,\"init\":false,"
			"\"error\":\"AIA init: Invalid argument\"}"));
	CHECK(strstr(t, "\"virtio-pci\":\"intx\"") != NULL);
	free(t);
	/* a creation failure other than "no AIA here" is shown too */
	c.aia = false;
	snprintf(c.aia_err, sizeof(c.aia_err),
		 "AIA create device: Device or resource busy");
	t = report(&c, false);
	CHECK(strstr(
		t,
		"In-kernel irqchip     none (AIA create device: Device or resource busy)"));
	free(t);
}

UNIT_SUITE(caps, UNIT_TEST(test_isa_string_order),
	   UNIT_TEST(test_isa_string_too_small),
	   UNIT_TEST(test_isa_string_unknown), UNIT_TEST(test_cpuinfo_h),
	   UNIT_TEST(test_report_text), UNIT_TEST(test_report_json),
	   UNIT_TEST(test_report_aia_init_failed),
	   UNIT_TEST(test_report_can_disable));
