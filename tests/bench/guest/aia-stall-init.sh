#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /init of the L2 initramfs of tests/bench/aia-stall.sh: interrupts on every
# hart, then power off. For each CPU c in turn, the virtio interrupts (MSIs
# or APLIC lines) are steered to CPU c+1 while a reader pinned to CPU c does
# 4 KiB O_DIRECT reads for 3 s (each completion is an interrupt on c+1 and a
# wake-up IPI to c) and reads the hwrng. Markers say how far it got.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
n=$(nproc)
echo "@@ L2 init: stall nproc=$n"
irqs=$(awk '/virtio/ { sub(":", "", $1); print $1 }' /proc/interrupts)
c=0
while [ $c -lt "$n" ]; do
	to=$(((c + 1) % n))
	for i in $irqs; do
		echo $to >/proc/irq/$i/smp_affinity_list 2>/dev/null
	done
	taskset -c $c diskbench /dev/vda randread 1
	echo "hwrng: $(taskset -c $c head -c 16 /dev/hwrng | wc -c)"
	echo "@@ L2 cpu $c done (irqs on cpu $to)"
	c=$((c + 1))
done
cat /proc/interrupts
echo "@@ L2 done"
poweroff -f
