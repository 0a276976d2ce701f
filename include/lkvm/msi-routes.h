/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM's GSI routing table for the in-kernel irqchip: wired sources keep
 * GSI = source number (as KVM's default table has them), and each MSI
 * vector a device owns gets a GSI whose route follows what the guest wrote
 * in the vector's MSI-X entry. Building the table is kept apart from the
 * KVM_SET_GSI_ROUTING call so that it can be tested on any host.
 */
#ifndef LKVM_MSI_ROUTES_H
#define LKVM_MSI_ROUTES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#define MSI_ROUTES_MAX 4096 /* KVM's limit on routing entries */

struct msi_routes {
	unsigned int nr_wired; /* GSIs 0..nr_wired-1: irqchip pins */
	unsigned int first_gsi; /* of the MSI routes */
	struct msi_route {
		uint64_t addr;
		uint32_t data;
		bool live;
	} * r;
	unsigned int nr;
	pthread_mutex_t lock; /* for the owner: held while it sets a table */
};

/* Wired pins 0..nr_wired-1; MSI GSIs from first_gsi (>= nr_wired). */
int msi_routes_init(struct msi_routes *t, unsigned int nr_wired,
		    unsigned int first_gsi);
void msi_routes_destroy(struct msi_routes *t);

/* Reserve n MSI GSIs (not live). Returns the first, or -ENOSPC. */
int msi_routes_alloc(struct msi_routes *t, unsigned int n);

/*
 * Point gsi at the message (addr, data), or take it out of the table (live
 * false). Returns 1 when the table changed, 0 when not, -EINVAL for a GSI
 * that was not allocated.
 */
int msi_routes_set(struct msi_routes *t, unsigned int gsi, uint64_t addr,
		   uint32_t data, bool live);

/*
 * The table to give KVM_SET_GSI_ROUTING: the wired pins, then every live
 * MSI route. malloc()ed (free() it), NULL when out of memory.
 */
struct kvm_irq_routing *msi_routes_build(const struct msi_routes *t);

#endif
