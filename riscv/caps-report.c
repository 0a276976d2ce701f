// SPDX-License-Identifier: GPL-2.0-only
/* The ISA string and the `lkvm info` report built from struct kvm_caps. */
#include <stdlib.h>
#include <string.h>

#include "lkvm/compiler.h"
#include "lkvm/json.h"
#include "lkvm/kvm-caps.h"

/* Single-letter extensions in the order the ISA manual names them. */
static const char canonical_letters[] = "imafdqlcbkjtpvh";

/* z* first, then s*, then x*, each group in alphabetical order. */
static int ext_rank(const char *name)
{
	switch (name[0]) {
	case 'z':
		return 0;
	case 's':
		return 1;
	default:
		return 2;
	}
}

static int ext_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int d = ext_rank(x) - ext_rank(y);

	return d ? d : strcmp(x, y);
}

static int append(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (n >= len - *pos)
		return -1;
	memcpy(buf + *pos, s, n + 1);
	*pos += n;
	return 0;
}

static int isa_letters(const struct kvm_caps *caps, char *buf, size_t len,
		       size_t *pos)
{
	char one[2] = "";
	int i;

	for (i = 0; canonical_letters[i]; i++) {
		one[0] = canonical_letters[i];
		if ((caps->isa >> (one[0] - 'a')) & 1 &&
		    append(buf, len, pos, one))
			return -1;
	}
	for (i = 0; i < 26; i++) {
		one[0] = (char)('a' + i);
		if ((caps->isa >> i) & 1 &&
		    !strchr(canonical_letters, one[0]) &&
		    append(buf, len, pos, one))
			return -1;
	}
	return 0;
}

int caps_isa_string(const struct kvm_caps *caps, char *buf, size_t len)
{
	const char *names[CAPS_MAX_EXTS];
	unsigned int i, n = 0;
	char prefix[16];
	size_t pos = 0;

	if (!len)
		return -1;
	buf[0] = '\0';
	snprintf(prefix, sizeof(prefix), "rv%u", caps->xlen ? caps->xlen : 64);
	if (append(buf, len, &pos, prefix) || isa_letters(caps, buf, len, &pos))
		return -1;
	for (i = 0; i < caps->nr_isa_ext && i < CAPS_MAX_EXTS; i++)
		if (caps->isa_ext[i].enabled &&
		    caps_ext_known(caps->isa_ext[i].name))
			names[n++] = caps->isa_ext[i].name;
	qsort(names, n, sizeof(names[0]), ext_cmp);
	for (i = 0; i < n; i++)
		if (append(buf, len, &pos, "_") ||
		    append(buf, len, &pos, names[i]))
			return -1;
	return (int)pos;
}

bool caps_isa_ext_on(const struct kvm_caps *caps, const char *name)
{
	unsigned int i;

	for (i = 0; i < caps->nr_isa_ext && i < CAPS_MAX_EXTS; i++)
		if (caps->isa_ext[i].enabled &&
		    !strcmp(caps->isa_ext[i].name, name))
			return true;
	return false;
}

/* The H flag of one "isa" value; -1 when it is not an ISA string. */
static int isa_value_has_h(const char *v, size_t n)
{
	size_t i;

	if (n < 4 || (strncmp(v, "rv32", 4) && strncmp(v, "rv64", 4)))
		return -1;
	/* Single letters run up to the first multi-letter extension. */
	for (i = 4; i < n && !strchr("_zsx", v[i]); i++)
		if (v[i] == 'h')
			return 1;
	return 0;
}

int cpuinfo_has_h(const char *text)
{
	const char *line = text;
	int found = -1;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *colon = memchr(line, ':', n);

		/* "isa\t\t: rv64imafdch_zicsr..." (not "hart isa"). */
		if (colon && n > 3 && !strncmp(line, "isa", 3) &&
		    strspn(line + 3, " \t") == (size_t)(colon - line - 3)) {
			const char *v = colon + 1;
			int h;

			v += strspn(v, " \t");
			h = isa_value_has_h(v, n - (size_t)(v - line));
			if (h >= 0)
				found = (found < 0 ? 1 : found) && h;
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

static void report_exts(FILE *f, const char *title, const struct caps_ext *e,
			unsigned int n, bool enabled)
{
	unsigned int i, col = 22, shown = 0;

	fprintf(f, "%-21s", title);
	for (i = 0; i < n; i++) {
		size_t w = strlen(e[i].name) + 1;

		if (e[i].enabled != enabled)
			continue;
		if (col + w > 79) {
			fprintf(f, "\n%-21s", "");
			col = 22;
		}
		fprintf(f, " %s", e[i].name);
		col += w;
		shown++;
	}
	fprintf(f, "%s\n", shown ? "" : " none");
}

/* The extensions KVM lets `lkvm run --disable-NAME` turn off: the single
 * letters, then the multi-letter ones in KVM's order. */
static unsigned int can_disable_names(const struct kvm_caps *c,
				      const struct caps_ext *e, unsigned int n,
				      bool letters, const char **out,
				      char one[26][2])
{
	unsigned int i, k = 0;

	for (i = 0; letters && i < 26; i++) {
		if (!((c->isa_can_disable >> i) & 1))
			continue;
		one[k][0] = (char)('a' + i);
		one[k][1] = '\0';
		out[k] = one[k];
		k++;
	}
	for (i = 0; i < n && k < CAPS_MAX_EXTS + 26; i++)
		if (e[i].can_disable)
			out[k++] = e[i].name;
	return k;
}

static void report_can_disable(FILE *f, const char *title,
			       const struct kvm_caps *c,
			       const struct caps_ext *e, unsigned int n,
			       bool letters)
{
	const char *names[CAPS_MAX_EXTS + 26];
	char one[26][2];
	unsigned int i, k, col = 22;

	k = can_disable_names(c, e, n, letters, names, one);
	fprintf(f, "%-21s", title);
	for (i = 0; i < k; i++) {
		size_t w = strlen(names[i]) + 1;

		if (col + w > 79) {
			fprintf(f, "\n%-21s", "");
			col = 22;
		}
		fprintf(f, " %s", names[i]);
		col += w;
	}
	fprintf(f, "%s\n", k ? "" : " none");
}

static void json_can_disable(struct json *j, const char *key,
			     const struct kvm_caps *c, const struct caps_ext *e,
			     unsigned int n, bool letters)
{
	const char *names[CAPS_MAX_EXTS + 26];
	char one[26][2];
	unsigned int i, k;

	k = can_disable_names(c, e, n, letters, names, one);
	json_arr_begin(j, key);
	for (i = 0; i < k; i++)
		json_str(j, NULL, names[i]);
	json_arr_end(j);
}

/* The in-kernel AIA is usable when lkvm's set-up reached INIT. */
static bool aia_usable(const struct kvm_caps *c)
{
	return c->aia && c->aia_init;
}

static void report_irqchips(FILE *f, const struct kvm_caps *c)
{
	if (aia_usable(c))
		fprintf(f,
			"%-21s aia (in-kernel APLIC+IMSIC, mode %s%s, %u IDs)\n",
			"In-kernel irqchip", c->aia_mode,
			c->aia_hwaccel ? ", hwaccel possible" : "", c->aia_ids);
	else if (c->aia)
		fprintf(f, "%-21s aia unusable (%s): lkvm emulates a PLIC\n",
			"In-kernel irqchip", c->aia_err);
	else if (c->aia_err[0])
		fprintf(f, "%-21s none (%s): lkvm emulates a PLIC\n",
			"In-kernel irqchip", c->aia_err);
	else
		fprintf(f, "%-21s none (lkvm emulates a PLIC)\n",
			"In-kernel irqchip");
	if (aia_usable(c))
		fprintf(f,
			"%-21s plic (userspace), aia (in-kernel, mode %s, %u IDs)\n",
			"Irqchips", c->aia_mode, c->aia_ids);
	else
		fprintf(f, "%-21s plic (userspace)\n", "Irqchips");
	/* MSI-X needs an MSI controller: only the in-kernel IMSIC is one. */
	fprintf(f, "%-21s virtio-mmio, virtio-pci (%s)\n", "Transports",
		aia_usable(c) ? "MSI-X" : "INTx");
}

static void report_text(FILE *f, const struct kvm_caps *c)
{
	char isa[1024];

	fprintf(f, "%-21s %d\n", "KVM API version", c->api_version);
	fprintf(f, "%-21s max %u, recommended %u\n", "vCPUs", c->max_vcpus,
		c->nr_vcpus);
	if (caps_isa_string(c, isa, sizeof(isa)) < 0)
		snprintf(isa, sizeof(isa), "(too long)");
	fprintf(f, "%-21s %s\n", "ISA", isa);
	report_exts(f, "ISA extensions", c->isa_ext, c->nr_isa_ext, true);
	report_exts(f, "  available, off", c->isa_ext, c->nr_isa_ext, false);
	report_can_disable(f, "  can be turned off", c, c->isa_ext,
			   c->nr_isa_ext, true);
	if (c->nr_sbi_ext) {
		report_exts(f, "SBI extensions", c->sbi_ext, c->nr_sbi_ext,
			    true);
		report_exts(f, "  available, off", c->sbi_ext, c->nr_sbi_ext,
			    false);
		report_can_disable(f, "  can be turned off", c, c->sbi_ext,
				   c->nr_sbi_ext, false);
	} else {
		/* the SBI_EXT register class came with Linux 6.4 */
		fprintf(f, "%-21s fixed by this KVM (no SBI_EXT registers)\n",
			"SBI extensions");
	}
	fprintf(f, "%-21s %s\n", "MMU", c->mmu ? c->mmu : "not reported");
	fprintf(f, "%-21s %llu Hz\n", "Timebase frequency",
		(unsigned long long)c->timebase_hz);
	report_irqchips(f, c);
	if (c->reg_list)
		fprintf(f, "%-21s yes (%u registers)\n", "KVM_GET_REG_LIST",
			c->nr_regs);
	else
		fprintf(f, "%-21s no\n", "KVM_GET_REG_LIST");
	fprintf(f, "%-21s%s%s%s%s%s%s\n", "Features",
		c->one_reg ? " one_reg" : "", c->ioeventfd ? " ioeventfd" : "",
		c->irqfd ? " irqfd" : "", c->irq_routing ? " irq_routing" : "",
		c->user_memory ? " user_memory" : "",
		c->vcpu_reset ? " vcpu_reset" : "");
	fprintf(f, "%-21s %s\n", "Reboot",
		c->vcpu_reset
			? "KVM resets the vCPUs, the VM stays"
			: "the VM is built again (no vCPU reset before Linux 6.16)");
}

static void json_exts(struct json *j, const char *key, const struct caps_ext *e,
		      unsigned int n)
{
	unsigned int i;

	json_obj_begin(j, key);
	for (i = 0; i < n; i++)
		json_bool(j, e[i].name, e[i].enabled);
	json_obj_end(j);
}

static void json_irqchips(struct json *j, const struct kvm_caps *c)
{
	json_arr_begin(j, "irqchips");
	json_str(j, NULL, "plic");
	if (aia_usable(c))
		json_str(j, NULL, "aia");
	json_arr_end(j);
	json_obj_begin(j, "aia");
	json_bool(j, "available", c->aia);
	if (c->aia) {
		json_str(j, "default_mode", c->aia_mode);
		json_bool(j, "hwaccel", c->aia_hwaccel);
		json_u64(j, "ids", c->aia_ids);
		json_bool(j, "init", c->aia_init);
	}
	if (!aia_usable(c) && c->aia_err[0])
		json_str(j, "error", c->aia_err);
	json_obj_end(j);
	/* each transport and how its devices interrupt the guest */
	json_obj_begin(j, "transports");
	json_str(j, "virtio-mmio", "wired");
	json_str(j, "virtio-pci", aia_usable(c) ? "msix" : "intx");
	json_obj_end(j);
}

static void report_json(FILE *f, const struct kvm_caps *c)
{
	struct json j;
	char isa[1024];

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_u64(&j, "api_version", (uint64_t)c->api_version);
	json_u64(&j, "max_vcpus", c->max_vcpus);
	json_u64(&j, "recommended_vcpus", c->nr_vcpus);
	if (caps_isa_string(c, isa, sizeof(isa)) >= 0)
		json_str(&j, "isa", isa);
	else
		json_null(&j, "isa");
	json_exts(&j, "isa_extensions", c->isa_ext, c->nr_isa_ext);
	json_can_disable(&j, "isa_can_disable", c, c->isa_ext, c->nr_isa_ext,
			 true);
	json_exts(&j, "sbi_extensions", c->sbi_ext, c->nr_sbi_ext);
	json_can_disable(&j, "sbi_can_disable", c, c->sbi_ext, c->nr_sbi_ext,
			 false);
	if (c->mmu)
		json_str(&j, "mmu", c->mmu);
	else
		json_null(&j, "mmu");
	json_u64(&j, "timebase_frequency", c->timebase_hz);
	json_u64(&j, "mvendorid", c->mvendorid);
	json_u64(&j, "marchid", c->marchid);
	json_u64(&j, "mimpid", c->mimpid);
	json_irqchips(&j, c);
	json_bool(&j, "reg_list", c->reg_list);
	json_u64(&j, "nr_regs", c->nr_regs);
	json_obj_begin(&j, "features");
	json_bool(&j, "one_reg", c->one_reg);
	json_bool(&j, "ioeventfd", c->ioeventfd);
	json_bool(&j, "irqfd", c->irqfd);
	json_bool(&j, "irq_routing", c->irq_routing);
	json_bool(&j, "irqchip", c->irqchip);
	json_bool(&j, "vcpu_reset", c->vcpu_reset);
	json_obj_end(&j);
	json_obj_end(&j);
}

void caps_report(FILE *f, const struct kvm_caps *caps, bool json)
{
	if (json)
		report_json(f, caps);
	else
		report_text(f, caps);
}
