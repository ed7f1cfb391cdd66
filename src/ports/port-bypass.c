/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * launch --net-bypass and published ports (api.h, rs_api_bypass_bind): a
 * bind of the launch to a published port's child side gets a socket of
 * the host's namespace bound where the builtin driver listened; the
 * driver's listener steps aside while that socket lives (one owner of the
 * host port at a time) and comes back when the address is free again.
 * Everything here runs with the port server's lock held.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "ports/port.h"

/* Whether a bind inside to a (its family's, any port) is to p's child
 * side: the spec's child IP when it names one (a loopback one too: the
 * publisher asked for it), else only an unspecified address, as a
 * loopback bind inside means the namespace's own loopback. */
static bool bypass_addr_match(const struct rs_port *p, const struct sockaddr_storage *a)
{
	static const unsigned char zero[16];
	const void *ip = a->ss_family == AF_INET
				 ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
				 : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr;
	size_t n = a->ss_family == AF_INET ? 4 : 16;
	struct sockaddr_storage c;
	socklen_t cl;

	if (!p->spec.child_ip[0])
		return memcmp(ip, zero, n) == 0;
	if (rs_ip_to_sockaddr(p->spec.child_ip, 0, &c, &cl) < 0 || c.ss_family != a->ss_family)
		return false;
	const void *cip = c.ss_family == AF_INET
				  ? (const void *)&((const struct sockaddr_in *)&c)->sin_addr
				  : (const void *)&((const struct sockaddr_in6 *)&c)->sin6_addr;
	return memcmp(ip, zero, n) == 0 || memcmp(ip, cip, n) == 0;
}

static int sock_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

/* The port whose child side a bind of a (type) is, its forwarder's
 * address known. */
static struct rs_port *bypass_find(struct rs_portd *d, int type, const struct sockaddr_storage *a)
{
	unsigned port = ntohs(a->ss_family == AF_INET
				      ? ((const struct sockaddr_in *)a)->sin_port
				      : ((const struct sockaddr_in6 *)a)->sin6_port);
	for (struct rs_port *p = d->ports; p; p = p->next) {
		if (p->spec.child_port != port ||
		    rs_portspec_is_udp(&p->spec) != (type == SOCK_DGRAM) ||
		    !bypass_addr_match(p, a))
			continue;
		if (!p->bypass.on) {
			/* the forwarder's own address: what the host socket takes */
			p->bypass.len = sizeof(p->bypass.addr);
			if (p->fd < 0 || getsockname(p->fd, (struct sockaddr *)&p->bypass.addr,
						     &p->bypass.len) < 0)
				continue;
			p->bypass.v6only = p->bypass.addr.ss_family == AF_INET6
						   ? sock_int(p->fd, IPPROTO_IPV6, IPV6_V6ONLY)
						   : 0;
		}
		return p;
	}
	return NULL;
}

int rs_portd_bypass_bind(struct rs_portd *d, int fd, int type, const struct sockaddr *addr,
			 socklen_t len)
{
	struct sockaddr_storage a = {0};
	if (d->cfg->port_driver != RS_PORT_BUILTIN || len > sizeof(a))
		return -ENOENT;
	memcpy(&a, addr, len);
	if (!((a.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) ||
	      (a.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))))
		return -ENOENT;
	struct rs_port *p = bypass_find(d, type, &a);
	/* the host socket covers what the forwarder did, no more, no less:
	 * same family (an IPv4 socket cannot take the forwarder's dual-stack
	 * listener's IPv6 clients), same V6ONLY */
	if (!p || sock_int(fd, SOL_SOCKET, SO_DOMAIN) != p->bypass.addr.ss_family ||
	    (p->bypass.addr.ss_family == AF_INET6 &&
	     sock_int(fd, IPPROTO_IPV6, IPV6_V6ONLY) != p->bypass.v6only))
		return -ENOENT;
	bool stepped = !p->bypass.on;
	/* as the forwarder's listener had: its connections still open (or in
	 * TIME_WAIT) share the port */
	int one = 1;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (stepped) {
		rs_builtin_remove(d, p);
		p->bypass.on = true;
	}
	if (bind(fd, (const struct sockaddr *)&p->bypass.addr, p->bypass.len) == 0) {
		/* not before the launch's listen(2) has followed the bind */
		p->bypass.retry = time(NULL) + 2;
		return 0;
	}
	int e = errno;
	if (!stepped)
		return -e;
	/* the forwarder again, and the bind goes on inside, as before */
	_cleanup_error_ struct rs_error *err = NULL;
	if (rs_builtin_add(d, p, &err) == 0)
		p->bypass.on = false;
	p->bypass.retry = time(NULL) + 1;
	return -ENOENT;
}

void rs_portd_bypass_sweep(struct rs_portd *d, time_t now)
{
	for (struct rs_port *p = d->ports; p; p = p->next) {
		if (!p->bypass.on || now < p->bypass.retry)
			continue;
		/* the address is busy while any copy of the bypassed socket
		 * lives: its listener (TCP, SO_REUSEADDR on both) or bound UDP
		 * socket refuses the forwarder's bind */
		_cleanup_error_ struct rs_error *err = NULL;
		if (rs_builtin_add(d, p, &err) == 0)
			p->bypass.on = false;
		else
			p->bypass.retry = now + 1;
	}
}
