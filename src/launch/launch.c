/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host/idmap.h"
#include "launch/api.h"
#include "launch/internal.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

static const int fwd_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int rs_read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	while (got < n) {
		int p = poll(&pf, 1, timeout_ms);
		if (p < 0 && errno == EINTR)
			continue;
		if (p == 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

int rs_write_full(int fd, const void *buf, size_t n)
{
	while (n) {
		ssize_t r = write(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -errno;
		buf = (const char *)buf + r;
		n -= (size_t)r;
	}
	return 0;
}

int rs_launch_parse_propagation(const char *s, unsigned long *out)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
		{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
		{"slave", MS_SLAVE},     {"rslave", MS_SLAVE | MS_REC},
		{"shared", MS_SHARED},   {"rshared", MS_SHARED | MS_REC},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].flags;
			return 0;
		}
	return -EINVAL;
}

int rs_launch_parse_cidr(const char *s, unsigned char net[4], unsigned *prefix)
{
	_cleanup_free_ char *c = rs_xstrdup(s);
	char *slash = strchr(c, '/');
	struct in_addr a;
	uint64_t p;

	if (!slash || rs_parse_u64(slash + 1, 30, &p) < 0 || p < 8)
		return -EINVAL;
	*slash = '\0';
	if (inet_pton(AF_INET, c, &a) != 1)
		return -EINVAL;
	uint32_t h = ntohl(a.s_addr), mask = p ? ~0u << (32 - p) : 0;
	/* like RootlessKit: "10.0.2.0/24", not "10.0.2.100/24" */
	if (h & ~mask)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		net[i] = (unsigned char)(h >> (24 - 8 * i));
	*prefix = (unsigned)p;
	return 0;
}

static const char *clone_cause(int e)
{
	switch (e) {
	case EPERM:
		return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone), "
		       "or a seccomp filter forbids them";
	case EACCES:
		return "AppArmor (kernel.apparmor_restrict_unprivileged_userns) or SELinux denies "
		       "user namespaces to this program";
	case ENOSPC:
		return "user.max_user_namespaces is 0 or used up";
	case EINVAL:
		return "the kernel has no user namespace support";
	default:
		return "see 'rootless-setup check'";
	}
}

/* The maps to write, or single-id ones with a warning when the user has no
 * subordinate ids, no usable helpers, or no_new_privs (which makes the
 * setuid newuidmap powerless: RootlessKit#551 hangs there). */
static bool build_maps(const struct rs_host *h, struct rs_idmap *um, struct rs_idmap *gm,
		       rs_launch_warn_fn warn)
{
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_user u;
	char uid[16];
	bool single = true;

	rs_idmap_single(um, getuid());
	rs_idmap_single(gm, getgid());
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	if (rs_user_resolve(h, uid, &u, &e) < 0) {
		_cleanup_free_ char *m = rs_xasprintf("%s; using a single-id map (uid -> 0)", e->msg);
		warn(m);
		return true;
	}
	u.gid = getgid();
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
		warn("no_new_privs is set, so the setuid newuidmap cannot map subordinate ids; "
		     "using a single-id map (uid -> 0)");
	} else if (!rs_host_exists(h, "usr/bin/newuidmap") || !rs_host_exists(h, "usr/bin/newgidmap")) {
		warn("newuidmap/newgidmap are not installed; using a single-id map (uid -> 0)");
	} else if (rs_idmap_build(h, &u, false, um, NULL) < 0 || rs_idmap_build(h, &u, true, gm, NULL) < 0 ||
		   !um->subordinate || !gm->subordinate) {
		_cleanup_free_ char *m = rs_xasprintf("'%s' has no subordinate ids in /etc/subuid and "
						      "/etc/subgid; using a single-id map (uid -> 0)",
						      u.name);
		warn(m);
		rs_idmap_single(um, getuid());
		rs_idmap_single(gm, getgid());
	} else {
		single = false;
	}
	rs_user_clear(&u);
	return single;
}

struct slirp {
	char *api_path; /* for the slirp4netns port driver */
	pid_t pid;
	int exit_w; /* slirp4netns leaves when this closes */
	int ready_r;
};

static int slirp_start(const struct rs_launch_opts *o, pid_t child, struct slirp *s,
		       struct rs_error **err)
{
	int ready[2], ex[2];
	char a_mtu[32], a_ready[32], a_exit[32], a_pid[32], a_cidr[64];
	_cleanup_free_ char *a_api = o->port_driver && !strcmp(o->port_driver, "slirp4netns")
					     ? rs_xasprintf("--api-socket=%s", s->api_path)
					     : NULL;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
		return rs_error_set(err, errno, "cannot create pipes for slirp4netns");
	snprintf(a_mtu, sizeof(a_mtu), "--mtu=%u", o->mtu ? o->mtu : 65520);
	snprintf(a_ready, sizeof(a_ready), "--ready-fd=%d", ready[1]);
	snprintf(a_exit, sizeof(a_exit), "--exit-fd=%d", ex[0]);
	snprintf(a_pid, sizeof(a_pid), "%d", (int)child);
	snprintf(a_cidr, sizeof(a_cidr), "--cidr=%s", o->cidr ? o->cidr : "10.0.2.0/24");
	char *argv[13];
	int n = 0;
	argv[n++] = "slirp4netns";
	argv[n++] = "--configure";
	argv[n++] = a_mtu;
	argv[n++] = a_cidr;
	if (o->disable_host_loopback)
		argv[n++] = "--disable-host-loopback";
	/* RootlessKit's defaults against libslirp bugs (CVE-2019-14378, CVE-2020-1983) */
	argv[n++] = "--enable-seccomp";
	if (a_api)
		argv[n++] = a_api;
	argv[n++] = a_ready;
	argv[n++] = a_exit;
	argv[n++] = a_pid;
	argv[n++] = "tap0";
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return rs_error_set(err, errno, "cannot fork slirp4netns");
	if (s->pid == 0) {
		rs_signals_reset();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* the two fds slirp4netns must keep */
		fcntl(ready[1], F_SETFD, 0);
		fcntl(ex[0], F_SETFD, 0);
		/* it chats on both ("sent tapfd=5 for tap0"); failures are
		 * reported by the ready-fd timeout */
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(ready[1]);
	close(ex[0]);
	s->ready_r = ready[0];
	s->exit_w = ex[1];
	return 0;
}

static int slirp_wait(struct slirp *s, struct rs_error **err)
{
	char c;
	int r = rs_read_full(s->ready_r, &c, 1, 10000);
	if (r == 0)
		return 0;
	int st = 0;
	if (waitpid(s->pid, &st, WNOHANG) == s->pid && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return rs_error_setx(err, ENOENT, "slirp4netns is not installed");
	return rs_error_setx(err, EIO, "slirp4netns did not get ready (%s): is /dev/net/tun "
			     "usable? see 'rootless-setup check --rule network.tun'",
			     r == -ETIMEDOUT ? "timeout" : "it exited");
}

static void slirp_stop(struct slirp *s)
{
	if (s->pid <= 0)
		return;
	close(s->exit_w);
	close(s->ready_r);
	if (waitpid(s->pid, NULL, 0) < 0)
		kill(s->pid, SIGKILL);
	s->pid = 0;
}

static char *default_state_dir(const struct rs_launch_opts *o, struct rs_error **err)
{
	if (o->state_dir)
		return rs_xstrdup(o->state_dir);
	if (o->xdg_runtime_dir && o->xdg_runtime_dir[0] == '/')
		return rs_xasprintf("%s/rootless-setup/launch-%d", o->xdg_runtime_dir, (int)getpid());
	struct stat st;
	_cleanup_free_ char *run = rs_xasprintf("/run/user/%u", (unsigned)getuid());
	if (stat(run, &st) == 0 && st.st_uid == getuid())
		return rs_xasprintf("%s/rootless-setup/launch-%d", run, (int)getpid());
	rs_error_setx(err, ENOENT, "no XDG_RUNTIME_DIR and no /run/user/%u: pass --state-dir",
		      (unsigned)getuid());
	return NULL;
}

static unsigned long clone_flags(const struct rs_launch_opts *o)
{
	unsigned long f = CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD;
	if (o->net != RS_NET_HOST)
		f |= CLONE_NEWNET;
	if (o->cgroupns)
		f |= CLONE_NEWCGROUP;
	if (o->pidns)
		f |= CLONE_NEWPID;
	if (o->ipcns)
		f |= CLONE_NEWIPC;
	if (o->utsns)
		f |= CLONE_NEWUTS;
	return f;
}

struct run {
	const struct rs_launch_opts *o;
	struct rs_host *host;
	struct rs_state st;
	struct slirp slirp;
	struct rs_api_srv api;
	pid_t child;
	int p2c[2], c2p[2];
	int sfd;
	sigset_t oldmask;
};

/* Reads the child's answer: 'r' ready, or a failure report. */
static int child_answer(struct run *r, char want, struct rs_error **err)
{
	struct rs_child_msg m;
	char c;
	int rr = rs_read_full(r->c2p[0], &c, 1, -1);

	if (rr == -EPIPE && want == 0)
		return 0; /* exec went through: the pipe closed on exec */
	if (rr == 0 && c == want)
		return 0;
	if (rr == 0) {
		memcpy(&m, &c, 1);
		rr = rs_read_full(r->c2p[0], (char *)&m + 1, sizeof(m) - 1, 5000);
	}
	if (rr < 0) {
		rs_error_setx(err, EIO, "the launch child died during setup");
		return RS_LAUNCH_EXIT_SETUP;
	}
	m.msg[sizeof(m.msg) - 1] = '\0';
	rs_error_setx(err, m.err, "%s", m.msg);
	return m.code ? m.code : RS_LAUNCH_EXIT_SETUP;
}

static int forward_and_wait(struct run *r)
{
	struct signalfd_siginfo si;
	int st;

	for (;;) {
		ssize_t n = read(r->sfd, &si, sizeof(si));
		if (n != sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD) {
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0)
				if (p == r->child)
					return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			continue;
		}
		/* a tty's ^C already reached the command's process group: forwarding it
		 * too would deliver it twice (RootlessKit does) */
		if (si.ssi_code != SI_KERNEL)
			kill(r->child, (int)si.ssi_signo);
	}
}

/* The API server and port drivers (api.c), once the child's namespaces
 * exist and before the command runs, so -p ports are there when it starts. */
static int api_start(struct run *r, const unsigned char net[4], struct rs_error **err)
{
	const struct rs_launch_opts *o = r->o;
	char ip[16], dns[16];
	struct rs_api_cfg c = {.state_dir = r->st.dir, .state_dir_fd = r->st.dir_fd, .child = r->child,
			       .userns_fd = -1, .netns_fd = -1, .publish = &o->publish,
			       .slirp_api = r->slirp.api_path};
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", net[0], net[1], net[2], net[3] + 100);
	snprintf(dns, sizeof(dns), "%u.%u.%u.%u", net[0], net[1], net[2], net[3] + 3);
	c.net_driver = o->net == RS_NET_SLIRP4NETNS ? "slirp4netns" : o->net == RS_NET_NONE ? "none" : "host";
	if (o->net == RS_NET_SLIRP4NETNS)
		c.child_ip = ip, c.dns = dns;
	if (o->port_driver && rs_port_driver_parse(o->port_driver, &c.port_driver) < 0)
		return rs_error_setx(err, EINVAL, "unknown --port-driver '%s'", o->port_driver);
	if (o->net != RS_NET_HOST) {
		/* the launch's own child: its pid is not reused before we reap it */
		_cleanup_free_ char *u = rs_xasprintf("/proc/%d/ns/user", (int)r->child);
		_cleanup_free_ char *n = rs_xasprintf("/proc/%d/ns/net", (int)r->child);
		c.userns_fd = open(u, O_RDONLY | O_CLOEXEC);
		c.netns_fd = open(n, O_RDONLY | O_CLOEXEC);
	}
	int ret = rs_api_start(&c, &r->api, err);
	if (c.userns_fd >= 0)
		close(c.userns_fd);
	if (c.netns_fd >= 0)
		close(c.netns_fd);
	return ret;
}

static int setup(struct run *r, rs_launch_warn_fn warn, struct rs_error **err)
{
	const struct rs_launch_opts *o = r->o;
	struct rs_idmap um, gm;
	struct rs_child_args a = {.o = o, .state_dir = r->st.dir};
	unsigned char net[4] = {10, 0, 2, 0};
	unsigned prefix;
	int ret;

	r->slirp.api_path = rs_xasprintf("%s/.s4n.sock", r->st.dir);
	if (o->cidr && rs_launch_parse_cidr(o->cidr, net, &prefix) == 0)
		a.dns[0] = net[0], a.dns[1] = net[1], a.dns[2] = net[2], a.dns[3] = (unsigned char)(net[3] + 3);
	else
		a.dns[0] = 10, a.dns[1] = 0, a.dns[2] = 2, a.dns[3] = 3;
	a.single_map = build_maps(r->host, &um, &gm, warn);
	if (pipe2(r->p2c, O_CLOEXEC) < 0 || pipe2(r->c2p, O_CLOEXEC) < 0) {
		rs_error_set(err, errno, "cannot create pipes");
		return RS_LAUNCH_EXIT_SETUP;
	}
	a.from_parent = r->p2c[0];
	a.to_parent = r->c2p[1];
	r->child = (pid_t)syscall(SYS_clone, clone_flags(o), NULL, NULL, NULL, NULL);
	if (r->child < 0) {
		int e = errno;
		rs_error_setx(err, e, "cannot create the namespaces: %s (likely cause: %s)",
			      strerror(e), clone_cause(e));
		return RS_LAUNCH_EXIT_SETUP;
	}
	if (r->child == 0)
		rs_launch_child(&a);
	close(r->p2c[0]);
	close(r->c2p[1]);
	r->p2c[0] = r->c2p[1] = -1;
	if (rs_idmap_apply_pair(r->host, r->child, &um, &gm, err) < 0) {
		rs_error_wrap(err, "cannot map ids (AppArmor, an LSM or a seccomp filter may forbid "
			      "newuidmap)");
		return RS_LAUNCH_EXIT_SETUP;
	}
	rs_write_full(r->p2c[1], "m", 1);
	if (o->net == RS_NET_SLIRP4NETNS && slirp_start(o, r->child, &r->slirp, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if ((ret = child_answer(r, 'r', err)) != 0)
		return ret;
	if (o->net == RS_NET_SLIRP4NETNS && slirp_wait(&r->slirp, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if (api_start(r, net, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if (rs_state_publish(&r->st, r->child, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	rs_write_full(r->p2c[1], "g", 1);
	return child_answer(r, 0, err);
}

int rs_launch_run(const struct rs_launch_opts *o, rs_launch_warn_fn warn, struct rs_error **err)
{
	struct run r = {.o = o, .p2c = {-1, -1}, .c2p = {-1, -1}, .sfd = -1, .api = {.pidfd = -1}};
	sigset_t set;
	int ret;

	_cleanup_free_ char *dir = default_state_dir(o, err);
	if (!dir)
		return RS_LAUNCH_EXIT_SETUP;
	if (rs_host_open("/", &r.host, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if (rs_state_open(dir, o->state_dir_given, &r.st, err) < 0) {
		rs_host_free(r.host);
		return RS_LAUNCH_EXIT_SETUP;
	}
	/* blocked before clone, so no signal is lost or kills us half-way */
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaddset(&set, fwd_signals[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &r.oldmask);
	r.sfd = signalfd(-1, &set, SFD_CLOEXEC);
	ret = setup(&r, warn, err);
	if (ret != 0 && r.child > 0) {
		kill(r.child, SIGKILL);
		while (waitpid(r.child, NULL, 0) < 0 && errno == EINTR)
			;
	} else if (ret == 0) {
		ret = forward_and_wait(&r);
	}
	rs_api_stop(&r.api, r.st.dir_fd);
	slirp_stop(&r.slirp);
	if (r.slirp.api_path)
		unlinkat(r.st.dir_fd, ".s4n.sock", 0);
	free(r.slirp.api_path);
	for (int i = 0; i < 2; i++) {
		if (r.p2c[i] >= 0)
			close(r.p2c[i]);
		if (r.c2p[i] >= 0)
			close(r.c2p[i]);
	}
	if (r.sfd >= 0)
		close(r.sfd);
	sigprocmask(SIG_SETMASK, &r.oldmask, NULL);
	rs_state_close(&r.st);
	rs_host_free(r.host);
	return ret;
}
