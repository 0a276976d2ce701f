// SPDX-License-Identifier: GPL-2.0-only
/* A fake network backend for the unit tests and fuzz targets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake-net.h"

static struct fake_net *to_fake(struct net_backend *be)
{
	return (struct fake_net *)be;
}

static int fake_send(struct net_backend *be, const struct iovec *iov,
		     unsigned int iovcnt)
{
	struct fake_net *f = to_fake(be);
	size_t len = 0, off = 0;
	unsigned int i;
	uint8_t *p;

	if (f->dead)
		return -EPIPE;
	if (f->send_err)
		return f->send_err;
	if (f->nr_tx >= FAKE_NET_FRAMES)
		return 0; /* dropped, as a cable would */
	for (i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	p = malloc(len ? len : 1);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < iovcnt; i++) {
		memcpy(p + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	f->tx[f->nr_tx].data = p;
	f->tx[f->nr_tx++].len = len;
	return 0;
}

static bool fake_writable(struct net_backend *be)
{
	return !to_fake(be)->full;
}

static ssize_t fake_recv(struct net_backend *be, void *buf, size_t len)
{
	struct fake_net *f = to_fake(be);
	struct fake_net_frame *fr;
	size_t n;

	if (f->dead)
		return -EPIPE;
	if (f->rx_head >= f->nr_rx)
		return -EAGAIN;
	fr = &f->rx[f->rx_head++];
	n = fr->len < len ? fr->len : len;
	memcpy(buf, fr->data, n);
	return (ssize_t)n;
}

static int fake_set_offload(struct net_backend *be, uint64_t features)
{
	struct fake_net *f = to_fake(be);

	f->offload = features;
	f->offload_calls++;
	return 0;
}

static void fake_close(struct net_backend *be)
{
	struct fake_net *f = to_fake(be);
	unsigned int i;

	for (i = 0; i < f->nr_tx; i++)
		free(f->tx[i].data);
	for (i = 0; i < f->nr_rx; i++)
		free(f->rx[i].data);
	free(f);
}

static const struct net_backend_ops fake_ops_hdr = {
	.name = "fake",
	.send = fake_send,
	.writable = fake_writable,
	.recv = fake_recv,
	.set_offload = fake_set_offload,
	.close = fake_close,
};

static const struct net_backend_ops fake_ops_raw = {
	.name = "fake-raw",
	.send = fake_send,
	.writable = fake_writable,
	.recv = fake_recv,
	.close = fake_close,
};

struct fake_net *fake_net_new(bool vnet_hdr)
{
	struct fake_net *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->be.ops = vnet_hdr ? &fake_ops_hdr : &fake_ops_raw;
	f->be.fd = -1;
	f->be.vnet_hdr = vnet_hdr;
	strcpy(f->be.desc, "fake");
	return f;
}

void fake_net_inject(struct fake_net *f, const void *data, size_t len)
{
	uint8_t *p;

	if (f->nr_rx >= FAKE_NET_FRAMES)
		return;
	p = malloc(len ? len : 1);
	if (!p)
		return;
	memcpy(p, data, len);
	f->rx[f->nr_rx].data = p;
	f->rx[f->nr_rx++].len = len;
}
