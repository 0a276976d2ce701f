// SPDX-License-Identifier: GPL-2.0-only
/* An in-memory disk backend for tests: inline or held completions. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-disk.h"
#include "lkvm/compiler.h"

struct fake_disk {
	struct disk disk;
	uint8_t *data;
	pthread_mutex_t lock; /* everything below */
	bool hold;
	struct disk_req *head; /* held, oldest first, linked by r->link */
	unsigned int nheld;
	unsigned int fail_mask, fail_count, refuse_count;
	int fail_err, refuse_err;
	struct fake_disk_counts counts;
};

static struct fake_disk *to_fake(const struct disk *d)
{
	return container_of(d, struct fake_disk, disk);
}

/* Copy between the disk and r's buffers (disk_submit checked them). */
static void fake_rw(struct fake_disk *f, const struct disk_req *r)
{
	uint64_t off = r->offset;
	int i;

	for (i = 0; i < r->iovcnt; i++) {
		if (r->op == DISK_OP_READ)
			memcpy(r->iov[i].iov_base, f->data + off,
			       r->iov[i].iov_len);
		else
			memcpy(f->data + off, r->iov[i].iov_base,
			       r->iov[i].iov_len);
		off += r->iov[i].iov_len;
	}
}

/* Do r's work and count it; lock held. Returns its status. */
static int fake_execute(struct fake_disk *f, const struct disk_req *r)
{
	struct fake_disk_counts *c = &f->counts;

	if (f->fail_count && (f->fail_mask & FAKE_DISK_OP(r->op))) {
		f->fail_count--;
		c->failed++;
		return f->fail_err;
	}
	switch (r->op) {
	case DISK_OP_READ:
		fake_rw(f, r);
		c->reads++;
		break;
	case DISK_OP_WRITE:
		fake_rw(f, r);
		c->writes++;
		break;
	case DISK_OP_FLUSH:
		c->flushes++;
		break;
	case DISK_OP_DISCARD:
		/* like a punched hole */
		memset(f->data + r->offset, 0, r->len);
		c->discards++;
		break;
	case DISK_OP_WRITE_ZEROES:
		memset(f->data + r->offset, 0, r->len);
		c->write_zeroes++;
		break;
	}
	if (r->flags & DISK_REQ_DSYNC)
		c->dsync++;
	if ((r->flags & DISK_REQ_DSYNC) && r->op == DISK_OP_WRITE)
		c->dsync_writes++;
	return 0;
}

static int fake_submit(struct disk *d, struct disk_req *r)
{
	struct fake_disk *f = to_fake(d);
	struct disk_req **p;
	int status;

	pthread_mutex_lock(&f->lock);
	if (f->refuse_count) {
		f->refuse_count--;
		f->counts.refused++;
		status = f->refuse_err;
		pthread_mutex_unlock(&f->lock);
		return status;
	}
	f->counts.submitted++;
	if (f->hold) {
		r->link = NULL;
		for (p = &f->head; *p; p = &(*p)->link)
			;
		*p = r;
		if (++f->nheld > f->counts.max_held)
			f->counts.max_held = f->nheld;
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	status = fake_execute(f, r);
	pthread_mutex_unlock(&f->lock);
	r->done(r, status);
	return 0;
}

bool fake_disk_complete(struct disk *d, unsigned int i)
{
	struct fake_disk *f = to_fake(d);
	struct disk_req **p, *r;
	int status;

	pthread_mutex_lock(&f->lock);
	for (p = &f->head; *p && i; p = &(*p)->link)
		i--;
	r = *p;
	if (!r) {
		pthread_mutex_unlock(&f->lock);
		return false;
	}
	*p = r->link;
	f->nheld--;
	status = fake_execute(f, r);
	pthread_mutex_unlock(&f->lock);
	r->done(r, status);
	return true;
}

unsigned int fake_disk_complete_all(struct disk *d)
{
	unsigned int n = 0, held;

	while ((held = fake_disk_held(d)) && fake_disk_complete(d, held - 1))
		n++;
	return n;
}

static int fake_flush(struct disk *d)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	f->counts.flushes++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* Memory is durable at once: a sync is a flush, nothing more. */
static void fake_get_stats(struct disk *d, struct disk_stats *st)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	st->reads = f->counts.reads;
	st->writes = f->counts.writes;
	st->flushes = f->counts.flushes;
	st->syncs = f->counts.flushes;
	st->dsync_writes = f->counts.dsync_writes;
	pthread_mutex_unlock(&f->lock);
}

/* Held requests are completed, as a real backend drains before closing. */
static void fake_close(struct disk *d)
{
	struct fake_disk *f = to_fake(d);

	fake_disk_complete_all(d);
	pthread_mutex_destroy(&f->lock);
	free(f->data);
	free(f);
}

static const struct disk_ops fake_ops = {
	.name = "fake",
	.submit = fake_submit,
	.flush = fake_flush,
	.get_stats = fake_get_stats,
	.close = fake_close,
};

int fake_disk_create(const struct fake_disk_opts *o, struct disk **out)
{
	uint32_t bs = o->block_size ? o->block_size : DISK_SECTOR_SIZE;
	struct fake_disk *f;

	if (!o->size || o->size % DISK_SECTOR_SIZE || o->size > SIZE_MAX ||
	    bs < DISK_SECTOR_SIZE || bs > 4096 || (bs & (bs - 1)))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->data = calloc(1, (size_t)o->size);
	if (!f->data) {
		free(f);
		return -ENOMEM;
	}
	pthread_mutex_init(&f->lock, NULL);
	f->disk.ops = &fake_ops;
	f->disk.info = (struct disk_info){
		.size = o->size,
		.block_size = bs,
		.ro = o->ro,
		.caps = o->caps,
	};
	snprintf(f->disk.info.serial, sizeof(f->disk.info.serial), "%s",
		 o->serial ? o->serial : "fake-disk");
	*out = &f->disk;
	return 0;
}

uint8_t *fake_disk_data(struct disk *d)
{
	return to_fake(d)->data;
}

void fake_disk_hold(struct disk *d, bool hold)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	f->hold = hold;
	pthread_mutex_unlock(&f->lock);
}

unsigned int fake_disk_held(struct disk *d)
{
	struct fake_disk *f = to_fake(d);
	unsigned int n;

	pthread_mutex_lock(&f->lock);
	n = f->nheld;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void fake_disk_fail(struct disk *d, unsigned int op_mask, int err,
		    unsigned int count)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	f->fail_mask = op_mask;
	f->fail_err = err;
	f->fail_count = count;
	pthread_mutex_unlock(&f->lock);
}

void fake_disk_refuse(struct disk *d, int err, unsigned int count)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	f->refuse_err = err;
	f->refuse_count = count;
	pthread_mutex_unlock(&f->lock);
}

void fake_disk_counts(struct disk *d, struct fake_disk_counts *c)
{
	struct fake_disk *f = to_fake(d);

	pthread_mutex_lock(&f->lock);
	*c = f->counts;
	pthread_mutex_unlock(&f->lock);
}
