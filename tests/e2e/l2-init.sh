#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the L2 guest (initramfs and disk image). Prints a marker the
# e2e cases wait for, then does what l2= on the kernel command line says:
# poweroff (default), reboot, or shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "@@ L2 init: $(cat /etc/l2-kind) nproc=$(nproc) isa=$(sed -n 's/^isa[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
case "${l2:-poweroff}" in
reboot) reboot -f ;;
shell) exec sh ;;
*) poweroff -f ;;
esac
