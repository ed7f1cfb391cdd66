/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * install's start where no systemd user manager is reachable: the launch
 * the unit would run, started detached through lib/spawn (a session of
 * its own, stdin on /dev/null, nothing else of ours, the unit's
 * environment only: HOME, USER, LOGNAME, XDG_RUNTIME_DIR and the unit's
 * PATH), as the user (root acting for a user becomes the user first: uid,
 * gid, groups, no capability), stdout and stderr in STATE_DIR/launch.log
 * opened as the user, the home as its working directory, as a user
 * manager would run it. install then waits a bounded time for the
 * engine's socket. The launcher's pid is in STATE_DIR/lock, as for every
 * launch; uninstall stops it (stop.c) and removes the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "host/userfs.h"
#include "host/userlog.h"
#include "host/proc.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"
#include "install/install.h"
#include "install/record.h"

#define READY_WAIT_MS 30000
#define POLL_MS	      100
#define LOG_NAME      "launch.log"
#define UNIT_PATH     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct detach {
	const struct rs_user *u;
	bool joins; /* nsenter: no launcher keeps the state dir, this start does */
	char *envp[6];
	const char *run, *state_dir, *parent; /* parent: run/rootless-setup */
};

/* The steps of the child's setup, as lib/spawn names a failed one. */
enum { STEP_USER, STEP_DIR, STEP_BUSY, STEP_CLAIM, STEP_LOG, STEP_HOME };
static const char *const steps[] = {
	"becoming the user",
	"making its state dir",
	"a launch holds its state dir already",
	"claiming its state dir",
	"opening its log",
	"entering the user's home",
	NULL,
};

/* Whether a running launch holds the state dir's lock. Async-signal-safe. */
static bool busy(int sdfd)
{
	int fd = openat(sdfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_EX | LOCK_NB) < 0;
	close(fd); /* and with it a lock we took */
	return held;
}

/* A small file of the state dir, as the launcher writes it (0444). */
static int put_num(int sdfd, const char *name, unsigned long long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", v);
	int fd = openat(sdfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	int r = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
	close(fd);
	return r;
}

/* For a command that joins another launch: what a launcher would keep in
 * its state dir (lock with the pid, held open across the exec; child_pid
 * and child_start), so that nsenter --engine and uninstall find the
 * process as they find a launch. Return: 0 or -errno. */
static int claim_state(int sdfd)
{
	char buf[32];
	int lock = openat(sdfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0 || ftruncate(lock, 0) < 0)
		return -errno;
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(lock, buf, (size_t)n) != n)
		return -EIO;
	int r = put_num(sdfd, "child_start", rs_proc_starttime(getpid()));
	return r < 0 ? r : put_num(sdfd, "child_pid", (unsigned long long)getpid());
}

/* lib/spawn's setup, in the child: the user, its state dir, its log.
 * Single-threaded parent: snprintf is safe here. */
static int detach_setup(void *arg, struct rs_spawn_ctx *ctx)
{
	const struct detach *d = arg;
	int r, log;

	ctx->step = STEP_USER;
	if ((r = rs_user_become(d->u)) < 0)
		return r;
	ctx->step = STEP_DIR;
	if ((mkdir(d->parent, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(d->state_dir, 0700) < 0 && errno != EEXIST))
		return -errno;
	int sdfd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sdfd < 0)
		return -errno;
	ctx->step = STEP_BUSY;
	if (busy(sdfd))
		return -EBUSY;
	ctx->step = STEP_CLAIM;
	if (d->joins && (r = claim_state(sdfd)) < 0)
		return r;
	ctx->step = STEP_LOG;
	log = openat(sdfd, LOG_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (log < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		return -errno;
	close(log);
	close(sdfd);
	umask(022);
	ctx->step = STEP_HOME;
	if (chdir(d->u->home) < 0 && chdir("/") < 0)
		return -errno;
	return 0;
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

/* The last line of a small file of the user's, read as the user. */
static int tail_fn(void *arg, char **data, size_t *len, char *msg _unused_, size_t msglen _unused_)
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

static char *tail_of(const struct rs_ctx *ctx, const char *dir, const char *name)
{
	_cleanup_free_ char *path = rs_xasprintf("%s/%s", dir, name);
	char *data = NULL, msg[256];
	size_t len = 0;
	rs_as_user_data(&ctx->user, tail_fn, path, 1024, &data, &len, msg, sizeof(msg), 5000);
	return data && *data ? data : (free(data), rs_xstrdup("(empty)"));
}

/* Up to LOG_DIAG_MAX bytes of the end of the launch's log, read as the
 * user (the log is the user's: root never opens it with its own rights). */
#define LOG_DIAG_MAX (64u << 10)

static int log_fn(void *arg, char **data, size_t *len, char *msg _unused_, size_t msglen _unused_)
{
	_cleanup_close_ int fd = open(arg, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	bool truncated = false;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	/* an unreadable log is no diagnosis, not an error of the child */
	(void)rs_read_tail(fd, LOG_DIAG_MAX - 1, 4 * LOG_DIAG_MAX, data, len, &truncated);
	return 0;
}

/* A launch that did not come up: what diagnose finds in its log, as
 * notes (the same as for a unit's journal, came-up.c). */
static void diagnose_log(struct rs_gen_ctx *f, enum rs_engine e, const char *dir)
{
	_cleanup_free_ char *path = rs_xasprintf("%s/%s", dir, LOG_NAME);
	_cleanup_free_ char *seen = rs_xasprintf("cat '%s'", path);
	_cleanup_free_ char *data = NULL;
	char msg[256];
	size_t len = 0;
	if (rs_as_user_data(&f->ctx->user, log_fn, path, LOG_DIAG_MAX, &data, &len, msg,
			    sizeof(msg), 5000) < 0 ||
	    !data)
		return;
	rs_inst_diagnose_log(f, e, data, len, seen);
}

static bool exited(pid_t pid)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

enum { WAIT_LATE, WAIT_READY, WAIT_EXITED };

/* Waits for the exec, then for the socket or the launch's end.
 * Return: WAIT_READY, WAIT_LATE (still running), WAIT_EXITED, or the
 * -errno of a failed setup step (*err). */
static int wait_ready(const struct rs_ctx *ctx, struct rs_child *c, const char *run,
		      const char *sock, struct rs_error **err)
{
	bool done = false;
	for (int waited = 0; waited <= READY_WAIT_MS; waited += POLL_MS) {
		int r = done ? 0 : rs_child_report(c, &done, err);
		if (r < 0)
			return r;
		if (exited(c->pid)) {
			/* a failed step's report, written just before it left */
			if (!done && (r = rs_child_report(c, &done, err)) < 0)
				return r;
			return WAIT_EXITED;
		}
		if (done && socket_ready(ctx, run, sock))
			return WAIT_READY;
		nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
	}
	return WAIT_LATE;
}

static void report(struct rs_gen_ctx *f, enum rs_engine e, const struct rs_gen *g,
		   const struct detach *d, struct rs_child *c, int r)
{
	const char *self = g->launch_argv[0];
	pid_t pid = c->pid;
	if (r == WAIT_READY) {
		rs_child_release(c);
		rs_action_add(
			&f->acts, "install", "exec", self,
			"started (no systemd user manager): %s (pid %d, as %s; log '%s/" LOG_NAME
			"'); it runs until uninstall, not across a reboot",
			g->launch_cmd, (int)pid, f->ctx->user.name, d->state_dir)
			->changed = true;
		return;
	}
	_cleanup_free_ char *tail = tail_of(f->ctx, d->state_dir, LOG_NAME);
	if (r == WAIT_LATE) {
		rs_child_release(c);
		rs_action_add(&f->acts, "install", "exec", self,
			      "started %s (pid %d), but '%s/%s' did not appear within %d s: it "
			      "still runs; its log '%s/" LOG_NAME "' ends: %s",
			      g->launch_cmd, (int)pid, d->run, g->socket, READY_WAIT_MS / 1000,
			      d->state_dir, tail)
			->failed = true;
		diagnose_log(f, e, d->state_dir);
		return;
	}
	int st = rs_child_reap(c);
	rs_action_add(&f->acts, "install", "exec", self,
		      "%s exited (%s %d) before '%s/%s' appeared; its log '%s/" LOG_NAME
		      "' ends: %s",
		      g->launch_cmd, WIFEXITED(st) ? "status" : "signal",
		      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), d->run, g->socket,
		      d->state_dir, tail)
		->failed = true;
	diagnose_log(f, e, d->state_dir);
}

/* A setup step failed: the launch is not started. */
static void not_started(struct rs_gen_ctx *f, const struct rs_gen *g, const struct detach *d, int r,
			const struct rs_error *e)
{
	if (r == -EBUSY) {
		_cleanup_free_ char *pid = tail_of(f->ctx, d->state_dir, "lock");
		rs_action_add(&f->acts, "install", "note", d->state_dir,
			      "already running (launcher pid %s): not started again; uninstall "
			      "stops it",
			      pid);
		return;
	}
	rs_action_add(&f->acts, "install", "exec", g->launch_argv[0], "cannot start %s as %s: %s",
		      g->launch_cmd, f->ctx->user.name, e ? e->msg : strerror(-r))
		->failed = true;
}

void rs_inst_detach(struct rs_gen_ctx *f, enum rs_engine eng, const struct rs_gen *g)
{
	const struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *parent = rs_xstrdup(g->state_dir);
	struct detach d = {.u = &ctx->user,
			   .joins = g->joins,
			   .run = run,
			   .state_dir = g->state_dir,
			   .parent = parent};
	struct rs_error *e = NULL;
	struct rs_child c;

	*strrchr(parent, '/') = '\0';
	d.envp[0] = rs_xasprintf("HOME=%s", ctx->user.home);
	d.envp[1] = rs_xasprintf("USER=%s", ctx->user.name);
	d.envp[2] = rs_xasprintf("LOGNAME=%s", ctx->user.name);
	d.envp[3] = rs_xasprintf("XDG_RUNTIME_DIR=%s", run);
	d.envp[4] = rs_xstrdup(UNIT_PATH);
	struct rs_spawn sp = {.path = g->launch_argv[0],
			      .argv = g->launch_argv,
			      .envp = d.envp,
			      .flags = RS_SPAWN_DETACH | RS_SPAWN_NO_DEADLINE,
			      .setup = detach_setup,
			      .arg = &d,
			      .steps = steps};
	int r = rs_spawn_start(&sp, &c, &e);
	if (r == 0)
		r = wait_ready(ctx, &c, run, g->socket, &e);
	if (r < 0) {
		rs_child_reap(&c);
		not_started(f, g, &d, r, e);
	} else {
		report(f, eng, g, &d, &c, r);
	}
	rs_error_free(e);
	for (size_t i = 0; d.envp[i]; i++)
		free(d.envp[i]);
}
