// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/fdt.c: the device tree checked with libfdt and dtc. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <libfdt.h>

#include "lkvm/fdt.h"
#include "lkvm/vm.h"
#include "unit.h"

#define LETTER(c) (1ULL << ((c) - 'a'))
#define FDT_BUF 65536

static void sample_caps(struct kvm_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->xlen = 64;
	c->isa = LETTER('a') | LETTER('c') | LETTER('d') | LETTER('f') |
		 LETTER('i') | LETTER('m');
	c->isa_ext[0] = (struct caps_ext){ "sstc", true };
	c->isa_ext[1] = (struct caps_ext){ "zicbom", true };
	c->isa_ext[2] = (struct caps_ext){ "ssaia", false };
	c->isa_ext[3] = (struct caps_ext){ "zba", true };
	c->nr_isa_ext = 4;
	c->timebase_hz = 10000000;
	c->zicbom_block_size = 64;
	c->mmu = "sv57";
}

static void sample_params(struct fdt_params *p, const struct kvm_caps *c,
			  unsigned int nr_cpus)
{
	memset(p, 0, sizeof(*p));
	p->nr_cpus = nr_cpus;
	p->caps = c;
	p->ram_base = MEMMAP_RAM_BASE;
	p->ram_size = 256ULL << 20;
	p->bootargs = "console=ttyS0 earlycon";
	p->initrd_start = 0x88000000;
	p->initrd_end = 0x88100000;
	p->plic_base = MEMMAP_PLIC_BASE;
	p->plic_size = 0x4000000;
	p->plic_ndev = PLIC_NR_SOURCES;
	p->uart_base = MEMMAP_UART_BASE;
	p->uart_size = 0x100;
	p->uart_irq = IRQ_UART;
	p->uart_clock = 1843200;
	p->stdout_serial = true;
	p->devs[0] = (struct fdt_dev){ "virtio_mmio", "virtio,mmio",
				       MEMMAP_VIRTIO_MMIO_BASE, 0x200, 1 };
	p->nr_devs = 1;
}

/* True when the string list prop (len bytes) contains s. */
static bool strlist_has(const char *prop, int len, const char *s)
{
	int pos = 0;

	while (pos < len) {
		if (!strcmp(prop + pos, s))
			return true;
		pos += (int)strlen(prop + pos) + 1;
	}
	return false;
}

static uint64_t be64_at(const void *p, int idx)
{
	fdt64_t v;

	/* properties are only 4-byte aligned */
	memcpy(&v, (const uint8_t *)p + 8 * idx, sizeof(v));
	return fdt64_to_cpu(v);
}

static void check_cpus(const void *fdt, unsigned int nr_cpus)
{
	const void *prop;
	char path[64];
	unsigned int i;
	int off, len;

	off = fdt_path_offset(fdt, "/cpus");
	REQUIRE(CHECK(off >= 0));
	prop = fdt_getprop(fdt, off, "timebase-frequency", &len);
	REQUIRE(CHECK(prop && len == 4));
	CHECK_EQ(fdt32_to_cpu(*(const fdt32_t *)prop), 10000000);
	for (i = 0; i < nr_cpus; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		off = fdt_path_offset(fdt, path);
		if (!CHECK(off >= 0)) {
			fprintf(stderr, "    no %s\n", path);
			continue;
		}
		CHECK_STR(fdt_getprop(fdt, off, "riscv,isa", NULL),
			  "rv64imafdc_zba_zicbom_sstc");
		CHECK_STR(fdt_getprop(fdt, off, "mmu-type", NULL),
			  "riscv,sv57");
		CHECK_STR(fdt_getprop(fdt, off, "device_type", NULL), "cpu");
		prop = fdt_getprop(fdt, off, "reg", &len);
		CHECK(prop && len == 4 &&
		      fdt32_to_cpu(*(const fdt32_t *)prop) == i);
		prop = fdt_getprop(fdt, off, "riscv,isa-extensions", &len);
		if (!CHECK(prop && len > 0))
			continue;
		CHECK(((const char *)prop)[len - 1] == '\0');
		CHECK(strlist_has(prop, len, "i"));
		CHECK(strlist_has(prop, len, "m"));
		CHECK(strlist_has(prop, len, "c"));
		CHECK(strlist_has(prop, len, "zba"));
		CHECK(strlist_has(prop, len, "zicbom"));
		CHECK(strlist_has(prop, len, "sstc"));
		CHECK(!strlist_has(prop, len, "ssaia"));
		CHECK(!strlist_has(prop, len, "v"));
		snprintf(path, sizeof(path),
			 "/cpus/cpu@%x/interrupt-controller", i);
		CHECK(fdt_path_offset(fdt, path) >= 0);
	}
	snprintf(path, sizeof(path), "/cpus/cpu@%x", nr_cpus);
	CHECK(fdt_path_offset(fdt, path) < 0);
}

static void check_rest(const void *fdt, unsigned int nr_cpus)
{
	const void *prop;
	int off, len;

	off = fdt_path_offset(fdt, "/memory@80000000");
	REQUIRE(CHECK(off >= 0));
	prop = fdt_getprop(fdt, off, "reg", &len);
	REQUIRE(CHECK(prop && len == 16));
	CHECK_EQ(be64_at(prop, 0), 0x80000000);
	CHECK_EQ(be64_at(prop, 1), 256ULL << 20);

	off = fdt_path_offset(fdt, "/chosen");
	REQUIRE(CHECK(off >= 0));
	CHECK_STR(fdt_getprop(fdt, off, "bootargs", NULL),
		  "console=ttyS0 earlycon");
	CHECK_STR(fdt_getprop(fdt, off, "stdout-path", NULL),
		  "/soc/serial@10000000");
	prop = fdt_getprop(fdt, off, "linux,initrd-start", &len);
	CHECK(prop && len == 8 && be64_at(prop, 0) == 0x88000000);
	prop = fdt_getprop(fdt, off, "linux,initrd-end", &len);
	CHECK(prop && len == 8 && be64_at(prop, 0) == 0x88100000);

	off = fdt_path_offset(fdt, "/soc/interrupt-controller@c000000");
	REQUIRE(CHECK(off >= 0));
	prop = fdt_getprop(fdt, off, "interrupts-extended", &len);
	REQUIRE(CHECK(prop && len == (int)(8 * nr_cpus)));
	CHECK_EQ(fdt32_to_cpu(((const fdt32_t *)prop)[1]), 9);
	CHECK(fdt_getprop(fdt, off, "interrupt-controller", NULL) != NULL);

	off = fdt_path_offset(fdt, "/soc/serial@10000000");
	REQUIRE(CHECK(off >= 0));
	CHECK_STR(fdt_getprop(fdt, off, "compatible", NULL), "ns16550a");
	prop = fdt_getprop(fdt, off, "interrupts", &len);
	CHECK(prop && len == 4 &&
	      fdt32_to_cpu(*(const fdt32_t *)prop) == IRQ_UART);
	prop = fdt_getprop(fdt, off, "reg", &len);
	CHECK(prop && len == 16 && be64_at(prop, 0) == MEMMAP_UART_BASE);
	CHECK(fdt_path_offset(fdt, "/soc/virtio_mmio@10001000") >= 0);
}

/* Every phandle in the PLIC's interrupts-extended names a cpu-intc. */
static void check_plic_phandles(const void *fdt, unsigned int nr_cpus)
{
	const fdt32_t *ext;
	unsigned int i;
	int off, len, intc;

	off = fdt_path_offset(fdt, "/soc/interrupt-controller@c000000");
	REQUIRE(off >= 0);
	ext = fdt_getprop(fdt, off, "interrupts-extended", &len);
	REQUIRE(ext);
	for (i = 0; i < nr_cpus; i++) {
		intc = fdt_node_offset_by_phandle(fdt,
						  fdt32_to_cpu(ext[2 * i]));
		CHECK(intc >= 0 &&
		      !strcmp(fdt_getprop(fdt, intc, "compatible", NULL),
			      "riscv,cpu-intc"));
	}
}

/* dtc must read the blob back without a warning. */
static void check_dtc(const void *fdt, int size)
{
	char path[] = "/tmp/lkvm-fdt-XXXXXX", cmd[256], line[512];
	bool quiet = true;
	FILE *f;
	int fd;

	if (system("command -v dtc >/dev/null 2>&1")) {
		printf("    (dtc not installed: skipping the dtc check)\n");
		return;
	}
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	if (!CHECK_EQ(write(fd, fdt, (size_t)size), size)) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1",
		 path);
	f = popen(cmd, "r");
	if (CHECK(f)) {
		while (fgets(line, sizeof(line), f)) {
			fprintf(stderr, "    dtc: %s", line);
			quiet = false;
		}
		CHECK_EQ(pclose(f), 0);
	}
	CHECK(quiet);
	unlink(path);
}

static void build_and_check(unsigned int nr_cpus)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct fdt_params *p = malloc(sizeof(*p));
	void *buf = malloc(FDT_BUF);
	int size;

	if (!CHECK(c && p && buf))
		goto out;
	sample_caps(c);
	sample_params(p, c, nr_cpus);
	size = fdt_build(buf, FDT_BUF, p);
	if (!CHECK(size > 0 && size <= FDT_BUF))
		goto out;
	if (!CHECK_EQ(fdt_check_header(buf), 0))
		goto out;
	CHECK_EQ(fdt_totalsize(buf), size);
	check_cpus(buf, nr_cpus);
	check_rest(buf, nr_cpus);
	check_plic_phandles(buf, nr_cpus);
	check_dtc(buf, size);
out:
	free(buf);
	free(p);
	free(c);
}

static void test_one_cpu(void)
{
	build_and_check(1);
}

static void test_two_cpus(void)
{
	build_and_check(2);
}

static void test_four_cpus(void)
{
	build_and_check(4);
}

static void test_no_initrd_no_mmu(void)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct fdt_params *p = malloc(sizeof(*p));
	void *buf = malloc(FDT_BUF);
	int off;

	if (!CHECK(c && p && buf))
		goto out;
	sample_caps(c);
	c->mmu = NULL;
	sample_params(p, c, 1);
	p->initrd_start = p->initrd_end = 0;
	p->bootargs = NULL;
	p->stdout_serial = false;
	if (!CHECK(fdt_build(buf, FDT_BUF, p) > 0))
		goto out;
	off = fdt_path_offset(buf, "/chosen");
	CHECK(off >= 0);
	CHECK(fdt_getprop(buf, off, "linux,initrd-start", NULL) == NULL);
	CHECK(fdt_getprop(buf, off, "bootargs", NULL) == NULL);
	CHECK(fdt_getprop(buf, off, "stdout-path", NULL) == NULL);
	off = fdt_path_offset(buf, "/cpus/cpu@0");
	CHECK(off >= 0);
	CHECK(fdt_getprop(buf, off, "mmu-type", NULL) == NULL);
out:
	free(buf);
	free(p);
	free(c);
}

static void test_too_small(void)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct fdt_params *p = malloc(sizeof(*p));
	uint8_t *buf = malloc(FDT_BUF);
	int size, r;
	size_t n;

	if (!CHECK(c && p && buf))
		goto out;
	sample_caps(c);
	sample_params(p, c, 4);
	size = fdt_build(buf, FDT_BUF, p);
	if (!CHECK(size > 0))
		goto out;
	/* every smaller buffer fails cleanly (ASan watches the writes) */
	for (n = 0; n < (size_t)size; n += n < 128 ? 1 : 61) {
		uint8_t *small = malloc(n ? n : 1);

		if (!CHECK(small))
			break;
		r = fdt_build(small, n, p);
		if (!CHECK(r < 0))
			fprintf(stderr, "    size %zu gave %d\n", n, r);
		free(small);
	}
	CHECK_EQ(fdt_build(buf, 16, p), -FDT_ERR_NOSPACE);
	CHECK_EQ(fdt_build(buf, (size_t)size - 1, p), -FDT_ERR_NOSPACE);
	CHECK_EQ(fdt_build(buf, (size_t)size, p), size);
out:
	free(buf);
	free(p);
	free(c);
}

UNIT_SUITE(fdt, UNIT_TEST(test_one_cpu), UNIT_TEST(test_two_cpus),
	   UNIT_TEST(test_four_cpus), UNIT_TEST(test_no_initrd_no_mmu),
	   UNIT_TEST(test_too_small));
