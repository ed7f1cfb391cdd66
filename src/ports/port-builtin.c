/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builtin port driver. The server listens in the host's network
 * namespace; every connection (TCP) or peer (UDP) gets a socket made inside
 * the child's network namespace by a helper process that joined the child's
 * user and network namespaces (the server is outside the child's user
 * namespace, so it cannot setns(CLONE_NEWNET) there itself) and hands the
 * socket back over SCM_RIGHTS. TCP bytes move with splice(2) through a pipe
 * per direction: by a thread each (port-splice.c), or, past
 * RS_SPLICE_THREADED_MAX connections, in the launch's one epoll loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "ports/port.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

enum helper_op {
	HELPER_CONNECT,	    /* a socket connecting to addr */
	HELPER_TRANSPARENT, /* the same from src (port-transparent.c), else plain */
	HELPER_SETUP,	    /* set source-address propagation up: rep.ok */
};

struct helper_req {
	int op;
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	socklen_t len, srclen;
	struct sockaddr_storage addr, src;
};

struct helper_rep {
	int e;
	unsigned ok;
};

static int helper_socket(const struct helper_req *q)
{
	/* non-blocking: the helper never waits for a slow peer */
	if (q->op == HELPER_TRANSPARENT && q->type == SOCK_STREAM && q->srclen <= sizeof(q->src) &&
	    q->src.ss_family == q->addr.ss_family && rs_transparent_local(&q->addr, q->len)) {
		int s = rs_transparent_socket(&q->addr, q->len, &q->src, q->srclen, false);
		if (s >= 0)
			return s;
		/* the client's port in use here, say: not propagated */
	}
	int s = socket(q->addr.ss_family, q->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0 ||
	    (connect(s, (const struct sockaddr *)&q->addr, q->len) < 0 && errno != EINPROGRESS)) {
		int e = errno;
		if (s >= 0)
			close(s);
		return -e;
	}
	return s;
}

static void helper_reply(int fd, struct helper_rep *r, int s)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = r, .iov_len = sizeof(*r)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (s >= 0) {
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s, sizeof(int));
	}
	sendmsg(fd, &m, MSG_NOSIGNAL);
	if (s >= 0)
		close(s);
}

_noreturn_ static void helper_main(int fd, int userns, int netns)
{
	struct helper_req q;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* as the user namespace's owner we may join it, then its netns */
	if (setns(userns, CLONE_NEWUSER) < 0 || setns(netns, CLONE_NEWNET) < 0)
		_exit(1);
	/* its socket at 3 and nothing above (as the probe child does): the
	 * launch's pipes, lock, signalfd and sockets are not its to hold
	 * open, nor the namespace fds once joined */
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	fd = 3;
	close_range(4, ~0U, 0);
	for (;;) {
		ssize_t n = recv(fd, &q, sizeof(q), 0);
		if (n == 0 || (n < 0 && errno != EINTR))
			_exit(0);
		if (n != sizeof(q) || q.len > sizeof(q.addr))
			continue;
		struct helper_rep r = {0};
		int s = -1;
		if (q.op == HELPER_SETUP)
			r.ok = rs_transparent_setup(&r.e);
		else if ((s = helper_socket(&q)) < 0)
			r.e = -s;
		helper_reply(fd, &r, s);
	}
}

int rs_builtin_init(struct rs_portd *d, struct rs_error **err)
{
	int sp[2];
	d->diag_fd = -1;
	if (d->cfg->userns_fd < 0 || d->cfg->netns_fd < 0)
		return rs_error_setx(err, EINVAL,
				     "the builtin port driver needs the child's own network "
				     "namespace (--net=slirp4netns or --net=none)");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return rs_error_set(err, errno, "cannot create a socket pair");
	d->helper_pid = fork();
	if (d->helper_pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return rs_error_set(err, e, "cannot fork the port helper");
	}
	if (d->helper_pid == 0) {
		close(sp[0]);
		helper_main(sp[1], d->cfg->userns_fd, d->cfg->netns_fd);
	}
	close(sp[1]);
	d->helper_fd = sp[0];
	/* The helper runs as the user, who may stop it: every round trip is
	 * bounded, so the loop that also forwards the launch's signals never
	 * waits on it for long (a helper that misses the bound is ended). */
	struct timeval tv = {.tv_sec = RS_PORT_HELPER_TIMEOUT_SEC};
	setsockopt(d->helper_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(d->helper_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* one round trip: did it join the namespaces? */
	struct helper_req q = {.op = HELPER_CONNECT, .type = SOCK_DGRAM};
	socklen_t l;
	rs_ip_to_sockaddr("127.0.0.1", 9, &q.addr, &l);
	q.len = l;
	struct helper_rep r;
	if (send(d->helper_fd, &q, sizeof(q), MSG_NOSIGNAL) != sizeof(q) ||
	    recv(d->helper_fd, &r, sizeof(r), 0) != sizeof(r))
		return rs_error_setx(err, EIO,
				     "the port helper cannot join the child's user and network "
				     "namespaces");
	return 0;
}

/* Ends the helper: at stop, or when it missed a round trip (stopped, or
 * gone), after which no new connection is made (an answer it still owed
 * would be taken for the next request's). */
static void helper_end(struct rs_portd *d)
{
	if (d->helper_fd >= 0)
		close(d->helper_fd);
	d->helper_fd = -1;
	if (d->helper_pid > 0) /* not yet reaped, so the pid is still its own */
		rs_kill_reap(d->helper_pid);
	d->helper_pid = 0;
}

/* One round trip. Return: the socket it sent, or -errno (-EIO: the helper
 * is gone); *ok: its rep.ok. */
static int helper_call(struct rs_portd *d, const struct helper_req *q, unsigned *ok)
{
	struct helper_rep r = {0};
	int fd = -1;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &r, .iov_len = sizeof(r)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	if (d->helper_fd < 0)
		return -EIO;
	if (send(d->helper_fd, q, sizeof(*q), MSG_NOSIGNAL) != sizeof(*q) ||
	    recvmsg(d->helper_fd, &m, MSG_CMSG_CLOEXEC) != sizeof(r)) {
		helper_end(d);
		return -EIO;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (ok)
		*ok = r.ok;
	if (r.e)
		return fd >= 0 ? (close(fd), -r.e) : -r.e;
	return fd;
}

int rs_builtin_child_socket(struct rs_portd *d, int type, const struct sockaddr_storage *addr,
			    socklen_t len)
{
	struct helper_req q = {.op = HELPER_CONNECT, .type = type, .len = len, .addr = *addr};
	int fd = helper_call(d, &q, NULL);
	if (fd >= 0)
		rs_splice_local_cc(fd, &q.addr);
	return fd == -1 ? -EIO : fd;
}

/* Source-address propagation, set up on the first client it applies to;
 * a family it fails for is said once, and its clients are seen as
 * loopback as before. */
static bool transparent_ready(struct rs_portd *d, int family)
{
	unsigned bit = family == AF_INET ? 1U : 2U;
	if (!d->transparent_tried) {
		struct helper_req q = {.op = HELPER_SETUP};
		int e = helper_call(d, &q, &d->transparent_ok);
		d->transparent_tried = true;
		d->transparent_err = e < 0 ? -e : 0;
	}
	if (d->transparent_ok & bit)
		return true;
	if (!(d->transparent_warned & bit) && d->cfg->warn) {
		char m[256];
		snprintf(m, sizeof(m),
			 "warning: cannot propagate %s client addresses into the launch "
			 "(--source-ip-transparent)%s%s; its services see %s",
			 family == AF_INET ? "IPv4" : "IPv6", d->transparent_err ? ": " : "",
			 d->transparent_err ? strerror(d->transparent_err) : "",
			 family == AF_INET ? "127.0.0.1" : "::1");
		d->cfg->warn(m);
	}
	d->transparent_warned |= bit;
	return false;
}

/* The child's side: its IP, or 127.0.0.1 whatever the proto (RootlessKit
 * 2.x dials "tcp" or "udp" there, so a tcp6 port reaches an IPv4 server). */
void rs_builtin_child_addr(const struct rs_port *p, struct sockaddr_storage *sa, socklen_t *len)
{
	rs_ip_to_sockaddr(p->spec.child_ip[0] ? p->spec.child_ip : "127.0.0.1", p->spec.child_port,
			  sa, len);
}

static bool unspecified(const char *ip)
{
	return !ip[0] || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

/* The listening address, as Go's net.Listen gives RootlessKit's: tcp/udp
 * on an unspecified address (none, 0.0.0.0 or ::) is every address of
 * both families, one IPv6 socket that is not v6-only (IPv4 alone where the
 * host has no IPv6); tcp4/udp4 and tcp6/udp6 only their own family. */
static int listen_socket(const struct rs_port *p, struct rs_error **err)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fam = rs_portspec_family(&p->spec), v6only = fam == 6;
	bool any = unspecified(p->spec.parent_ip);
	const char *ip = !any ? p->spec.parent_ip : fam == 4 ? "0.0.0.0" : "::";
	int type = rs_portspec_is_udp(&p->spec) ? SOCK_DGRAM : SOCK_STREAM, one = 1;

	rs_ip_to_sockaddr(ip, p->spec.parent_port, &sa, &len);
	int fd = socket(sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && any && fam == 0) {
		rs_ip_to_sockaddr("0.0.0.0", p->spec.parent_port, &sa, &len);
		fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		goto fail;
	if (sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0))
		goto fail;
	return fd;
fail:;
	int e = errno;
	char spec[128];
	rs_portspec_format(&p->spec, spec, sizeof(spec));
	if (fd >= 0)
		close(fd);
	return rs_error_set(err, e, "cannot listen for %s", spec);
}

int rs_builtin_add(struct rs_portd *d, struct rs_port *p, struct rs_error **err)
{
	int fd = listen_socket(p, err);
	if (fd < 0)
		return fd;
	p->fd = fd;
	p->ev.kind = rs_portspec_is_udp(&p->spec) ? RS_EV_UDP_LISTEN : RS_EV_TCP_LISTEN;
	p->ev.obj = p;
	if (rs_portd_epoll_add(d, fd, EPOLLIN, &p->ev) < 0) {
		int e = errno;
		close(fd);
		return rs_error_setx(err, EIO, "cannot watch the port: %s", strerror(e));
	}
	return 0;
}

/* ---- TCP ---- */

struct dir {
	int src, dst;
	int pipe[2];
	size_t inpipe;
	bool eof, shut;
};

struct tcp_conn {
	bool dead;		      /* closed; freed after this batch of events */
	struct tcp_conn *prev, *next; /* d->tcp */
	int fd[2];		      /* 0: the host's client, 1: the child's side */
	struct rs_ev ev[2];
	struct dir dir[2];
};

static void tcp_free(struct rs_portd *d, struct tcp_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (d->tcp == c)
		d->tcp = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	for (int i = 0; i < 2; i++) {
		rs_portd_epoll_del(d, c->fd[i]);
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		for (int j = 0; j < 2; j++)
			if (c->dir[i].pipe[j] >= 0)
				close(c->dir[i].pipe[j]);
	}
	c->dead = true;
	/* the same batch of events may still name it */
	rs_portd_defer_free(d, c);
	d->conns--;
}

/* Moves what it can from src to dst. Return: 1 progress, 0 blocked, -1 the
 * connection failed. */
static int pump(struct dir *x, size_t cap)
{
	int progress = 0;
	const unsigned fl = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;
	if (!x->eof && x->inpipe < cap) {
		ssize_t r = splice(x->src, NULL, x->pipe[1], NULL, cap - x->inpipe, fl);
		if (r > 0)
			x->inpipe += (size_t)r, progress = 1;
		else if (r == 0)
			x->eof = true, progress = 1;
		else if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (x->inpipe > 0) {
		ssize_t r = splice(x->pipe[0], NULL, x->dst, NULL, x->inpipe, fl);
		if (r > 0)
			x->inpipe -= (size_t)r, progress = 1;
		else if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	if (x->eof && x->inpipe == 0 && !x->shut) {
		shutdown(x->dst, SHUT_WR);
		x->shut = true;
	}
	return progress;
}

static void tcp_event(struct rs_portd *d, struct tcp_conn *c)
{
	for (;;) {
		int a = pump(&c->dir[0], d->pipe_size), b = pump(&c->dir[1], d->pipe_size);
		if (a < 0 || b < 0 || (c->dir[0].shut && c->dir[1].shut)) {
			tcp_free(d, c);
			return;
		}
		if (!a && !b)
			return;
	}
}

static struct tcp_conn *tcp_new(struct rs_portd *d, int client, int child)
{
	struct tcp_conn *c = rs_xcalloc(1, sizeof(*c));
	c->fd[0] = client;
	c->fd[1] = child;
	c->next = d->tcp;
	if (d->tcp)
		d->tcp->prev = c;
	d->tcp = c;
	d->conns++;
	for (int i = 0; i < 2; i++)
		c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
	for (int i = 0; i < 2; i++) {
		struct dir *x = &c->dir[i];
		x->src = c->fd[i];
		x->dst = c->fd[1 - i];
		if (pipe2(x->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
			tcp_free(d, c);
			return NULL;
		}
		/* a bigger pipe moves more per splice; refused past the user's
		 * pipe-user-pages-soft, where the default size still works */
		int sz = fcntl(x->pipe[0], F_SETPIPE_SZ, d->pipe_size);
		if (sz > 0 && (unsigned)sz < d->pipe_size)
			d->pipe_size = (unsigned)sz;
	}
	for (int i = 0; i < 2; i++) {
		c->ev[i].kind = RS_EV_TCP_CONN;
		c->ev[i].obj = c;
		if (rs_portd_epoll_add(d, c->fd[i], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				       &c->ev[i]) < 0) {
			tcp_free(d, c);
			return NULL;
		}
	}
	return c;
}

/* The child's side of a connection from peer: from peer's own address
 * where that is on (port-transparent.c). */
static int tcp_child_socket(struct rs_portd *d, struct rs_port *p, struct sockaddr_storage *peer,
			    socklen_t plen)
{
	struct helper_req q = {.op = HELPER_CONNECT, .type = SOCK_STREAM};
	rs_builtin_child_addr(p, &q.addr, &q.len);
	if (d->transparent && rs_transparent_source(peer, &plen, q.addr.ss_family) &&
	    transparent_ready(d, q.addr.ss_family)) {
		q.op = HELPER_TRANSPARENT;
		q.src = *peer;
		q.srclen = plen;
	}
	int fd = helper_call(d, &q, NULL);
	if (fd >= 0)
		rs_splice_local_cc(fd, &q.addr);
	return fd == -1 ? -EIO : fd;
}

static void tcp_accept(struct rs_portd *d, struct rs_port *p)
{
	struct sockaddr_storage peer;
	for (;;) {
		socklen_t plen = sizeof(peer);
		int fd = accept4(p->fd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (d->conns + rs_splice_count(d->splice) >= d->conns_max) {
			close(fd); /* bounded: a flood costs the flood, not the launch */
			continue;
		}
		rs_splice_local_cc(fd, &peer);
		int cfd = tcp_child_socket(d, p, &peer, plen);
		if (cfd < 0) {
			close(fd);
			continue;
		}
		if (!d->splice)
			d->splice = rs_splice_new();
		if (rs_splice_start(d->splice, fd, cfd, d->pipe_size) == 0)
			continue;
		struct tcp_conn *c = tcp_new(d, fd, cfd);
		if (c)
			tcp_event(d, c);
	}
}

void rs_builtin_sweep(struct rs_portd *d, time_t now)
{
	for (struct rs_port *p = d->ports; p; p = p->next)
		rs_udp_sweep(d, p, now);
}

void rs_builtin_remove(struct rs_portd *d, struct rs_port *p)
{
	rs_udp_close_all(d, p);
	rs_portd_epoll_del(d, p->fd);
	if (p->fd >= 0)
		close(p->fd);
	/* established TCP connections go on, as with RootlessKit */
	p->fd = -1;
}

void rs_builtin_stop(struct rs_portd *d)
{
	while (d->tcp)
		tcp_free(d, d->tcp);
	rs_splice_stop(d->splice);
	d->splice = NULL;
	for (struct rs_port *p = d->ports; p; p = p->next)
		rs_builtin_remove(d, p);
	helper_end(d);
	if (d->diag_fd >= 0)
		close(d->diag_fd);
	d->diag_fd = -1;
}

void rs_builtin_event(struct rs_portd *d, struct rs_ev *ev, uint32_t events)
{
	(void)events;
	switch (ev->kind) {
	case RS_EV_TCP_LISTEN:
		if (((struct rs_port *)ev->obj)->fd >= 0)
			tcp_accept(d, ev->obj);
		break;
	case RS_EV_TCP_CONN:
		if (!((struct tcp_conn *)ev->obj)->dead)
			tcp_event(d, ev->obj);
		break;
	case RS_EV_UDP_LISTEN:
		if (((struct rs_port *)ev->obj)->fd >= 0)
			rs_udp_from_host(d, ev->obj);
		break;
	case RS_EV_UDP_FLOW:
		if (rs_udp_flow_open(ev->obj))
			rs_udp_from_child(d, ev->obj);
		break;
	case RS_EV_SIGNAL:
	case RS_EV_API_LISTEN:
	case RS_EV_API_CONN:
		break;
	}
}
