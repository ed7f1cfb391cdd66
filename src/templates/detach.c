/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * install's start where no systemd user manager is reachable: the launch
 * the unit would run, started detached, as the user (root acting for a
 * user becomes the user first: uid, gid, groups, no capability), in a
 * session of its own with no terminal, stdin on /dev/null, stdout and
 * stderr in STATE_DIR/launch.log, the unit's environment only (HOME, USER,
 * LOGNAME, XDG_RUNTIME_DIR and the unit's PATH) and the home as its
 * working directory, as a user manager would run it. install then waits a
 * bounded time for the engine's socket. The launcher's pid is in
 * STATE_DIR/lock, as for every launch; uninstall stops it (stop.c) and
 * removes the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "host/userfs.h"
#include "launch/launch.h"
#include "lib/sig.h"
#include "lib/xalloc.h"
#include "templates/install.h"
#include "templates/record.h"

#define READY_WAIT_MS 30000
#define POLL_MS	      100
#define LOG_NAME      "launch.log"
#define UNIT_PATH     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The child's answer before exec: an error, with the pid of a launch that
 * holds the state dir already (-EBUSY). None: the exec happened. */
struct detach_reply {
	int err;
	int busy_pid;
};

struct detach {
	const struct rs_user *u;
	bool joins; /* nsenter: no launcher keeps the state dir, this start does */
	char *const *argv;
	char *envp[6];
	const char *run, *state_dir, *parent; /* parent: run/rootless-setup */
};

/* The pid written in the lock a running launch holds, or 0 when the
 * state dir is free. Async-signal-safe. */
static int busy_pid(int sdfd)
{
	char buf[32];
	int fd = openat(sdfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int pid = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		pid = 1;
		if (n > 0) {
			buf[n] = '\0';
			pid = 0;
			for (char *p = buf; *p >= '0' && *p <= '9'; p++)
				pid = pid * 10 + (*p - '0');
		}
	}
	close(fd); /* and with it a lock we took */
	return pid > 0 ? pid : 1;
}

/* A small file of the state dir, as the launcher writes it (0444). */
static int put_num(int sdfd, const char *name, unsigned long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", v);
	int fd = openat(sdfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return -1;
	int r = write(fd, buf, (size_t)n) == n ? 0 : -1;
	close(fd);
	return r;
}

/* For a command that joins another launch: what a launcher would keep in
 * its state dir (lock with the pid, held open across the exec; child_pid
 * and child_start), so that nsenter --engine and uninstall find the
 * process as they find a launch. Return: the lock's fd, or -1. */
static int claim_state(int sdfd)
{
	char buf[32];
	int lock = openat(sdfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0 || ftruncate(lock, 0) < 0)
		return -1;
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(lock, buf, (size_t)n) != n ||
	    put_num(sdfd, "child_start", rs_proc_starttime(getpid())) < 0 ||
	    put_num(sdfd, "child_pid", (unsigned long long)getpid()) < 0)
		return -1;
	return lock;
}

/* Between fork and exec (a single-threaded parent: the files of the state
 * dir are written with stdio's snprintf). */
static _noreturn_ void detach_child(const struct detach *d, int wfd)
{
	struct detach_reply rep = {0};
	int sdfd = -1, log = -1, null = -1, lock = -1;

	rs_signals_reset();
	if ((rep.err = rs_user_become(d->u)) < 0)
		goto fail;
	if (setsid() < 0 || (mkdir(d->parent, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(d->state_dir, 0700) < 0 && errno != EEXIST))
		goto fail_errno;
	sdfd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sdfd < 0)
		goto fail_errno;
	if ((rep.busy_pid = busy_pid(sdfd)) > 0) {
		rep.err = -EBUSY;
		goto fail;
	}
	if (d->joins && (lock = claim_state(sdfd)) < 0)
		goto fail_errno;
	log = openat(sdfd, LOG_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		goto fail_errno;
	umask(022);
	if (chdir(d->u->home) < 0 && chdir("/") < 0)
		goto fail_errno;
	/* nothing of ours past the exec (the status pipe is closed by it) */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3; fd < 65536; fd++)
			if (fd != wfd && fd != lock)
				close(fd);
	if (lock >= 0 && fcntl(lock, F_SETFD, 0) < 0)
		goto fail_errno;
	execve(d->argv[0], d->argv, d->envp);
fail_errno:
	rep.err = -errno;
fail:
	(void)!write(wfd, &rep, sizeof(rep));
	_exit(127);
}

/* The engine's socket is there (a socket, reached without a symlink). */
static bool socket_ready(const struct rs_ctx *ctx, const char *run, const char *sock)
{
	_cleanup_close_ int rfd = rs_host_openat(ctx->host, rs_host_rel(run),
						 O_PATH | O_DIRECTORY | O_NOFOLLOW, NULL);
	_cleanup_close_ int fd = rfd < 0 ? -1 : rs_beneath_open(rfd, sock, O_PATH, 0);
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The log's last line, read as the user (the file is the user's). */
static int log_tail_fn(void *arg, char **data, size_t *len, char *msg _unused_,
		       size_t msglen _unused_)
{
	char buf[4096];
	_cleanup_close_ int fd = open(arg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	off_t off = st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);
	if (n <= 0)
		return 0;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	char *last = strrchr(buf, '\n');
	*data = rs_xstrdup(last ? last + 1 : buf);
	*len = strlen(*data);
	return 0;
}

static char *log_tail(const struct rs_ctx *ctx, const char *log)
{
	char *data = NULL, msg[256];
	size_t len = 0;
	rs_as_user_data(&ctx->user, log_tail_fn, (void *)log, 1024, &data, &len, msg, sizeof(msg),
			5000);
	return data && *data ? data : (free(data), rs_xstrdup("(empty)"));
}

/* Waits for the socket or the launch's end. Return: 1 ready, 0 the wait
 * ran out (still running), -1 it exited (*status). */
static int wait_ready(const struct rs_ctx *ctx, pid_t pid, const char *run, const char *sock,
		      int *status)
{
	for (int waited = 0; waited <= READY_WAIT_MS; waited += POLL_MS) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return -1;
		if (socket_ready(ctx, run, sock))
			return 1;
		nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
	}
	return 0;
}

static void report(struct rs_gen_ctx *f, const struct rs_gen *g, const struct detach *d, pid_t pid,
		   int r, int status)
{
	_cleanup_free_ char *log = rs_xasprintf("%s/" LOG_NAME, d->state_dir);
	if (r > 0) {
		rs_action_add(&f->acts, "install", "exec", d->argv[0],
			      "started (no systemd user manager): %s (pid %d, as %s; log '%s'); "
			      "it runs until uninstall, not across a reboot",
			      g->launch_cmd, (int)pid, f->ctx->user.name, log)
			->changed = true;
		return;
	}
	_cleanup_free_ char *tail = log_tail(f->ctx, log);
	if (r == 0)
		rs_action_add(&f->acts, "install", "exec", d->argv[0],
			      "started %s (pid %d), but '%s/%s' did not appear within %d s: "
			      "it still runs; its log '%s' ends: %s",
			      g->launch_cmd, (int)pid, d->run, g->socket, READY_WAIT_MS / 1000, log,
			      tail)
			->failed = true;
	else
		rs_action_add(&f->acts, "install", "exec", d->argv[0],
			      "%s exited (%s %d) before '%s/%s' appeared; its log '%s' ends: %s",
			      g->launch_cmd, WIFEXITED(status) ? "status" : "signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), d->run,
			      g->socket, log, tail)
			->failed = true;
}

void rs_inst_detach(struct rs_gen_ctx *f, const struct rs_gen *g)
{
	const struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *parent = rs_xstrdup(g->state_dir);
	struct detach d = {.u = &ctx->user,
			   .joins = g->joins,
			   .argv = g->launch_argv,
			   .run = run,
			   .state_dir = g->state_dir,
			   .parent = parent};
	struct detach_reply rep = {0};
	int fds[2], status = 0;

	*strrchr(parent, '/') = '\0';
	d.envp[0] = rs_xasprintf("HOME=%s", ctx->user.home);
	d.envp[1] = rs_xasprintf("USER=%s", ctx->user.name);
	d.envp[2] = rs_xasprintf("LOGNAME=%s", ctx->user.name);
	d.envp[3] = rs_xasprintf("XDG_RUNTIME_DIR=%s", run);
	d.envp[4] = rs_xstrdup(UNIT_PATH);
	d.envp[5] = NULL;
	pid_t pid = pipe2(fds, O_CLOEXEC) < 0 ? -1 : fork();
	if (pid == 0)
		detach_child(&d, fds[1]);
	if (pid > 0) {
		close(fds[1]);
		ssize_t n;
		while ((n = read(fds[0], &rep, sizeof(rep))) < 0 && errno == EINTR)
			;
		close(fds[0]);
		if (n != (ssize_t)sizeof(rep))
			rep.err = 0;
	} else {
		rep.err = -errno;
	}
	if (pid > 0 && rep.err < 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (rep.err == -EBUSY)
		rs_action_add(&f->acts, "install", "note", g->state_dir,
			      "already running (launch pid %d): not started again; uninstall "
			      "stops it",
			      rep.busy_pid);
	else if (rep.err < 0)
		rs_action_add(&f->acts, "install", "exec", d.argv[0], "cannot start %s as %s: %s",
			      g->launch_cmd, ctx->user.name, strerror(-rep.err))
			->failed = true;
	else
		report(f, g, &d, pid, wait_ready(ctx, pid, run, g->socket, &status), status);
	for (size_t i = 0; d.envp[i]; i++)
		free(d.envp[i]);
}
