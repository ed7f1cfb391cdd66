/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host/proc.h"
#include "launch/internal.h"
#include "launch/nsenter.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

/*
 * Who may enter what. child_pid and child_start are files the user writes,
 * so they only name a process; the decision is taken on the process: its
 * uids (/proc/PID/status) and the owner of its user namespace
 * (NS_GET_OWNER_UID). A launch is a process in a user namespace other than
 * ours whose every uid is the namespace's owner. A non-root caller enters
 * only its own uid's launch; root first becomes the owner (uid, gid, groups,
 * no capabilities left), since a host-uid-0 process inside would run the
 * user's binaries (a bind mount over /usr/bin/id) as the owner of every
 * root-owned file on the host.
 */

static const struct {
	const char *name;
	int type;
} ns_order[] = {
	/* the user namespace first: it grants the capabilities to join the rest */
	{"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
	{"uts", CLONE_NEWUTS},	 {"net", CLONE_NEWNET},	      {"pid", CLONE_NEWPID},
	{"mnt", CLONE_NEWNS},
};
#define NS_COUNT RS_NS_COUNT
_Static_assert(ARRAY_SIZE(ns_order) == RS_NS_COUNT, "one fd per namespace");

void rs_ns_target_close(struct rs_ns_target *t)
{
	for (size_t i = 0; i < NS_COUNT; i++)
		if (t->nsfd[i] >= 0)
			close(t->nsfd[i]);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->procfd >= 0)
		close(t->procfd);
	t->pidfd = t->procfd = -1;
	for (size_t i = 0; i < NS_COUNT; i++)
		t->nsfd[i] = -1;
}

static int stale(const char *dir, const struct rs_ns_target *t, struct rs_error **err)
{
	return rs_error_setx(err, ESRCH,
			     "'%s/child_pid' names pid %d, which is no longer the "
			     "launch's process (stale state)",
			     dir, (int)t->pid);
}

/* The state dir's records: child_pid, child_start and, when asked, the
 * snapshotter install chose. Root walks the dir without following a
 * symlink from the user's directories down (rs_state_dir_open). */
static int read_state(const struct rs_nsenter_opts *o, bool strict, struct rs_ns_target *t,
		      struct rs_error **err)
{
	_cleanup_close_ int dfd = rs_state_dir_open(o->dir, strict, &t->dir_owner, err);
	if (dfd < 0)
		return dfd;
	if (o->owner != (uid_t)-1 && t->dir_owner != o->owner)
		return rs_error_setx(err, EPERM,
				     "refusing state dir '%s': it belongs to uid %u, not %u",
				     o->dir, (unsigned)t->dir_owner, (unsigned)o->owner);
	int r = rs_state_read_child(dfd, o->dir, strict, t->dir_owner, &t->pid, &t->start, err);
	if (r < 0 || !o->snapshotter)
		return r;
	r = rs_state_read_line(dfd, o->dir, "snapshotter", strict, t->dir_owner, t->snap,
			       sizeof(t->snap), err);
	return r == -ENOENT ? 0 : r;
}

/* The process named by the state dir, pinned: a pidfd first, then
 * /proc/PID, then the start time read through that directory, so a pid
 * recycled between the read of child_pid and the opens is caught
 * (target_alive closes the rest). */
static int target_open(const struct rs_nsenter_opts *o, bool strict, struct rs_ns_target *t,
		       struct rs_error **err)
{
	const char *dir = o->dir;
	char path[64], state;
	unsigned long long now;

	if (read_state(o, strict, t, err) < 0)
		return -1;
#ifdef SYS_pidfd_open
	t->pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
#else
	errno = ENOSYS;
#endif
	if (t->pidfd < 0 && errno != ENOSYS)
		return errno == ESRCH ? stale(dir, t, err)
				      : rs_error_set(err, errno, "cannot open pid %d", (int)t->pid);
	snprintf(path, sizeof(path), "/proc/%d", (int)t->pid);
	t->procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->procfd < 0)
		return stale(dir, t, err);
	/* a zombie keeps its start time but has no namespaces left to join;
	 * without a child_start (a RootlessKit state dir) the process is
	 * pinned as it is now, and the checks on it decide */
	if (rs_proc_stat_at(t->procfd, &state, &now) < 0 || (t->start && now != t->start) ||
	    state == 'Z')
		return stale(dir, t, err);
	t->start = now;
	return 0;
}

/* The pidfd's process still runs, so its pid was never reused and procfd
 * is the same process; without a pidfd, the start time again. */
static bool target_alive(const struct rs_ns_target *t)
{
	char state;
	unsigned long long now;

	if (t->pidfd >= 0) {
		struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
		return poll(&p, 1, 0) == 0;
	}
	return rs_proc_stat_at(t->procfd, &state, &now) == 0 && now == t->start && state != 'Z';
}

static int target_uids(struct rs_ns_target *t, struct rs_error **err)
{
	char buf[8192];
	size_t n = 0;
	ssize_t k;
	int fd = openat(t->procfd, "status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return rs_error_set(err, errno, "cannot read the status of pid %d", (int)t->pid);
	while (n < sizeof(buf) - 1 && (k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	close(fd);
	buf[n] = '\0';
	const char *u = strstr(buf, "\nUid:");
	unsigned v[4];
	if (!u || sscanf(u + 5, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) != 4)
		return rs_error_setx(err, EINVAL, "cannot read the uids of pid %d", (int)t->pid);
	for (int i = 0; i < 4; i++)
		t->uids[i] = v[i];
	return 0;
}

/* Opens the namespaces that differ from ours and reads the owner of the
 * user namespace. */
static int target_ns(const char *dir, struct rs_ns_target *t, struct rs_error **err)
{
	char path[64];
	struct stat a, b;

	for (size_t i = 0; i < NS_COUNT; i++) {
		snprintf(path, sizeof(path), "ns/%s", ns_order[i].name);
		int fd = openat(t->procfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && (errno == EACCES || errno == EPERM))
			return rs_error_setx(err, errno,
					     "cannot open the %s namespace of pid %d "
					     "(%s): refusing to enter it",
					     ns_order[i].name, (int)t->pid, strerror(errno));
		/* never run half-joined: every namespace is ours or joinable */
		if (fd < 0)
			return stale(dir, t, err);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_order[i].name);
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			close(fd);
			continue;
		}
		t->nsfd[i] = fd;
		t->flags |= ns_order[i].type;
	}
	if (t->nsfd[0] < 0)
		return rs_error_setx(err, EPERM,
				     "pid %d is not in a user namespace of its own: "
				     "not a launch",
				     (int)t->pid);
	if (ioctl(t->nsfd[0], NS_GET_OWNER_UID, &t->owner) < 0)
		return rs_error_set(err, errno,
				    "cannot read the owner of the user namespace of "
				    "pid %d",
				    (int)t->pid);
	return 0;
}

/* The rules of the comment at the top, on what target_* read. */
static int authorize(const struct rs_ns_target *t, bool before_ns, struct rs_error **err)
{
	uid_t me = geteuid();

	for (int i = 0; i < 4; i++) {
		if (before_ns && me != 0 && t->uids[i] != me)
			return rs_error_setx(err, EPERM,
					     "pid %d runs as uid %u, not as uid %u: not "
					     "your launch",
					     (int)t->pid, (unsigned)t->uids[i], (unsigned)me);
		if (!before_ns && t->uids[i] != t->owner)
			return rs_error_setx(err, EPERM,
					     "pid %d runs as uid %u, but its user "
					     "namespace belongs to uid %u: not a launch",
					     (int)t->pid, (unsigned)t->uids[i], (unsigned)t->owner);
	}
	if (!before_ns && me != 0 && t->owner != me)
		return rs_error_setx(err, EPERM,
				     "the user namespace of pid %d belongs to uid %u, "
				     "not to uid %u: not your launch",
				     (int)t->pid, (unsigned)t->owner, (unsigned)me);
	/* a state dir of one user never leads root into another's launch
	 * (a user naming a namespace root made for itself) */
	if (!before_ns && t->dir_owner != t->owner)
		return rs_error_setx(err, EPERM,
				     "the state dir belongs to uid %u but the launch of "
				     "pid %d to uid %u: refusing to enter it",
				     (unsigned)t->dir_owner, (int)t->pid, (unsigned)t->owner);
	return 0;
}

int rs_ns_join(const struct rs_ns_target *t, struct rs_error **err)
{
	/* Linux 5.8: one setns on the pidfd joins every namespace at once */
	if (t->pidfd >= 0 && setns(t->pidfd, t->flags) == 0)
		return 0;
	if (t->pidfd >= 0 && errno != EINVAL)
		return rs_error_set(err, errno, "cannot join the namespaces of pid %d",
				    (int)t->pid);
	/* older kernels take one namespace fd at a time, the user namespace
	 * first; a failure leaves us half-joined, and we exec nothing then */
	for (size_t i = 0; i < NS_COUNT; i++) {
		if (t->nsfd[i] < 0)
			continue;
		if (setns(t->nsfd[i], ns_order[i].type) < 0)
			return rs_error_set(err, errno, "cannot join the %s namespace of pid %d",
					    ns_order[i].name, (int)t->pid);
	}
	return 0;
}

int rs_nsenter_wait_child(pid_t child)
{
	sigset_t set;
	struct signalfd_siginfo si;
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	int st;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigaddset(&set, SIGCHLD);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		if (waitpid(child, &st, WNOHANG) == child)
			break;
		if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
		    si.ssi_code != SI_KERNEL)
			kill(child, (int)si.ssi_signo);
	}
	close(sfd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void rs_nsenter_block(sigset_t *old)
{
	static const int fwd[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(fwd); i++)
		sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* Checks the target: 0, or -1 with *err set. */
static int check(const struct rs_nsenter_opts *o, struct rs_ns_target *t, struct rs_error **err)
{
	/* root walks a path a user named without following the user's links */
	bool strict = geteuid() == 0;

	if (target_open(o, strict, t, err) < 0 || target_uids(t, err) < 0 ||
	    authorize(t, true, err) < 0 || target_ns(o->dir, t, err) < 0 ||
	    authorize(t, false, err) < 0)
		return -1;
	if (!target_alive(t))
		return stale(o->dir, t, err);
	return 0;
}

/* NAME=value entries of add whose NAME env does not set already. */
static void env_merge(struct rs_strv *env, const char *const *add)
{
	for (size_t i = 0; add && add[i]; i++) {
		size_t n = strcspn(add[i], "=");
		bool set = false;
		for (size_t k = 0; k < env->n && !set; k++)
			set = !strncmp(env->v[k], add[i], n) && env->v[k][n] == '=';
		if (!set)
			rs_strv_push(env, add[i]);
	}
}

void rs_nsenter_env_extra(const struct rs_nsenter_opts *o, const char *snap, struct rs_strv *env)
{
	_cleanup_free_ char *s = *snap ? rs_xasprintf("CONTAINERD_SNAPSHOTTER=%s", snap) : NULL;
	const char *const one[] = {s, NULL};

	env_merge(env, o->client_env);
	env_merge(env, one);
}

/* A user entering its own launch (or root its own): joins here and execs
 * in place, with the caller's environment and the engine's client
 * variables where it has none. */
static int run_here(const struct rs_nsenter_opts *o, struct rs_ns_target *t, struct rs_error **err)
{
	_cleanup_strv_ struct rs_strv env = {0};
	bool joined_pid = t->flags & CLONE_NEWPID;
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	for (char **e = o->env; e && *e; e++)
		rs_strv_push(&env, *e);
	rs_nsenter_env_extra(o, t->snap, &env);
	if (rs_ns_join(t, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	rs_ns_target_close(t);
	if (chdir(cwd) < 0 && chdir("/") < 0) {
		rs_error_set(err, errno, "cannot change directory");
		return RS_LAUNCH_EXIT_SETUP;
	}
	/* a pid namespace applies to children only */
	if (joined_pid) {
		/* blocked before fork, so none is lost; the child unblocks them */
		rs_nsenter_block(NULL);
		pid_t child = fork();
		if (child < 0) {
			rs_error_set(err, errno, "cannot fork");
			return RS_LAUNCH_EXIT_SETUP;
		}
		if (child > 0)
			return rs_nsenter_wait_child(child);
	}
	/* main() ignores SIGPIPE: the command gets defaults and an empty mask */
	rs_signals_reset();
	execvpe(o->argv[0], o->argv, env.v);
	int e = errno, code = e == ENOENT ? RS_LAUNCH_EXIT_NOTFOUND : RS_LAUNCH_EXIT_NOEXEC;
	if (joined_pid) {
		/* the forked child has no caller to hand an error to */
		fprintf(stderr, "rootless-setup: cannot run '%s': %s\n", o->argv[0], strerror(e));
		_exit(code);
	}
	rs_error_set(err, e, "cannot run '%s'", o->argv[0]);
	return code;
}

int rs_nsenter_run(const struct rs_nsenter_opts *o, struct rs_error **err)
{
	struct rs_ns_target t = {.pidfd = -1, .procfd = -1};

	for (size_t i = 0; i < NS_COUNT; i++)
		t.nsfd[i] = -1;
	int r = check(o, &t, err) < 0 ? RS_LAUNCH_EXIT_SETUP
		/* root entering root's own launch is already what it would become */
		: geteuid() == 0 && t.owner != 0 ? rs_nsenter_as_owner(o, &t, err)
						 : run_here(o, &t, err);
	rs_ns_target_close(&t);
	return r;
}
