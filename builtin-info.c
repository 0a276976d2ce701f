// SPDX-License-Identifier: GPL-2.0-only
/* `lkvm info`: what this host's KVM offers a RISC-V guest. */
#include <stdbool.h>
#include <stdio.h>

#include "lkvm/builtin.h"
#include "lkvm/kvm-caps.h"
#include "lkvm/log.h"
#include "lkvm/options.h"

static const char info_usage[] = "lkvm info [--json] [--dev PATH]";

int cmd_info(int argc, const char **argv)
{
	const char *dev = "/dev/kvm";
	bool json = false;
	const struct option opts[] = {
		OPT_BOOLEAN('j', "json", &json,
			    "print one JSON object, for scripts"),
		OPT_STR(0, "dev", &dev, "PATH",
			"KVM device to open (default /dev/kvm)"),
		OPT_END(),
	};
	struct kvm_caps caps;
	char err[256];
	int ret;

	ret = options_parse(opts, &argc, argv, err, sizeof(err));
	if (ret == OPTIONS_HELP) {
		options_usage(stdout, info_usage, opts);
		return 0;
	}
	if (ret) {
		pr_err("info: %s", err);
		return 1;
	}
	if (argc) {
		pr_err("info: unexpected argument '%s'", argv[0]);
		return 1;
	}
	if (kvm_caps_probe(dev, &caps))
		return 1;
	caps_report(stdout, &caps, json);
	return 0;
}
