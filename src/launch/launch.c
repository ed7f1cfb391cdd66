/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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
#include <libmount/libmount.h>
#include "host/idmap.h"
#include "launch/bypass.h"
#include "ports/api.h"
#include "launch/internal.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

static const int fwd_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int rs_launch_parse_propagation(const char *s, unsigned long *out)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
		{"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
		{"slave", MS_SLAVE},	 {"rslave", MS_SLAVE | MS_REC},
		{"shared", MS_SHARED},	 {"rshared", MS_SHARED | MS_REC},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].flags;
			return 0;
		}
	return -EINVAL;
}

int rs_launch_parse_tri(const char *s, enum rs_launch_tri *out)
{
	if (!strcmp(s, "auto"))
		*out = RS_TRI_AUTO;
	else if (!strcmp(s, "true") || !*s)
		*out = RS_TRI_TRUE;
	else if (!strcmp(s, "false"))
		*out = RS_TRI_FALSE;
	else
		return -EINVAL;
	return 0;
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
		return "unprivileged user namespaces are disabled "
		       "(kernel.unprivileged_userns_clone), "
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

/* --subid-source: static reads /etc/subuid and /etc/subgid, dynamic asks
 * getsubids (libsubid, nsswitch), auto tries the files and then getsubids.
 * Return: true when both maps hold subordinate ids. */
static bool subid_maps(const struct rs_host *h, const struct rs_launch_opts *o,
		       const struct rs_user *u, struct rs_idmap *um, struct rs_idmap *gm,
		       struct rs_error **e)
{
	if (o->subid_source != RS_SUBID_DYNAMIC && rs_idmap_build(h, u, false, um, NULL) == 0 &&
	    rs_idmap_build(h, u, true, gm, NULL) == 0 && um->subordinate && gm->subordinate)
		return true;
	if (o->subid_source == RS_SUBID_STATIC)
		return false;
	_cleanup_error_ struct rs_error *ignored = NULL;
	struct rs_error **where = o->subid_source == RS_SUBID_DYNAMIC ? e : &ignored;
	return rs_launch_dynamic_map(u, false, um, where) == 0 &&
	       rs_launch_dynamic_map(u, true, gm, where) == 0 && um->subordinate && gm->subordinate;
}

/* The maps to write, or single-id ones with a warning when the user has no
 * subordinate ids, no usable helpers, or no_new_privs (which makes the
 * setuid newuidmap powerless: RootlessKit#551 hangs there). */
static bool build_maps(const struct rs_host *h, const struct rs_launch_opts *o, struct rs_idmap *um,
		       struct rs_idmap *gm, rs_launch_warn_fn warn)
{
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_user u;
	char uid[16];
	bool single = true;

	rs_idmap_single(um, getuid());
	rs_idmap_single(gm, getgid());
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	if (rs_user_resolve(h, uid, &u, &e) < 0) {
		_cleanup_free_ char *m = rs_xasprintf("%s; using a single-id map (uid -> 0)",
						      e->msg);
		warn(m);
		return true;
	}
	u.gid = getgid();
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) {
		warn("no_new_privs is set, so the setuid newuidmap cannot map subordinate ids; "
		     "using a single-id map (uid -> 0)");
	} else if (!rs_host_exists(h, "usr/bin/newuidmap") ||
		   !rs_host_exists(h, "usr/bin/newgidmap")) {
		warn("newuidmap/newgidmap are not installed; using a single-id map (uid -> 0)");
	} else if (!subid_maps(h, o, &u, um, gm, &e)) {
		_cleanup_free_ char *m =
			e ? rs_xasprintf("%s; using a single-id map (uid -> 0)", e->msg)
			  : rs_xasprintf("'%s' has no subordinate ids (%s); using a "
					 "single-id map (uid -> 0)",
					 u.name,
					 o->subid_source == RS_SUBID_DYNAMIC
						 ? "getsubids"
						 : "/etc/subuid and /etc/subgid");
		warn(m);
		rs_idmap_single(um, getuid());
		rs_idmap_single(gm, getgid());
	} else {
		single = false;
	}
	rs_user_clear(&u);
	return single;
}

static char *default_state_dir(const struct rs_launch_opts *o, struct rs_error **err)
{
	if (o->state_dir)
		return rs_xstrdup(o->state_dir);
	if (o->xdg_runtime_dir && o->xdg_runtime_dir[0] == '/')
		return rs_xasprintf("%s/rootless-setup/launch-%d", o->xdg_runtime_dir,
				    (int)getpid());
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
	/* --detach-netns: the child makes the new one itself, at STATE/netns */
	if (o->net != RS_NET_HOST && !o->detach_netns)
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
	struct rs_net_plan plan;
	struct rs_netproc net;
	char *slirp_api;	/* slirp4netns --api-socket, for its port driver */
	struct rs_api_srv *api; /* with a port driver */
	pid_t child;
	int p2c[2], c2p[2];
	int status[2]; /* --pidns: the command's wait status from PID 1 */
	int bp[2];     /* --net-bypass: the filter's listener from the child */
	void *bypass_filter;
	struct rs_bypass *bypass;
	int sfd;
	sigset_t oldmask;
	bool quick; /* the child publishes and runs the command on its own */
	rs_launch_warn_fn warn;
};

/* Reads the child's answer: 'r' ready, or a failure report. */
static int child_answer(struct run *r, char want, struct rs_error **err)
{
	struct rs_child_msg m = {0};
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

/* The command's end as an exit status; a death by signal N is 128+N (where
 * RootlessKit says 255, as --rootlesskit-compat does) and a message naming
 * the signal. */
static int command_status(struct run *r, int st, struct rs_error **err)
{
	char desc[64];

	int raw;
	/* --pidns: PID 1 exits 128+N for a signal; its record says which */
	if (WIFEXITED(st) && r->status[0] >= 0 &&
	    read(r->status[0], &raw, sizeof(raw)) == (ssize_t)sizeof(raw))
		st = raw;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (!WIFSIGNALED(st))
		return 1;
	int sig = WTERMSIG(st);
	const char *abbrev = sigabbrev_np(sig);
	/* "user defined signal 1", as Go (and so RootlessKit) words it */
	snprintf(desc, sizeof(desc), "%s", strsignal(sig));
	desc[0] = (char)tolower((unsigned char)desc[0]);
	rs_error_setx(err, EINTR, "the command was killed by signal %d (SIG%s: %s)", sig,
		      abbrev ? abbrev : "?", desc);
	return r->o->rootlesskit_exit ? 255 : 128 + sig;
}

static void net_helper_died(struct run *r, int st, rs_launch_warn_fn warn)
{
	_cleanup_free_ char *m = rs_xasprintf("%s exited (%s %d): the namespace has no network now",
					      r->net.name, WIFEXITED(st) ? "status" : "signal",
					      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	warn(m);
	r->net.pid = 0;
}

static int forward_and_wait(struct run *r, rs_launch_warn_fn warn, struct rs_error **err)
{
	struct signalfd_siginfo si;
	int st;

	for (;;) {
		/* the API and the ports are served in this loop, until a signal */
		if (r->api)
			rs_api_serve(r->api);
		ssize_t n = read(r->sfd, &si, sizeof(si));
		if (n != sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD) {
			pid_t p;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				rs_api_reaped(r->api, p);
				if (p == r->child) {
					/* a quick launch: a setup failure's report,
					 * or EOF when the exec went through */
					int ret = r->quick ? child_answer(r, 0, err) : 0;
					return ret ? ret : command_status(r, st, err);
				}
				if (p == r->net.pid)
					net_helper_died(r, st, warn);
			}
			continue;
		}
		/* a tty's ^C already reached the command's process group: forwarding it
		 * too would deliver it twice (RootlessKit does) */
		if (si.ssi_code != SI_KERNEL)
			kill(r->child, (int)si.ssi_signo);
	}
}

/* The API server (api.c), always, as RootlessKit's (rootlessctl info),
 * and the port drivers, once the child's namespaces exist and before the
 * command runs, so -p ports are there when it starts. */
static int api_start(struct run *r, const unsigned char net[4], struct rs_error **err)
{
	const struct rs_launch_opts *o = r->o;
	char ip[16], dns[16];

	struct rs_api_cfg c = {.state_dir = r->st.dir,
			       .state_dir_fd = r->st.dir_fd,
			       .wake_fd = r->sfd,
			       .child = r->child,
			       .userns_fd = -1,
			       .netns_fd = -1,
			       .publish = &o->publish,
			       .slirp_api = r->slirp_api,
			       .source_ip_transparent = o->source_ip_transparent,
			       .warn = r->warn};
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", net[0], net[1], net[2], net[3] + 100);
	snprintf(dns, sizeof(dns), "%u.%u.%u.%u", net[0], net[1], net[2], net[3] + 3);
	c.net_driver = o->net == RS_NET_SLIRP4NETNS ? "slirp4netns"
		       : o->net == RS_NET_PASTA	    ? "pasta"
		       : o->net == RS_NET_LIBSLIRP  ? "libslirp"
		       : o->net == RS_NET_NONE	    ? "none"
						    : "host";
	if (o->net == RS_NET_SLIRP4NETNS || o->net == RS_NET_PASTA || o->net == RS_NET_LIBSLIRP)
		c.child_ip = ip, c.dns = dns;
	/* the libslirp port driver asks the helper on its control socket */
	c.netemb_fd = o->net == RS_NET_LIBSLIRP ? r->net.ready_r : -1;
	c.ipv6 = o->ipv6;
	if (o->port_driver && rs_port_driver_parse(o->port_driver, &c.port_driver) < 0)
		return rs_error_setx(err, EINVAL, "unknown --port-driver '%s'", o->port_driver);
	/* the builtin driver's helper joins the child's namespaces */
	if (c.port_driver == RS_PORT_BUILTIN) {
		/* the launch's own child: its pid is not reused before we reap it */
		_cleanup_free_ char *u = rs_xasprintf("/proc/%d/ns/user", (int)r->child);
		c.userns_fd = open(u, O_RDONLY | O_CLOEXEC);
		/* with --detach-netns, the one at STATE/netns, not the child's */
		c.netns_fd = rs_net_child_netns(o, r->child, r->st.dir);
		if (c.netns_fd < 0)
			c.netns_fd = -1;
	}
	int ret = rs_api_start(&c, &r->api, err);
	if (c.userns_fd >= 0)
		close(c.userns_fd);
	if (c.netns_fd >= 0)
		close(c.netns_fd);
	return ret;
}

/* RootlessKit's warning: a child propagation other than private receives
 * nothing when the host's / is not a shared mount (a container's is often
 * "master:N", this machine's may be private). The launch goes on. */
static void warn_propagation(const struct rs_launch_opts *o, rs_launch_warn_fn warn)
{
	if (!o->propagation_name || strstr(o->propagation_name, "private"))
		return;
	struct libmnt_table *tb = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!tb)
		return;
	struct libmnt_fs *fs = mnt_table_find_target(tb, "/", MNT_ITER_BACKWARD);
	const char *opt = fs ? mnt_fs_get_optional_fields(fs) : NULL;
	if (fs && (!opt || !strstr(opt, "shared"))) {
		_cleanup_free_ char *m = rs_xasprintf("the host's / is mounted '%s' (not shared): "
						      "--propagation=%s will receive no "
						      "mounts from the host",
						      opt && *opt ? opt : "private",
						      o->propagation_name);
		warn(m);
	}
	mnt_unref_table(tb);
}

/* RootlessKit's warning: the network's resolv.conf and hosts are bind
 * mounts over the host's files when /etc is not copied up, and go away
 * inside when the host replaces those (systemd-resolved, NetworkManager). */
static void warn_resolv(const struct rs_launch_opts *o, rs_launch_warn_fn warn)
{
	if ((o->net != RS_NET_SLIRP4NETNS && o->net != RS_NET_PASTA) || o->detach_netns)
		return;
	for (size_t i = 0; i < o->copy_up.n; i++)
		if (strcmp(o->copy_up.v[i], "/etc") == 0)
			return;
	warn("without --copy-up=/etc, the network's /etc/resolv.conf and /etc/hosts are bind "
	     "mounts over the host's, gone inside when the host replaces its files; "
	     "--copy-up=/etc is recommended");
}

static void child_args(struct run *r, struct rs_child_args *a, struct rs_net_ctx *nc)
{
	const struct rs_launch_opts *o = r->o;
	unsigned char net[4] = {10, 0, 2, 0};
	unsigned prefix = 24;

	if (o->cidr && rs_launch_parse_cidr(o->cidr, net, &prefix) < 0)
		memcpy(net, (unsigned char[4]){10, 0, 2, 0}, 4), prefix = 24;
	memcpy(a->dns, net, 4);
	a->dns[3] = (unsigned char)(net[3] + 3);
	a->parent_euid = geteuid();
	a->parent_egid = getegid();
	a->state_dir = r->st.dir;
	a->lock_fd = r->st.lock_fd;
	a->o = o;
	*nc = (struct rs_net_ctx){.o = o,
				  .plan = &r->plan,
				  .state_dir = r->st.dir,
				  .prefix = prefix,
				  .netns_fd = -1,
				  .state_dir_fd = r->st.dir_fd};
	memcpy(nc->net, net, 4);
}

/* After the ids are mapped: cgroup evacuation, the network helper, and
 * the child's "ready" (its mounts, its netns with --detach-netns). */
static int bring_up(struct run *r, struct rs_net_ctx *nc, rs_launch_warn_fn warn,
		    struct rs_error **err)
{
	const struct rs_launch_opts *o = r->o;
	bool helper = o->net == RS_NET_SLIRP4NETNS || o->net == RS_NET_PASTA ||
		      o->net == RS_NET_LIBSLIRP;
	int ret;

	if (o->evacuate_cgroup2 && rs_cgroup2_evacuate(o->evacuate_cgroup2, warn, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	/* slirp4netns, pasta and our tap maker open the namespace by pid: it
	 * exists now; with --detach-netns they open STATE/netns, which the
	 * child makes first */
	if (helper && !o->detach_netns && rs_net_start(nc, &r->net, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if ((ret = child_answer(r, 'r', err)) != 0)
		return ret;
	if (helper && o->detach_netns) {
		nc->netns_fd = rs_net_child_netns(o, r->child, r->st.dir);
		if (nc->netns_fd < 0) {
			rs_error_set(err, -nc->netns_fd,
				     "cannot open the network namespace at '%s/netns'", r->st.dir);
			return RS_LAUNCH_EXIT_SETUP;
		}
		ret = rs_net_start(nc, &r->net, err);
		close(nc->netns_fd); /* the helper has its own */
		nc->netns_fd = -1;
		if (ret < 0)
			return RS_LAUNCH_EXIT_SETUP;
	}
	if (helper && rs_net_wait(&r->net, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	return 0;
}

/* --net-bypass: the filter, built here (libseccomp is opened in the
 * launcher, before the clone), and the socket its listener comes back on */
static int bypass_prepare(struct run *r, struct rs_child_args *a, struct rs_error **err)
{
	r->bypass_filter = rs_bypass_prepare(r->o, err);
	if (!r->bypass_filter)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->bp) < 0)
		return rs_error_set(err, errno, "cannot create a socket pair");
	a->bypass_filter = r->bypass_filter;
	a->bypass_sock = r->bp[1];
	return 0;
}

/* After the child's go: its listener, the supervisor, and the child's
 * own go to exec. */
static int bypass_start(struct run *r, const struct rs_net_ctx *nc, struct rs_error **err)
{
	int ret = rs_bypass_start(r->o, r->bp[0], nc->net, nc->prefix, r->api, &r->bypass, err);
	if (ret == -EPIPE) {
		/* the child died first: its own report says why */
		ret = child_answer(r, 0, err);
		if (!ret)
			rs_error_setx(err, EIO, "the launch child died during setup");
		return ret ? ret : RS_LAUNCH_EXIT_SETUP;
	}
	return ret < 0 ? RS_LAUNCH_EXIT_SETUP : 0;
}

struct quick_api {
	struct run *r;
	const unsigned char *net;
	struct rs_error *err;
	int ret;
};

static void quick_api_start(void *arg)
{
	struct quick_api *q = arg;
	q->ret = api_start(q->r, q->net, &q->err);
}

static int setup(struct run *r, rs_launch_warn_fn warn, struct rs_error **err)
{
	const struct rs_launch_opts *o = r->o;
	struct rs_idmap um, gm;
	struct rs_child_args a = {0};
	struct rs_net_ctx nc;
	int ret;

	r->slirp_api = o->port_driver && !strcmp(o->port_driver, "slirp4netns")
			       ? rs_xasprintf("%s/.s4n.sock", r->st.dir)
			       : NULL;
	child_args(r, &a, &nc);
	nc.slirp_api = r->slirp_api;
	nc.warn = warn;
	if (rs_net_prepare(o, &r->plan, warn, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	warn_propagation(o, warn);
	warn_resolv(o, warn);
	a.single_map = build_maps(r->host, o, &um, &gm, warn);
	if (pipe2(r->p2c, O_CLOEXEC) < 0 || pipe2(r->c2p, O_CLOEXEC) < 0 ||
	    pipe2(r->status, O_CLOEXEC | O_NONBLOCK) < 0) {
		rs_error_set(err, errno, "cannot create pipes");
		return RS_LAUNCH_EXIT_SETUP;
	}
	if (o->net_bypass.n && bypass_prepare(r, &a, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	a.from_parent = r->p2c[0];
	a.to_parent = r->c2p[1];
	a.status_fd = r->status[1];
	r->quick = (o->net == RS_NET_HOST || o->net == RS_NET_NONE) &&
		   (!o->port_driver || !strcmp(o->port_driver, "none")) && !o->pidns &&
		   !o->detach_netns && !o->evacuate_cgroup2;
	a.self_publish = r->quick ? &r->st : NULL;
	r->child = (pid_t)syscall(SYS_clone, clone_flags(o), NULL, NULL, NULL, NULL);
	if (r->child < 0) {
		int e = errno;
		rs_error_setx(err, e, "cannot create the namespaces: %s (likely cause: %s)",
			      strerror(e), clone_cause(e));
		return RS_LAUNCH_EXIT_SETUP;
	}
	if (r->child == 0)
		rs_launch_child(&a);
	nc.child = r->child;
	close(r->p2c[0]);
	close(r->c2p[1]);
	close(r->status[1]);
	r->p2c[0] = r->c2p[1] = r->status[1] = -1;
	if (r->bp[1] >= 0)
		close(r->bp[1]);
	r->bp[1] = -1;
	/* a quick launch's API needs nothing of the child: it is set up while
	 * newuidmap and newgidmap run, and is there before child_pid */
	struct quick_api qa = {.r = r, .net = nc.net};
	struct rs_idmap_meanwhile mw = {.fn = quick_api_start, .arg = &qa};
	if (rs_idmap_apply_pair(r->host, r->child, &um, &gm, r->quick ? &mw : NULL, err) < 0) {
		rs_error_free(qa.err);
		rs_error_wrap(err,
			      "cannot map ids (AppArmor, an LSM or a seccomp filter may forbid "
			      "newuidmap)");
		return RS_LAUNCH_EXIT_SETUP;
	}
	if (qa.ret < 0) {
		*err = TAKE_PTR(qa.err);
		return RS_LAUNCH_EXIT_SETUP;
	}
	rs_write_full(r->p2c[1], "m", 1);
	/* the child publishes and runs the command; whether its setup failed
	 * is read when it exits (forward_and_wait), not waited for here */
	if (r->quick)
		return 0;
	if ((ret = bring_up(r, &nc, warn, err)) != 0)
		return ret;
	/* the API server and port drivers, before the command runs, so -p
	 * ports are there when it starts */
	if (!r->quick && api_start(r, nc.net, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if (rs_state_publish(&r->st, r->child, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	rs_write_full(r->p2c[1], "g", 1);
	if (r->bypass_filter && (ret = bypass_start(r, &nc, err)) != 0)
		return ret;
	return child_answer(r, 0, err);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int rs_launch_run(const struct rs_launch_opts *o, rs_launch_warn_fn warn, struct rs_error **err)
{
	struct run r = {.o = o,
			.warn = warn,
			.p2c = {-1, -1},
			.c2p = {-1, -1},
			.status = {-1, -1},
			.bp = {-1, -1},
			.sfd = -1,
			.net = {.pidfd = -1, .exit_w = -1, .ready_r = -1, .fifo_dir = -1}};
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
		rs_kill_reap(r.child);
	} else if (ret == 0) {
		/* the child is ready and runs the command: the place for work
		 * that needs the running namespaces (port drivers), before waiting */
		ret = forward_and_wait(&r, warn, err);
	}
	/* at exit: the API server, the network helper, our pipes, the state files */
	/* the supervisor first: it may still take a published port (api) */
	rs_bypass_stop(r.bypass);
	rs_api_stop(r.api);
	rs_bypass_filter_free(r.bypass_filter);
	close_pair(r.bp);
	rs_net_stop(&r.net);
	if (r.slirp_api)
		unlinkat(r.st.dir_fd, ".s4n.sock", 0);
	free(r.slirp_api);
	close_pair(r.p2c);
	close_pair(r.c2p);
	close_pair(r.status);
	if (r.sfd >= 0)
		close(r.sfd);
	sigprocmask(SIG_SETMASK, &r.oldmask, NULL);
	if (o->detach_netns && r.st.dir_fd >= 0)
		unlinkat(r.st.dir_fd, "netns", 0);
	rs_state_close(&r.st);
	rs_host_free(r.host);
	return ret;
}
