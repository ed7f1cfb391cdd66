/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one way rootless-setup writes a file:
 * the parent directory is reached without following symlinks out of the
 * root, the target must be absent or a plain regular file (no symlink,
 * FIFO, device, directory, setuid/setgid/sticky file, nor a hard link),
 * identical bytes mean no write at all, and a change goes to a temporary
 * file in the same directory, with explicit mode and owner (whatever the
 * umask) and the old file's SELinux label, then fsync, rename, fsync of the
 * directory. On any error the original is untouched and the temporary
 * file is gone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "host/host.h"

struct rs_write_opts {
	mode_t mode; /* for a new file; an existing file keeps its own */
	uid_t uid;   /* owner of a new file; (uid_t)-1: the caller */
	gid_t gid;
	bool dry_run;	/* compute the answer, change nothing */
	size_t max_old; /* cap on the existing file's size; 0: 16 MiB */
	bool no_sync;	/* runtime state a reboot invalidates anyway (the
			 * launcher's child_pid): atomic, not durable */
	bool fresh;	/* always a new file with mode, uid and gid as given,
			 * even for identical bytes: nothing of an existing
			 * file (its owner, mode, label) is kept, so a file a
			 * user made where root writes stays not the user's */
	bool own_dir;	/* refuse a directory another uid could change: owned
			 * by a uid other than root's and the caller's, or
			 * writable by group or others without the sticky bit */
};

/* Return: 1 written (or would be, in a dry run), 0 unchanged, <0 -errno
 * with *err naming the file and the step. */
int rs_safe_write(const struct rs_host *h, const char *rel, const void *data, size_t len,
		  const struct rs_write_opts *o, struct rs_error **err);
/* The same write of the file name (one component) in the directory dirfd
 * the caller opened (O_NOFOLLOW on its own walk), for state that is not
 * below a host root: the launcher's child_pid. shown names the file in
 * messages. Return: as rs_safe_write. */
int rs_safe_write_at(int dirfd, const char *name, const char *shown, const void *data, size_t len,
		     const struct rs_write_opts *o, struct rs_error **err);
/* The current content of rel when it is a plain regular file, read the same
 * careful way (NULL with 0 when absent). Return: 0, or -errno. */
int rs_safe_read(const struct rs_host *h, const char *rel, size_t max, char **buf, size_t *len,
		 struct rs_error **err);

/* Creates the missing directories of rel (root-relative), each with mode
 * and owner uid:gid, never following a symlink. Return: 1 created, 0 all
 * there, <0 -errno. Nothing is created in a dry run (1 is still said). */
int rs_safe_mkdirs(const struct rs_host *h, const char *rel, mode_t mode, uid_t uid, gid_t gid,
		   bool dry_run, struct rs_error **err);

/* Removes directory rel and everything below it without following a
 * symlink (entries are unlinked, never traversed through a link), at most
 * depth levels down. Return: 0 or -errno. */
int rs_remove_tree(int dirfd, const char *name, int depth);

/* Removes the regular file rel (never through a symlink). Return: 1
 * removed, 0 absent, <0 -errno. Nothing is removed in a dry run. */
int rs_safe_unlink(const struct rs_host *h, const char *rel, bool dry_run);

/*
 * A file written as it is produced (a fleet report of 10,000 users, too
 * large to hold): the checks of rs_safe_write (the directory, a plain file
 * or none at rel), then the content goes to a temporary file beside it
 * (write to rs_safe_stream_fd), which commit syncs and renames over rel;
 * abort (or a failed commit) removes it and leaves rel as it was. Always a
 * new file (as .fresh). Return: 0 (commit: 1) or -errno with *err.
 */
struct rs_safe_stream;
int rs_safe_stream_open(const struct rs_host *h, const char *rel, const struct rs_write_opts *o,
			struct rs_safe_stream **out, struct rs_error **err);
int rs_safe_stream_fd(const struct rs_safe_stream *s);
int rs_safe_stream_commit(struct rs_safe_stream *s, struct rs_error **err);
void rs_safe_stream_abort(struct rs_safe_stream *s);
