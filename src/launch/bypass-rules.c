/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --net-bypass's rules: which destinations a connect may reach from the
 * host's network namespace (bypass.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "launch/bypass.h"
#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

static int parse_one(const char *s, struct rs_bypass_net *out)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t p;

	if (n == 0 || n >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, n);
	a[n] = '\0';
	*out = (struct rs_bypass_net){0};
	if (inet_pton(AF_INET, a, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, a, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	unsigned max = out->family == AF_INET ? 32 : 128;
	if (!slash)
		p = max;
	else if (rs_parse_u64(slash + 1, max, &p) < 0)
		return -EINVAL;
	out->prefix = (unsigned)p;
	/* a network address, as --cidr wants: "10.0.0.0/8", not "10.1.2.3/8" */
	for (unsigned bit = out->prefix; bit < max; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	return 0;
}

int rs_bypass_rules_add(struct rs_bypass_rules *r, const char *spec)
{
	_cleanup_free_ char *copy = rs_xstrdup(spec);
	struct rs_bypass_net one;
	size_t count = 1, n = r->n;
	char *save = NULL;

	for (const char *c = spec; *c; c++)
		count += *c == ',';
	if (!*spec || spec[strlen(spec) - 1] == ',' || strstr(spec, ",,") || *spec == ',')
		return -EINVAL;
	r->v = rs_xrealloc(r->v, (r->n + count) * sizeof(*r->v));
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (parse_one(t, &one) < 0) {
			r->n = n;
			return -EINVAL;
		}
		r->v[r->n++] = one;
	}
	return 0;
}

void rs_bypass_rules_free(struct rs_bypass_rules *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static bool in_net(const struct rs_bypass_net *net, const unsigned char *a)
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(net->addr, a, full) != 0)
		return false;
	return !rest || ((net->addr[full] ^ a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

bool rs_bypass_rules_match(const struct rs_bypass_rules *r, const struct rs_bypass_net *addr)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	int fam = addr->family;
	const unsigned char *a = addr->addr;

	/* ::ffff:127.0.0.1 is 127.0.0.1 to an IPv6 socket without V6ONLY */
	if (fam == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0)
		fam = AF_INET, a += 12;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].family == fam && in_net(&r->v[i], a))
			return true;
	return false;
}

int rs_bypass_sockaddr(const void *sa, size_t len, struct rs_bypass_net *out, uint16_t *port)
{
	sa_family_t fam;

	if (len < sizeof(fam))
		return -EAFNOSUPPORT;
	memcpy(&fam, sa, sizeof(fam));
	*out = (struct rs_bypass_net){.family = fam};
	if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof(in));
		memcpy(out->addr, &in.sin_addr, 4);
		out->prefix = 32;
		*port = ntohs(in.sin_port);
		return 0;
	}
	/* the kernel takes an IPv6 address without its scope id (24 bytes) */
	if (fam == AF_INET6 && len >= 24) {
		struct sockaddr_in6 in6 = {0};
		memcpy(&in6, sa, len < sizeof(in6) ? len : sizeof(in6));
		memcpy(out->addr, &in6.sin6_addr, 16);
		out->prefix = 128;
		*port = ntohs(in6.sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

void rs_bypass_never_defaults(struct rs_bypass_rules *never, const unsigned char net[4],
			      unsigned prefix)
{
	/* loopback, "this host", link-local, multicast, broadcast: each
	 * means something else (or nothing) outside the namespace */
	static const char *const fixed = "127.0.0.0/8,0.0.0.0/8,169.254.0.0/16,224.0.0.0/4,"
					 "255.255.255.255/32,::1/128,::/128,fe80::/10,ff00::/8";
	int r = rs_bypass_rules_add(never, fixed);
	(void)r; /* a constant that parses */
	never->v = rs_xrealloc(never->v, (never->n + 1) * sizeof(*never->v));
	struct rs_bypass_net *own = &never->v[never->n++];
	*own = (struct rs_bypass_net){.family = AF_INET, .prefix = prefix};
	memcpy(own->addr, net, 4);
}
