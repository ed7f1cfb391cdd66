/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --net-bypass: the answer to one connect(2) or bind(2) of the launch
 * (bypass.h).
 *
 * Everything read from the caller (its address, its socket's options) is
 * the user's; the socket handed back is made here, by the launcher, which
 * runs as the user in the host's namespaces: what it can open the user
 * could open outside. A socket whose options cannot be reproduced here
 * (SO_MARK, IP_TRANSPARENT: privileges the user lacks outside) stays in
 * the namespace. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/sockios.h>
#include "launch/bypass.h"
#include "lib/macro.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
/* pidfd_open's flag for a thread's id (Linux 6.9): O_EXCL */
#define RS_PIDFD_THREAD O_EXCL
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* One call: the caller's socket (a duplicate of it) and what it asked. */
struct call {
	const struct seccomp_notif *req;
	int pidfd, sfd, domain, type, proto;
	unsigned char sa[sizeof(struct sockaddr_storage)];
	size_t salen;
	bool have_addr;
	struct rs_bypass_net dst;
};

static bool id_valid(const struct rs_bypass *b, __u64 id)
{
	return ioctl(b->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	return getsockopt(fd, level, name, &v, &l) < 0 ? -1 : v;
}

/* What the options a caller may have set are, copied to the new socket
 * where they differ from a new socket's. Buffer sizes are left alone:
 * setting them turns off the kernel's autotuning. */
static const struct {
	int level, name;
} copied[] = {
	{SOL_SOCKET, SO_REUSEADDR},
	{SOL_SOCKET, SO_REUSEPORT},
	{SOL_SOCKET, SO_KEEPALIVE},
	{SOL_SOCKET, SO_BROADCAST},
	{SOL_SOCKET, SO_OOBINLINE},
	{SOL_SOCKET, SO_LINGER},
	{SOL_SOCKET, SO_RCVTIMEO_NEW},
	{SOL_SOCKET, SO_SNDTIMEO_NEW},
	{SOL_SOCKET, SO_RCVLOWAT},
	{SOL_SOCKET, SO_PRIORITY},
	{SOL_SOCKET, SO_MARK},
	{SOL_SOCKET, SO_TIMESTAMP_NEW},
	{SOL_SOCKET, SO_ZEROCOPY},
	{IPPROTO_IP, IP_TOS},
	{IPPROTO_IP, IP_TTL},
	{IPPROTO_IP, IP_RECVERR},
	{IPPROTO_IP, IP_MTU_DISCOVER},
	{IPPROTO_IP, IP_PKTINFO},
	{IPPROTO_IP, IP_RECVTOS},
	{IPPROTO_IP, IP_FREEBIND},
	{IPPROTO_IP, IP_TRANSPARENT},
	{IPPROTO_IPV6, IPV6_V6ONLY},
	{IPPROTO_IPV6, IPV6_TCLASS},
	{IPPROTO_IPV6, IPV6_UNICAST_HOPS},
	{IPPROTO_IPV6, IPV6_RECVERR},
	{IPPROTO_IPV6, IPV6_RECVPKTINFO},
	{IPPROTO_IPV6, IPV6_MTU_DISCOVER},
	{IPPROTO_TCP, TCP_NODELAY},
	{IPPROTO_TCP, TCP_CORK},
	{IPPROTO_TCP, TCP_KEEPIDLE},
	{IPPROTO_TCP, TCP_KEEPINTVL},
	{IPPROTO_TCP, TCP_KEEPCNT},
	{IPPROTO_TCP, TCP_USER_TIMEOUT},
	{IPPROTO_TCP, TCP_SYNCNT},
	{IPPROTO_TCP, TCP_WINDOW_CLAMP},
	{IPPROTO_TCP, TCP_NOTSENT_LOWAT},
	{IPPROTO_TCP, TCP_FASTOPEN_CONNECT},
	{IPPROTO_TCP, TCP_CONGESTION},
	{IPPROTO_UDP, UDP_CORK},
	{IPPROTO_UDP, UDP_SEGMENT},
	{IPPROTO_UDP, UDP_GRO},
};

/* Return: 0, or -1 when an option set on from cannot be set on to. */
static int copy_options(int from, int to, int domain)
{
	for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
		unsigned char a[64] = {0}, d[64] = {0};
		socklen_t al = sizeof(a), dl = sizeof(d);
		int lv = copied[i].level;
		if ((lv == IPPROTO_IP && domain != AF_INET) ||
		    (lv == IPPROTO_IPV6 && domain != AF_INET6))
			continue;
		if (getsockopt(from, lv, copied[i].name, a, &al) < 0)
			continue; /* not one of this socket's */
		if (getsockopt(to, lv, copied[i].name, d, &dl) == 0 && al == dl &&
		    memcmp(a, d, al) == 0)
			continue;
		if (setsockopt(to, lv, copied[i].name, a, al) < 0)
			return -1;
	}
	/* bound to one of the namespace's interfaces: not one of the host's */
	int ifindex = sockopt_int(from, SOL_SOCKET, SO_BINDTOIFINDEX);
	return ifindex > 0 ? -1 : 0;
}

/* The caller's fd flags (O_CLOEXEC) from /proc/PID/fdinfo/FD. */
static int caller_fd_flags(const struct call *c)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%u/fdinfo/%u", c->req->pid,
		 (unsigned)c->req->data.args[0]);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *f = strstr(buf, "flags:");
	unsigned long flags = f ? strtoul(f + 6, NULL, 8) : 0;
	return flags & O_CLOEXEC ? O_CLOEXEC : 0;
}

/* The network namespace of the caller's socket. Return: 1 the host's (or
 * one the launcher has no rights in), 0 the launch's, 2 another of the
 * launch (a container's own, inside). */
static int socket_netns(const struct rs_bypass *b, int sfd)
{
	struct stat st;
	int ns = ioctl(sfd, SIOCGSKNS);
	if (ns < 0)
		return 1; /* EPERM: a namespace whose user namespace is not ours */
	int r = fstat(ns, &st);
	close(ns);
	if (r < 0 || (st.st_dev == b->host_dev && st.st_ino == b->host_ino))
		return 1;
	return st.st_dev == b->netns_dev && st.st_ino == b->netns_ino ? 0 : 2;
}

/* A network namespace of a container inside the launch: its IPv4
 * networks, asked of its own socket (SIOCGIFCONF answers for the
 * socket's namespace). Return: whether dst is on one of them, or true
 * when they cannot be listed. */
static bool on_inner_network(int sfd, const struct rs_bypass_net *dst)
{
	struct ifreq ifr[32];
	struct ifconf ifc = {.ifc_len = sizeof(ifr), .ifc_req = ifr};
	if (dst->family != AF_INET || ioctl(sfd, SIOCGIFCONF, &ifc) < 0)
		return true; /* IPv6 addresses are not listed there: not bypassed */
	for (size_t i = 0; i < (size_t)ifc.ifc_len / sizeof(ifr[0]); i++) {
		struct sockaddr_in a, m;
		memcpy(&a, &ifr[i].ifr_addr, sizeof(a));
		if (ioctl(sfd, SIOCGIFNETMASK, &ifr[i]) < 0)
			return true;
		memcpy(&m, &ifr[i].ifr_netmask, sizeof(m));
		uint32_t d;
		memcpy(&d, dst->addr, 4);
		if (((d ^ a.sin_addr.s_addr) & m.sin_addr.s_addr) == 0)
			return true;
	}
	return false;
}

/* The address the caller passed, read from its memory. */
static bool read_addr(const struct rs_bypass *b, struct call *c)
{
	uint64_t len = c->req->data.args[2];
	uint16_t port;
	if (len < sizeof(sa_family_t) || len > sizeof(c->sa))
		return false;
	struct iovec local = {c->sa, len};
	struct iovec remote = {(void *)(uintptr_t)c->req->data.args[1], len};
	if (process_vm_readv((pid_t)c->req->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return false;
	/* the pid was the caller's when it was read */
	if (!id_valid(b, c->req->id))
		return false;
	c->salen = len;
	sa_family_t fam;
	memcpy(&fam, c->sa, sizeof(fam));
	if (fam == AF_UNSPEC) {
		c->dst = (struct rs_bypass_net){.family = AF_UNSPEC};
		return true;
	}
	return rs_bypass_sockaddr(c->sa, len, &c->dst, &port) == 0;
}

static bool allowed(const struct rs_bypass *b, const struct call *c, int where)
{
	if (!c->have_addr || c->dst.family != c->domain ||
	    !rs_bypass_rules_match(&b->allow, &c->dst) || rs_bypass_rules_match(&b->never, &c->dst))
		return false;
	return where != 2 || !on_inner_network(c->sfd, &c->dst);
}

/* connect on a socket of ours (nonblocking here), and the answer the
 * caller gets: its own blocking connect continues on the socket now in
 * progress (the kernel waits there, and reads the address only for an
 * AF_UNSPEC disconnect), a nonblocking one sees EINPROGRESS. */
static void answer_connect(int fd, int fl, const struct call *c, struct seccomp_notif_resp *resp)
{
	int r = connect(fd, (const struct sockaddr *)c->sa, (socklen_t)c->salen);
	int e = r < 0 ? errno : 0;
	fcntl(fd, F_SETFL, fl);
	resp->flags = 0;
	if (e == EINPROGRESS && !(fl & O_NONBLOCK))
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp->error = -e;
}

/* A socket of the host's already (bypassed before, or handed in from
 * outside): never continued, as the kernel would connect it with an
 * address read again from the caller's memory. An allowed destination
 * (or AF_UNSPEC, a disconnect) is connected here; any other is refused. */
/* Host socket s in place of the caller's fd (same number, its
 * O_CLOEXEC kept), answering its call. Return: false when the caller
 * is gone. */
static bool install(const struct rs_bypass *b, const struct call *c, int s)
{
	struct seccomp_notif_addfd add = {.id = c->req->id,
					  .flags = SECCOMP_ADDFD_FLAG_SETFD,
					  .srcfd = (__u32)s,
					  .newfd = (__u32)c->req->data.args[0],
					  .newfd_flags = (__u32)caller_fd_flags(c)};
	return ioctl(b->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0;
}

static void host_socket(const struct rs_bypass *b, struct call *c, struct seccomp_notif_resp *resp)
{
	resp->flags = 0;
	resp->error = -ENETUNREACH;
	if (!c->have_addr || !(c->dst.family == AF_UNSPEC || allowed(b, c, 1)))
		return;
	int fl = fcntl(c->sfd, F_GETFL);
	if (fl < 0 || fcntl(c->sfd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	answer_connect(c->sfd, fl, c, resp);
}

/* A TCP or UDP socket of the namespace, not bound by the caller, to an
 * allowed destination: a socket of the host's in its place. Return:
 * whether it was. */
static bool replace(struct rs_bypass *b, struct call *c, struct seccomp_notif_resp *resp)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct rs_bypass_net bound;
	uint16_t port = 0;

	if (!((c->type == SOCK_STREAM && c->proto == IPPROTO_TCP) ||
	      (c->type == SOCK_DGRAM && c->proto == IPPROTO_UDP)))
		return false;
	/* bound (its port or address is the namespace's) or connected already */
	if (getsockname(c->sfd, (struct sockaddr *)&me, &ml) < 0 ||
	    rs_bypass_sockaddr(&me, ml, &bound, &port) < 0 || port != 0)
		return false;
	int fl = fcntl(c->sfd, F_GETFL);
	_cleanup_close_ int s = socket(c->domain, c->type | SOCK_CLOEXEC | SOCK_NONBLOCK, c->proto);
	if (fl < 0 || s < 0 || copy_options(c->sfd, s, c->domain) < 0)
		return false;
	struct seccomp_notif_resp r = {.id = c->req->id};
	answer_connect(s, fl, c, &r);
	if (r.error && r.error != -EINPROGRESS) {
		/* the host's answer (ECONNREFUSED, ENETUNREACH): the caller's
		 * socket stays as it was */
		*resp = r;
		return true;
	}
	if (!install(b, c, s))
		return false;
	*resp = r;
	b->bypassed++;
	return true;
}

/* A pidfd for the caller's fd table. The caller may be any thread (Go
 * connects from many): PIDFD_THREAD (Linux 6.9) takes a thread's id;
 * before it, the thread group's leader, named by /proc/TID/status. */
static int caller_pidfd(pid_t tid)
{
	char path[64], buf[1024];
	int fd = (int)syscall(SYS_pidfd_open, tid, RS_PIDFD_THREAD);
	if (fd >= 0 || errno != EINVAL)
		return fd;
	fd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (fd >= 0 || errno != EINVAL)
		return fd;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = sfd < 0 ? -1 : read(sfd, buf, sizeof(buf) - 1);
	if (sfd >= 0)
		close(sfd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *t = strstr(buf, "\nTgid:");
	long tgid = t ? strtol(t + 6, NULL, 10) : 0;
	return tgid > 0 ? (int)syscall(SYS_pidfd_open, (pid_t)tgid, 0) : -1;
}

/* The caller's socket and, with addr, the address it passed (c). Return:
 * where the socket is (socket_netns), or -1 when it is not an IP socket
 * of the caller's (the kernel answers). */
static int open_call(struct rs_bypass *b, struct call *c, bool addr)
{
	socklen_t l = sizeof(int);

	c->pidfd = caller_pidfd((pid_t)c->req->pid);
	/* the pidfd is the caller's: its pid was not reused meanwhile */
	if (c->pidfd < 0 || !id_valid(b, c->req->id))
		return -1;
	c->sfd = (int)syscall(SYS_pidfd_getfd, c->pidfd, (int)c->req->data.args[0], 0);
	if (c->sfd < 0 || getsockopt(c->sfd, SOL_SOCKET, SO_DOMAIN, &c->domain, &l) < 0 ||
	    (c->domain != AF_INET && c->domain != AF_INET6))
		return -1;
	c->type = sockopt_int(c->sfd, SOL_SOCKET, SO_TYPE);
	c->proto = sockopt_int(c->sfd, SOL_SOCKET, SO_PROTOCOL);
	c->have_addr = addr && read_addr(b, c);
	return socket_netns(b, c->sfd);
}

static void handle_call(struct rs_bypass *b, struct call *c, struct seccomp_notif_resp *resp)
{
	int where = open_call(b, c, true);
	if (where < 0)
		return;
	if (where == 1) {
		host_socket(b, c, resp);
		return;
	}
	if (allowed(b, c, where) && replace(b, c, resp))
		return;
	b->passed++;
}

/* A bind of a TCP or UDP socket of the launch's own network namespace,
 * not bound yet, to the child side of a published port: a socket of the
 * host's, made here with the caller's options and bound where the port
 * driver listened (rs_api_bypass_bind decides which binds those are), in
 * its place. Any other bind goes on as asked: in the namespace, or on a
 * socket of the host's already, where the kernel checks it as the user's
 * (no privileged port, no other user's address). */
static void handle_bind(struct rs_bypass *b, struct call *c, struct seccomp_notif_resp *resp)
{
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	struct rs_bypass_net bound;
	uint16_t port = 0;

	if (open_call(b, c, true) != 0 || !b->ports || !c->have_addr ||
	    c->dst.family != c->domain ||
	    !((c->type == SOCK_STREAM && c->proto == IPPROTO_TCP) ||
	      (c->type == SOCK_DGRAM && c->proto == IPPROTO_UDP)))
		return;
	if (getsockname(c->sfd, (struct sockaddr *)&me, &ml) < 0 ||
	    rs_bypass_sockaddr(&me, ml, &bound, &port) < 0 || port != 0)
		return; /* bound already: the kernel says EINVAL */
	int fl = fcntl(c->sfd, F_GETFL);
	_cleanup_close_ int s = socket(c->domain, c->type | SOCK_CLOEXEC, c->proto);
	if (fl < 0 || s < 0 || copy_options(c->sfd, s, c->domain) < 0)
		return;
	int r = rs_api_bypass_bind(b->ports, s, c->type, (const struct sockaddr *)c->sa,
				   (socklen_t)c->salen);
	if (r == -ENOENT) {
		b->passed++;
		return;
	}
	if (r < 0) {
		*resp = (struct seccomp_notif_resp){.id = c->req->id, .error = r};
		return;
	}
	fcntl(s, F_SETFL, fl);
	/* not installed (the caller is gone): ours closes, the port driver
	 * comes back when it finds the address free */
	if (!install(b, c, s))
		return;
	*resp = (struct seccomp_notif_resp){.id = c->req->id};
	b->bypassed++;
}

/* A send with MSG_FASTOPEN (the filter sends no other): on a TCP socket of
 * the host's not connected yet (bound to a published port, or a bypassed
 * connect undone with AF_UNSPEC, or a listener shut down) the kernel
 * would connect it to the address in the call, which the supervisor
 * cannot read for sendmsg and could not hold still for sendto: refused as
 * a host without TCP Fast Open would (EOPNOTSUPP). Elsewhere it goes on. */
static void handle_fastopen(struct rs_bypass *b, struct call *c, struct seccomp_notif_resp *resp)
{
	if (open_call(b, c, false) == 1 && c->type == SOCK_STREAM)
		*resp = (struct seccomp_notif_resp){.id = c->req->id, .error = -EOPNOTSUPP};
}

void rs_bypass_handle(struct rs_bypass *b, const struct seccomp_notif *req)
{
	struct call c = {.req = req, .pidfd = -1, .sfd = -1};
	/* by default the call goes on, in the namespace, as if we were not here */
	struct seccomp_notif_resp resp = {.id = req->id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};

	if (req->data.nr == __NR_connect)
		handle_call(b, &c, &resp);
	else if (req->data.nr == __NR_bind)
		handle_bind(b, &c, &resp);
	else if (req->data.nr == __NR_sendto || req->data.nr == __NR_sendmsg ||
		 req->data.nr == __NR_sendmmsg)
		handle_fastopen(b, &c, &resp);
	if (c.sfd >= 0)
		close(c.sfd);
	if (c.pidfd >= 0)
		close(c.pidfd);
	/* ENOENT: the caller is gone (a signal ended its call) */
	(void)!ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}
