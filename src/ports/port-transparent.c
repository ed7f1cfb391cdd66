/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Source-address propagation for the builtin driver's TCP (RootlessKit v3's
 * --source-ip-transparent). The helper, inside the child's user and network
 * namespaces (so with CAP_NET_ADMIN over that network namespace), makes the
 * child-side socket with IP_TRANSPARENT/IPV6_TRANSPARENT bound to the
 * client's own address and port, so the service there sees the real peer.
 *
 * The service's replies go to that (non-local) address, which the child's
 * routes would send out of its tap (or nowhere): RootlessKit v3 marks them
 * back to local delivery with netfilter (CONNMARK in OUTPUT and PREROUTING,
 * through iptables or nft). We need no netfilter: the transparent socket
 * carries SO_MARK, net.ipv4.tcp_fwmark_accept=1 gives the accepted socket
 * the mark of the SYN it came from (tcp_fwmark_accept also covers IPv6),
 * and a rule "fwmark MARK lookup TABLE" with "local default dev lo" in
 * TABLE delivers every packet of that connection locally, both ways. It
 * works where the service itself accepts the connection in this namespace
 * (the default 127.0.0.1/::1, an address of the namespace, a userland proxy
 * such as docker-proxy); a DNAT to a container behind a bridge loses the
 * mark at the veth, which only netfilter's connection marks would restore,
 * so the helper propagates only towards an address local to the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/io.h"
#include "lib/macro.h"

struct nlreq {
	struct nlmsghdr h;
	union {
		struct rtmsg rt;
		struct fib_rule_hdr fr;
	};
	char attrs[64];
};

static void nl_attr(struct nlreq *q, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One request, its acknowledgement. Return: 0 (or it was there) or -errno. */
static int nl_talk(int nl, struct nlreq *q)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} ack;
	q->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
	if (send(nl, q, q->h.nlmsg_len, 0) < 0)
		return -errno;
	ssize_t n = recv(nl, &ack, sizeof(ack), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(ack) || ack.h.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ack.e.error == -EEXIST ? 0 : ack.e.error;
}

/* "local default dev lo table T" and "fwmark M lookup T priority P" for
 * one family. */
static int routes_add(int nl, int family)
{
	struct nlreq q;
	uint32_t table = RS_TRANSPARENT_TABLE, mark = RS_TRANSPARENT_MARK;
	uint32_t prio = RS_TRANSPARENT_PRIORITY, lo = if_nametoindex("lo");
	int e;

	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	q.h.nlmsg_type = RTM_NEWROUTE;
	q.rt.rtm_family = (unsigned char)family;
	q.rt.rtm_table = RT_TABLE_UNSPEC; /* RTA_TABLE says which */
	q.rt.rtm_protocol = RTPROT_STATIC;
	q.rt.rtm_scope = RT_SCOPE_HOST;
	q.rt.rtm_type = RTN_LOCAL;
	nl_attr(&q, RTA_TABLE, &table, sizeof(table));
	nl_attr(&q, RTA_OIF, &lo, sizeof(lo));
	if (!lo || (e = nl_talk(nl, &q)) < 0)
		return lo ? e : -ENODEV;

	memset(&q, 0, sizeof(q));
	q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
	q.h.nlmsg_type = RTM_NEWRULE;
	q.fr.family = (unsigned char)family;
	q.fr.action = FR_ACT_TO_TBL;
	nl_attr(&q, FRA_TABLE, &table, sizeof(table));
	nl_attr(&q, FRA_FWMARK, &mark, sizeof(mark));
	nl_attr(&q, FRA_PRIORITY, &prio, sizeof(prio));
	return nl_talk(nl, &q);
}

static void loopback(int family, struct sockaddr_storage *sa, socklen_t *len)
{
	rs_ip_to_sockaddr(family == AF_INET ? "127.0.0.1" : "::1", 0, sa, len);
}

/* The whole path, tried once: a transparent connection from an address
 * that is not the namespace's (a documentation prefix) to a listener on
 * loopback is accepted with that peer, and the handshake's replies came
 * back. Bounded: the helper's round trip is RS_PORT_HELPER_TIMEOUT_SEC. */
static int self_test(int family)
{
	struct sockaddr_storage la, src, peer;
	socklen_t llen, slen, plen = sizeof(peer);
	struct timeval tv = {.tv_usec = 300 * 1000};
	_cleanup_close_ int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	loopback(family, &la, &llen);
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(l, (struct sockaddr *)&la, llen) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&la, &llen) < 0)
		return -errno;
	rs_ip_to_sockaddr(family == AF_INET ? "192.0.2.1" : "2001:db8::1", 0, &src, &slen);
	_cleanup_close_ int c = rs_transparent_socket(&la, llen, &src, slen,
						      true /* blocking, bounded */);
	if (c < 0)
		return c;
	_cleanup_close_ int a = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (a < 0)
		return -errno;
	const void *want = family == AF_INET ? (void *)&((struct sockaddr_in *)&src)->sin_addr
					     : (void *)&((struct sockaddr_in6 *)&src)->sin6_addr;
	const void *got = family == AF_INET ? (void *)&((struct sockaddr_in *)&peer)->sin_addr
					    : (void *)&((struct sockaddr_in6 *)&peer)->sin6_addr;
	return memcmp(want, got, family == AF_INET ? 4 : 16) ? -EPROTO : 0;
}

unsigned rs_transparent_setup(int *err)
{
	unsigned ok = 0;
	*err = 0;
	/* per network namespace: /proc/sys/net is the caller's namespace's */
	_cleanup_close_ int fd = open("/proc/sys/net/ipv4/tcp_fwmark_accept", O_WRONLY | O_CLOEXEC);
	int w = fd < 0 ? -errno : rs_write_full(fd, "1", 1);
	if (w < 0) {
		*err = -w;
		return 0;
	}
	_cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0) {
		*err = errno;
		return 0;
	}
	struct timeval tv = {.tv_usec = 300 * 1000};
	setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	static const int fams[] = {AF_INET, AF_INET6};
	for (size_t i = 0; i < ARRAY_SIZE(fams); i++) {
		/* IPv6 may be off in the namespace: IPv4 alone then */
		int e = routes_add(nl, fams[i]);
		if (!e)
			e = self_test(fams[i]);
		if (!e)
			ok |= 1U << i;
		else if (!*err)
			*err = -e;
	}
	return ok;
}

int rs_transparent_socket(const struct sockaddr_storage *dst, socklen_t dlen,
			  const struct sockaddr_storage *src, socklen_t slen, bool blocking)
{
	int one = 1, mark = RS_TRANSPARENT_MARK, fam = dst->ss_family;
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
	if (s < 0)
		return -errno;
	if (blocking) {
		struct timeval tv = {.tv_usec = 300 * 1000};
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	int r = fam == AF_INET ? setsockopt(s, SOL_IP, IP_TRANSPARENT, &one, sizeof(one))
			       : setsockopt(s, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
	if (r < 0 || setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ||
	    bind(s, (const struct sockaddr *)src, slen) < 0 ||
	    (connect(s, (const struct sockaddr *)dst, dlen) < 0 && errno != EINPROGRESS)) {
		int e = errno;
		close(s);
		return -e;
	}
	return s;
}

bool rs_transparent_local(const struct sockaddr_storage *dst, socklen_t dlen)
{
	struct sockaddr_storage a = *dst;
	/* bind(2) without IP_TRANSPARENT takes only an address of this
	 * namespace; port 0 takes none */
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a)->sin6_port = 0;
	_cleanup_close_ int s = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return s >= 0 && bind(s, (struct sockaddr *)&a, dlen) == 0;
}

/* An IPv4-mapped IPv6 address (a dual-stack listener's IPv4 peer) as IPv4. */
static void unmap(struct sockaddr_storage *sa, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	if (sa->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, &s4, sizeof(s4));
	*len = sizeof(s4);
}

bool rs_transparent_source(struct sockaddr_storage *peer, socklen_t *plen, int family)
{
	unmap(peer, plen);
	if (peer->ss_family != family)
		return false; /* an IPv6 client of an IPv4 service: nothing to bind */
	/* loopback is loopback in the namespace too: as RootlessKit */
	if (rs_sockaddr_loopback(peer))
		return false;
	if (family == AF_INET)
		return ((const struct sockaddr_in *)peer)->sin_addr.s_addr != 0;
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)peer;
	return family == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr) &&
	       !IN6_IS_ADDR_LINKLOCAL(&s->sin6_addr);
}
