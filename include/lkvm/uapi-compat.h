/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one place that fills gaps in older installed Linux uapi headers: lkvm
 * builds against Debian 12's stock linux-libc-dev (6.1) as well as 6.12
 * (`make unit-uapi61` checks the former). Each definition is guarded, so
 * newer headers win, and carries the value the hardware or kernel ABI fixes.
 * Include it instead of the uapi header it patches.
 */
#ifndef LKVM_UAPI_COMPAT_H
#define LKVM_UAPI_COMPAT_H

#include <linux/serial_reg.h>

/* 16550A IIR bits: 6.1's serial_reg.h has neither. */
#ifndef UART_IIR_RX_TIMEOUT
#define UART_IIR_RX_TIMEOUT 0x0c /* character timeout, RX FIFO not empty */
#endif
#ifndef UART_IIR_FIFO_ENABLED
#define UART_IIR_FIFO_ENABLED 0xc0 /* bits 7:6 set: FIFOs on (16550A) */
#endif

/* KVM (linux/kvm.h): Linux 6.16 added the RISC-V vCPU reset through
 * KVM_SET_MP_STATE(KVM_MP_STATE_INIT_RECEIVED) once this capability is
 * enabled on the VM; lkvm builds against 6.12's headers. */
#ifndef KVM_CAP_RISCV_MP_STATE_RESET
#define KVM_CAP_RISCV_MP_STATE_RESET 242
#endif

#endif
