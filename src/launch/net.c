/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The launcher's network helpers, run by the parent for the child's network
 * namespace: slirp4netns (ready-fd/exit-fd), pasta (foreground, its pid
 * file a pipe that says "ready") and our own libslirp helper
 * (net-embedded.c). All die with the launcher
 * (PR_SET_PDEATHSIG), so a killed launcher leaves no orphan.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/internal.h"
#include "launch/netemb.h"
#include "lib/sig.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

/* Output of BIN ARGS... (stdout and stderr), at most n-1 bytes, NUL-
 * terminated, through lib/spawn (5 s at most). Return: its exit code
 * (rs_spawn_exit_code), or -errno. */
static int run_capture(const char *const argv[], char *buf, size_t n)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	struct rs_spawn o = {.path = argv[0],
			     .argv = (char *const *)argv,
			     .envp = envp,
			     .flags = RS_SPAWN_STDOUT | RS_SPAWN_MERGE,
			     .out_max = n - 1,
			     .timeout_ms = 5000};
	struct rs_spawn_result res = {0};
	_cleanup_error_ struct rs_error *e = NULL;
	int r = rs_spawn_run(&o, &res, &e);
	snprintf(buf, n, "%s", res.out ? res.out : "");
	if (r == 0)
		r = rs_spawn_exit_code(res.status);
	rs_spawn_result_clear(&res);
	return r;
}

static bool want(enum rs_launch_tri t, bool supported, bool conflict, const char *flag,
		 struct rs_error **err, int *r)
{
	if (t == RS_TRI_FALSE)
		return false;
	if (t == RS_TRI_AUTO)
		return supported && !conflict;
	if (!supported)
		*r = rs_error_setx(err, ENOTSUP, "%s=true: this slirp4netns or kernel lacks it",
				   flag);
	else if (conflict)
		*r = rs_error_setx(err, EINVAL,
				   "%s=true conflicts with --detach-netns "
				   "(slirp4netns cannot open the namespace's path in its sandbox)",
				   flag);
	return true;
}

/* The date in pasta's --version ("pasta 2025_05_03.587980c", Debian's
 * "0.0~git20250503.587980c-2", Fedora's "0^20250503.g587980c"), as
 * YYYYMMDD, or 0 (Debian 12's says "unknown version"). */
static unsigned long pasta_date(const char *v)
{
	for (const char *c = v; *c; c++) {
		unsigned y, m, d;
		int k = 0;
		if ((sscanf(c, "%4u_%2u_%2u%n", &y, &m, &d, &k) == 3 && k == 10) ||
		    (sscanf(c, "%4u%2u%2u%n", &y, &m, &d, &k) == 3 && k == 8))
			if (y >= 2020 && y < 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31)
				return y * 10000ul + m * 100 + d;
	}
	return 0;
}

/* What this pasta can do, RootlessKit's way (an option it takes with
 * --version): --host-lo-to-ns-lo (passt 2024_10_30), and whether its
 * automatic forwarding scans the right side: before 2023_03_21 the scans
 * of -t auto and -T auto were swapped (passt commit 418f75a), so
 * "-t auto -T none" (the namespace's ports to the host, none back)
 * forwarded nothing. */
static void pasta_features(const char *bin, struct rs_net_plan *p)
{
	static char out[4096];
	const char *const probe[] = {bin, "--host-lo-to-ns-lo", "--version", NULL};
	const char *const version[] = {bin, "--version", NULL};

	if (run_capture(probe, out, sizeof(out)) == 0) {
		p->pasta_hostlo = p->pasta_fwd_fixed = true;
		return;
	}
	if (run_capture(version, out, sizeof(out)) == 0)
		p->pasta_fwd_fixed = pasta_date(out) >= 20230321;
}

int rs_net_prepare(const struct rs_launch_opts *o, struct rs_net_plan *p, rs_launch_warn_fn warn,
		   struct rs_error **err)
{
	static char help[16384];
	int r = 0;

	memset(p, 0, sizeof(*p));
	if (o->net == RS_NET_PASTA) {
		pasta_features(o->pasta_binary, p);
		if (!p->pasta_fwd_fixed && o->disable_host_loopback && o->port_driver &&
		    !strcmp(o->port_driver, "implicit") && warn)
			warn("this pasta (before 2023_03_21) forwards the namespace's ports only "
			     "with "
			     "its forwarding to the host's loopback on: --disable-host-loopback "
			     "cannot keep the namespace's 127.0.0.1 from the host's loopback ports "
			     "with --port-driver=implicit");
		return 0;
	}
	if (o->net != RS_NET_SLIRP4NETNS)
		return 0;
	/* RootlessKit's feature test: what `--help` names is supported */
	const char *const argv[] = {o->slirp4netns_binary, "--help", NULL};
	if (run_capture(argv, help, sizeof(help)) < 0)
		help[0] = '\0';
	bool sandbox = strstr(help, "--enable-sandbox") != NULL;
	bool seccomp = strstr(help, "--enable-seccomp") != NULL &&
		       prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
	p->sandbox = want(o->slirp4netns_sandbox, sandbox, o->detach_netns, "--slirp4netns-sandbox",
			  err, &r);
	if (r == 0)
		p->seccomp = want(o->slirp4netns_seccomp, seccomp, false, "--slirp4netns-seccomp",
				  err, &r);
	return r;
}

/* Address a.b.c.d of the network plus n, as text. */
static void host_addr(const unsigned char net[4], unsigned n, char *buf, size_t len)
{
	uint32_t h = ((uint32_t)net[0] << 24 | (uint32_t)net[1] << 16 | (uint32_t)net[2] << 8 |
		      net[3]) +
		     n;
	snprintf(buf, len, "%u.%u.%u.%u", h >> 24, (h >> 16) & 255, (h >> 8) & 255, h & 255);
}

static void arg(struct rs_net_argv *b, const char *s)
{
	if (b->n < (int)ARRAY_SIZE(b->v) - 1)
		b->v[b->n++] = (char *)s;
	b->v[b->n] = NULL;
}

_printf_(2, 3) static void argf(struct rs_net_argv *b, const char *fmt, ...)
{
	va_list ap;
	if (b->ns >= (int)ARRAY_SIZE(b->s))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s[b->ns], sizeof(b->s[0]), fmt, ap);
	va_end(ap);
	arg(b, b->s[b->ns++]);
}

int rs_net_child_netns(const struct rs_launch_opts *o, pid_t child, const char *state_dir)
{
	char path[4200];
	if (!o->detach_netns) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	/* Resolved in the child's root: with --copy-up=/run (Docker's and
	 * containerd's scripts) the state dir's /run/user is, in the child's
	 * mount namespace, a link to an absolute path that only its / has;
	 * /proc/PID/root/... would follow it in ours. */
	snprintf(path, sizeof(path), "/proc/%d/root", (int)child);
	int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/netns", state_dir + strspn(state_dir, "/"));
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) /* Linux < 5.6: the plain path */
		fd = openat(root, path, O_RDONLY | O_CLOEXEC);
	int e = errno;
	close(root);
	return fd < 0 ? -e : fd;
}

/* Where the helper finds the namespace: a pid in it (the child's, or with
 * --detach-netns pasta's holder), or for slirp4netns with --detach-netns
 * the bind mount the child made in its mount namespace, as an fd it
 * inherits. */
static void target(struct rs_net_argv *b, const struct rs_net_ctx *c, bool slirp, pid_t holder)
{
	if (!c->o->detach_netns || !slirp) {
		argf(b, "%d", (int)(holder > 0 ? holder : c->child));
		return;
	}
	arg(b, "--netns-type=path");
	argf(b, "--userns-path=/proc/%d/ns/user", (int)c->child);
	argf(b, "/proc/self/fd/%d", c->netns_fd);
}

/* pasta with --detach-netns: a process of ours that sits in STATE/netns
 * (and the child's user namespace) for pasta to join by pid, as it joins
 * the child's without --detach-netns; RootlessKit's none driver keeps such
 * a `sleep infinity`. pasta cannot take the namespace as an fd (it closes
 * every fd it did not open when it starts: passt 2024, Debian 13's) nor
 * by a path: the bind mount is in the child's mount namespace only, and
 * /proc/OURPID/fd is closed to pasta once it is in the child's user
 * namespace. Return: its pid, or -errno. */
static pid_t netns_holder(const struct rs_net_ctx *c)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)c->child);
	int userns = open(path, O_RDONLY | O_CLOEXEC);
	if (userns < 0)
		return -errno;
	pid_t parent = getpid(), p = fork();
	if (p == 0) {
		rs_signals_reset();
		/* the owner of the user namespace may join it, and then its
		 * network namespace; after that credential change, the
		 * parent-death signal is armed (it would be cleared) */
		if (setns(userns, CLONE_NEWUSER) < 0 || setns(c->netns_fd, CLONE_NEWNET) < 0)
			_exit(1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		for (;;)
			pause();
	}
	int e = errno;
	close(userns);
	return p < 0 ? -e : p;
}

void rs_net_slirp_argv(const struct rs_net_ctx *c, int ready_w, int exit_r, struct rs_net_argv *b)
{
	const struct rs_launch_opts *o = c->o;
	arg(b, o->slirp4netns_binary);
	arg(b, "--configure");
	argf(b, "--mtu=%u", o->mtu ? o->mtu : 65520);
	argf(b, "--cidr=%s", o->cidr ? o->cidr : "10.0.2.0/24");
	if (o->disable_host_loopback)
		arg(b, "--disable-host-loopback");
	if (o->ipv6)
		arg(b, "--enable-ipv6");
	/* against libslirp bugs (CVE-2019-14378, CVE-2020-1983) */
	if (c->plan->sandbox)
		arg(b, "--enable-sandbox");
	if (c->plan->seccomp)
		arg(b, "--enable-seccomp");
	if (c->slirp_api)
		argf(b, "--api-socket=%s", c->slirp_api);
	argf(b, "--ready-fd=%d", ready_w);
	argf(b, "--exit-fd=%d", exit_r);
	target(b, c, true, 0);
	arg(b, o->ifname ? o->ifname : "tap0");
}

/* pasta's readiness: since 2024 it closes every file descriptor it did not
 * open itself when it starts (a pipe's write end given as --pid=/proc/self/
 * fd/N is gone: "Couldn't open PID file", seen with Debian 13's passt), so
 * it writes its pid to this FIFO in the state dir, opened by name; we hold
 * the read end open first, so its open for writing does not block. */
#define PASTA_READY "pasta.ready"

static int pasta_fifo(const struct rs_net_ctx *c, struct rs_error **err)
{
	if (c->state_dir_fd < 0)
		return rs_error_setx(err, EINVAL, "pasta needs a state dir for its ready FIFO");
	(void)unlinkat(c->state_dir_fd, PASTA_READY, 0);
	if (mkfifoat(c->state_dir_fd, PASTA_READY, 0600) < 0)
		return rs_error_set(err, errno, "cannot create '%s/%s'", c->state_dir, PASTA_READY);
	int fd = openat(c->state_dir_fd, PASTA_READY,
			O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		(void)unlinkat(c->state_dir_fd, PASTA_READY, 0);
		return rs_error_set(err, e, "cannot open '%s/%s'", c->state_dir, PASTA_READY);
	}
	return fd;
}

void rs_net_pasta_argv(const struct rs_net_ctx *c, struct rs_net_argv *b, pid_t holder)
{
	const struct rs_launch_opts *o = c->o;
	char a[32];
	arg(b, o->pasta_binary);
	/* foreground: it stays our child, so it dies with us (no daemon to
	 * find and stop); its pid file, a pipe, is written once it is set up */
	arg(b, "--foreground");
	if (!o->debug)
		arg(b, "--quiet");
	arg(b, "--config-net");
	argf(b, "--ns-ifname=%s", o->ifname ? o->ifname : "tap0");
	argf(b, "--mtu=%u", o->mtu ? o->mtu : 65520);
	host_addr(c->net, 100, a, sizeof(a));
	argf(b, "--address=%s", a);
	argf(b, "--netmask=%u", c->prefix);
	host_addr(c->net, 2, a, sizeof(a));
	argf(b, "--gateway=%s", a);
	host_addr(c->net, 3, a, sizeof(a));
	argf(b, "--dns-forward=%s", a);
	if (!o->ipv6)
		arg(b, "--ipv4-only");
	bool implicit = o->port_driver && strcmp(o->port_driver, "implicit") == 0;
	if (o->disable_host_loopback) {
		/* no gateway-to-host mapping (RootlessKit's flag) */
		arg(b, "--no-map-gw");
		/* and none of the host's loopback ports reachable from the
		 * namespace's loopback (pasta's -T/-U auto, its default):
		 * RootlessKit leaves them on. A pasta with swapped scans
		 * forwards the namespace's ports (-t auto) only with -T auto,
		 * so there implicit keeps them (prepare warned) */
		if (c->plan->pasta_fwd_fixed || !implicit) {
			arg(b, "--tcp-ns=none");
			arg(b, "--udp-ns=none");
		}
	}
	argf(b, "--tcp-ports=%s", implicit ? "auto" : "none");
	argf(b, "--udp-ports=%s", implicit ? "auto" : "none");
	/* as RootlessKit: a forward from the host's loopback arrives from the
	 * namespace's, so a server bound to 127.0.0.1 inside gets it (passt
	 * 2024_10_30 made it opt-in; docker run -p 127.0.0.1:P:80 needs it) */
	if (c->plan->pasta_hostlo)
		arg(b, "--host-lo-to-ns-lo");
	argf(b, "--pid=%s/%s", c->state_dir, PASTA_READY);
	target(b, c, false, holder);
}

int rs_net_start(const struct rs_net_ctx *c, struct rs_netproc *np, struct rs_error **err)
{
	int ready[2], ex[2] = {-1, -1};
	struct rs_net_argv b = {0};
	bool slirp = c->o->net == RS_NET_SLIRP4NETNS;

	if (c->o->net == RS_NET_LIBSLIRP)
		return rs_netemb_start(c, np, err);
	np->name = slirp ? "slirp4netns" : "pasta";
	if (slirp) {
		if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
			return rs_error_set(err, errno, "cannot create pipes for %s", np->name);
		rs_net_slirp_argv(c, ready[1], ex[0], &b);
	} else {
		if (c->o->detach_netns && (np->holder = netns_holder(c)) < 0) {
			int e = (int)-np->holder;
			np->holder = 0;
			return rs_error_set(err, e,
					    "cannot start a process in '%s/netns' for pasta",
					    c->state_dir);
		}
		if ((ready[0] = pasta_fifo(c, err)) < 0)
			return ready[0];
		ready[1] = -1;
		np->fifo_dir = c->state_dir_fd;
		rs_net_pasta_argv(c, &b, np->holder);
	}
	if (c->warn && c->o->debug) {
		char line[1024] = "debug: running";
		for (int i = 0; i < b.n; i++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", b.v[i]);
		c->warn(line);
	}
	np->pid = fork();
	if (np->pid < 0)
		return rs_error_set(err, errno, "cannot fork %s", np->name);
	if (np->pid == 0) {
		rs_signals_reset();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* the fds the helper must keep */
		if (ready[1] >= 0)
			fcntl(ready[1], F_SETFD, 0);
		if (ex[0] >= 0)
			fcntl(ex[0], F_SETFD, 0);
		if (c->netns_fd >= 0)
			fcntl(c->netns_fd, F_SETFD, 0);
		/* they chat ("sent tapfd=5 for tap0"); failures are reported by
		 * the ready timeout and the exit status, details with --debug */
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			if (!c->o->debug)
				dup2(devnull, 2);
		}
		execv(b.v[0], b.v);
		_exit(127);
	}
	np->pidfd = (int)syscall(SYS_pidfd_open, np->pid, 0);
	if (ready[1] >= 0)
		close(ready[1]);
	np->ready_r = ready[0];
	if (ex[0] >= 0)
		close(ex[0]);
	np->exit_w = ex[1];
	return 0;
}

static void unlink_fifo(struct rs_netproc *np)
{
	if (np->fifo_dir >= 0)
		(void)unlinkat(np->fifo_dir, PASTA_READY, 0);
	np->fifo_dir = -1;
}

/* Until its ready fd is readable or the helper exits (its pidfd), ms at
 * most. Return: 0 readable, -EPIPE it exited (*st, np->pid 0), -ETIMEDOUT. */
static int ready_or_exit(struct rs_netproc *np, int ms, int *st)
{
	struct pollfd pf[2] = {{.fd = np->ready_r, .events = POLLIN},
			       {.fd = np->pidfd, .events = POLLIN}};
	/* without a pidfd, in slices: a helper that exits before it opened
	 * the FIFO never makes it readable (no writer came) */
	int slice = np->pidfd >= 0 ? ms : 100;
	for (int t = 0; t < ms; t += slice) {
		int n = poll(pf, np->pidfd >= 0 ? 2 : 1, slice);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && pf[0].revents)
			return 0;
		if (waitpid(np->pid, st, WNOHANG) == np->pid) {
			np->pid = 0;
			return -EPIPE;
		}
	}
	return -ETIMEDOUT;
}

int rs_net_wait(struct rs_netproc *np, struct rs_error **err)
{
	if (np->embedded)
		return rs_netemb_wait(np, err);
	char c;
	int st = -1, r = ready_or_exit(np, 10000, &st);

	/* readable: the byte, or EOF when it exited after all */
	if (r == 0)
		r = rs_read_full(np->ready_r, &c, 1, 0);
	unlink_fifo(np);
	if (r == 0)
		return 0;
	/* it closed the pipe by exiting: collect its status */
	if (np->pid > 0 && r != -ETIMEDOUT && waitpid(np->pid, &st, 0) == np->pid)
		np->pid = 0;
	else if (np->pid > 0)
		st = -1;
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return rs_error_setx(err, ENOENT, "cannot run %s", np->name);
	char how[64];
	if (st == -1)
		snprintf(how, sizeof(how), "no answer in 10 s");
	else if (WIFEXITED(st))
		snprintf(how, sizeof(how), "it exited with status %d", WEXITSTATUS(st));
	else
		snprintf(how, sizeof(how), "it was killed by signal %d", WTERMSIG(st));
	return rs_error_setx(
		err, EIO,
		"%s did not set up the network (%s): is /dev/net/tun usable? "
		"see 'rootless-setup check --rule network.tun', and --debug for its messages",
		np->name, how);
}

void rs_net_stop(struct rs_netproc *np)
{
	unlink_fifo(np);
	if (np->exit_w >= 0)
		close(np->exit_w);
	if (np->ready_r >= 0)
		close(np->ready_r);
	np->exit_w = np->ready_r = -1;
	/* the helper is killed once the command is done, as RootlessKit kills
	 * its slirp4netns and pasta (a cancelled exec.CommandContext): nothing
	 * of theirs outlives the namespace, and slirp4netns took ~14 ms here
	 * to leave on its own after its exit-fd closed, added to every
	 * launch's exit (the exit-fd still ends it if the launcher dies) */
	if (np->pid > 0)
		rs_kill_reap(np->pid);
	if (np->holder > 0)
		rs_kill_reap(np->holder);
	np->pid = np->holder = 0;
	if (np->pidfd >= 0)
		close(np->pidfd);
	np->pidfd = -1;
}
