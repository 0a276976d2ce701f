/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Booting a RISC-V guest: the Linux Image header, and the plan that places
 * the kernel, initrd and FDT in guest RAM without overlaps.
 */
#ifndef LKVM_BOOT_H
#define LKVM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RISCV_IMAGE_HEADER_SIZE 64
#define RISCV_IMAGE_MAGIC "RISCV\0\0\0" /* deprecated, at 0x30 */
#define RISCV_IMAGE_MAGIC2 "RSC\x05" /* at 0x38, version >= 0.2 */
/* The kernel's load address must be aligned to a PMD on rv64. */
#define RISCV_KERNEL_ALIGN 0x200000ULL
/* Where a file without an Image header (a flat binary) is loaded. */
#define RISCV_FLAT_OFFSET 0x200000ULL

struct kernel_info {
	bool is_image; /* has a Linux Image header */
	uint64_t load_off; /* offset from the start of RAM */
	uint64_t file_size; /* bytes to copy */
	uint64_t mem_size; /* bytes it occupies once running (BSS too) */
	uint32_t version; /* header version, major << 16 | minor */
};

/*
 * Inspect the first len bytes of a kernel file of file_size bytes. A file
 * with the Image magic must have a sane header: little-endian, text_offset
 * keeping the load address 2 MiB aligned, image_size not below file_size.
 * Anything else is a flat binary loaded at RAM + 2 MiB. Returns 0, or
 * -EINVAL with a reason in err (for a broken Image header).
 */
int kernel_inspect(const uint8_t *head, size_t len, uint64_t file_size,
		   struct kernel_info *ki, char *err, size_t errlen);

struct boot_plan {
	uint64_t kernel_addr, kernel_end; /* end includes BSS */
	uint64_t initrd_addr, initrd_size;
	uint64_t fdt_addr, fdt_size;
};

/* Space reserved for the FDT at the top of RAM. */
#define BOOT_FDT_MAX 0x10000ULL

/*
 * Place kernel, initrd (initrd_size may be 0) and an FDT of at most
 * BOOT_FDT_MAX bytes in RAM [ram_base, ram_base + ram_size). The FDT goes
 * at the top, the initrd right below it, both page aligned; neither may
 * overlap the kernel's mem_size. Returns 0, or -ENOSPC with a message in err
 * saying what does not fit.
 */
int boot_plan(uint64_t ram_base, uint64_t ram_size,
	      const struct kernel_info *ki, uint64_t initrd_size,
	      struct boot_plan *plan, char *err, size_t errlen);

#endif
