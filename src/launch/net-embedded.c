/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launcher's side of the embedded network (--net=libslirp; see
 * netemb.h): the tap device, made in the child's network namespace by a
 * short-lived process of ours that joined it (as slirp4netns makes its own),
 * and the helper that runs libslirp on it.
 *
 * The helper is a fresh image of our binary (/proc/self/exe __net-helper),
 * not a fork of the launcher: it parses packets from the namespace, so it
 * should hold nothing of the launcher's (its heap, its fds, its address
 * layout, which a fork would share with the launcher for as long as both
 * run), and what it holds is then exactly what it is given: the tap (fd 3),
 * the control socket (fd 4) and an empty environment. The exec costs a
 * millisecond or two, paid only by launches that use it; libslirp and
 * libseccomp are loaded there, never in the launcher.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "launch/internal.h"
#include "launch/netemb.h"
#include "lib/io.h"
#include "lib/spawn.h"

enum { TAP_WAIT_MS = 5000, READY_WAIT_MS = 10000 };

/* What the tap maker sends back, with the tap as SCM_RIGHTS. */
struct tap_result {
	int err;
	char what[96];
};

/* <linux/ipv6.h> clashes with glibc's <netinet/in.h> */
struct rs_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static void v4(const unsigned char net[4], unsigned plus, struct sockaddr *sa)
{
	struct sockaddr_in *s = (struct sockaddr_in *)sa;
	uint32_t h = ((uint32_t)net[0] << 24 | (uint32_t)net[1] << 16 | (uint32_t)net[2] << 8 |
		      net[3]) +
		     plus;
	memset(s, 0, sizeof(*s));
	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(h);
}

/* The namespace's IPv6: fd00::100/64 and a default route via libslirp's
 * fd00::2, static (as IPv4), so the command needs no router advertisement
 * before its first connection; no duplicate address detection (nothing
 * else is on the link), which would hold the address back a second. */
static int tap_ipv6(const char *ifname, int ifindex, struct tap_result *res)
{
	char p[128];
	snprintf(p, sizeof(p), "/proc/sys/net/ipv6/conf/%s/accept_dad", ifname);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "0", 1);
		close(fd);
	}
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct rs_in6_ifreq a = {.prefixlen = 64, .ifindex = ifindex};
	inet_pton(AF_INET6, "fd00::100", &a.addr);
	if (s < 0 || ioctl(s, SIOCSIFADDR, &a) < 0) {
		snprintf(res->what, sizeof(res->what), "cannot give '%s' fd00::100", ifname);
		return -errno;
	}
	struct in6_rtmsg rt = {.rtmsg_flags = RTF_UP | RTF_GATEWAY,
			       .rtmsg_metric = 1,
			       .rtmsg_ifindex = ifindex};
	inet_pton(AF_INET6, "fd00::2", &rt.rtmsg_gateway);
	int r = ioctl(s, SIOCADDRT, &rt) < 0 ? -errno : 0;
	if (r < 0)
		snprintf(res->what, sizeof(res->what), "cannot route IPv6 through fd00::2");
	close(s);
	return r;
}

/* Address .100 on the network, its netmask, MTU, up (the flags it has,
 * MULTICAST included), and the default route via .2 (libslirp's host). */
static int tap_config(const struct rs_net_ctx *c, const char *ifname, struct tap_result *res)
{
	struct ifreq ifr = {0};
	struct rtentry rt = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *step = "cannot configure";

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_mtu = (int)(c->o->mtu ? c->o->mtu : 65520);
	if (s < 0 || ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		step = "cannot set the MTU of";
		goto fail;
	}
	v4(c->net, 100, &ifr.ifr_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		goto fail;
	((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr = htonl(~0u << (32 - c->prefix));
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 || ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		step = "cannot bring up";
		goto fail;
	}
	/* the default route: destination and mask 0.0.0.0 */
	v4(c->net, 2, &rt.rt_gateway);
	rt.rt_dst.sa_family = rt.rt_genmask.sa_family = AF_INET;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = (char *)ifname;
	if (ioctl(s, SIOCADDRT, &rt) < 0) {
		step = "cannot route through";
		goto fail;
	}
	close(s);
	return c->o->ipv6 ? tap_ipv6(ifname, ifr.ifr_ifindex, res) : 0;
fail:;
	int e = errno;
	if (s >= 0)
		close(s);
	snprintf(res->what, sizeof(res->what), "%s '%s'", step, ifname);
	return -e;
}

/* In the tap maker, after it joined the namespaces. Return: the tap fd. */
static int tap_open(const struct rs_net_ctx *c, struct tap_result *res)
{
	const char *ifname = c->o->ifname ? c->o->ifname : "tap0";
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};

	/* opened here: a tun file belongs to the network namespace it was
	 * opened in, and the device is made there */
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(res->what, sizeof(res->what), "cannot open '/dev/net/tun'");
		return -errno;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		snprintf(res->what, sizeof(res->what), "cannot create the tap device '%s'", ifname);
		return -e;
	}
	int r = tap_config(c, ifname, res);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* The tap maker's fds (rs_spawn hands them on as 3, 4, 5). */
enum { TM_USERNS = 3, TM_NETNS, TM_SOCK };

/* In the tap maker (a child of ours, rs_spawn's fn): joins the namespaces,
 * makes and configures the tap, sends it back. Return: its exit status. */
static int tap_maker(void *arg)
{
	const struct rs_net_ctx *c = arg;
	struct tap_result res = {0};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &res, .iov_len = sizeof(res)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	int fd = -1;

	/* as the user namespace's owner we may join it, and then its
	 * network namespace, with the capabilities it gives */
	if (setns(TM_USERNS, CLONE_NEWUSER) < 0 || setns(TM_NETNS, CLONE_NEWNET) < 0) {
		res.err = errno;
		snprintf(res.what, sizeof(res.what), "cannot join the launch's network namespace");
	} else if ((fd = tap_open(c, &res)) < 0) {
		res.err = -fd;
	} else {
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(TM_SOCK, &m, MSG_NOSIGNAL) < 0 ? 1 : 0;
}

static int recv_tap(int sock, int *tap, struct tap_result *res)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = res, .iov_len = sizeof(*res)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct pollfd pf = {.fd = sock, .events = POLLIN};

	if (poll(&pf, 1, TAP_WAIT_MS) != 1)
		return -ETIMEDOUT;
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(*res))
		return -EPIPE;
	res->what[sizeof(res->what) - 1] = '\0';
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(tap, CMSG_DATA(cm), sizeof(int));
	if (res->err == 0 && *tap < 0)
		return -EPROTO;
	return -res->err;
}

static int make_tap(const struct rs_net_ctx *c, int *tap, struct rs_error **err)
{
	char p[64];
	struct tap_result res = {0};
	struct rs_child ch = {.pidfd = -1, .report = -1, .out = -1, .err = -1};
	int sp[2];

	snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)c->child);
	_cleanup_close_ int userns = open(p, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int own_net = c->netns_fd < 0
					      ? rs_net_child_netns(c->o, c->child, c->state_dir)
					      : -1;
	int netns = c->netns_fd >= 0 ? c->netns_fd : own_net;
	if (userns < 0 || netns < 0)
		return rs_error_set(err, userns < 0 ? errno : -netns,
				    "cannot open the launch's namespaces");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return rs_error_set(err, errno, "cannot create a socket pair");
	const int fds[] = {userns, netns, sp[1]};
	struct rs_spawn o = {.path = "tap maker",
			     .fn = tap_maker,
			     .arg = (void *)c,
			     .fds = fds,
			     .n_fds = ARRAY_SIZE(fds),
			     .timeout_ms = TAP_WAIT_MS};
	int r = rs_spawn_start(&o, &ch, err);
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		return r;
	}
	*tap = -1;
	r = recv_tap(sp[0], tap, &res);
	close(sp[0]);
	/* it is done once it sent (or failed to): killed and reaped */
	rs_child_kill(&ch);
	if (r == 0)
		return 0;
	if (*tap >= 0)
		close(*tap);
	if (r == -EACCES || r == -EPERM || r == -ENOENT || r == -ENODEV)
		return rs_error_setx(err, -r,
				     "%s: %s: is /dev/net/tun usable? see 'rootless-setup check "
				     "--rule network.tun'",
				     res.what[0] ? res.what : "cannot make the tap device",
				     strerror(-r));
	return rs_error_setx(err, -r, "%s: %s",
			     res.what[0] ? res.what : "cannot make the tap device",
			     r == -ETIMEDOUT ? "no answer in 5 s" : strerror(-r));
}

/* The helper process (lib/spawn): its own session, fds 0-2 on /dev/null
 * (2 ours with --debug), the tap and the control socket as 3 and 4, the
 * rest closed, an empty environment, the parent-death signal. */
static int helper_start(int tap, int ctl, bool debug, struct rs_child *ch, struct rs_error **err)
{
	static char *const argv[] = {"rootless-setup", RS_NETEMB_VERB, NULL};
	const int fds[] = {tap, ctl};
	_cleanup_close_ int nul = debug ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
	struct rs_spawn o = {.path = "/proc/self/exe",
			     .argv = argv,
			     .fds = fds,
			     .n_fds = ARRAY_SIZE(fds),
			     .flags = debug ? RS_SPAWN_STDIO : 0,
			     .stdio = {nul, nul, 2}};
	if (debug && nul < 0)
		return rs_error_set(err, errno, "cannot open '/dev/null'");
	return rs_spawn_start(&o, ch, err);
}

int rs_netemb_start(const struct rs_net_ctx *c, struct rs_netproc *np, struct rs_error **err)
{
	int tap = -1, sp[2];
	struct rs_netemb_cfg cfg = {.magic = RS_NETEMB_MAGIC,
				    .prefix = c->prefix,
				    .mtu = c->o->mtu ? c->o->mtu : 65520,
				    .ipv6 = c->o->ipv6,
				    .disable_host_loopback = c->o->disable_host_loopback,
				    .debug = c->o->debug,
				    .launcher = getpid()};

	np->name = "the embedded network's helper";
	np->embedded = true;
	memcpy(cfg.net, c->net, 4);
	if (make_tap(c, &tap, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		close(tap);
		return rs_error_set(err, errno, "cannot create a socket pair");
	}
	struct rs_child ch = {.pidfd = -1, .report = -1, .out = -1, .err = -1};
	int r = helper_start(tap, sp[1], c->o->debug, &ch, err);
	close(tap);
	close(sp[1]);
	if (r < 0) {
		close(sp[0]);
		return r;
	}
	/* a failed exec is its exit status 127 and the socket's EOF */
	if (ch.report >= 0)
		close(ch.report);
	np->pid = ch.pid;
	np->pidfd = ch.pidfd;
	np->ready_r = sp[0];
	/* it reads this first; the socket holds it until then */
	if (send(sp[0], &cfg, sizeof(cfg), MSG_NOSIGNAL) != (ssize_t)sizeof(cfg))
		return rs_error_set(err, errno, "cannot configure %s", np->name);
	return 0;
}

int rs_netemb_wait(struct rs_netproc *np, struct rs_error **err)
{
	struct rs_netemb_reply rep;
	int st = -1, r;
	uint64_t end = rs_now_ms() + READY_WAIT_MS;

	do
		r = rs_netemb_recv(np->ready_r, &rep, rs_ms_left(end));
	while (r == -EAGAIN);
	if (r == 0 && rep.op == RS_NETEMB_READY && rep.err == 0)
		return 0;
	if (r == 0 && rep.op == RS_NETEMB_READY)
		return rs_error_setx(err, rep.err, "the embedded network did not start: %s",
				     rep.msg[0] ? rep.msg : strerror(rep.err));
	/* it closed the socket by exiting: its status says why */
	if (r == -EPIPE && waitpid(np->pid, &st, 0) == np->pid)
		np->pid = 0;
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return rs_error_setx(err, ENOENT, "cannot run %s (/proc/self/exe)", np->name);
	char how[64];
	if (r == -ETIMEDOUT)
		snprintf(how, sizeof(how), "no answer in 10 s");
	else if (st != -1 && WIFSIGNALED(st))
		snprintf(how, sizeof(how), "it was killed by signal %d", WTERMSIG(st));
	else if (st != -1)
		snprintf(how, sizeof(how), "it exited with status %d", WEXITSTATUS(st));
	else
		snprintf(how, sizeof(how), "%s", strerror(-r));
	return rs_error_setx(err, EIO, "the embedded network did not start (%s); --debug shows why",
			     how);
}
