/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "host/host.h"
#include "host/user.h"

/*
 * Whether the user may access rel with mode (R_OK|W_OK|X_OK), computed from
 * owner, group, mode bits and POSIX ACLs of the file and the search bit of
 * every directory above it, with the user's groups from etc/group.
 * This is the same answer on a live host and under --root, and it never
 * depends on the caller's own credentials.
 * Return: 1 allowed, 0 denied, -errno when rel cannot be inspected.
 */
int rs_access_user(const struct rs_host *h, const struct rs_user *u, const char *rel, int mode);
/* The same for a path of the host that only root changes (a device, the
 * engines' configuration): what is read of it (each component's stat and
 * ACL) is kept with the handle, so a fleet asks the disk once, not once per
 * user. Never for a path a user controls, nor where the caller changes
 * modes itself (the fixers). */
int rs_access_user_host(const struct rs_host *h, const struct rs_user *u, const char *rel,
			int mode);
/* Mode-bit check of one stat (and its ACL when path is non-NULL). */
bool rs_access_stat(const struct stat *st, const char *path, const struct rs_user *u, int mode);
/* "crw------- root:root" style summary of a stat, for messages; caller frees. */
char *rs_access_describe(const struct rs_host *h, const struct stat *st);
