// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for riscv/fdt.c: the device tree checked with libfdt and dtc. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <libfdt.h>

#include "lkvm/fdt.h"
#include "lkvm/vm.h"
#include "riscv/board.h"
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

/* A board as the machine builds one, on a bus of its own. */
struct sample {
	struct mmio_bus bus;
	struct board b;
};

static const struct mmio_ops no_ops;

static void add(struct board *b, struct board_dev d, bool on_bus)
{
	CHECK_EQ(board_add(b, &d, MMIO_SIZE(4), on_bus ? &no_ops : NULL, NULL,
			   NULL),
		 0);
}

/* The PLIC (or the in-kernel APLIC and IMSICs), the UART, the PCI bridge
 * and its windows when pci, one virtio-mmio device. */
static void sample_board(struct sample *s, const struct kvm_caps *c,
			 unsigned int nr_cpus, bool aia, bool pci)
{
	struct board *p = &s->b;
	uint64_t ram = 256ULL << 20;

	memset(&s->bus, 0, sizeof(s->bus));
	board_init(p, &s->bus, nr_cpus, ram, c);
	p->bootargs = "console=ttyS0 earlycon";
	p->initrd_start = 0x88000000;
	p->initrd_end = 0x88100000;
	p->stdout_serial = true;
	if (aia) {
		add(p,
		    (struct board_dev){ .node = BOARD_IMSIC,
					.base = MEMMAP_IMSIC_BASE,
					.size = MEMMAP_IMSIC_STRIDE * nr_cpus,
					.stride = MEMMAP_IMSIC_STRIDE,
					.arg = 255 },
		    false);
		add(p,
		    (struct board_dev){ .node = BOARD_APLIC,
					.base = MEMMAP_APLIC_BASE,
					.size = MEMMAP_APLIC_SIZE,
					.arg = PLIC_NR_SOURCES },
		    false);
	} else {
		add(p,
		    (struct board_dev){ .node = BOARD_PLIC,
					.base = MEMMAP_PLIC_BASE,
					.size = 0x4000000,
					.arg = PLIC_NR_SOURCES },
		    true);
	}
	add(p,
	    (struct board_dev){ .node = BOARD_TEST_FINISHER,
				.base = MEMMAP_TEST_FINISHER_BASE,
				.size = MEMMAP_TEST_FINISHER_SIZE },
	    true);
	add(p,
	    (struct board_dev){ .node = BOARD_PVPANIC,
				.base = MEMMAP_PVPANIC_BASE,
				.size = MEMMAP_PVPANIC_SIZE },
	    true);
	add(p,
	    (struct board_dev){ .node = BOARD_UART,
				.base = MEMMAP_UART_BASE,
				.size = 0x100,
				.irq = IRQ_UART,
				.arg = 1843200 },
	    true);
	if (pci) {
		add(p,
		    (struct board_dev){ .node = BOARD_PCI_ECAM,
					.base = MEMMAP_PCI_ECAM_BASE,
					.size = 1 << 20,
					.irq = IRQ_PCI_INTX_BASE },
		    true);
		add(p,
		    (struct board_dev){ .node = BOARD_PCI_WINDOW,
					.base = MEMMAP_PCI_MMIO32_BASE,
					.size = MEMMAP_PCI_MMIO32_SIZE },
		    true);
		add(p,
		    (struct board_dev){ .node = BOARD_PCI_WINDOW,
					.base = memmap_pci_mmio64_base(ram),
					.size = MEMMAP_PCI_MMIO64_SIZE },
		    true);
	}
	CHECK_EQ(board_add_virtio_mmio(p, NULL, "virtio", NULL), 0);
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

	/* the test devices: QEMU virt's compatibles, no interrupt */
	off = fdt_path_offset(fdt, "/soc/test@100000");
	REQUIRE(CHECK(off >= 0));
	prop = fdt_getprop(fdt, off, "compatible", &len);
	CHECK(prop && strlist_has(prop, len, "sifive,test0") &&
	      strlist_has(prop, len, "sifive,test1") &&
	      strlist_has(prop, len, "syscon"));
	prop = fdt_getprop(fdt, off, "reg", &len);
	CHECK(prop && len == 16 &&
	      be64_at(prop, 0) == MEMMAP_TEST_FINISHER_BASE &&
	      be64_at(prop, 1) == MEMMAP_TEST_FINISHER_SIZE);
	CHECK(fdt_getprop(fdt, off, "interrupts", NULL) == NULL);
	off = fdt_path_offset(fdt, "/soc/pvpanic@101000");
	REQUIRE(CHECK(off >= 0));
	CHECK_STR(fdt_getprop(fdt, off, "compatible", NULL),
		  "qemu,pvpanic-mmio");
	prop = fdt_getprop(fdt, off, "reg", &len);
	CHECK(prop && len == 16 && be64_at(prop, 0) == MEMMAP_PVPANIC_BASE);
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

	/* a missing dtc is a failure, not a skip: the check would pass
	 * unseen (tests/e2e/provision.sh installs device-tree-compiler) */
	if (system("command -v dtc >/dev/null 2>&1")) {
		unit_fail(__FILE__, __LINE__,
			  "dtc not found: install device-tree-compiler");
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
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	void *buf = malloc(FDT_BUF);
	int size;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	sample_board(s, c, nr_cpus, false, false);
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
	free(s);
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
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	void *buf = malloc(FDT_BUF);
	int off;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	c->mmu = NULL;
	sample_board(s, c, 1, false, false);
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
	free(s);
	free(c);
}

/* What a vCPU has with --disable-d --disable-f --disable-zicbom (KVM
 * reports it off): the device tree says so everywhere. */
static void test_isa_disabled(void)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	void *buf = malloc(FDT_BUF);
	const void *prop;
	int off, len;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	c->isa &= ~(LETTER('d') | LETTER('f'));
	c->isa_ext[1].enabled = false; /* zicbom */
	c->zicboz_block_size = 64; /* zicboz is not in the list at all */
	/* an id lkvm has no name for is not shown to the guest */
	c->isa_ext[c->nr_isa_ext++] = (struct caps_ext){ "isa#90", true };
	sample_board(s, c, 2, false, false);
	if (!CHECK(fdt_build(buf, FDT_BUF, p) > 0))
		goto out;
	off = fdt_path_offset(buf, "/cpus/cpu@1");
	REQUIRE(CHECK(off >= 0));
	CHECK_STR(fdt_getprop(buf, off, "riscv,isa", NULL),
		  "rv64imac_zba_sstc");
	CHECK_STR(fdt_getprop(buf, off, "riscv,isa-base", NULL), "rv64i");
	prop = fdt_getprop(buf, off, "riscv,isa-extensions", &len);
	REQUIRE(CHECK(prop && len > 0));
	CHECK_EQ(len, (int)sizeof("i\0m\0a\0c\0sstc\0zba"));
	CHECK(!memcmp(prop, "i\0m\0a\0c\0sstc\0zba",
		      sizeof("i\0m\0a\0c\0sstc\0zba")));
	CHECK(fdt_getprop(buf, off, "riscv,cbom-block-size", NULL) == NULL);
	CHECK(fdt_getprop(buf, off, "riscv,cboz-block-size", NULL) == NULL);
	/* on again: both letters and the block size come back */
	sample_caps(c);
	sample_board(s, c, 1, false, false);
	if (!CHECK(fdt_build(buf, FDT_BUF, p) > 0))
		goto out;
	off = fdt_path_offset(buf, "/cpus/cpu@0");
	prop = fdt_getprop(buf, off, "riscv,cbom-block-size", &len);
	CHECK(prop && len == 4 && fdt32_to_cpu(*(const fdt32_t *)prop) == 64);
	prop = fdt_getprop(buf, off, "riscv,isa-extensions", &len);
	CHECK(prop && strlist_has(prop, len, "d") &&
	      strlist_has(prop, len, "f"));
out:
	free(buf);
	free(s);
	free(c);
}

static void test_too_small(void)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	uint8_t *buf = malloc(FDT_BUF);
	int size, r;
	size_t n;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	sample_board(s, c, 4, false, false);
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
	free(s);
	free(c);
}

static uint32_t cell_at(const void *prop, int idx)
{
	fdt32_t v;

	memcpy(&v, (const uint8_t *)prop + 4 * idx, sizeof(v));
	return fdt32_to_cpu(v);
}

static uint32_t getcell(const void *fdt, int off, const char *name)
{
	const void *prop;
	int len;

	prop = fdt_getprop(fdt, off, name, &len);
	if (!CHECK(prop && len == 4)) {
		fprintf(stderr, "    no one-cell property %s\n", name);
		return UINT32_MAX;
	}
	return cell_at(prop, 0);
}

/* The node phandle ph names has this compatible; returns its offset. */
static int check_phandle(const void *fdt, uint32_t ph, const char *compat)
{
	int off = fdt_node_offset_by_phandle(fdt, ph);

	if (!CHECK(off >= 0) ||
	    !CHECK(!fdt_node_check_compatible(fdt, off, compat))) {
		fprintf(stderr, "    phandle %u is not a %s\n", ph, compat);
		return -1;
	}
	return off;
}

/* interrupts-extended = <&cpuI_intc 9> for hart I = 0, 1, ... */
static void check_hart_ext(const void *fdt, int off, unsigned int nr_cpus)
{
	const void *ext;
	unsigned int i;
	int len, intc;

	ext = fdt_getprop(fdt, off, "interrupts-extended", &len);
	REQUIRE(CHECK(ext && len == (int)(8 * nr_cpus)));
	for (i = 0; i < nr_cpus; i++) {
		intc = check_phandle(fdt, cell_at(ext, 2 * i),
				     "riscv,cpu-intc");
		if (intc >= 0)
			CHECK_EQ(getcell(fdt, fdt_parent_offset(fdt, intc),
					 "reg"),
				 i);
		CHECK_EQ(cell_at(ext, 2 * i + 1), 9);
	}
}

/* Returns the IMSIC's phandle. */
static uint32_t check_imsic(const void *fdt, unsigned int nr_cpus)
{
	const void *prop;
	int off, len;

	off = fdt_path_offset(fdt, "/soc/interrupt-controller@28000000");
	if (!CHECK(off >= 0))
		return 0;
	CHECK(!fdt_node_check_compatible(fdt, off, "riscv,imsics"));
	prop = fdt_getprop(fdt, off, "reg", &len);
	if (!CHECK(prop && len == 16))
		return 0;
	CHECK_EQ(be64_at(prop, 0), MEMMAP_IMSIC_BASE);
	CHECK_EQ(be64_at(prop, 1), MEMMAP_IMSIC_STRIDE * nr_cpus);
	check_hart_ext(fdt, off, nr_cpus);
	CHECK(fdt_getprop(fdt, off, "interrupt-controller", NULL) != NULL);
	CHECK(fdt_getprop(fdt, off, "msi-controller", NULL) != NULL);
	CHECK_EQ(getcell(fdt, off, "#interrupt-cells"), 0);
	CHECK_EQ(getcell(fdt, off, "#msi-cells"), 0);
	CHECK_EQ(getcell(fdt, off, "riscv,num-ids"), 255);
	return fdt_get_phandle(fdt, off);
}

/* Returns the APLIC's phandle. */
static uint32_t check_aplic(const void *fdt, uint32_t imsic)
{
	const void *prop;
	int off, len;

	off = fdt_path_offset(fdt, "/soc/interrupt-controller@d000000");
	if (!CHECK(off >= 0))
		return 0;
	CHECK(!fdt_node_check_compatible(fdt, off, "riscv,aplic"));
	prop = fdt_getprop(fdt, off, "reg", &len);
	CHECK(prop && len == 16 && be64_at(prop, 0) == MEMMAP_APLIC_BASE &&
	      be64_at(prop, 1) == MEMMAP_APLIC_SIZE);
	CHECK(fdt_getprop(fdt, off, "interrupt-controller", NULL) != NULL);
	CHECK_EQ(getcell(fdt, off, "#interrupt-cells"), 2);
	CHECK_EQ(getcell(fdt, off, "#address-cells"), 0);
	CHECK_EQ(getcell(fdt, off, "msi-parent"), imsic);
	CHECK_EQ(getcell(fdt, off, "riscv,num-sources"), PLIC_NR_SOURCES);
	CHECK(fdt_getprop(fdt, off, "interrupts-extended", NULL) == NULL);
	return fdt_get_phandle(fdt, off);
}

/* A wired device: interrupt-parent and interrupts = <irq 4> or <irq>. */
static void check_wired_dev(const void *fdt, const char *path, uint32_t parent,
			    unsigned int irq, bool aia)
{
	const void *prop;
	int off, len;

	off = fdt_path_offset(fdt, path);
	REQUIRE(CHECK(off >= 0));
	CHECK_EQ(getcell(fdt, off, "interrupt-parent"), parent);
	prop = fdt_getprop(fdt, off, "interrupts", &len);
	REQUIRE(CHECK(prop && len == (aia ? 8 : 4)));
	CHECK_EQ(cell_at(prop, 0), irq);
	if (aia)
		CHECK_EQ(cell_at(prop, 1), 4);
}

static void check_pci_ranges(const void *fdt, int off, uint64_t ram_size)
{
	const void *r;
	int len;

	r = fdt_getprop(fdt, off, "ranges", &len);
	REQUIRE(CHECK(r && len == 2 * 7 * 4));
	CHECK_EQ(cell_at(r, 0), 0x02000000);
	CHECK_EQ(cell_at(r, 2), MEMMAP_PCI_MMIO32_BASE);
	CHECK_EQ(cell_at(r, 4), MEMMAP_PCI_MMIO32_BASE);
	CHECK_EQ(cell_at(r, 6), MEMMAP_PCI_MMIO32_SIZE);
	CHECK_EQ(cell_at(r, 7), 0x03000000);
	CHECK_EQ(((uint64_t)cell_at(r, 8) << 32) | cell_at(r, 9),
		 memmap_pci_mmio64_base(ram_size));
	CHECK_EQ(((uint64_t)cell_at(r, 10) << 32) | cell_at(r, 11),
		 memmap_pci_mmio64_base(ram_size));
	CHECK_EQ(((uint64_t)cell_at(r, 12) << 32) | cell_at(r, 13),
		 MEMMAP_PCI_MMIO64_SIZE);
}

/* 32 slots x 4 pins, each to source base + (slot + pin - 1) % 4. */
static void check_pci_map(const void *fdt, int off, uint32_t parent, bool aia)
{
	int len, cells = aia ? 7 : 6, i;
	const void *m;

	m = fdt_getprop(fdt, off, "interrupt-map-mask", &len);
	REQUIRE(CHECK(m && len == 16));
	CHECK(cell_at(m, 0) == 0x1800 && cell_at(m, 1) == 0 &&
	      cell_at(m, 2) == 0 && cell_at(m, 3) == 7);
	m = fdt_getprop(fdt, off, "interrupt-map", &len);
	REQUIRE(CHECK(m && len == 32 * 4 * cells * 4));
	for (i = 0; i < 128; i++) {
		unsigned int slot = (unsigned int)i / 4, pin = i % 4 + 1;
		int e = i * cells;
		bool ok = cell_at(m, e) == slot << 11 && !cell_at(m, e + 1) &&
			  !cell_at(m, e + 2) && cell_at(m, e + 3) == pin &&
			  cell_at(m, e + 4) == parent &&
			  cell_at(m, e + 5) ==
				  IRQ_PCI_INTX_BASE + (slot + pin - 1) % 4 &&
			  (!aia || cell_at(m, e + 6) == 4);

		if (!CHECK(ok)) {
			fprintf(stderr, "    interrupt-map entry %d wrong\n",
				i);
			break;
		}
	}
}

static void check_pci(const void *fdt, uint32_t parent, uint32_t imsic,
		      bool aia, uint64_t ram_size)
{
	const void *prop;
	int off, len;

	off = fdt_path_offset(fdt, "/soc/pci@30000000");
	REQUIRE(CHECK(off >= 0));
	CHECK(!fdt_node_check_compatible(fdt, off, "pci-host-ecam-generic"));
	CHECK_STR(fdt_getprop(fdt, off, "device_type", NULL), "pci");
	CHECK_EQ(getcell(fdt, off, "#address-cells"), 3);
	CHECK_EQ(getcell(fdt, off, "#size-cells"), 2);
	CHECK_EQ(getcell(fdt, off, "#interrupt-cells"), 1);
	CHECK_EQ(getcell(fdt, off, "linux,pci-domain"), 0);
	CHECK(fdt_getprop(fdt, off, "dma-coherent", NULL) != NULL);
	prop = fdt_getprop(fdt, off, "bus-range", &len);
	CHECK(prop && len == 8 && !cell_at(prop, 0) && !cell_at(prop, 1));
	prop = fdt_getprop(fdt, off, "reg", &len);
	CHECK(prop && len == 16 && be64_at(prop, 0) == MEMMAP_PCI_ECAM_BASE &&
	      be64_at(prop, 1) == 1 << 20);
	check_pci_ranges(fdt, off, ram_size);
	check_pci_map(fdt, off, parent, aia);
	if (aia)
		CHECK_EQ(getcell(fdt, off, "msi-parent"), imsic);
	else
		CHECK(fdt_getprop(fdt, off, "msi-parent", NULL) == NULL);
}

/* Returns the PLIC's phandle. */
static uint32_t check_plic(const void *fdt)
{
	int off = fdt_path_offset(fdt, "/soc/interrupt-controller@c000000");

	if (!CHECK(off >= 0))
		return 0;
	CHECK_EQ(getcell(fdt, off, "#interrupt-cells"), 1);
	CHECK_EQ(getcell(fdt, off, "#address-cells"), 0);
	return fdt_get_phandle(fdt, off);
}

static void check_variant(const void *fdt, const struct board *p)
{
	uint32_t wired, imsic = 0;
	bool aia = board_find(p, BOARD_APLIC) != NULL;

	if (aia) {
		imsic = check_imsic(fdt, p->nr_cpus);
		check_phandle(fdt, imsic, "riscv,imsics");
		wired = check_aplic(fdt, imsic);
		check_phandle(fdt, wired, "riscv,aplic");
		CHECK(fdt_path_offset(fdt,
				      "/soc/interrupt-controller@c000000") < 0);
	} else {
		wired = check_plic(fdt);
		check_phandle(fdt, wired, "riscv,plic0");
		CHECK(fdt_path_offset(fdt,
				      "/soc/interrupt-controller@d000000") < 0);
		CHECK(fdt_path_offset(
			      fdt, "/soc/interrupt-controller@28000000") < 0);
	}
	check_wired_dev(fdt, "/soc/serial@10000000", wired, IRQ_UART, aia);
	check_wired_dev(fdt, "/soc/virtio_mmio@10001000", wired,
			IRQ_VIRTIO_BASE, aia);
	if (board_find(p, BOARD_PCI_ECAM))
		check_pci(fdt, wired, imsic, aia, p->ram_size);
	else
		CHECK(fdt_path_offset(fdt, "/soc/pci@30000000") < 0);
}

static void build_variant(unsigned int nr_cpus, bool aia, bool pci)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	void *buf = malloc(FDT_BUF);
	int size;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	sample_board(s, c, nr_cpus, aia, pci);
	size = fdt_build(buf, FDT_BUF, p);
	if (!CHECK(size > 0 && size <= FDT_BUF) ||
	    !CHECK_EQ(fdt_check_header(buf), 0))
		goto out;
	check_cpus(buf, nr_cpus);
	check_variant(buf, p);
	check_dtc(buf, size);
out:
	free(buf);
	free(s);
	free(c);
}

static void test_plic_variant(void)
{
	build_variant(2, false, false);
}

static void test_aia(void)
{
	build_variant(1, true, false);
	build_variant(3, true, false);
}

static void test_pci_plic(void)
{
	build_variant(2, false, true);
}

static void test_pci_aia(void)
{
	build_variant(1, true, true);
	build_variant(4, true, true);
}

/* The largest tree: 512 harts, AIA and PCI, still fits and stays clean. */
static void test_aia_pci_many_cpus(void)
{
	struct kvm_caps *c = malloc(sizeof(*c));
	struct sample *s = malloc(sizeof(*s));
	struct board *p = s ? &s->b : NULL;
	size_t len = 1 << 20;
	void *buf = malloc(len);
	int size;

	if (!CHECK(c && s && buf))
		goto out;
	sample_caps(c);
	sample_board(s, c, VM_MAX_CPUS, true, true);
	size = fdt_build(buf, len, p);
	if (!CHECK(size > 0))
		goto out;
	check_variant(buf, p);
	check_dtc(buf, size);
out:
	free(buf);
	free(s);
	free(c);
}

UNIT_SUITE(fdt, UNIT_TEST(test_one_cpu), UNIT_TEST(test_two_cpus),
	   UNIT_TEST(test_four_cpus), UNIT_TEST(test_no_initrd_no_mmu),
	   UNIT_TEST(test_too_small), UNIT_TEST(test_isa_disabled),
	   UNIT_TEST(test_plic_variant), UNIT_TEST(test_aia),
	   UNIT_TEST(test_pci_plic), UNIT_TEST(test_pci_aia),
	   UNIT_TEST(test_aia_pci_many_cpus));
