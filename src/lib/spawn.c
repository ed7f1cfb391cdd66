/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting a process and waiting for it, one way for all (spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io.h"
#include "lib/sig.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

/* The child's report: the failing step and its errno. Eight bytes, so one
 * write of at most PIPE_BUF arrives whole or not at all. */
struct report {
	int32_t step;
	int32_t err;
};

/* Steps of our own (setup's are >= 0, indexes into steps[]). */
enum {
	STEP_EXEC = RS_SPAWN_STEP_EXEC,
	STEP_SESSION = -2,
	STEP_FDS = -3,
	STEP_CTTY = -4,
	STEP_CWD = -5,
};

#define TARGETS_MAX (3 + RS_SPAWN_FDS_MAX + 2) /* stdio, handed-on fds, report, exe */

/* Everything the child does with fds, prepared before the fork so the
 * child allocates nothing: target fd i gets src[i]. */
struct plan {
	int src[TARGETS_MAX];
	bool cloexec[TARGETS_MAX];
	int n;
	int report;   /* the target number of the report pipe */
	int exe;      /* of the image (RS_SPAWN_EXE_FD), or -1 */
	int ours[4];  /* our ends of the pipes: closed in the child */
	int report_w; /* the report pipe as it was opened */
};

static const char *step_name(const char *const *steps, int step)
{
	switch (step) {
	case STEP_EXEC:
		return NULL;
	case STEP_SESSION:
		return "making a new session";
	case STEP_FDS:
		return "arranging its file descriptors";
	case STEP_CTTY:
		return "taking the terminal";
	case STEP_CWD:
		return "changing directory";
	default:
		break;
	}
	for (int i = 0; steps && steps[i]; i++)
		if (i == step)
			return steps[i];
	return "setting it up";
}

/* ---- the child, between fork and exec: async-signal-safe only ---- */

_noreturn_ static void child_fail(int fd, int step, int err)
{
	struct report r = {.step = step, .err = err > 0 ? err : EIO};
	(void)rs_write_full(fd, &r, sizeof(r));
	_exit(127);
}

static void close_above(int first)
{
	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	/* before Linux 5.9 */
	struct rlimit rl;
	rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 65536;
	for (rlim_t fd = (rlim_t)first; fd < max && fd < (1u << 20); fd++)
		close((int)fd);
}

/* Every source moved above the targets first, so no dup3 below
 * overwrites one that is still to be placed. keep_others (fn's
 * RS_SPAWN_KEEP_FDS): only fds 0-2 are placed, the report pipe stays
 * where it landed, and every other fd of ours stays as it is. Return: the
 * report fd. */
static int place_fds(const struct plan *p, bool keep_others)
{
	int hi[TARGETS_MAX] = {0};
	int report = p->report_w;
	int n = keep_others ? 3 : p->n;

	for (int i = 0; i < 4; i++)
		if (p->ours[i] >= 0)
			close(p->ours[i]);
	for (int i = 0; i < p->n; i++) {
		hi[i] = p->src[i] < 0 ? -1 : fcntl(p->src[i], F_DUPFD_CLOEXEC, p->n);
		if (p->src[i] >= 0 && hi[i] < 0)
			child_fail(report, STEP_FDS, errno);
	}
	report = hi[p->report];
	for (int i = 0; i < n; i++)
		if (hi[i] >= 0 && dup3(hi[i], i, p->cloexec[i] ? O_CLOEXEC : 0) < 0)
			child_fail(report, STEP_FDS, errno);
	if (!keep_others) {
		close_above(p->n);
		return p->report;
	}
	for (int i = 0; i < 3; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	close(p->report_w);
	return report;
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execvp's search, in envp's PATH rather than ours (execvpe reads our
 * environment's), with no allocation. Returns with errno set. */
static void exec_search(const char *file, char *const argv[], char *const envp[])
{
	char buf[PATH_MAX];
	int saved = ENOENT;
	size_t fl = strlen(file);

	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return;
	}
	const char *path = env_get(envp, "PATH");
	for (const char *d = path ? path : "/usr/bin:/bin";; d++) {
		const char *end = strchrnul(d, ':');
		size_t dl = (size_t)(end - d);
		if (dl + 1 + fl < sizeof(buf)) {
			memcpy(buf, dl ? d : ".", dl ? dl : 1);
			dl = dl ? dl : 1;
			buf[dl] = '/';
			memcpy(buf + dl + 1, file, fl + 1);
			execve(buf, argv, envp);
			if (errno == EACCES)
				saved = EACCES;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!*end)
			break;
		d = end;
	}
	errno = saved;
}

_noreturn_ static void child_run(const struct rs_spawn *o, const struct plan *p, pid_t parent)
{
	static char *const empty[] = {NULL};
	struct rs_spawn_ctx ctx = {.step = STEP_EXEC, .report_fd = p->report_w, .parent = parent};
	char *argv0[] = {(char *)o->path, NULL};

	/* dispositions only where the child execs (ignored ones survive
	 * exec: 64 calls); one that runs fn is our code, written for them,
	 * and _exits. The mask is emptied for both. */
	if (!o->fn) {
		rs_signals_reset();
	} else {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (setsid() < 0)
		child_fail(ctx.report_fd, STEP_SESSION, errno);
	ctx.report_fd = place_fds(p, o->fn && (o->flags & RS_SPAWN_KEEP_FDS));
	if ((o->flags & RS_SPAWN_CTTY) && ioctl(o->ctty, TIOCSCTTY, 0) < 0)
		child_fail(ctx.report_fd, STEP_CTTY, errno);
	if (chdir(o->cwd ? o->cwd : "/") < 0)
		child_fail(ctx.report_fd, STEP_CWD, errno);
	if (o->setup) {
		ctx.step = 0;
		int r = o->setup(o->arg, &ctx);
		if (r < 0)
			child_fail(ctx.report_fd, ctx.step, -r);
	}
	/* a credential change (the setup's) cleared the parent-death signal;
	 * a daemon is meant to outlive us */
	if (!(o->flags & RS_SPAWN_DETACH)) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ctx.parent)
			_exit(127);
	}
	if (o->fn)
		_exit(o->fn(o->arg) & 0xff);
	char *const *argv = o->argv ? o->argv : argv0;
	char *const *envp = o->envp ? o->envp : empty;
	if (o->flags & RS_SPAWN_EXE_FD)
		fexecve(p->exe, argv, envp);
	else if (o->flags & RS_SPAWN_SEARCH)
		exec_search(o->path, argv, envp);
	else
		execve(o->path, argv, envp);
	child_fail(ctx.report_fd, STEP_EXEC, errno);
}

/* ---- the parent ---- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The sources of fds 0-2: the caller's, or /dev/null and our pipes. */
static int plan_stdio(const struct rs_spawn *o, struct plan *p, int nul, int out_w, int err_w)
{
	if (o->flags & RS_SPAWN_STDIO) {
		for (int i = 0; i < 3; i++)
			if (o->stdio[i] < 0)
				return -EBADF;
		memcpy(p->src, o->stdio, sizeof(o->stdio));
		return 0;
	}
	p->src[0] = nul;
	p->src[1] = out_w >= 0 ? out_w : nul;
	p->src[2] = (o->flags & RS_SPAWN_MERGE) && out_w >= 0 ? out_w : err_w >= 0 ? err_w : nul;
	return 0;
}

static void plan_rest(const struct rs_spawn *o, struct plan *p, int report_w)
{
	p->n = 3;
	for (size_t i = 0; i < o->n_fds; i++) {
		p->cloexec[p->n] = o->flags & RS_SPAWN_FDS_CLOEXEC;
		p->src[p->n++] = o->fds[i];
	}
	p->report = p->n;
	p->cloexec[p->n] = true;
	p->src[p->n++] = report_w;
	p->exe = -1;
	if (o->flags & RS_SPAWN_EXE_FD) {
		p->exe = p->n;
		p->cloexec[p->n] = true;
		p->src[p->n++] = o->exe_fd;
	}
	p->report_w = report_w;
}

static int pipe_pair(bool want, int fds[2])
{
	fds[0] = fds[1] = -1;
	return want && pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

static void reaper_on(struct rs_child *c)
{
	int old = 0;
	/* the child's descendants killed with it must not become init's
	 * zombies (not every PID 1 reaps): they are reparented to us */
	if (prctl(PR_GET_CHILD_SUBREAPER, &old) == 0 && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0)
		c->old_reaper = old;
}

static int start_fail(struct rs_child *c, int e, struct rs_error **err)
{
	if (c->old_reaper >= 0)
		prctl(PR_SET_CHILD_SUBREAPER, c->old_reaper);
	c->old_reaper = -1;
	return rs_error_set(err, e, "cannot run '%s'", c->path);
}

static void child_init(const struct rs_spawn *o, struct rs_child *c)
{
	*c = (struct rs_child){.pidfd = -1,
			       .report = -1,
			       .out = -1,
			       .err = -1,
			       .old_reaper = -1,
			       .path = o->path ? o->path : "(null)",
			       .steps = o->steps,
			       .out_max = o->out_max ? o->out_max : RS_SPAWN_OUT_MAX,
			       .err_max = o->err_max ? o->err_max : RS_SPAWN_OUT_MAX,
			       .timeout_ms = o->timeout_ms ? o->timeout_ms : RS_SPAWN_TIMEOUT_MS};
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close_fd(&fds[i]);
}

static bool start_bad(const struct rs_spawn *o)
{
	return !o->path || o->n_fds > RS_SPAWN_FDS_MAX ||
	       ((o->flags & RS_SPAWN_KEEP_FDS) && (!o->fn || o->n_fds)) ||
	       ((o->flags & RS_SPAWN_CTTY) &&
		(!(o->flags & RS_SPAWN_STDIO) || o->ctty < 0 || o->ctty > 2));
}

/* ---- starting it ---- */

/* A child that only execs shares our memory until it does, as
 * posix_spawn's does (vfork: CLONE_VM|CLONE_VFORK): a fork copies our
 * page tables, which cost the launch ~1.5 ms for each of newuidmap and
 * newgidmap (issue 24's bench). child_run makes plain system calls only,
 * writes nothing of ours but errno, and resets every handler before it
 * unblocks signals, so no handler of ours runs in it. A setup callback or
 * fn may change credentials through libc (which syncs threads over
 * shared memory) or run any of our code: those children fork. */
static pid_t start_child(const struct rs_spawn *o, const struct plan *p)
{
	pid_t parent = getpid(), pid;
	sigset_t all, old;

	if (o->setup || o->fn) {
		pid = fork();
		if (pid == 0)
			child_run(o, p, parent);
		return pid;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork(); /* NOLINT(clang-analyzer-security.insecureAPI.vfork): as posix_spawn */
	/* the analyzer allows only exec and _exit after vfork: child_run
	 * ends in one of them, after the plain system calls above */
	if (pid == 0)
		child_run(o, p, parent); /* NOLINT(clang-analyzer-unix.Vfork) */
	int e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return pid;
}

int rs_spawn_start(const struct rs_spawn *o, struct rs_child *c, struct rs_error **err)
{
	/* report, stdout and stderr pipes: read end, write end */
	int fds[6] = {-1, -1, -1, -1, -1, -1}, r;
	struct plan p = {0};

	child_init(o, c);
	if (start_bad(o))
		return start_fail(c, EINVAL, err);
	bool own_stdio = !(o->flags & RS_SPAWN_STDIO);
	_cleanup_close_ int nul = own_stdio ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
	if (own_stdio && nul < 0)
		return start_fail(c, errno, err);
	if ((r = pipe_pair(true, fds)) < 0 ||
	    (r = pipe_pair(own_stdio && (o->flags & RS_SPAWN_STDOUT), fds + 2)) < 0 ||
	    (r = pipe_pair(own_stdio && (o->flags & RS_SPAWN_STDERR) && !(o->flags & RS_SPAWN_MERGE),
			   fds + 4)) < 0 ||
	    (r = plan_stdio(o, &p, nul, fds[3], fds[5])) < 0) {
		close_all(fds, ARRAY_SIZE(fds));
		return start_fail(c, -r, err);
	}
	plan_rest(o, &p, fds[1]);
	p.ours[0] = fds[0];
	p.ours[1] = fds[2];
	p.ours[2] = fds[4];
	p.ours[3] = -1;
	if (o->flags & RS_SPAWN_REAPER)
		reaper_on(c);
	pid_t pid = start_child(o, &p);
	int e = errno;
	close_fd(&fds[1]);
	close_fd(&fds[3]);
	close_fd(&fds[5]);
	if (pid < 0) {
		close_all(fds, ARRAY_SIZE(fds));
		return start_fail(c, e, err);
	}
	c->pid = pid;
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	c->report = fds[0];
	c->out = fds[2];
	c->err = fds[4];
	fcntl(c->report, F_SETFL, O_NONBLOCK);
	if (c->out >= 0)
		fcntl(c->out, F_SETFL, O_NONBLOCK);
	if (c->err >= 0)
		fcntl(c->err, F_SETFL, O_NONBLOCK);
	c->deadline = (o->flags & RS_SPAWN_NO_DEADLINE) ? 0 : rs_now_ms() + c->timeout_ms;
	return 0;
}

/* ---- waiting ---- */

/* What one pipe gave: kept up to max, the rest read and dropped. */
struct sink {
	int *fd;
	char *buf;
	size_t len, cap, max;
	bool cut;
};

/* Reads what is there now, at most a bounded number of times (a child
 * that writes without end must not keep us from the deadline). */
static void drain(struct sink *s)
{
	char scratch[4096];

	for (int round = 0; *s->fd >= 0 && round < 64; round++) {
		char *to = scratch;
		size_t room = sizeof(scratch);
		if (s->buf && s->len < s->max) {
			if (s->len == s->cap) {
				s->cap = s->cap * 2 > s->max ? s->max : s->cap * 2;
				s->buf = rs_xrealloc(s->buf, s->cap + 1);
			}
			to = s->buf + s->len;
			room = s->cap - s->len;
		}
		ssize_t n = read(*s->fd, to, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(s->fd);
			return;
		}
		if (to == scratch)
			s->cut = true;
		else
			s->len += (size_t)n;
	}
}

static void sink_init(struct sink *s, int *fd, size_t max)
{
	*s = (struct sink){.fd = fd, .max = max};
	if (*fd >= 0) {
		s->cap = max < 4096 ? max : 4096;
		s->buf = rs_xmalloc(s->cap + 1);
	}
}

static void sink_take(struct sink *s, char **out, size_t *len, bool *cut)
{
	if (s->buf)
		s->buf[s->len] = '\0';
	*out = s->buf;
	*len = s->len;
	*cut = s->cut;
}

int rs_child_report(struct rs_child *c, bool *done, struct rs_error **err)
{
	struct report r;

	*done = c->report < 0;
	while (c->report >= 0) {
		ssize_t n = read(c->report, &r, sizeof(r));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		close_fd(&c->report);
		*done = true;
		if (n != (ssize_t)sizeof(r))
			return 0; /* it exec'd (or ran fn and left) */
		int e = r.err > 0 && r.err < 4096 ? r.err : EIO;
		const char *step = step_name(c->steps, r.step);
		c->step = r.step;
		if (step)
			return rs_error_set(err, e, "cannot run '%s': %s", c->path, step);
		return rs_error_set(err, e, "cannot run '%s'", c->path);
	}
	return 0;
}

static bool exited(const struct rs_child *c)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == c->pid;
}

static void child_close(struct rs_child *c)
{
	close_fd(&c->report);
	close_fd(&c->out);
	close_fd(&c->err);
	close_fd(&c->pidfd);
	if (c->old_reaper >= 0)
		prctl(PR_SET_CHILD_SUBREAPER, c->old_reaper);
	c->old_reaper = -1;
	c->pid = 0;
}

int rs_child_reap(struct rs_child *c)
{
	int st = -1;
	if (c->pid <= 0)
		return -1;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	child_close(c);
	return st;
}

void rs_child_release(struct rs_child *c)
{
	if (c->pid > 0)
		child_close(c);
}

int rs_child_kill(struct rs_child *c)
{
	int st = -1;
	pid_t pid = c->pid;

	if (pid <= 0)
		return -1;
	/* the zombie leader keeps its pid from reuse: the group is still its */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* its orphans came to us (RS_SPAWN_REAPER): reap the group */
	if (c->old_reaper >= 0)
		while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
			;
	child_close(c);
	return st;
}

/* One poll of the pipes and the pidfd, until the deadline at most. */
static void wait_some(const struct rs_child *c)
{
	struct pollfd pf[4] = {{.fd = c->report, .events = POLLIN},
			       {.fd = c->out, .events = POLLIN},
			       {.fd = c->err, .events = POLLIN},
			       {.fd = c->pidfd, .events = POLLIN}};
	int left = c->deadline ? rs_ms_left(c->deadline) : -1;
	/* without a pidfd (before Linux 5.3) the exit is polled for */
	if (c->pidfd < 0 && (left < 0 || left > 50))
		left = 50;
	poll(pf, ARRAY_SIZE(pf), left);
}

int rs_spawn_wait(struct rs_child *c, struct rs_spawn_result *res, struct rs_error **err)
{
	struct sink out, er;
	bool done = false, gone = false, late = false;
	int r = 0;

	memset(res, 0, sizeof(*res));
	sink_init(&out, &c->out, c->out_max);
	sink_init(&er, &c->err, c->err_max);
	while (c->pid > 0) {
		drain(&out);
		drain(&er);
		if (!done && (r = rs_child_report(c, &done, err)) < 0)
			break;
		if (gone)
			break; /* what it wrote before it left is read above */
		/* one started early (the probe) may have finished long before
		 * its caller came to wait: it is only late if still running */
		if (c->deadline && rs_now_ms() >= c->deadline) {
			if ((gone = exited(c)))
				continue;
			late = true;
			break;
		}
		wait_some(c);
		gone = exited(c);
	}
	res->status = rs_child_kill(c);
	sink_take(&out, &res->out, &res->out_len, &res->out_cut);
	sink_take(&er, &res->err, &res->err_len, &res->err_cut);
	if (r < 0)
		return r;
	if (late)
		return c->timeout_ms % 1000
			       ? rs_error_setx(err, ETIMEDOUT, "'%s' did not finish within %u ms",
					       c->path, c->timeout_ms)
			       : rs_error_setx(err, ETIMEDOUT, "'%s' did not finish within %u s",
					       c->path, c->timeout_ms / 1000);
	return 0;
}

int rs_spawn_run(const struct rs_spawn *o, struct rs_spawn_result *res, struct rs_error **err)
{
	struct rs_child c;
	int r = rs_spawn_start(o, &c, err);
	if (r < 0) {
		memset(res, 0, sizeof(*res));
		res->status = -1;
		return r;
	}
	return rs_spawn_wait(&c, res, err);
}

void rs_spawn_result_clear(struct rs_spawn_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

int rs_spawn_exit_code(int status)
{
	if (status < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
