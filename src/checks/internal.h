/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the rule families in src/checks/ only. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "core/rule.h"
#include "host/access.h"
#include "lib/xalloc.h"

#define ENG(x) RS_ENGINE_BIT(RS_ENGINE_##x)

enum rs_selinux {
	RS_SELINUX_UNKNOWN = -1,
	RS_SELINUX_DISABLED,
	RS_SELINUX_PERMISSIVE,
	RS_SELINUX_ENFORCING
};
/* Live: libselinux; under --root: sys/fs/selinux/enforce. */
enum rs_selinux rs_selinux_mode(struct rs_ctx *ctx);
/* rs_cgroup_detect (core/rule.h) is defined in registry.c. */
/* Threshold from distro data as a kernel version; false when absent. */
bool rs_threshold(const struct rs_ctx *ctx, const char *key, struct rs_kver *out);
/* "5.11" back as text for messages. */
const char *rs_threshold_str(const struct rs_ctx *ctx, const char *key);
/* A tree with no proc/ (sys/) runs no kernel: fills out with skip "no /proc
 * in the tree: cannot tell <what>" and returns true when what the rule
 * needs is missing (rule.h: no_proc, no_sys). */
bool rs_offline_skip(const struct rs_ctx *ctx, struct rs_finding *out, bool proc, bool sys,
		     const char *what);
/* First of the root-relative paths that exists, or NULL. */
const char *rs_first_existing(const struct rs_ctx *ctx, const char *const *paths);
/* The mount holding path (a canonical in-host path), by mountinfo alone. */
struct libmnt_fs *rs_mount_for(struct libmnt_table *tb, const char *path);
/* The OCI runtime Podman's containers.conf files name ([engine] runtime), the
 * last one winning as in Podman: the system's, then the user's own (read by
 * a child with the user's credentials). *from: that file. NULL: none. */
char *rs_podman_conf_runtime(struct rs_ctx *ctx, char **from);
