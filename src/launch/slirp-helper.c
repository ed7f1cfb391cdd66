/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The embedded network's helper (`rootless-setup __net-helper`, started by
 * net-embedded.c): libslirp on the launch's tap device. It gets its
 * settings on the control socket, loads libslirp and libseccomp, creates
 * the stack, copies the host's /etc/resolv.conf, enters its sandbox
 * (slirp-sandbox.c) and says "ready"; only then does it read a packet.
 * Then one poll loop: frames from the tap into libslirp, libslirp's sockets
 * and timers, and the launcher's port-forward requests (libslirp's
 * slirp_add_hostxfwd, as slirp4netns' add_hostfwd API). It leaves when the
 * control socket closes (the launcher is gone), when the tap goes away
 * (the namespace is gone), or by SIGKILL: the launcher kills it once the
 * command is done, and its parent-death signal when the launcher dies.
 *
 * The way it drives libslirp (one poll over the tap, libslirp's own fds
 * from slirp_pollfds_fill and its timers) is the one slirp4netns and QEMU
 * use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <slirp/libslirp.h>
#include "host/libs.h"
#include "launch/netemb.h"
#include "lib/macro.h"

enum {
	FRAME_MAX = 65536,    /* a tap frame: MTU 65521 and the Ethernet header */
	FRAMES_PER_WAKE = 64, /* then libslirp's sockets get their turn */
	RESOLV_MAX = 65536,
	CFG_WAIT_MS = 10000,
};

struct timer {
	SlirpTimerCb cb;
	void *opaque;
	int64_t expire_ms; /* -1: not armed */
	struct timer *next;
};

struct helper {
	Slirp *slirp;
	int tap, ctl;
	struct timer *timers;
	struct pollfd *pfd;
	size_t npfd, cappfd;
	uint8_t *frame;
};

static rs_netemb_log_fn log_fn; /* set with --debug */

_printf_(1, 2) static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(buf);
}

static void glib_log(const char *domain, int level _unused_, const char *msg, void *data _unused_)
{
	say("%s: %s", domain ? domain : "glib", msg);
}

/* ---- libslirp's callbacks ---- */

static ssize_t cb_send_packet(const void *pkt, size_t len, void *opaque)
{
	struct helper *h = opaque;
	ssize_t w;
	/* a frame the namespace's queue cannot take is dropped; TCP resends */
	do
		w = write(h->tap, pkt, len);
	while (w < 0 && errno == EINTR);
	return w;
}

static void cb_guest_error(const char *msg, void *opaque _unused_)
{
	say("libslirp: the namespace sent something wrong: %s", msg);
}

static int64_t cb_clock_ns(void *opaque _unused_)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct helper *h = opaque;
	struct timer *t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	t->cb = cb;
	t->opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = h->timers;
	h->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct helper *h = opaque;
	for (struct timer **pp = &h->timers; *pp; pp = &(*pp)->next)
		if (*pp == timer) {
			*pp = (*pp)->next;
			free(timer);
			return;
		}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque _unused_)
{
	((struct timer *)timer)->expire_ms = expire_ms;
}

/* libslirp's fds are polled through slirp_pollfds_fill: nothing to do */
static void cb_fd(int fd _unused_, void *opaque _unused_)
{
}

static void cb_notify(void *opaque _unused_)
{
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_fd,
	.unregister_poll_fd = cb_fd,
	.notify = cb_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct helper *h = opaque;
	if (h->npfd == h->cappfd) {
		size_t cap = h->cappfd ? 2 * h->cappfd : 64;
		struct pollfd *p = realloc(h->pfd, cap * sizeof(*p));
		if (!p)
			abort();
		h->pfd = p;
		h->cappfd = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	h->pfd[h->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)h->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct helper *h = opaque;
	short r = idx >= 0 && (size_t)idx < h->npfd ? h->pfd[idx].revents : 0;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* ---- timers ---- */

static void timers_timeout(struct helper *h, uint32_t *timeout)
{
	int64_t now = cb_clock_ns(NULL) / 1000000;
	for (struct timer *t = h->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		int64_t d = t->expire_ms - now;
		if (d < 0)
			d = 0;
		if ((uint64_t)d < *timeout)
			*timeout = (uint32_t)d;
	}
}

static void timers_run(struct helper *h)
{
	int64_t now = cb_clock_ns(NULL) / 1000000;
	/* a callback may arm or free timers: start over after each */
	for (bool again = true; again;) {
		again = false;
		for (struct timer *t = h->timers; t; t = t->next)
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->opaque);
				again = true;
				break;
			}
	}
}

/* ---- the stack ---- */

static Slirp *new_stack(const struct rs_netemb_cfg *c, struct helper *h)
{
	SlirpConfig s = {0};
	uint32_t net = (uint32_t)c->net[0] << 24 | (uint32_t)c->net[1] << 16 |
		       (uint32_t)c->net[2] << 8 | c->net[3];
	s.in_enabled = true;
	s.vnetwork.s_addr = htonl(net);
	s.vnetmask.s_addr = htonl(~0u << (32 - c->prefix));
	s.vhost.s_addr = htonl(net + 2);
	s.vdhcp_start.s_addr = htonl(net + 15);
	s.vnameserver.s_addr = htonl(net + 3);
	s.in6_enabled = c->ipv6;
	inet_pton(AF_INET6, "fd00::", &s.vprefix_addr6);
	s.vprefix_len = 64;
	inet_pton(AF_INET6, "fd00::2", &s.vhost6);
	inet_pton(AF_INET6, "fd00::3", &s.vnameserver6);
	s.if_mtu = s.if_mru = c->mtu;
	s.disable_host_loopback = c->disable_host_loopback;
	/* the namespace is configured statically: no DHCP server (libslirp's
	 * BOOTP parser had its CVE-2021-3592) where libslirp has the switch
	 * (4.7: version 4); an older one answers DHCP */
	s.disable_dhcp = true;
	for (uint32_t v = 4; v >= 1; v--) {
		s.version = v;
		Slirp *sl = slirp_new(&s, &callbacks, h);
		if (sl)
			return sl;
	}
	return NULL;
}

static void tap_input(struct helper *h)
{
	for (int i = 0; i < FRAMES_PER_WAKE; i++) {
		ssize_t n = read(h->tap, h->frame, FRAME_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* the namespace, and its tap, are gone */
			say("the tap device is gone (%s)", n < 0 ? strerror(errno) : "EOF");
			_exit(0);
		}
		slirp_input(h->slirp, h->frame, (int)n);
	}
}

static socklen_t fwd_addr(const struct rs_netemb_fwd *f, const uint8_t *a, uint16_t port,
			  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (f->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, a, 4);
	return sizeof(*s4);
}

/* One request from the launcher. Return: false when the launcher is gone. */
static bool ctl_input(struct helper *h)
{
	struct rs_netemb_fwd f;
	struct rs_netemb_reply rep = {0};
	struct sockaddr_storage ha, ga;

	ssize_t n = recv(h->ctl, &f, sizeof(f), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	rep.op = f.op;
	rep.seq = f.seq;
	if (n != (ssize_t)sizeof(f) || (f.op != RS_NETEMB_ADD && f.op != RS_NETEMB_REMOVE)) {
		rep.err = EINVAL;
	} else {
		socklen_t hl = fwd_addr(&f, f.host_addr, f.host_port, &ha);
		int flags = (f.udp ? SLIRP_HOSTFWD_UDP : 0) | (f.v6 ? SLIRP_HOSTFWD_V6ONLY : 0);
		errno = 0;
		int r = f.op == RS_NETEMB_ADD
				? slirp_add_hostxfwd(h->slirp, (struct sockaddr *)&ha, hl,
						     (struct sockaddr *)&ga,
						     fwd_addr(&f, f.guest_addr, f.guest_port, &ga),
						     flags)
				: slirp_remove_hostxfwd(h->slirp, (struct sockaddr *)&ha, hl,
							flags);
		if (r < 0)
			rep.err = errno ? errno : f.op == RS_NETEMB_ADD ? EADDRINUSE : ENOENT;
		say("%s %s port %u: %s", f.op == RS_NETEMB_ADD ? "add" : "remove",
		    f.udp ? "udp" : "tcp", f.host_port, rep.err ? strerror(rep.err) : "done");
	}
	return write(h->ctl, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) || errno != EPIPE;
}

_noreturn_ static void serve(struct helper *h)
{
	for (;;) {
		uint32_t timeout = UINT32_MAX;
		h->npfd = 0;
		add_poll(h->tap, SLIRP_POLL_IN, h);
		add_poll(h->ctl, SLIRP_POLL_IN, h);
		slirp_pollfds_fill(h->slirp, &timeout, add_poll, h);
		timers_timeout(h, &timeout);
		int n = poll(h->pfd, h->npfd, timeout > INT_MAX ? -1 : (int)timeout);
		if (n < 0 && errno != EINTR)
			_exit(1);
		/* libslirp first: slirp_pollfds_poll sets its clock, which a
		 * frame's new socket takes its expiry from. Before the first
		 * call the clock reads 0 (libslirp 4.7), and an ICMP echo in
		 * the first frames got a socket already expired, closed before
		 * the reply came back. */
		slirp_pollfds_poll(h->slirp, n < 0, get_revents, h);
		timers_run(h);
		/* new sockets (tap_input, a port added) are not in the poll
		 * array yet: libslirp polls them next time */
		if (n > 0 && h->pfd[0].revents)
			tap_input(h);
		if (n > 0 && h->pfd[1].revents && !ctl_input(h)) {
			say("the launcher is gone");
			_exit(0);
		}
	}
}

/* ---- start-up ---- */

static int read_cfg(int ctl, struct rs_netemb_cfg *c)
{
	struct pollfd pf = {.fd = ctl, .events = POLLIN};
	if (poll(&pf, 1, CFG_WAIT_MS) != 1)
		return -ETIMEDOUT;
	ssize_t n = recv(ctl, c, sizeof(*c), 0);
	if (n != (ssize_t)sizeof(*c) || c->magic != RS_NETEMB_MAGIC || c->prefix < 8 ||
	    c->prefix > 30 || c->mtu < 68 || c->mtu > 65521)
		return -EINVAL;
	return 0;
}

/* The host's resolvers, for libslirp's DNS forwarder: the file as it is
 * (libslirp reads its nameserver lines; we parse nothing), followed through
 * any links now, as the sandbox will not have them. */
static size_t read_resolv(char *buf, size_t max)
{
	size_t got = 0;
	int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (ssize_t n; got < max && (n = read(fd, buf + got, max - got)) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return got;
}

static int start(struct helper *h, const struct rs_netemb_cfg *c, char *why, size_t wl)
{
	static char resolv[RESOLV_MAX];
	/* libslirp (and glib) and libseccomp now: the sandbox hides them */
	if (!slirp_version_string()) {
		snprintf(why, wl, "%s", rs_libs_error() ? rs_libs_error() : "cannot load libslirp");
		return -ENOSYS;
	}
	rs_libs_glib_log_handler(glib_log, NULL);
	void *filter = rs_netemb_seccomp_prepare(why, wl);
	if (!filter)
		return -ENOSYS;
	say("libslirp %s", slirp_version_string());
	h->slirp = new_stack(c, h);
	h->frame = malloc(FRAME_MAX);
	if (!h->slirp || !h->frame) {
		snprintf(why, wl, "libslirp refused the settings (MTU %u, /%u)", c->mtu, c->prefix);
		return -EINVAL;
	}
	size_t n = read_resolv(resolv, sizeof(resolv));
	int r = rs_netemb_sandbox(resolv, n, RS_NETEMB_CTL_FD, why, wl);
	if (r == 0 && fcntl(h->tap, F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r == 0)
		r = rs_netemb_seccomp_load(filter, why, wl);
	return r;
}

int rs_netemb_helper_main(rs_netemb_log_fn log)
{
	struct helper h = {.tap = RS_NETEMB_TAP_FD, .ctl = RS_NETEMB_CTL_FD};
	struct rs_netemb_cfg c;
	struct rs_netemb_reply rep = {.op = RS_NETEMB_READY};

	/* libslirp writes to sockets whose peer may be gone */
	signal(SIGPIPE, SIG_IGN);
	if (read_cfg(h.ctl, &c) < 0)
		return 1;
	log_fn = c.debug ? log : NULL;
	if (getppid() != c.launcher)
		return 1;
	int r = start(&h, &c, rep.msg, sizeof(rep.msg));
	rep.err = -r;
	if (write(h.ctl, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) || r < 0) {
		say("%s", rep.msg);
		free(h.frame);
		return 1;
	}
	serve(&h);
}
