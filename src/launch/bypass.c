/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --net-bypass: the seccomp filter the child installs before exec, its
 * listener's way to the launcher, and the launcher's supervisor thread
 * (bypass.h; the answers are bypass-notify.c's). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "host/libs.h"
#include "launch/bypass.h"
#include "lib/io.h"
#include "lib/macro.h"
#include "lib/xalloc.h"

/* The child's message: the namespace's networks, with the listener. */
#define NETS_MAX 64
struct hello {
	unsigned long long netns_dev, netns_ino;
	unsigned n;
	struct rs_bypass_net nets[NETS_MAX];
};

/* connect(2) and bind(2), and a send with MSG_FASTOPEN (rare: TCP Fast
 * Open), which the kernel would turn into a connect of a socket not
 * connected yet to an address the supervisor never saw. Return: 0 or
 * -errno. */
static int add_rules(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp fo2 = SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN);
	const struct scmp_arg_cmp fo3 = SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN);
	int r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0, NULL);
	if (r == 0)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(bind), 0, NULL);
	if (r == 0)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, &fo3);
	if (r == 0)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmsg), 1, &fo2);
	if (r == 0)
		r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmmsg), 1, &fo3);
	return r;
}

void *rs_bypass_prepare(const struct rs_launch_opts *o, struct rs_error **err)
{
	struct rs_bypass_rules r = {0};
	for (size_t i = 0; i < o->net_bypass.n; i++)
		if (rs_bypass_rules_add(&r, o->net_bypass.v[i]) < 0) {
			rs_bypass_rules_free(&r);
			rs_error_setx(err, EINVAL, "bad --net-bypass '%s'", o->net_bypass.v[i]);
			return NULL;
		}
	rs_bypass_rules_free(&r);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		const char *why = rs_libs_error();
		rs_error_setx(err, ENOSYS, "--net-bypass needs libseccomp: %s",
			      why ? why : "seccomp_init failed");
		return NULL;
	}
	/* no no_new_privs: root of the user namespace may load a filter
	 * without it, and setuid programs inside (newuidmap) keep working.
	 * Another ABI's calls (i386, x32) are let through: not bypassed. */
	int r1 = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	int r2 = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	int r3 = add_rules(ctx);
	if (r1 < 0 || r2 < 0 || r3 < 0) {
		int e = r3 < 0 ? -r3 : r2 < 0 ? -r2 : -r1;
		seccomp_release(ctx);
		rs_error_setx(err, e,
			      "--net-bypass needs seccomp user notification (Linux 5.5 and "
			      "libseccomp 2.5): %s",
			      strerror(e));
		return NULL;
	}
	return ctx;
}

void rs_bypass_filter_free(void *filter)
{
	if (filter)
		seccomp_release(filter);
}

static unsigned prefix_of(const unsigned char *m, size_t len)
{
	unsigned p = 0;
	for (size_t i = 0; i < len && m[i] == 0xff; i++)
		p += 8;
	if (p / 8 < len)
		for (unsigned char c = m[p / 8]; c & 0x80; c = (unsigned char)(c << 1))
			p++;
	return p;
}

/* Every address of the namespace's interfaces, as its network. */
static void own_networks(struct hello *h)
{
	struct ifaddrs *ifa = NULL;
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i && h->n < NETS_MAX; i = i->ifa_next) {
		if (!i->ifa_addr || !i->ifa_netmask ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		struct rs_bypass_net *n = &h->nets[h->n++];
		uint16_t port;
		socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
								  : sizeof(struct sockaddr_in6);
		struct rs_bypass_net mask;
		rs_bypass_sockaddr(i->ifa_addr, len, n, &port);
		rs_bypass_sockaddr(i->ifa_netmask, len, &mask, &port);
		n->prefix = prefix_of(mask.addr, n->family == AF_INET ? 4 : 16);
		for (size_t k = 0; k < sizeof(n->addr); k++)
			n->addr[k] &= mask.addr[k];
	}
	freeifaddrs(ifa);
}

int rs_bypass_child(void *filter, int sock, char *why, size_t whylen)
{
	struct hello h = {0};
	struct stat st;
	char go;

	own_networks(&h);
	if (stat("/proc/self/ns/net", &st) == 0)
		h.netns_dev = st.st_dev, h.netns_ino = st.st_ino;
	int r = seccomp_load(filter);
	if (r < 0) {
		snprintf(why, whylen, "cannot load the --net-bypass seccomp filter: %s",
			 strerror(-r));
		return r;
	}
	int fd = seccomp_notify_fd(filter);
	if (fd < 0) {
		snprintf(why, whylen, "the --net-bypass seccomp filter has no listener: %s",
			 strerror(-fd));
		return fd;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	struct iovec iov = {&h, sizeof(h)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
	int e = errno;
	/* the listener must not stay here: a connect of ours would wait on
	 * ourselves */
	close(fd);
	if (n != (ssize_t)sizeof(h)) {
		snprintf(why, whylen, "cannot hand the --net-bypass listener over: %s",
			 strerror(e));
		return -e;
	}
	if (rs_read_full(sock, &go, 1, -1) < 0 || go != 'b')
		_exit(RS_LAUNCH_EXIT_SETUP); /* the launcher has said why */
	return 0;
}

static int recv_hello(int sock, struct hello *h, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {h, sizeof(*h)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct pollfd p = {.fd = sock, .events = POLLIN};

	*fd = -1;
	if (poll(&p, 1, 10000) <= 0)
		return -ETIMEDOUT;
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*h) || *fd < 0 || h->n > NETS_MAX) {
		if (*fd >= 0)
			close(*fd);
		return -EPROTO;
	}
	return 0;
}

static void *supervise(void *arg)
{
	struct rs_bypass *b = arg;
	struct pollfd p[2] = {{.fd = b->listener, .events = POLLIN},
			      {.fd = b->stop, .events = POLLIN}};

	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		/* POLLHUP: no process of the launch is left to ask */
		if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
		struct seccomp_notif req;
		memset(&req, 0, sizeof(req));
		if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			continue; /* ENOENT: the caller left before we read it */
		rs_bypass_handle(b, &req);
	}
	return NULL;
}

/* SECCOMP_IOCTL_NOTIF_ADDFD (Linux 5.9): a kernel that has it checks the
 * source fd and says EBADF for -1; one without it says EINVAL. */
static bool kernel_has_addfd(int listener)
{
	struct seccomp_notif_addfd a = {.srcfd = (__u32)-1};
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && errno == EBADF;
}

static int start_thread(struct rs_bypass *b, const struct hello *h, struct rs_error **err)
{
	struct stat st;

	b->netns_dev = h->netns_dev;
	b->netns_ino = h->netns_ino;
	if (stat("/proc/self/ns/net", &st) < 0)
		return rs_error_set(err, errno, "cannot read our network namespace");
	b->host_dev = st.st_dev;
	b->host_ino = st.st_ino;
	if (!kernel_has_addfd(b->listener))
		return rs_error_setx(err, ENOSYS,
				     "--net-bypass needs SECCOMP_IOCTL_NOTIF_ADDFD (Linux 5.9), "
				     "which this kernel lacks");
	b->stop = eventfd(0, EFD_CLOEXEC);
	if (b->stop < 0)
		return rs_error_set(err, errno, "cannot create an eventfd");
	int e = pthread_create(&b->thread, NULL, supervise, b);
	if (e)
		return rs_error_set(err, e, "cannot start the --net-bypass supervisor");
	b->started = true;
	return 0;
}

int rs_bypass_start(const struct rs_launch_opts *o, int sock, const unsigned char net[4],
		    unsigned prefix, struct rs_api_srv *ports, struct rs_bypass **out,
		    struct rs_error **err)
{
	_cleanup_free_ struct hello *h = rs_xmalloc(sizeof(*h));
	struct rs_bypass *b = rs_xmalloc(sizeof(*b));
	int r;

	*b = (struct rs_bypass){.listener = -1, .stop = -1, .ports = ports};
	*out = b;
	if ((r = recv_hello(sock, h, &b->listener)) < 0) {
		if (r != -EPIPE)
			rs_error_set(err, -r, "cannot receive the --net-bypass listener");
		return r;
	}
	for (size_t i = 0; i < o->net_bypass.n; i++)
		rs_bypass_rules_add(&b->allow, o->net_bypass.v[i]);
	rs_bypass_never_defaults(&b->never, net, prefix);
	b->never.v = rs_xrealloc(b->never.v, (b->never.n + h->n) * sizeof(*b->never.v));
	for (unsigned i = 0; i < h->n; i++)
		b->never.v[b->never.n++] = h->nets[i];
	if ((r = start_thread(b, h, err)) < 0)
		return r;
	if (rs_write_full(sock, "b", 1) < 0)
		return -EPIPE;
	return 0;
}

void rs_bypass_stop(struct rs_bypass *b)
{
	if (!b)
		return;
	if (b->started) {
		uint64_t one = 1;
		(void)!write(b->stop, &one, sizeof(one));
		pthread_join(b->thread, NULL);
	}
	/* calls still waiting now fail with ENOSYS */
	if (b->listener >= 0)
		close(b->listener);
	if (b->stop >= 0)
		close(b->stop);
	rs_bypass_rules_free(&b->allow);
	rs_bypass_rules_free(&b->never);
	free(b);
}
