/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A wired-OR interrupt line shared by several devices (PCI INTA..INTD
 * across slots): asserted while any of them drives it. Devices report
 * transitions only (0 -> 1, 1 -> 0), so a count of drivers is the state;
 * the count and the line change together under one lock, so a lowering
 * and a raising by two devices at once always leave the line as the count
 * says.
 */
#ifndef LKVM_IRQ_SHARE_H
#define LKVM_IRQ_SHARE_H

#include <pthread.h>

#include "lkvm/device.h"

struct irq_share {
	pthread_mutex_t lock; /* count and the level sent to out */
	struct irq_line out;
	unsigned int count; /* devices asserting it */
};

void irq_share_init(struct irq_share *s, struct irq_line out);
void irq_share_destroy(struct irq_share *s);
/* An irq_line through which one device drives s. */
struct irq_line irq_share_line(struct irq_share *s);

#endif
