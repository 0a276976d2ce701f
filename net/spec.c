// SPDX-License-Identifier: GPL-2.0-only
/* -n: kvmtool's network option syntax, and the default MAC of a NIC. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/net.h"

/* kvmtool's defaults (its builtin-run.c) */
#define NET_DEFAULT_HOST_IP "192.168.33.1"
#define NET_DEFAULT_GUEST_IP "192.168.33.15"

static int parse_mac(const char *v, uint8_t mac[6])
{
	unsigned int b[6], i;
	char end;

	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 ||
	    strlen(v) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int parse_ip(const char *v, char *out, size_t len)
{
	struct in_addr a;

	if (strlen(v) >= len || inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	strcpy(out, v);
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*v || *v == '-' || *v == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno || *end || *out > max ? -EINVAL : 0;
}

/* hostfwd=tcp:HOSTPORT:GUESTPORT */
static int parse_hostfwd(const char *v, struct net_spec *s)
{
	unsigned long hp, gp;
	char hbuf[8], gbuf[8];
	const char *c;

	if (strncmp(v, "tcp:", 4) || s->nr_hostfwd >= NET_MAX_HOSTFWD)
		return -EINVAL;
	v += 4;
	c = strchr(v, ':');
	if (!c || (size_t)(c - v) >= sizeof(hbuf) ||
	    strlen(c + 1) >= sizeof(gbuf))
		return -EINVAL;
	memcpy(hbuf, v, (size_t)(c - v));
	hbuf[c - v] = 0;
	strcpy(gbuf, c + 1);
	if (parse_uint(hbuf, 65535, &hp) || parse_uint(gbuf, 65535, &gp) ||
	    !hp || !gp)
		return -EINVAL;
	s->hostfwd[s->nr_hostfwd].host_port = (uint16_t)hp;
	s->hostfwd[s->nr_hostfwd++].guest_port = (uint16_t)gp;
	return 0;
}

static int copy_str(const char *v, char *out, size_t len)
{
	if (strlen(v) >= len)
		return -EINVAL;
	strcpy(out, v);
	return 0;
}

/* One key=value; 0 or -EINVAL (bad value) or -ENOENT (unknown key). */
static int parse_kv(const char *k, const char *v, struct net_spec *s)
{
	unsigned long n;

	if (!strcmp(k, "mode")) {
		if (!strcmp(v, "tap"))
			s->mode = NET_MODE_TAP;
		else if (!strcmp(v, "user"))
			s->mode = NET_MODE_USER;
		else if (!strcmp(v, "none"))
			s->mode = NET_MODE_NONE;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "guest_ip"))
		return parse_ip(v, s->guest_ip, sizeof(s->guest_ip));
	if (!strcmp(k, "host_ip"))
		return parse_ip(v, s->host_ip, sizeof(s->host_ip));
	if (!strcmp(k, "guest_mac"))
		return parse_mac(v, s->guest_mac)
			       ?: (s->guest_mac_set = true, 0);
	if (!strcmp(k, "host_mac"))
		return parse_mac(v, s->host_mac) ?: (s->host_mac_set = true, 0);
	if (!strcmp(k, "script"))
		return copy_str(v, s->script, sizeof(s->script));
	if (!strcmp(k, "downscript"))
		return copy_str(v, s->downscript, sizeof(s->downscript));
	if (!strcmp(k, "tapif"))
		return *v ? copy_str(v, s->tapif, sizeof(s->tapif)) : -EINVAL;
	if (!strcmp(k, "vhost")) {
		if (parse_uint(v, 1, &n))
			return -EINVAL;
		s->vhost = n;
		s->vhost_set = true;
		return 0;
	}
	if (!strcmp(k, "fd")) {
		if (parse_uint(v, 65535, &n))
			return -EINVAL;
		s->tapfd = (int)n;
		return 0;
	}
	if (!strcmp(k, "trans")) {
		if (!strcmp(v, "pci"))
			s->trans = 0;
		else if (!strcmp(v, "mmio"))
			s->trans = 1;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "mq")) {
		if (parse_uint(v, 256, &n) || !n)
			return -EINVAL;
		s->mq = (unsigned int)n;
		return 0;
	}
	if (!strcmp(k, "hostfwd"))
		return parse_hostfwd(v, s);
	return -ENOENT;
}

static void spec_defaults(struct net_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->mode = NET_MODE_USER;
	s->tapfd = -1;
	s->trans = -1;
	s->mq = 1;
	strcpy(s->host_ip, NET_DEFAULT_HOST_IP);
	strcpy(s->guest_ip, NET_DEFAULT_GUEST_IP);
}

int net_parse_spec(const char *arg, struct net_spec *s, char *err,
		   size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	int ret;

	spec_defaults(s);
	if (!strcmp(arg, "none")) {
		s->mode = NET_MODE_NONE;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "argument longer than %zu bytes",
			 sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			snprintf(err, errlen, "'%.64s' is not key=value", tok);
			return -EINVAL;
		}
		*eq = 0;
		ret = parse_kv(tok, eq + 1, s);
		if (ret == -ENOENT) {
			snprintf(
				err, errlen,
				"unknown key '%.32s' (mode, tapif, script, downscript, host_ip, guest_ip, guest_mac, host_mac, vhost, fd, trans, mq, hostfwd)",
				tok);
			return -EINVAL;
		}
		if (ret) {
			snprintf(err, errlen, "bad value for %s: '%.64s'", tok,
				 eq + 1);
			return -EINVAL;
		}
	}
	if (s->nr_hostfwd && s->mode != NET_MODE_USER) {
		snprintf(err, errlen, "hostfwd needs mode=user");
		return -EINVAL;
	}
	if (s->tapfd >= 0 && s->mode != NET_MODE_TAP) {
		snprintf(err, errlen, "fd needs mode=tap");
		return -EINVAL;
	}
	if (s->vhost && s->mode == NET_MODE_NONE) {
		snprintf(err, errlen, "vhost=1 needs mode=tap or mode=user");
		return -EINVAL;
	}
	/* user mode: passt's vhost-user unless vhost=0 (net/passt.c) */
	if (s->mode == NET_MODE_USER && !s->vhost_set)
		s->vhost = true;
	return 0;
}

void net_default_mac(const char *name, unsigned int index, uint8_t mac[6])
{
	/* FNV-1a over the name and the index */
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *p;
	unsigned int i;

	for (p = name ? name : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	for (i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x4c; /* 'L' */
	for (i = 2; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 2)));
}
