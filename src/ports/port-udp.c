/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builtin driver's UDP: one socket inside the child per host peer
 * (address and port), made by the helper (port-builtin.c), so the child's
 * answers go back to the peer that asked. A port's flow table is bounded
 * and shared: a source (an IPv4 address, an IPv6 /64, and for a sender on
 * this host the uid owning its socket, which sock_diag tells) holds at most
 * RS_UDP_FLOWS_PER_SOURCE flows and makes room among its own; a full table
 * makes room by closing the least recently used flow of the source holding
 * the most; a flow idle for RS_UDP_IDLE_SEC is closed. A new peer is never
 * turned away while the port has a flow to give up, so a local user
 * sending from thousands of ports only ever evicts its own flows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/xalloc.h"

/* Who sent: the key flows are counted by. */
struct rs_udp_src {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* the IPv4 address, or the IPv6 /64; zero after */
	uid_t uid;		/* the sender's socket's owner when on this host, else -1 */
	unsigned nflows;
	struct rs_udp_src *next;
};

struct rs_udp_flow {
	struct rs_port *port;
	struct rs_udp_src *src;
	int fd; /* connected to the child's address, inside the child */
	struct rs_ev ev;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	time_t last;
	struct rs_udp_flow *newer, *older; /* the port's flows by last use */
};

/* ---- the sender's uid (sock_diag) ---- */

/* An IPv4 address in an IPv4-mapped IPv6 one (a dual-stack socket's peer),
 * as IPv4; *port in network order. Return: the family, 0 for neither. */
static int peer_addr(const struct sockaddr_storage *ss, unsigned char addr[16], uint16_t *port)
{
	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		memcpy(addr, &s->sin_addr, 4);
		*port = s->sin_port;
		return AF_INET;
	}
	if (ss->ss_family != AF_INET6)
		return 0;
	const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
	*port = s->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
		memcpy(addr, s->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(addr, &s->sin6_addr, 16);
	return AF_INET6;
}

/* Our end of the datagram: the port's parent IP, else (a wildcard port)
 * the peer's own address, what a sender on this host usually sends to. */
static void our_addr(const struct rs_port *p, int family, const unsigned char peer[16],
		     unsigned char out[16])
{
	struct sockaddr_storage sa = {0};
	socklen_t len;
	unsigned char a[16];
	uint16_t port;

	memcpy(out, peer, 16);
	if (p->spec.parent_ip[0] &&
	    rs_ip_to_sockaddr(p->spec.parent_ip, p->spec.parent_port, &sa, &len) == 0 &&
	    peer_addr(&sa, a, &port) == family)
		memcpy(out, a, 16);
}

static int diag_socket(struct rs_portd *d)
{
	if (d->diag_fd == -1) {
		d->diag_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		if (d->diag_fd < 0)
			d->diag_fd = -2; /* not here (a seccomp filter): every sender is remote */
	}
	return d->diag_fd;
}

/* Reads the answer to request seq. Return: the uid, or -1. */
static uid_t diag_answer(int fd, uint32_t seq)
{
	long buf[1024];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(struct nlmsghdr))
			return (uid_t)-1;
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		if (h->nlmsg_seq != seq) /* an answer that came too late before */
			continue;
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)) ||
		    (size_t)n < h->nlmsg_len)
			return (uid_t)-1;
		return ((const struct inet_diag_msg *)NLMSG_DATA(h))->idiag_uid;
	}
}

/* The uid owning the socket on this host that sent from peer to port p,
 * or -1 (a sender elsewhere, or unknown). The kernel answers at once. */
static uid_t sender_uid(struct rs_portd *d, const struct rs_port *p,
			const struct sockaddr_storage *peer)
{
	static uint32_t seq;
	unsigned char addr[16], ours[16];
	uint16_t port;
	int fam = peer_addr(peer, addr, &port), fd = diag_socket(d);

	if (!fam || fd < 0)
		return (uid_t)-1;
	our_addr(p, fam, addr, ours);
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} q = {
		.h = {.nlmsg_len = sizeof(q),
		      .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		      .nlmsg_flags = NLM_F_REQUEST,
		      .nlmsg_seq = ++seq},
		.r = {.sdiag_family = (uint8_t)fam,
		      .sdiag_protocol = IPPROTO_UDP,
		      .idiag_states = ~0u,
		      .id = {.idiag_sport = htons((uint16_t)p->spec.parent_port),
			     .idiag_dport = port,
			     .idiag_if = 0,
			     .idiag_cookie = {INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE}}},
	};
	/* the lookup finds the socket that would receive a datagram from
	 * src:sport to dst:dport, that is the sender's own */
	memcpy(q.r.id.idiag_src, ours, 16);
	memcpy(q.r.id.idiag_dst, addr, 16);
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	if (sendto(fd, &q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return (uid_t)-1;
	return diag_answer(fd, seq);
}

/* ---- sources ---- */

static struct rs_udp_src *src_get(struct rs_portd *d, struct rs_port *p,
				  const struct sockaddr_storage *peer)
{
	struct rs_udp_src k = {0};
	uint16_t port;

	k.family = peer_addr(peer, k.addr, &port);
	if (k.family == AF_INET6)
		memset(k.addr + 8, 0, 8); /* a /64: one site's hosts are one source */
	k.uid = sender_uid(d, p, peer);
	for (struct rs_udp_src *s = p->srcs; s; s = s->next)
		if (s->family == k.family && s->uid == k.uid && !memcmp(s->addr, k.addr, 16))
			return s;
	struct rs_udp_src *s = rs_xmalloc(sizeof(*s));
	*s = k;
	s->next = p->srcs;
	p->srcs = s;
	return s;
}

static void src_put(struct rs_port *p, struct rs_udp_src *s)
{
	if (s->nflows)
		return;
	for (struct rs_udp_src **pp = &p->srcs; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

/* ---- flows, newest first ---- */

static void lru_unlink(struct rs_port *p, struct rs_udp_flow *f)
{
	if (f->newer)
		f->newer->older = f->older;
	else
		p->flows = f->older;
	if (f->older)
		f->older->newer = f->newer;
	else
		p->oldest = f->newer;
	f->newer = f->older = NULL;
}

static void lru_push(struct rs_port *p, struct rs_udp_flow *f)
{
	f->older = p->flows;
	f->newer = NULL;
	if (p->flows)
		p->flows->newer = f;
	p->flows = f;
	if (!p->oldest)
		p->oldest = f;
}

static void flow_touch(struct rs_udp_flow *f)
{
	f->last = time(NULL);
	if (f->port->flows != f) {
		lru_unlink(f->port, f);
		lru_push(f->port, f);
	}
}

static void flow_close(struct rs_portd *d, struct rs_port *p, struct rs_udp_flow *f)
{
	lru_unlink(p, f);
	f->src->nflows--;
	src_put(p, f->src);
	rs_portd_epoll_del(d, f->fd);
	close(f->fd);
	f->fd = -1;
	p->nflows--;
	d->conns--;
	rs_portd_defer_free(d, f);
}

/* Room for a flow of source s: its own oldest flow goes when s is at its
 * cap; in a full table, the oldest flow of the source holding the most.
 * Return: true when there is room. */
static bool make_room(struct rs_portd *d, struct rs_port *p, const struct rs_udp_src *s)
{
	const struct rs_udp_src *from = NULL;
	bool full = p->nflows >= RS_UDP_FLOWS_MAX || d->conns >= d->conns_max;

	if (s->nflows >= RS_UDP_FLOWS_PER_SOURCE) {
		from = s;
	} else if (full) {
		for (const struct rs_udp_src *x = p->srcs; x; x = x->next)
			if (x->nflows && (!from || x->nflows > from->nflows))
				from = x;
	}
	if (!from)
		return !full; /* full of TCP connections: nothing of ours to give */
	for (struct rs_udp_flow *f = p->oldest; f; f = f->newer)
		if (f->src == from) {
			flow_close(d, p, f);
			return true;
		}
	return false;
}

static struct rs_udp_flow *flow_new(struct rs_portd *d, struct rs_port *p,
				    const struct sockaddr_storage *peer, socklen_t plen)
{
	struct rs_udp_src *s = src_get(d, p, peer);
	struct sockaddr_storage sa;
	socklen_t len;
	int fd = -1;

	if (make_room(d, p, s)) {
		rs_builtin_child_addr(p, &sa, &len);
		fd = rs_builtin_child_socket(d, SOCK_DGRAM, &sa, len);
	}
	if (fd < 0) {
		src_put(p, s);
		return NULL;
	}
	struct rs_udp_flow *f = rs_xcalloc(1, sizeof(*f));
	*f = (struct rs_udp_flow){.port = p,
				  .src = s,
				  .fd = fd,
				  .peer = *peer,
				  .peer_len = plen,
				  .last = time(NULL)};
	f->ev.kind = RS_EV_UDP_FLOW;
	f->ev.obj = f;
	if (rs_portd_epoll_add(d, fd, EPOLLIN, &f->ev) < 0) {
		close(fd);
		free(f);
		src_put(p, s);
		return NULL;
	}
	s->nflows++;
	lru_push(p, f);
	p->nflows++;
	d->conns++;
	return f;
}

static struct rs_udp_flow *flow_get(struct rs_portd *d, struct rs_port *p,
				    const struct sockaddr_storage *peer, socklen_t plen)
{
	for (struct rs_udp_flow *f = p->flows; f; f = f->older)
		if (f->peer_len == plen && memcmp(&f->peer, peer, plen) == 0)
			return f;
	return flow_new(d, p, peer, plen);
}

static char udp_buf[65536];

void rs_udp_from_host(struct rs_portd *d, struct rs_port *p)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		peer.ss_family = AF_UNSPEC; /* recvfrom sets it */
		ssize_t n = recvfrom(p->fd, udp_buf, sizeof(udp_buf), 0, (struct sockaddr *)&peer,
				     &plen);
		if (n < 0)
			return;
		struct rs_udp_flow *f = flow_get(d, p, &peer, plen);
		if (!f)
			continue;
		flow_touch(f);
		send(f->fd, udp_buf, (size_t)n, MSG_DONTWAIT);
	}
}

void rs_udp_from_child(struct rs_portd *d, struct rs_udp_flow *f)
{
	(void)d;
	for (int i = 0; i < 64 && f->fd >= 0; i++) {
		ssize_t n = recv(f->fd, udp_buf, sizeof(udp_buf), 0);
		if (n < 0)
			return;
		flow_touch(f);
		sendto(f->port->fd, udp_buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&f->peer,
		       f->peer_len);
	}
}

bool rs_udp_flow_open(const struct rs_udp_flow *f)
{
	return f->fd >= 0;
}

void rs_udp_sweep(struct rs_portd *d, struct rs_port *p, time_t now)
{
	/* oldest first: past the first flow still in use, all are */
	while (p->oldest && now - p->oldest->last > RS_UDP_IDLE_SEC)
		flow_close(d, p, p->oldest);
}

void rs_udp_close_all(struct rs_portd *d, struct rs_port *p)
{
	while (p->oldest)
		flow_close(d, p, p->oldest);
}
