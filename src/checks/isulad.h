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
#include "core/engine.h"
#include "host/host.h"
#include "host/user.h"
#include "lib/strutil.h"

/* The copy of root-relative rel is RS_ISULAD_COPY_DIR/rel below the home
 * (the engine table's copies_dir); the files copied are those
 * rs_engine_each_copied walks (core/engine.h). */

/* On cgroup v1 (and the v1 part of a hybrid layout) runc, run by iSulad
 * with an explicit cgroups path (cgroup-parent/ID), creates the
 * container's groups below "/rootless-isulad-UID" of each hierarchy: a
 * group root makes for the user (fix --rule isulad.cgroups), named by
 * the generated daemon.json's cgroup-parent. */
#define RS_ISULAD_CGROUP_FMT "rootless-isulad-%u"

/* iSulad's CRI streaming server listens on 127.0.0.1:10350 whatever the
 * network; in the host's network namespace every user's daemon (and a
 * root one) would want that port, so each user gets its own there. */
#define RS_ISULAD_CRI_PORT_BASE 20000u
#define RS_ISULAD_CRI_PORT(uid) (RS_ISULAD_CRI_PORT_BASE + (unsigned)(uid) % 10000u)

/* The user's copy of rel is there: reached from the home with no symlink,
 * a regular file owned by the user and readable by it. */
bool rs_isulad_copy_ok(const struct rs_host *h, const struct rs_user *u, const char *rel);

/* Whether glibc finds the en_US.UTF-8 locale iSulad insists on: *where
 * names the root-relative place looked at last. Return: 1, 0, -errno. */
int rs_isulad_locale(const struct rs_host *h, const char **where);

/* The cgroup v1 hierarchies below /sys/fs/cgroup, by directory name. */
struct rs_ctx;
void rs_isulad_v1_hierarchies(struct rs_ctx *ctx, struct rs_strv *out);
