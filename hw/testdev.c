// SPDX-License-Identifier: GPL-2.0-only
/* Test devices: the "sifive,test0" finisher and the pvpanic register. */
#include "lkvm/testdev.h"
#include "lkvm/vm.h"

bool finisher_decode(uint32_t value, int *status)
{
	uint32_t code = value >> 16;

	switch (value & 0xffff) {
	case FINISHER_PASS:
		*status = LKVM_EXIT_SHUTDOWN;
		return true;
	case FINISHER_RESET:
		*status = LKVM_EXIT_REBOOT;
		return true;
	case FINISHER_FAIL:
		if (!code)
			*status = LKVM_EXIT_SYSFAIL;
		else
			*status = code > 255 ? 255 : (int)code;
		return true;
	default:
		return false;
	}
}

void finisher_init(struct finisher *f, finisher_exit_fn exit, void *opaque)
{
	f->exit = exit;
	f->opaque = opaque;
}

static uint64_t finisher_read(void *dev, uint64_t offset, unsigned int size)
{
	(void)dev;
	(void)offset;
	(void)size;
	return 0;
}

static void finisher_write(void *dev, uint64_t offset, unsigned int size,
			   uint64_t value)
{
	struct finisher *f = dev;
	int status;

	if (offset || size != 4 || !finisher_decode((uint32_t)value, &status))
		return;
	if (f->exit)
		f->exit(f->opaque, (uint32_t)value, status);
}

const struct mmio_ops finisher_mmio_ops = {
	.read = finisher_read,
	.write = finisher_write,
};

void pvpanic_init(struct pvpanic *p, pvpanic_event_fn event, void *opaque)
{
	p->event = event;
	p->opaque = opaque;
}

static uint64_t pvpanic_read(void *dev, uint64_t offset, unsigned int size)
{
	(void)dev;
	return !offset && size == 1 ? PVPANIC_SUPPORTED : 0;
}

static void pvpanic_write(void *dev, uint64_t offset, unsigned int size,
			  uint64_t value)
{
	struct pvpanic *p = dev;
	unsigned int events = (unsigned int)value & PVPANIC_SUPPORTED;

	if (offset || size != 1 || !events)
		return;
	if (p->event)
		p->event(p->opaque, events);
}

const struct mmio_ops pvpanic_mmio_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};
