/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The I/O thread's work loop: queue notifications arrive on one eventfd
 * per queue (signalled by KVM's ioeventfds, or by virtio_notify() through
 * the device's kick hook), and the queues that have work are served in
 * turns of at most VIRTIO_NOTIFY_BUDGET chains each, round-robin, so that
 * a guest flooding one queue slows only that queue. A stop request is seen
 * between any two turns.
 */
#ifndef LKVM_VIRTIO_WORKER_H
#define LKVM_VIRTIO_WORKER_H

#include <stdbool.h>

#include "lkvm/virtio.h"

#define VIRTIO_WORKER_MAX_DEVS 64

struct virtio_worker;

/* A worker without queues. Returns 0 or -errno. */
int virtio_worker_create(struct virtio_worker **out);
/* Free w and close its eventfds; its thread must have returned. NULL is
 * ignored. */
void virtio_worker_destroy(struct virtio_worker *w);

/*
 * Serve every queue of d from w (before the guest runs): one eventfd per
 * queue, and d's kick hook set to signal it. Returns the index of d's
 * first queue among w's (queue q is at index + q), or -errno.
 */
int virtio_worker_add(struct virtio_worker *w, struct virtio_dev *d);
/* The eventfd of queue index i (for KVM_IOEVENTFD), -1 beyond. */
int virtio_worker_fd(const struct virtio_worker *w, unsigned int i);
/*
 * Queue index i's eventfd belongs to someone else from now on (vhost polls
 * it; a vhost-user back end reads it, and an empty read kills passt): the
 * worker neither polls nor reads it again. Before the worker's thread
 * starts. 0, or -EINVAL beyond the queues.
 */
int virtio_worker_detach(struct virtio_worker *w, unsigned int i);

/*
 * One round: wait up to timeout_ms (-1: no limit; 0 when some queue
 * still has work) for notifications or the stop, then give each queue
 * with work one turn. Returns false once stopped. The worker's thread
 * only.
 */
bool virtio_worker_round(struct virtio_worker *w, int timeout_ms);
/* Thread body: rounds until virtio_worker_stop(). arg is the worker. */
void *virtio_worker_thread(void *arg);
/* Make the thread return after its current turn. Any thread. */
void virtio_worker_stop(struct virtio_worker *w);

#endif
