/* SPDX-License-Identifier: GPL-2.0-only */
/* The virtio device models. Each returns a struct virtio_dev that a
 * transport serves. */
#ifndef LKVM_VIRTIO_DEVS_H
#define LKVM_VIRTIO_DEVS_H

#include <stdbool.h>
#include <stdint.h>

#include "lkvm/virtio.h"

struct disk;

/*
 * virtio-rng (device 4): one queue, filled from getrandom(). Returns 0
 * with the device in *out, or -ENOMEM.
 */
int virtio_rng_create(const struct gmem *mem, struct irq_line irq,
		      struct virtio_dev **out);
void virtio_rng_destroy(struct virtio_dev *d);

/*
 * virtio-blk (device 2): one request queue of 256 entries over disk
 * (lkvm/disk.h, any backend), which the caller keeps open until
 * virtio_blk_destroy(). Requests are checked here (header, direction,
 * sector range, segment counts) and submitted to the disk; each completes
 * from the disk's done callback, on whatever thread the backend calls it
 * (perhaps inside the notify). Offers SEG_MAX, SIZE_MAX, BLK_SIZE
 * (disk_block_size()), FLUSH, and RO for a read-only disk, or DISCARD and
 * WRITE_ZEROES where the disk has them; GET_ID returns disk_serial(). A
 * driver that does not negotiate FLUSH gets write-through
 * (DISK_REQ_DSYNC) writes. A request the disk refuses or fails completes
 * with IOERR. Returns 0 with the device in *out, or -errno (-ENOMEM).
 */
int virtio_blk_create(const struct gmem *mem, struct irq_line irq,
		      struct disk *disk, struct virtio_dev **out);
/* Wait for the requests d has submitted to complete, then free d (not the
 * disk). No notify may run concurrently. NULL is ignored. */
void virtio_blk_destroy(struct virtio_dev *d);

/*
 * Requests completed without error, by kind, and what made them durable
 * (--stats): writes done with RWF_DSYNC (write-through, when the driver
 * did not negotiate FLUSH) and fdatasync calls.
 */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes;
	uint64_t dsync_writes, syncs; /* disk_get_stats() */
};
void virtio_blk_get_stats(struct virtio_dev *d, struct virtio_blk_stats *st);

struct console;

/*
 * virtio-console (device 3), one port, no MULTIPORT or SIZE: queue 0 is
 * receiveq (host to guest), queue 1 transmitq (guest to host); cols and
 * rows read 0, max_nr_ports 1. Transmitted bytes (the device-readable
 * buffers of each chain, in order) go to con through console_write();
 * writable buffers on transmitq are ignored and every chain is returned
 * with length 0. Input is pulled from con with console_read() whenever the
 * guest has receive buffers posted and the device is live: on a receiveq
 * notify and on virtio_console_input(). A receive chain is popped only
 * once input is in hand (the device stages up to 256 bytes read ahead of
 * popping, kept across resets), so posted buffers stay on the ring while
 * there is no input and no empty completion is ever pushed for them. A
 * malformed chain sets DEVICE_NEEDS_RESET. con must outlive the device and
 * have no other reader of its input. Returns 0 with the device in *out, or
 * -errno.
 */
int virtio_console_create(const struct gmem *mem, struct irq_line irq,
			  struct console *con, struct virtio_dev **out);
/*
 * Host input is waiting in con: fill posted receive buffers now (one
 * bounded turn; more is left to virtio_notify()). Called by the machine's
 * input thread after console_input().
 */
void virtio_console_input(struct virtio_dev *d);
/* Free d (not the console). No notify or input call may run concurrently.
 * NULL is ignored. */
void virtio_console_destroy(struct virtio_dev *d);

struct net_backend;

/*
 * virtio-net (device 1): receiveq 0, transmitq 1, controlq 2, 256 entries
 * each, over be (lkvm/net.h), which the caller keeps open until
 * virtio_net_destroy(). Offers MAC (mac), STATUS, MRG_RXBUF, CTRL_VQ,
 * CTRL_RX, CTRL_MAC_ADDR, GUEST_ANNOUNCE and, when be carries the
 * virtio-net header, CSUM, GUEST_CSUM, HOST/GUEST_TSO4/TSO6/ECN (the
 * guest's accepted offloads are passed to be before frames are received).
 * A transmit chain's header is copied once and checked against the
 * negotiated features; a frame that breaks them, or is shorter than the
 * header or longer than NET_FRAME_MAX, is dropped and counted. A received
 * frame waits, without being dropped, until the receive ring holds room
 * for it (one chain, or with MRG_RXBUF several, handed back together with
 * num_buffers set). Control commands answer VIRTIO_NET_OK or ERR per the
 * spec; a control chain without a writable byte breaks the queue. Queue
 * notifications only wake the NIC's thread (virtio_net_start()); without
 * one, virtio_net_poll() does the work. pairs (1..NET_MAX_PAIRS) queue
 * pairs are offered (VIRTIO_NET_F_MQ when more than one: receiveq 2p and
 * transmitq 2p + 1, the control queue last); more than one needs vhost
 * (virtio_net_set_vhost() with as many), lkvm's own data path serves one.
 * Returns 0 or -errno (-EINVAL for pairs out of range).
 */
int virtio_net_create(const struct gmem *mem, struct irq_line irq,
		      struct net_backend *be, const uint8_t mac[6],
		      unsigned int pairs, struct virtio_dev **out);
/*
 * Start the NIC's thread, named name: it serves the three queues and the
 * backend's input until virtio_net_stop(). 0 or -errno.
 */
int virtio_net_start(struct virtio_dev *d, const char *name);
struct net_vhost;
/*
 * vhost=1, before virtio_net_start(): from DRIVER_OK until a reset the
 * kernel serves the receive and transmit queues, pair p through vh[p]
 * (the tap's queue p; the tap's offloads follow the negotiated features);
 * queue q's doorbell signals kick_fd[q] (the I/O thread's eventfds, which
 * KVM signals). Only pair 0 carries frames until the driver sets more
 * with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, which attaches that many of the
 * tap's queues. The NIC's thread relays vhost's call eventfds as queue
 * interrupts, unless irqfds are given (virtio_net_set_irqfds()). The
 * control queue stays lkvm's. -EINVAL for a backend without the header,
 * or pairs other than the device's.
 */
int virtio_net_set_vhost(struct virtio_dev *d, struct net_vhost *const vh[],
			 const int kick_fd[], unsigned int pairs);
/*
 * vhost=1 with an in-kernel irqchip, before virtio_net_start():
 * irqfd_of(opaque, q) names the eventfd KVM turns into queue q's interrupt
 * as the guest set it up now (an MSI-X vector's irqfd, or the wired line's
 * under virtio-mmio), or -1 when there is none (the vector masked or
 * unset, MSI-X off): vhost then signals its own call eventfd, which the
 * NIC's thread relays. It must only read (atomics): it runs under the
 * register lock and the MSI-X table lock.
 */
void virtio_net_set_irqfds(struct virtio_dev *d,
			   int (*irqfd_of)(void *opaque, unsigned int q),
			   void *opaque);
/*
 * What irqfd_of() returns may have changed (a vector's route, mask or
 * enable, a queue's vector): vhost's rings follow before this returns.
 * Any thread; innermost (takes only the NIC's call lock).
 */
void virtio_net_irqfds_changed(struct virtio_dev *d);
/* Stop and join the thread (if started). Any thread but it. */
void virtio_net_stop(struct virtio_dev *d);
/*
 * One turn of the NIC's work without its thread (tests, fuzzing): the
 * control queue, up to 64 transmit chains, up to 64 received frames.
 * True when more work is waiting.
 */
bool virtio_net_poll(struct virtio_dev *d);
/* Link up or down (config change interrupt; up announces when the driver
 * negotiated GUEST_ANNOUNCE). Any thread. */
void virtio_net_set_link(struct virtio_dev *d, bool up);
/* Stop the thread and free d (not the backend). NULL is ignored. */
void virtio_net_destroy(struct virtio_dev *d);

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_dropped; /* lost frames: backend errors, no room */
	uint64_t rx_waits; /* times a frame waited for receive buffers */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_dropped; /* bad chains or headers, link down */
	uint64_t tx_errors; /* the backend failed to send */
	uint64_t ctrl_ok, ctrl_err; /* control commands answered */
	uint64_t irq_relayed; /* vhost's interrupts lkvm read and injected */
	unsigned int irq_direct; /* vhost rings on an irqfd now */
	unsigned int irq_rings; /* vhost's rings (2 per pair) */
	unsigned int pairs, pairs_on; /* offered, and set by the driver */
};
void virtio_net_get_stats(struct virtio_dev *d, struct virtio_net_stats *s);
struct p9_server;

/* The longest virtio-9p mount tag (Linux reads tag_len bytes). */
#define P9_TAG_MAX 64

/*
 * virtio-9p (device 9): one request queue of 128 entries served by srv
 * (lkvm/9p.h) on a thread of the device's own ("9p", seccomp kind
 * SECCOMP_THREAD_FS), which a notify wakes; the configuration is the mount
 * tag (VIRTIO_9P_MOUNT_TAG). A chain that cannot carry a request and its
 * reply's header sets DEVICE_NEEDS_RESET; a device reset forgets every
 * fid. srv must outlive the device. Returns 0 with the device in *out,
 * -EINVAL for an empty tag or one over P9_TAG_MAX bytes, or -errno.
 */
int virtio_9p_create(const struct gmem *mem, struct irq_line irq,
		     struct p9_server *srv, const char *tag,
		     struct virtio_dev **out);
/* Stop the device's thread (after its current request) and free d, not
 * the server. NULL is ignored. */
void virtio_9p_destroy(struct virtio_dev *d);
/* The device thread's counters (--stats): wakeups, the time from a notify
 * to the thread's wakeup (sum and worst), chains served and the time spent
 * serving them (the server's file system calls included). */
struct virtio_9p_stats {
	/* wakeups of its thread; those lkvm's notify caused (not KVM's
	 * ioeventfd), with how long they took from the notify */
	uint64_t wakeups, timed_wakeups, wake_ns, wake_max_ns;
	uint64_t chains, serve_ns;
};
void virtio_9p_get_stats(struct virtio_dev *d, struct virtio_9p_stats *st);

#endif
