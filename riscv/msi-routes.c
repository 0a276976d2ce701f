// SPDX-License-Identifier: GPL-2.0-only
/* GSI routing table construction for wired sources and MSI vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/msi-routes.h"

int msi_routes_init(struct msi_routes *t, unsigned int nr_wired,
		    unsigned int first_gsi)
{
	if (first_gsi < nr_wired || first_gsi >= MSI_ROUTES_MAX)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->nr_wired = nr_wired;
	t->first_gsi = first_gsi;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void msi_routes_destroy(struct msi_routes *t)
{
	free(t->r);
	t->r = NULL;
	pthread_mutex_destroy(&t->lock);
}

int msi_routes_alloc(struct msi_routes *t, unsigned int n)
{
	struct msi_route *r;
	unsigned int first = t->nr;

	/* wired entries and MSI entries share KVM's limit */
	if (!n || n > MSI_ROUTES_MAX - t->nr_wired - t->nr ||
	    n > MSI_ROUTES_MAX - t->first_gsi - t->nr)
		return -ENOSPC;
	r = realloc(t->r, (t->nr + n) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(&r[first], 0, n * sizeof(*r));
	t->r = r;
	t->nr += n;
	return (int)(t->first_gsi + first);
}

int msi_routes_set(struct msi_routes *t, unsigned int gsi, uint64_t addr,
		   uint32_t data, bool live)
{
	struct msi_route *r;

	if (gsi < t->first_gsi || gsi - t->first_gsi >= t->nr)
		return -EINVAL;
	r = &t->r[gsi - t->first_gsi];
	if (!live && !r->live)
		return 0;
	if (live && r->live && r->addr == addr && r->data == data)
		return 0;
	*r = (struct msi_route){ .addr = addr, .data = data, .live = live };
	return 1;
}

struct kvm_irq_routing *msi_routes_build(const struct msi_routes *t)
{
	struct kvm_irq_routing *tab;
	struct kvm_irq_routing_entry *e;
	unsigned int i, n = 0;

	tab = calloc(1, sizeof(*tab) + (t->nr_wired + t->nr) *
					       sizeof(tab->entries[0]));
	if (!tab)
		return NULL;
	for (i = 0; i < t->nr_wired; i++) {
		e = &tab->entries[n++];
		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = 0;
		e->u.irqchip.pin = i;
	}
	for (i = 0; i < t->nr; i++) {
		if (!t->r[i].live)
			continue;
		e = &tab->entries[n++];
		e->gsi = t->first_gsi + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)t->r[i].addr;
		e->u.msi.address_hi = (uint32_t)(t->r[i].addr >> 32);
		e->u.msi.data = t->r[i].data;
	}
	tab->nr = n;
	return tab;
}
