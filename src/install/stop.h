/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* uninstall's work on the user's engine processes (stop.c); both are
 * called with the user's credentials or become the user first. */
#include <stddef.h>
#include "host/userfs.h"

/* Stops the launch whose state dir is open as sdfd: only a process that is
 * the user's launch by the kernel's account (as nsenter decides), TERM to
 * its launcher, a wait, then KILL. Call as the user (rs_as_user).
 * Return: 1 stopped, 0 none running, -errno with msg. */
int rs_stop_launch_at(int sdfd, char *msg, size_t len);

/* Stops Podman's pause process, which keeps the user's namespace between
 * podman commands and outlives an uninstall: the pid in file name of dfd
 * (RUN/libpod/tmp/pause.pid), only when that process is the user's by
 * every uid, is called "podman pause" or "catatonit", and holds a user
 * namespace the user owns; KILL, as podman system migrate does. Call as
 * the user (rs_as_user). Return: 1 stopped, 0 none running, -errno with
 * msg (msg also says what was stopped). */
int rs_stop_pause_at(int dfd, const char *name, char *msg, size_t len);

/* The bound of a purge's wait: container storage can hold a great many
 * files. */
#define RS_PURGE_TIMEOUT_MS (30u * 60u * 1000u)

/* Removes rel below base of t as the user inside a user namespace with the
 * user's subordinate ids mapped: `self launch -- rm -rf NAME`, run through
 * lib/spawn by a child that became u and entered the parent directory by
 * fd: its own session, no terminal of root's, the user's allow-listed
 * environment, at most RS_PURGE_TIMEOUT_MS. run: the user's runtime dir
 * (the launcher's state). Return: 1, or -errno with msg. */
int rs_purge_in_userns(const struct rs_user *u, const struct rs_user_tree *t, size_t base,
		       const char *rel, const char *self, const char *run, char *msg, size_t len);
