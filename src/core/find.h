/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Where a program of an engine is, as its user would run it: the
 * directories a login shell of the user searches (the caller's own PATH
 * when the caller is the user; the user's ~/.local/bin and ~/bin, which
 * Debian's, Ubuntu's and Fedora's shell profiles put first), the system's
 * in the order of the user unit's PATH, then the engine's own tree below
 * /opt. The lists are the engine table's data (core/engine.h).
 *
 * Below the user's home nothing is trusted (docs/security.md): the walk
 * starts at an fd of the home and refuses every symlink and "..", and a
 * program counts only when it is an executable regular file, owned by the
 * user or root, in a directory owned by the user or root, neither
 * writable by others (nor by a group other than the user's own). A
 * candidate passed over is named, with the reason, in rs_found.refused.
 */
#include <stdbool.h>
#include "core/engine.h"
#include "host/host.h"
#include "host/user.h"

struct rs_found {
	char *path;	   /* in-host absolute path ("/home/alice/.local/bin/x"), or NULL */
	bool on_unit_path; /* in a directory of the user unit's PATH: the bare name runs it */
	char *refused;	   /* the first candidate passed over and why, or NULL */
};

/* Looks for program name: in path_env's absolute entries (NULL: none; the
 * caller's PATH, given only when the caller is the user), u's home
 * directories (u NULL or without a home: none), the system directories
 * and opt_dir (root-relative, may be NULL). Return: 1 found, 0 not. */
int rs_find_program(const struct rs_host *h, const struct rs_user *u, const char *path_env,
		    const char *opt_dir, const char *name, struct rs_found *out);
void rs_found_clear(struct rs_found *f);
