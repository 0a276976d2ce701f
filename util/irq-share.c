// SPDX-License-Identifier: GPL-2.0-only
/* A wired-OR interrupt line shared by several devices. */
#include "lkvm/irq-share.h"

void irq_share_init(struct irq_share *s, struct irq_line out)
{
	pthread_mutex_init(&s->lock, NULL);
	s->out = out;
	s->count = 0;
}

void irq_share_destroy(struct irq_share *s)
{
	pthread_mutex_destroy(&s->lock);
}

static void irq_share_set(void *ctrl, unsigned int irq, int level)
{
	struct irq_share *s = ctrl;

	(void)irq;
	pthread_mutex_lock(&s->lock);
	if (level) {
		if (!s->count++)
			irq_line_set(&s->out, 1);
	} else if (s->count) { /* a stray lowering changes nothing */
		if (!--s->count)
			irq_line_set(&s->out, 0);
	}
	pthread_mutex_unlock(&s->lock);
}

struct irq_line irq_share_line(struct irq_share *s)
{
	return (struct irq_line){ irq_share_set, s, 0 };
}
