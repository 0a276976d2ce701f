// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the /proc/cpuinfo H-extension parser and the ISA string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/kvm-caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), isa[64];
	struct kvm_caps caps;
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = cpuinfo_has_h(text);
	if (r < -1 || r > 1)
		abort();

	/* The same bytes as an ISA bitmap and extension names. */
	memset(&caps, 0, sizeof(caps));
	if (size >= 8)
		memcpy(&caps.isa, data, 8);
	caps.xlen = 64;
	caps.isa_ext[0] = (struct caps_ext){ text, true };
	caps.nr_isa_ext = 1;
	r = caps_isa_string(&caps, isa, sizeof(isa));
	if (r >= (int)sizeof(isa) || (r >= 0 && (size_t)r != strlen(isa)))
		abort();
	free(text);
	return 0;
}
