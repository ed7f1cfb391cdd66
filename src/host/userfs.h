/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Root acting inside a tree the target user controls (the home, XDG dirs,
 * the runtime dir, launch state): docs/security.md. Paths there are walked
 * from a directory fd, never as strings: every symlink and every ".." that
 * would leave the start is refused, so `~/.local/share -> /var/lib` cannot
 * turn a purge of the user's podman storage into one of root's. Where the
 * kernel can enforce it, the work is done with the user's own credentials
 * (rs_as_user), so a race that swaps a directory for a symlink mid-run
 * gains the user nothing it could not do itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "host/user.h"
#include "lib/error.h"

/* Opens rel (relative; no leading '/') beneath dirfd, refusing symlinks in
 * any component and any escape from dirfd: openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, Linux 5.6), else a walk of
 * O_NOFOLLOW opens one component at a time. flags as openat(2); O_CLOEXEC
 * is added. Return: fd, or -errno (-ELOOP: a symlink on the way; -EXDEV:
 * ".." above dirfd or an absolute path). */
int rs_beneath_open(int dirfd, const char *rel, int flags, mode_t mode);

/* The component-by-component walk rs_beneath_open falls back to; the
 * same answers (exposed for the unit tests). */
int rs_beneath_walk(int dirfd, const char *rel, int flags, mode_t mode);

/* The directory holding rel beneath dirfd (opened as above) and, in *name,
 * rel's last component (caller frees). Return: fd or -errno. */
int rs_beneath_parent(int dirfd, const char *rel, char **name);

/* After -ELOOP: the first component of rel below dirfd that is a symlink,
 * as the prefix of rel naming it in *link (caller frees). Return: 1 found,
 * 0 none (the tree changed meanwhile), or -errno of the walk. */
int rs_beneath_symlink(int dirfd, const char *rel, char **link);

/* What rs_guarded_open found on the way. */
struct rs_guarded {
	struct stat st; /* the object opened */
	uid_t shaper;	/* owner of the first directory on the way that a uid other
			 * than root owns; (uid_t)-1: none */
	bool shaped;	/* a directory on the way could be changed by a uid other
			 * than root (owned by one, or writable by group or others
			 * without the sticky bit) */
};

/* Opens path (absolute, or relative to the working directory) the way root
 * opens a path that a user may have shaped (a state dir, api.sock, a
 * bundle's config.json given to root): one component at a time from "/".
 * While every directory so far is root's and only root can change it (owned
 * by root, not writable by group or others unless sticky), a symlink owned by
 * root is followed (/var/run -> /run; at most 40, none of /proc's magic
 * links); from the first directory another uid could change, no symlink is
 * followed at all and ".." is refused (a symlinked api.sock, state dir or
 * config.json of a user is never a way into another user's files).
 * flags as openat(2) for the last component (O_NOFOLLOW and O_CLOEXEC are
 * added). Return: fd, or -errno with *err naming the path (-ELOOP: a symlink
 * that is not followed, named). */
int rs_guarded_open(const char *path, int flags, struct rs_guarded *g, struct rs_error **err);

/* Reads the regular file path, reached by rs_guarded_open (never a FIFO,
 * device or a symlink a user could have made; opened again by its fd, non-
 * blocking), at most max bytes (-EFBIG beyond), with the credentials of
 * the user whose directory holds it (g.shaper, through rs_as_user_data,
 * bounded by timeout_ms) when that is not the caller. *buf is
 * NUL-terminated; caller frees. Return: 0 or -errno with *err. */
int rs_guarded_read(const char *path, size_t max, unsigned timeout_ms, char **buf, size_t *len,
		    struct rs_error **err);
/* The same for a log: its last max bytes (*truncated when the beginning was
 * left out), never -EFBIG. */
int rs_guarded_read_tail(const char *path, size_t max, unsigned timeout_ms, char **buf, size_t *len,
			 bool *truncated, struct rs_error **err);

/* The directories of a user that root may act in, as that user: e.g. the
 * home limited to its .config and .local, and the runtime dir. */
struct rs_user_base {
	const char *path;	   /* absolute in-host path */
	const char *const *firsts; /* allowed first components below; NULL: any */
};
struct rs_user_tree {
	const struct rs_host *host;
	struct rs_user_base base[4];
	size_t n;
};

/* Splits the absolute in-host path into one of t's bases (*base) and the
 * rest (*rel, pointing into path). Lexical only, no file system access, so
 * a refusal tells nothing about what exists: a path with an empty, "." or
 * ".." component, or under no base, is -EXDEV. Return: 0 or -EXDEV. */
int rs_user_tree_locate(const struct rs_user_tree *t, const char *path, size_t *base,
			const char **rel);
/* Opens base number base of t as a directory (call it as the user, in
 * rs_as_user). Return: fd or -errno. */
int rs_user_tree_open(const struct rs_user_tree *t, size_t base);

/* Removes the entry name of directory dirfd and, for a directory,
 * everything below it, by fd: each directory is opened O_NOFOLLOW relative
 * to its parent's fd, symlinks are unlinked and never followed, another
 * filesystem (a mount point) is not entered, and a directory whose owner
 * lacks write or search permission on it (0555 image layers) is given u+rwx
 * first. At most depth levels. Return: 0 (absent counts as done) or the
 * -errno of the first failure, with *where (caller frees; may be NULL) the
 * path below dirfd that failed. */
int rs_remove_beneath(int dirfd, const char *name, unsigned depth, char **where);

/* Runs fn(arg, msg, msglen) in a child process that has u's uid, gid and
 * supplementary groups, no capabilities (checked with capget) and
 * no_new_privs, so the kernel enforces exactly what the user may do. The
 * child is a lib/spawn fn child: a session of its own with no terminal,
 * stdin /dev/null, its reply on a pipe; our other fds stay (fn's args
 * hold some, and it execs nothing). It is not dumpable (a credential
 * change clears the flag) and dies with its parent. fn returns >= 0 or
 * -errno and may leave one line in msg. The
 * wait is bounded by timeout_ms: a child the user stopped or that hangs is
 * killed. When the caller is not root, or u is root, fn runs as the caller
 * in a child all the same. One child per call: the caller maps each
 * result to its own report line.
 * Return: fn's result; -ECHILD (msg says why) when the child could not
 * drop privileges or died; -ETIMEDOUT past the deadline. */
typedef int (*rs_as_user_fn)(void *arg, char *msg, size_t msglen);
int rs_as_user(const struct rs_user *u, rs_as_user_fn fn, void *arg, char *msg, size_t msglen,
	       unsigned timeout_ms);

/* As rs_as_user, and fn may hand data back: it sets *data (malloc'd in the
 * child) and *len, at most max bytes (more is dropped: *len 0). The caller
 * gets a NUL-terminated copy in *data (frees it), NULL on failure. */
typedef int (*rs_as_user_data_fn)(void *arg, char **data, size_t *len, char *msg, size_t msglen);
int rs_as_user_data(const struct rs_user *u, rs_as_user_data_fn fn, void *arg, size_t max,
		    char **data, size_t *len, char *msg, size_t msglen, unsigned timeout_ms);
