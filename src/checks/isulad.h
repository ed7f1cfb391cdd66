/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * iSulad's files and the user's copy of them, shared by the rule
 * (src/checks/isulad.c), its fixer and the iSulad template: root's files
 * stay as they are (membership of group isula, the root daemon's socket
 * group, would be root-equivalent); the user gets a copy of each file it
 * cannot read, made as the user below its home, and the launcher shows
 * that copy at the system path inside its mount namespace.
 */
#include <stdbool.h>
#include "host/host.h"
#include "host/user.h"

/* The copy of root-relative rel is RS_ISULAD_COPY_DIR/rel below the home. */
#define RS_ISULAD_COPY_DIR ".config/isulad/system"

/* The directories whose files rootless iSulad reads (NULL-terminated). */
extern const char *const rs_isulad_dirs[];

/* The user's copy of rel is there: reached from the home with no symlink,
 * a regular file owned by the user and readable by it. */
bool rs_isulad_copy_ok(const struct rs_host *h, const struct rs_user *u, const char *rel);
