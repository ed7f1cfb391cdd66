/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user's engine processes, for uninstall: stopping a running launch,
 * and purging data owned by the user's subordinate ids from inside a user
 * namespace with the user's own id map. Both run with the user's
 * credentials: a state dir, a pid or a path the user planted gains them
 * nothing they could not do themselves (docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "host/userfs.h"
#include "host/proc.h"
#include "lib/macro.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"
#include "install/stop.h"

#define TERM_WAIT_MS 10000
#define KILL_WAIT_MS 3000

/* A small decimal file of the state dir (child_pid, child_start). */
static int read_num_at(int dfd, const char *name, unsigned long long *out)
{
	char buf[32];
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	char *end;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return errno || end == buf || (*end && *end != '\n') ? -EINVAL : 0;
}

/* Fields 4 (ppid) of /proc/PID/stat, read through procfd. */
static int proc_ppid_at(int procfd, pid_t *ppid)
{
	char buf[1024];
	_cleanup_close_ int fd = openat(procfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	int v;
	if (!p || sscanf(p + 1, " %*c %d", &v) != 1)
		return -EINVAL;
	*ppid = v;
	return 0;
}

/* Every uid of the process is ours (the kernel's view, not a file). */
static bool proc_is_mine(int procfd)
{
	char buf[4096];
	_cleanup_close_ int fd = openat(procfd, "status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *u = strstr(buf, "\nUid:");
	unsigned v[4];
	if (!u || sscanf(u + 5, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (v[i] != geteuid())
			return false;
	return true;
}

/* The launch's process as nsenter.c decides it: pinned by a pidfd, the
 * start time the state dir gives, every uid ours, in a user namespace
 * other than ours that we own. Return: pidfd, 0 none, or -errno. */
static int pin_child(int sdfd, int *procfd, char *msg, size_t len)
{
	unsigned long long pid = 0, start = 0, now = 0;
	char path[64], state = 0;
	struct stat a, b;
	uid_t owner = (uid_t)-1;

	if (read_num_at(sdfd, "child_pid", &pid) < 0 ||
	    read_num_at(sdfd, "child_start", &start) < 0 || pid < 2 || pid > 1u << 22)
		return 0;
	int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0)
		return 0; /* gone: a stale state dir */
	snprintf(path, sizeof(path), "/proc/%llu", pid);
	*procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int ns = *procfd >= 0 ? openat(*procfd, "ns/user", O_RDONLY | O_CLOEXEC)
					      : -1;
	if (*procfd < 0 || rs_proc_stat_at(*procfd, &state, &now) < 0 || now != start ||
	    state == 'Z') {
		close(pfd);
		return 0;
	}
	if (!proc_is_mine(*procfd) || ns < 0 || fstat(ns, &a) < 0 ||
	    stat("/proc/self/ns/user", &b) < 0 || (a.st_ino == b.st_ino && a.st_dev == b.st_dev) ||
	    ioctl(ns, NS_GET_OWNER_UID, &owner) < 0 || owner != geteuid()) {
		snprintf(msg, len,
			 "pid %llu named by the state dir is not a launch of uid %u: left "
			 "alone",
			 pid, (unsigned)geteuid());
		close(pfd);
		return -EPERM;
	}
	return pfd;
}

static bool wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static void send_sig(int pidfd, int sig)
{
	syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* The launcher: the child's parent (the kernel says so), ours, not in a
 * user namespace of its own. Return: its pidfd or -1. */
static int pin_launcher(int child_procfd)
{
	pid_t ppid = 0;
	char path[64];
	if (proc_ppid_at(child_procfd, &ppid) < 0 || ppid < 2)
		return -1;
	int pfd = (int)syscall(SYS_pidfd_open, ppid, 0);
	snprintf(path, sizeof(path), "/proc/%d", (int)ppid);
	_cleanup_close_ int procfd = pfd >= 0 ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	pid_t again = 0;
	/* still the child's parent after the pidfd pinned it */
	if (procfd < 0 || !proc_is_mine(procfd) || proc_ppid_at(child_procfd, &again) < 0 ||
	    again != ppid) {
		if (pfd >= 0)
			close(pfd);
		return -1;
	}
	return pfd;
}

int rs_stop_launch_at(int sdfd, char *msg, size_t len)
{
	_cleanup_close_ int procfd = -1;
	int child = pin_child(sdfd, &procfd, msg, len);
	if (child <= 0)
		return child;
	/* TERM to the launcher stops everything it started (its child and the
	 * network helpers); without one, to the child itself */
	int launcher = pin_launcher(procfd);
	int target = launcher >= 0 ? launcher : child;
	send_sig(target, SIGTERM);
	bool gone = wait_exit(child, TERM_WAIT_MS) &&
		    (launcher < 0 || wait_exit(launcher, TERM_WAIT_MS));
	if (!gone) {
		send_sig(child, SIGKILL);
		if (launcher >= 0)
			send_sig(launcher, SIGKILL);
		gone = wait_exit(child, KILL_WAIT_MS);
	}
	if (launcher >= 0)
		close(launcher);
	close(child);
	if (!gone) {
		snprintf(msg, len, "the launch did not stop, even on KILL");
		return -ETIMEDOUT;
	}
	return 1;
}

/* The names Podman's pause process goes by: its own re-exec ("podman
 * pause", pkg/rootless) and catatonit -P, which Podman 3 and 4 ran. */
static bool pause_comm(int procfd)
{
	char buf[32];
	_cleanup_close_ int fd = openat(procfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, "podman pause") || !strcmp(buf, "catatonit");
}

int rs_stop_pause_at(int dfd, const char *name, char *msg, size_t len)
{
	unsigned long long pid = 0;
	char path[64], state = 0;
	unsigned long long start;
	struct stat a, b;
	uid_t owner = (uid_t)-1;

	/* the file is the user's (we are the user): it only names a pid, the
	 * process itself decides */
	if (read_num_at(dfd, name, &pid) < 0 || pid < 2 || pid > 1u << 22)
		return 0;
	_cleanup_close_ int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pfd < 0)
		return 0; /* gone: Podman makes a new one when it next runs */
	snprintf(path, sizeof(path), "/proc/%llu", pid);
	_cleanup_close_ int procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int ns = procfd >= 0 ? openat(procfd, "ns/user", O_RDONLY | O_CLOEXEC) : -1;
	if (procfd < 0 || rs_proc_stat_at(procfd, &state, &start) < 0 || state == 'Z')
		return 0;
	/* ours by every uid, named as Podman names it, holding a user
	 * namespace we own other than ours: anything else is left alone */
	if (!proc_is_mine(procfd) || !pause_comm(procfd) || ns < 0 || fstat(ns, &a) < 0 ||
	    stat("/proc/self/ns/user", &b) < 0 || (a.st_ino == b.st_ino && a.st_dev == b.st_dev) ||
	    ioctl(ns, NS_GET_OWNER_UID, &owner) < 0 || owner != geteuid()) {
		snprintf(msg, len,
			 "pid %llu named by %s is not Podman's pause process of uid %u: "
			 "left alone",
			 pid, name, (unsigned)geteuid());
		return -EPERM;
	}
	/* what `podman system migrate` does to it: KILL (it holds nothing
	 * but the namespaces) */
	send_sig(pfd, SIGKILL);
	if (!wait_exit(pfd, KILL_WAIT_MS)) {
		snprintf(msg, len, "Podman's pause process (pid %llu) did not stop on KILL", pid);
		return -ETIMEDOUT;
	}
	snprintf(msg, len, "Podman's pause process (pid %llu): stopped", pid);
	return 1;
}

/* The purge's child: the user, in the parent directory it opened by fd.
 * Everything it opens is opened as the user, relative to the host's root
 * fd handed on as fd 3 (lib/spawn closed every other one). */
struct purge {
	const struct rs_user *u;
	struct rs_host host;   /* the caller's, its root fd renumbered */
	struct rs_user_tree t; /* the caller's, on host */
	size_t base;
	const char *rel;
	char **argv; /* NAME goes in its last slot */
};

static const char *const purge_steps[] = {"becoming the user", "opening the directory as the user",
					  NULL};

static int purge_setup(void *arg, struct rs_spawn_ctx *ctx)
{
	struct purge *p = arg;
	char *name = NULL;

	/* the user, without no_new_privs: the launcher maps the id ranges
	 * through the setuid newuidmap and newgidmap; the user may then
	 * trace this process, which holds nothing the user does not */
	int r = rs_user_become(p->u);
	if (r < 0)
		return r;
	ctx->step = 1;
	int bfd = rs_user_tree_open(&p->t, p->base);
	int pfd = bfd < 0 ? bfd : rs_beneath_parent(bfd, p->rel, &name);
	if (bfd >= 0)
		close(bfd);
	if (pfd < 0)
		return pfd;
	r = fchdir(pfd) < 0 ? -errno : 0;
	close(pfd);
	for (char **a = p->argv; r == 0; a++)
		if (!*a) {
			a[-1] = name;
			break;
		}
	return r;
}

int rs_purge_in_userns(const struct rs_user *u, const struct rs_user_tree *t, size_t base,
		       const char *rel, const char *self, const char *run, char *msg, size_t len)
{
	char *argv[] = {"rootless-setup",    "launch", "--",   "/bin/rm", "-rf",
			"--one-file-system", "--",     "NAME", NULL};
	struct purge p = {.u = u, .host = *t->host, .t = *t, .base = base, .rel = rel, .argv = argv};
	_cleanup_strv_ struct rs_strv env = {0};
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_spawn_result res;
	int hostfd = t->host->root_fd;

	p.host.root_fd = 3;
	p.t.host = &p.host;
	rs_user_env(u, run, NULL, &env);
	struct rs_spawn o = {.path = self,
			     .argv = argv,
			     .envp = env.v,
			     /* the host's fd is the setup's, not the launcher's */
			     .flags = RS_SPAWN_STDERR | RS_SPAWN_FDS_CLOEXEC,
			     .fds = &hostfd,
			     .n_fds = 1,
			     .setup = purge_setup,
			     .arg = &p,
			     .steps = purge_steps,
			     .err_max = 4096,
			     .timeout_ms = RS_PURGE_TIMEOUT_MS};
	int r = rs_spawn_run(&o, &res, &e);
	if (r < 0) {
		snprintf(msg, len, "cannot run the launcher as the user: %s", e->msg);
	} else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
		snprintf(msg, len,
			 "'rootless-setup launch -- rm -rf' as the user failed (status %d): "
			 "the user's subordinate ids cannot be mapped",
			 rs_spawn_exit_code(res.status));
		r = -EPERM;
	} else {
		r = 1;
	}
	rs_spawn_result_clear(&res);
	return r;
}
