// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: a vhost-user back end's replies (passt is another process,
 * less trusted than lkvm). The input is everything the back end says, in
 * order; lkvm opens the session, starts both rings, stops and closes. A
 * crash, a hang, a leak or an error that is not one line is a failure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lkvm/guest-mem.h"
#include "lkvm/net.h"

#define RAM_SIZE 0x10000
/* more than any session's replies; the socket buffer holds it */
#define MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gmem ram;

static bool ram_init(void)
{
	static bool done;
	void *host;
	int fd;

	if (done)
		return true;
	fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, RAM_SIZE))
		return false;
	host = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (host == MAP_FAILED)
		return false;
	done = !gmem_add_shared(&ram, 0x80000000ULL, RAM_SIZE, host, fd, 0);
	return done;
}

static void check_err(int ret, const char *err)
{
	if (ret > 0 || (ret < 0 && (!*err || strchr(err, '\n'))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_vhost *vh = NULL;
	struct net_vhost_ring r[2];
	int sv[2], kick[2], ret, i;
	char err[256] = "";

	if (size > MAX_INPUT || !ram_init())
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	/* every reply is waiting, then end of file: lkvm never blocks */
	if (size && send(sv[1], data, size, 0) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	ret = net_vhost_user_open(&ram, sv[0], &vh, err, sizeof(err));
	check_err(ret, err);
	if (!ret) {
		kick[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		kick[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		for (i = 0; i < 2; i++)
			r[i] = (struct net_vhost_ring){
				ram.r[0].host + 0x3000 * i,
				ram.r[0].host + 0x3000 * i + 0x1000,
				ram.r[0].host + 0x3000 * i + 0x2000,
				256,
				0,
				kick[i],
				-1
			};
		ret = net_vhost_start(vh, net_vhost_features(vh), r);
		if (ret > 0)
			abort();
		net_vhost_set_call(vh, 1, kick[0]);
		net_vhost_stop(vh);
		net_vhost_close(vh);
		close(kick[0]);
		close(kick[1]);
	} else if (vh) {
		abort();
	}
	close(sv[0]);
	close(sv[1]);
	return 0;
}
