/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by nsenter.c (who may enter what, and a user entering its own
 * launch) and nsenter-user.c (root entering a user's launch). */
#include <signal.h>
#include <sys/types.h>
#include "launch/launch.h"
#include "lib/error.h"
#include "lib/strutil.h"

#define RS_NS_COUNT 7 /* user, cgroup, ipc, uts, net, pid, mnt */

struct rs_ns_target {
	pid_t pid;
	unsigned long long start;
	int pidfd;	       /* -1 before Linux 5.3 */
	int procfd;	       /* /proc/PID: every read is of this process, not of a number */
	int nsfd[RS_NS_COUNT]; /* -1: the same namespace as ours */
	int flags;	       /* CLONE_NEW* of those that differ */
	uid_t uids[4];	       /* real, effective, saved, filesystem */
	uid_t owner;	       /* of its user namespace */
	uid_t dir_owner;       /* of the state dir that named it */
	char snap[64];	       /* STATE/snapshotter, or "" */
};

void rs_ns_target_close(struct rs_ns_target *t);
/* Joins every namespace of t that differs from ours, the user namespace
 * first. Async-signal-safe with err NULL. Return: 0 or -errno. */
int rs_ns_join(const struct rs_ns_target *t, struct rs_error **err);
/* Waits for child, forwarding SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1
 * and SIGUSR2 (blocked by rs_nsenter_block before the fork). Return: its
 * exit code (128 + signal when killed). */
int rs_nsenter_wait_child(pid_t child);
/* Blocks the signals rs_nsenter_wait_child forwards, and SIGCHLD; old
 * (may be NULL) gets the mask before. */
void rs_nsenter_block(sigset_t *old);
/* The engine's client variables of o, and CONTAINERD_SNAPSHOTTER=snap
 * (when not ""), each unless env already sets it. */
void rs_nsenter_env_extra(const struct rs_nsenter_opts *o, const char *snap, struct rs_strv *env);
/* Root entering the launch of t, a user's (nsenter-user.c). Return: as
 * rs_nsenter_run. */
int rs_nsenter_as_owner(const struct rs_nsenter_opts *o, struct rs_ns_target *t,
			struct rs_error **err);
