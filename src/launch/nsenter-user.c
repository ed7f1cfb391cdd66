/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Root entering a user's launch (docs/security.md, "Terminals,
 * environments and waits"). The command is the user's code: whatever
 * runs inside the launch is what the user mounted there (a bind mount
 * over /usr/bin/id). So it runs in a child root starts with lib/spawn,
 * which becomes the launch's owner before it joins anything, in a session
 * of its own, with the user's allow-listed environment. Root's pipes and
 * files pass through as they are (`nsenter -- tar x <f` and binary output
 * work); a terminal of root's is never handed over: the child gets a pty
 * whose master root keeps and relays (lib/pty.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <sched.h>
#include <unistd.h>
#include "host/user.h"
#include "launch/nsenter.h"
#include "lib/pty.h"
#include "lib/sig.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

/* What the child does before exec, as the steps its errors name. */
static const char *const enter_steps[] = {
	"becoming the launch's owner",
	"joining the launch's namespaces",
	"entering its pid namespace",
	NULL,
};

struct enter {
	const struct rs_user *u;
	struct rs_ns_target t; /* its fds as the child has them (3, 4, ...) */
	const char *cwd;       /* root's, tried as the user inside; else "/" */
};

/* In the child (lib/spawn's setup): the user, then the namespaces. A pid
 * namespace applies to children only: the child forks once more and
 * stays to wait and forward signals, the grandchild goes on to exec. */
static int enter_setup(void *arg, struct rs_spawn_ctx *ctx)
{
	const struct enter *e = arg;
	int r;

	ctx->step = 0;
	if ((r = rs_user_drop(e->u)) < 0)
		return r;
	ctx->step = 1;
	if ((r = rs_ns_join(&e->t, NULL)) < 0)
		return r;
	if (chdir(e->cwd) < 0 && chdir("/") < 0)
		return -errno;
	if (!(e->t.flags & CLONE_NEWPID))
		return 0;
	ctx->step = 2;
	rs_nsenter_block(NULL);
	pid_t c = fork();
	if (c < 0)
		return -errno;
	if (c == 0) {
		rs_signals_reset();
		/* the parent is outside the pid namespace: getppid() is 0 */
		ctx->parent = getppid();
		return 0;
	}
	/* root sees the grandchild's exec (or its report), not ours */
	close(ctx->report_fd);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ctx->parent)
		_exit(RS_LAUNCH_EXIT_SETUP);
	_exit(rs_nsenter_wait_child(c));
}

/* The fds the child needs, handed on by lib/spawn as 3, 4, ...: fds gets
 * them, e->t their numbers there. */
static size_t hand_on(const struct rs_ns_target *t, struct enter *e, int *fds)
{
	size_t n = 0;

	e->t = *t;
	e->t.procfd = -1;
	if (t->pidfd >= 0) {
		fds[n] = t->pidfd;
		e->t.pidfd = 3 + (int)n++;
	}
	for (size_t i = 0; i < RS_NS_COUNT; i++)
		if (t->nsfd[i] >= 0) {
			fds[n] = t->nsfd[i];
			e->t.nsfd[i] = 3 + (int)n++;
		}
	return n;
}

/* The runtime dir named to us, or /run/user/UID: a directory of uid's
 * (looked at without following a last symlink), else none. */
static char *user_run(const char *given, uid_t uid)
{
	_cleanup_free_ char *def = rs_xasprintf("/run/user/%u", (unsigned)uid);
	const char *const cand[] = {given, def};
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(cand); i++)
		if (cand[i] && cand[i][0] == '/' && lstat(cand[i], &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == uid)
			return rs_xstrdup(cand[i]);
	return NULL;
}

/* TERM names root's terminal type, which the pty relays to:
 * "xterm-256color", "screen.xterm-256color", "vt100" */
static bool term_plain(const char *s)
{
	return rs_str_plain(s, 64, "+-._");
}

/* The allow-list: nothing else of root's environment reaches the user. */
static void owner_env(const struct rs_nsenter_opts *o, const struct rs_ns_target *t,
		      const struct rs_user *u, struct rs_strv *env)
{
	_cleanup_free_ char *run = user_run(o->run_dir, u->uid);

	rs_user_env(u, run, o->lang, env);
	if (term_plain(o->term))
		rs_strv_take(env, rs_xasprintf("TERM=%s", o->term));
	rs_nsenter_env_extra(o, t->snap, env);
}

static int resolve_owner(const struct rs_ns_target *t, struct rs_user *u, struct rs_error **err)
{
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_host *h = NULL;
	char spec[16];

	snprintf(spec, sizeof(spec), "%u", (unsigned)t->owner);
	if (rs_host_open("/", &h, err) < 0)
		return -1;
	int r = rs_user_resolve(h, spec, u, &e);
	rs_host_free(h);
	if (r == -ENOENT)
		return rs_error_setx(err, EPERM,
				     "the launch of pid %d belongs to uid %u, which has "
				     "no passwd entry: refusing to enter it as root",
				     (int)t->pid, (unsigned)t->owner);
	if (r < 0)
		return rs_error_setx(err, -r, "%s", e->msg);
	return 0;
}

/* Root's fds 0-2 for the child: pipes and files as they are, a terminal
 * replaced by the pty's slave. Return: 0, or -errno from the pty. */
static int plan_stdio(struct rs_pty *pty, int stdio[3], int *ctty)
{
	int tty = -1;

	*ctty = -1;
	for (int i = 0; i < 3; i++) {
		stdio[i] = i;
		if (tty < 0 && isatty(i))
			tty = i;
	}
	*pty = (struct rs_pty){.master = -1, .slave = -1, .tty = -1};
	if (tty < 0)
		return 0;
	/* raw when we read keys from it: the pty's slave does the rest */
	int r = rs_pty_open(tty, isatty(0), pty);
	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++)
		if (isatty(i)) {
			stdio[i] = pty->slave;
			if (*ctty < 0)
				*ctty = i;
		}
	return 0;
}

/* Without a terminal: forward signals until the child exits. */
static void wait_plain(struct rs_child *c, int sigfd)
{
	struct signalfd_siginfo si;
	siginfo_t w;

	for (;;) {
		memset(&w, 0, sizeof(w));
		if (waitid(P_PID, (id_t)c->pid, &w, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    w.si_pid == c->pid)
			return;
		struct pollfd pf[2] = {{.fd = sigfd, .events = POLLIN},
				       {.fd = c->pidfd, .events = POLLIN}};
		if (poll(pf, 2, c->pidfd < 0 ? 100 : -1) <= 0 || !pf[0].revents)
			continue;
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
				kill(c->pid, (int)si.ssi_signo);
	}
}

/* The relay (a terminal) or the plain wait, then the child's status. */
static int supervise(struct rs_pty *pty, struct rs_child *c, int sigfd, struct rs_error **err)
{
	bool done;
	int out = isatty(1) ? 1 : isatty(2) ? 2 : 0;

	if (pty->master >= 0) {
		if (isatty(0))
			rs_pty_raw(pty);
		rs_pty_relay(pty, c, isatty(0) ? 0 : -1, out, sigfd);
		rs_pty_close(pty);
	} else {
		wait_plain(c, sigfd);
	}
	int r = rs_child_report(c, &done, err);
	int st = rs_child_reap(c);
	if (r < 0 && c->step == RS_SPAWN_STEP_EXEC)
		return r == -ENOENT ? RS_LAUNCH_EXIT_NOTFOUND : RS_LAUNCH_EXIT_NOEXEC;
	if (r < 0)
		return RS_LAUNCH_EXIT_SETUP;
	return rs_spawn_exit_code(st);
}

/* The signals root forwards or acts on while the command runs: blocked
 * before the fork (lib/spawn unblocks them in the child), read from a
 * signalfd. old gets the mask before. Return: the signalfd, or -1. */
static int watch_signals(sigset_t *old)
{
	sigset_t set;

	rs_nsenter_block(old);
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &set);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The pty, when root has a terminal: its slave is the user's session
 * terminal, the user's as login makes it; its master stays ours. */
static int open_terminal(struct rs_pty *pty, int stdio[3], int *ctty, uid_t uid,
			 struct rs_error **err)
{
	int r = plan_stdio(pty, stdio, ctty);
	if (r < 0)
		return rs_error_set(err, -r, "cannot allocate a terminal for the command");
	if (pty->slave >= 0 && fchown(pty->slave, uid, (gid_t)-1) < 0) {
		r = rs_error_set(err, errno, "cannot hand the terminal to uid %u", (unsigned)uid);
		rs_pty_close(pty);
	}
	return r;
}

/* Starts the command's child and lets go of what it now holds. */
static int start(const struct rs_nsenter_opts *o, const struct rs_ns_target *t, struct enter *e,
		 char **envp, struct rs_pty *pty, const int stdio[3], int ctty, struct rs_child *c,
		 struct rs_error **err)
{
	int fds[RS_NS_COUNT + 1];
	size_t n = hand_on(t, e, fds);
	struct rs_spawn so = {.path = o->argv[0],
			      .argv = o->argv,
			      .envp = envp,
			      .flags = RS_SPAWN_STDIO | RS_SPAWN_SEARCH | RS_SPAWN_NO_DEADLINE |
				       RS_SPAWN_FDS_CLOEXEC | (ctty >= 0 ? RS_SPAWN_CTTY : 0),
			      .stdio = {stdio[0], stdio[1], stdio[2]},
			      .ctty = ctty,
			      .fds = fds,
			      .n_fds = n,
			      .setup = enter_setup,
			      .arg = e,
			      .steps = enter_steps};
	int r = rs_spawn_start(&so, c, err);
	/* the child has its slave: ours would keep the master from ending */
	if (pty->slave >= 0)
		close(pty->slave);
	pty->slave = -1;
	return r;
}

int rs_nsenter_as_owner(const struct rs_nsenter_opts *o, struct rs_ns_target *t,
			struct rs_error **err)
{
	_cleanup_strv_ struct rs_strv env = {0};
	struct enter e = {0};
	struct rs_user u;
	struct rs_pty pty;
	struct rs_child c = {0};
	int stdio[3], ctty, r = RS_LAUNCH_EXIT_SETUP;
	char cwd[4096];
	sigset_t old;

	if (resolve_owner(t, &u, err) < 0)
		return RS_LAUNCH_EXIT_SETUP;
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	owner_env(o, t, &u, &env);
	e.u = &u;
	e.cwd = cwd;
	if (open_terminal(&pty, stdio, &ctty, u.uid, err) == 0) {
		int sigfd = watch_signals(&old);
		if (start(o, t, &e, env.v, &pty, stdio, ctty, &c, err) == 0)
			r = supervise(&pty, &c, sigfd, err);
		rs_pty_close(&pty);
		if (sigfd >= 0)
			close(sigfd);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	rs_ns_target_close(t);
	rs_user_clear(&u);
	return r;
}
