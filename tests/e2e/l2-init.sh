#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the L2 guest (initramfs and disk image). Prints a marker the
# e2e cases wait for, then does what l2= on the kernel command line says:
# poweroff (default), reboot, shell, cpuinfo (print /proc/cpuinfo, then
# power off), panic (crash through sysrq: pvpanic tells lkvm) or reboots
# (booted from the disk: count boots in /boots, reboot until the count
# passes l2_reboots, default 3, then power off).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "@@ L2 init: $(cat /etc/l2-kind) nproc=$(nproc) isa=$(sed -n 's/^isa[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
case "${l2:-poweroff}" in
reboot) reboot -f ;;
shell) exec sh ;;
cpuinfo)
	sed 's/^/@@ cpuinfo: /' /proc/cpuinfo
	poweroff -f
	;;
reboots)
	n=$(($(cat /boots 2>/dev/null || echo 0) + 1))
	echo $n >/boots
	sync
	echo "@@ L2 boot $n"
	[ $n -gt "${l2_reboots:-3}" ] || reboot -f
	poweroff -f
	;;
panic)
	echo "@@ L2 panicking"
	echo c >/proc/sysrq-trigger
	;;
*) poweroff -f ;;
esac
