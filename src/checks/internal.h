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

/* ---- the running system as the user (checks/userio.c) ---- */

/* A live host and a caller who is root or the user: what the kernel tells
 * a process acting as the user is then the user's answer. */
bool rs_live_for_user(const struct rs_ctx *ctx);
/* Opens the device node rel read-write as the user (rs_as_user). Return:
 * 0; -ENOSYS when not asked (!rs_live_for_user), *err untouched; else
 * <0 with *err: the -errno of open(2), or -ECHILD / -ETIMEDOUT when the
 * process acting as the user failed. */
int rs_dev_open_as_user(struct rs_ctx *ctx, const char *rel, struct rs_error **err);
/* Reads the regular file at abs, an absolute in-host path below the user's
 * home or runtime dir, as the user and refusing every symlink on the way.
 * Return: 0 (*buf NUL-terminated, caller frees), -ENOENT, -ELOOP, -EINVAL
 * (not a regular file, or larger than max), -EXDEV (below neither), or
 * -errno. */
int rs_user_read(struct rs_ctx *ctx, const char *abs, size_t max, char **buf, size_t *len);
/* Connects to the unix socket at abs and gives the listener's pid and uid
 * (SO_PEERCRED). Below the user's home or runtime dir as the user, with
 * the walk of rs_user_read; else as the caller through the host handle,
 * the last component not followed. Return: 0, -ENOENT, -ENOTSOCK,
 * -ECONNREFUSED (a socket file nobody listens on), -ENOSYS (a live host
 * and a caller who is neither root nor the user), or -errno. */
int rs_unix_peer(struct rs_ctx *ctx, const char *abs, pid_t *pid, uid_t *uid);
/* proc/PID/FILE through the host (under --root the tree's proc), or NULL. */
char *rs_proc_field(struct rs_ctx *ctx, pid_t pid, const char *file);
/* "containerd (pid 42, unit containerd.service)"; caller frees. */
char *rs_proc_describe(struct rs_ctx *ctx, pid_t pid);
/* Whether the kernel can load module name on demand: 1 (lib/modules of
 * the running release lists it, kernel.modules_disabled is 0), 0, or
 * -ENOENT (the release is unknown). */
int rs_module_loadable(struct rs_ctx *ctx, const char *name);
/* Whether the user can open the misc device rel (driver misc): live, a real
 * open as the user (rs_dev_open_as_user); under --root, from
 * sys/class/misc and lib/modules (-ENODEV when neither shows the driver).
 * Return: 0 (usable, or nothing says otherwise) or -errno, with *how
 * saying how it was learned (caller frees; NULL on 0). */
int rs_dev_usable(struct rs_ctx *ctx, const char *rel, const char *misc, char **how);
/* Whether the misc device driver name is registered (sys/class/misc/NAME):
 * 1, 0, or -ENOENT when the tree shows no sys/class/misc. */
int rs_misc_registered(struct rs_ctx *ctx, const char *name);

/* ---- systemd unit files (checks/units.c) ---- */

#define RS_UNIT_FILES_MAX 32
/* A unit as systemd would load it: the unit file, then its drop-ins in
 * systemd's order (by file name across the directories, the one of the
 * higher-priority directory winning a name). */
struct rs_unit_files {
	size_t n;
	char *path[RS_UNIT_FILES_MAX]; /* absolute in-host paths */
	char *text[RS_UNIT_FILES_MAX];
};
/* Loads unit name ("user@.service", "rootless-setup-containerd.service")
 * of the system manager (user_manager false) or of the user's manager,
 * whose ~/.config/systemd/user is read as the user (rs_user_read). An
 * instance ("user@1000.service") also reads the template's drop-ins.
 * Return: 0 (n may be 0: no such unit), or -errno when a directory that
 * exists cannot be read. */
int rs_unit_load(struct rs_ctx *ctx, const char *name, bool user_manager, struct rs_unit_files *u);
void rs_unit_files_clear(struct rs_unit_files *u);
