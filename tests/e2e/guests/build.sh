#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the bare-metal test guests (flat binaries for lkvm -k) into DIR.
# Usage: build.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
cross=${CROSS:-riscv64-linux-gnu-}
mkdir -p "$out"
for src in "$here"/*.c; do
	name=$(basename "$src" .c)
	"${cross}gcc" -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib -static \
		-fno-pic -mcmodel=medany -march=rv64imac_zicsr -mabi=lp64 \
		-T "$here/guest.lds" -Wl,--build-id=none -Wl,--no-warn-rwx-segments -o "$out/$name.elf" "$src"
	"${cross}objcopy" -O binary "$out/$name.elf" "$out/$name.bin"
done
