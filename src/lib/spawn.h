/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one way this program starts a process (docs/security.md,
 * "Terminals, environments and waits"). Root runs programs as a user (the
 * user's systemctl, the purge's launch, the probe, nsenter's command) and
 * for itself (helpers, podman --version); the user can signal, stop and,
 * once it execs, trace such a process. So every child:
 *
 *  - is a new session and process group (setsid): no controlling terminal
 *    of ours to inject keystrokes into (TIOCSTI) or to read, and a group
 *    the parent kills whole;
 *  - has stdin on /dev/null and stdout/stderr on /dev/null or on pipes the
 *    parent reads, bounded in size (what comes back is the child's input
 *    to us: the caller escapes it before it prints any of it); nothing
 *    else of ours: every other fd is closed (close_range), except those
 *    the caller hands on by name;
 *  - gets default signal dispositions and an empty mask (lib/sig.h), the
 *    environment the caller built (an allow-list, never ours: see
 *    rs_user_env in host/user.h), cwd "/" unless told otherwise;
 *  - is set up by the caller's callback (credentials, namespaces) after
 *    all of the above, and dies with its parent (PR_SET_PDEATHSIG, set
 *    again after the callback since a credential change clears it);
 *  - reports a failure to set up or to exec over a close-on-exec pipe:
 *    which step, and its errno;
 *  - is waited for with a deadline on the monotonic clock (a stopped
 *    child does not extend it), after which its process group is killed
 *    and the message names the program that missed it.
 *
 * Between fork and exec only async-signal-safe calls are made: the
 * callback must keep to them too (rs_user_drop does).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/error.h"
#include "lib/macro.h"

#define RS_SPAWN_OUT_MAX    (64u << 10) /* default bound of captured stdout and stderr */
#define RS_SPAWN_TIMEOUT_MS 30000	/* default deadline of a wait */
#define RS_SPAWN_FDS_MAX    16		/* fds handed on by name */

enum rs_spawn_flags {
	RS_SPAWN_STDOUT = 1u << 0, /* stdout on a pipe the parent reads (out) */
	RS_SPAWN_STDERR = 1u << 1, /* stderr on its own pipe (err) */
	RS_SPAWN_MERGE = 1u << 2,  /* stderr on stdout's pipe, as 2>&1 (with STDOUT) */
	/* fds 0-2 are the caller's stdio[] (nsenter's command: root's pipes
	 * and files pass through, a terminal is replaced by a pty first) */
	RS_SPAWN_STDIO = 1u << 3,
	RS_SPAWN_CTTY = 1u << 4,   /* with STDIO: fd ctty (0-2) becomes the controlling tty */
	RS_SPAWN_EXE_FD = 1u << 5, /* fexecve(exe_fd): the image the caller opened */
	RS_SPAWN_SEARCH = 1u << 6, /* path is a command looked up in envp's PATH */
	RS_SPAWN_REAPER = 1u << 7, /* the child's orphans come to us; the wait reaps them */
	/* fn only, no fds handed on: keep our other fds where they are
	 * (fn's args use them; fn execs nothing) */
	RS_SPAWN_KEEP_FDS = 1u << 8,
	RS_SPAWN_NO_DEADLINE = 1u << 9, /* nsenter's interactive command: the admin waits */
	/* the fds handed on are the setup's only: closed at exec */
	RS_SPAWN_FDS_CLOEXEC = 1u << 10,
	/* a daemon (install's start without a user manager): it does not die
	 * with us (no PR_SET_PDEATHSIG); rs_child_release lets it go */
	RS_SPAWN_DETACH = 1u << 11,
};

/* What the setup callback gets: where it stands, and where it says what
 * failed. */
struct rs_spawn_ctx {
	int step;      /* set to the index in steps[] of the failing step */
	int report_fd; /* the report pipe (a callback that forks closes it in the parent) */
	pid_t parent;  /* checked after PR_SET_PDEATHSIG: a callback that forks
			* sets it to the new parent in the child */
};

struct rs_spawn {
	const char *path;  /* the program; messages name it (no exec with fn) */
	char *const *argv; /* NULL: {path} */
	char *const *envp; /* the whole environment; NULL: an empty one */
	unsigned flags;	   /* enum rs_spawn_flags */
	int exe_fd;	   /* RS_SPAWN_EXE_FD */
	int stdio[3];	   /* RS_SPAWN_STDIO */
	int ctty;	   /* RS_SPAWN_CTTY: which of 0-2 */
	const int *fds;	   /* handed on as fds 3, 4, ...: n_fds of them */
	size_t n_fds;
	const char *cwd; /* NULL: "/" (ours may be closed to the user) */
	/* In the child after the above, before exec or fn; async-signal-safe.
	 * Return: 0 or -errno with ctx->step set. */
	int (*setup)(void *arg, struct rs_spawn_ctx *ctx);
	void *arg;
	const char *const *steps; /* setup's step names, NULL-terminated */
	/* No exec: the child runs fn(arg) and exits with its value (0-255) */
	int (*fn)(void *arg);
	size_t out_max, err_max; /* 0: RS_SPAWN_OUT_MAX */
	unsigned timeout_ms;	 /* 0: RS_SPAWN_TIMEOUT_MS */
};

/* A started child. pid 0: none (rs_child_kill does nothing). */
struct rs_child {
	pid_t pid;
	int pidfd;		  /* -1 before Linux 5.3 */
	int report, out, err;	  /* our ends of the pipes, or -1 */
	uint64_t deadline;	  /* rs_now_ms() clock; 0: none */
	const char *path;	  /* borrowed from rs_spawn */
	const char *const *steps; /* borrowed */
	size_t out_max, err_max;
	unsigned timeout_ms;
	int old_reaper; /* PR_GET_CHILD_SUBREAPER before, -1: untouched */
	int step;	/* after a report: the step that failed */
};

/* rs_child's step when exec itself failed (setup's are >= 0) */
#define RS_SPAWN_STEP_EXEC (-1)

struct rs_spawn_result {
	int status;		 /* the wait status */
	char *out, *err;	 /* captured bytes, NUL-terminated; NULL when not asked */
	size_t out_len, err_len; /* bytes kept */
	bool out_cut, err_cut;	 /* more came than the bound: read and dropped */
};

/* Forks and starts the child; our ends of its pipes are non-blocking.
 * Return: 0, or -errno with *err naming the program. */
int rs_spawn_start(const struct rs_spawn *o, struct rs_child *c, struct rs_error **err);

/* Collects the child's output until it exits or the deadline passes, then
 * kills what is left of its process group, reaps it and closes our ends.
 * Return: 0 with res->status (it ran, whatever its exit status), or <0
 * with *err: -ETIMEDOUT ("'PATH' did not finish within N s"), or the
 * -errno of the step that failed in the child ("cannot run 'PATH': STEP:
 * ERROR"). res is filled in every case (rs_spawn_result_clear). */
int rs_spawn_wait(struct rs_child *c, struct rs_spawn_result *res, struct rs_error **err);

/* rs_spawn_start + rs_spawn_wait. */
int rs_spawn_run(const struct rs_spawn *o, struct rs_spawn_result *res, struct rs_error **err);

/* Reads the child's report, if it sent one (a failed step), without
 * waiting. Return: 0 none yet or it exec'd (*done says which), or the
 * step's -errno with *err set. For callers that run their own loop. */
int rs_child_report(struct rs_child *c, bool *done, struct rs_error **err);

/* Reaps the child once it has exited (its pidfd, or rs_child_report's
 * done and the caller's own wait, say so), leaving the rest of its group
 * alone, and closes our ends. Return: its wait status, or -1 when there
 * was no child. */
int rs_child_reap(struct rs_child *c);

/* Lets a RS_SPAWN_DETACH child run on: closes our ends, neither kills
 * nor reaps it (it goes to init, or the subreaper, when we exit). */
void rs_child_release(struct rs_child *c);

/* Kills the child's process group (SIGKILL), reaps the child (and, with
 * RS_SPAWN_REAPER, its orphans) and closes our ends. Return: its wait
 * status, or -1 when there was no child. */
int rs_child_kill(struct rs_child *c);
static inline void rs_child_killp(struct rs_child *c)
{
	rs_child_kill(c);
}
#define _cleanup_child_ _cleanup_(rs_child_killp)

void rs_spawn_result_clear(struct rs_spawn_result *r);

/* The exit code a shell would show: the status, or 128 + the signal. */
int rs_spawn_exit_code(int status);
