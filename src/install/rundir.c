/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uninstall --purge: the /run/user/UID that root's fix made where no logind
 * runs (fixers/runtime.c notes it in root's records). Nothing else removes
 * it, and it may hold what other engines or sessions of the user still use,
 * so it goes only when nothing but empty directories is left in it: those
 * are removed by a child with the user's credentials (bottom-up, by fd, no
 * symlink followed, no mount crossed), then root removes the directory
 * itself from /run/user, which is root's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/xalloc.h"
#include "install/install.h"

#define MADE_FMT       "var/lib/rootless-setup/users/%u/runtime-dir"
#define RUNDIR_DEPTH   16u
#define RUNDIR_TIMEOUT 30000u

/* Removes the empty directories below dirfd, deepest first. Return: 0 when
 * nothing else is left, else -ENOTEMPTY with the first entry kept in *left. */
static int rmdir_empties(int dirfd, unsigned depth, char *left, size_t len)
{
	struct stat top;
	int r = 0;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (fstat(dirfd, &top) < 0) {
		closedir(d);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int sub = fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					  S_ISDIR(st.st_mode) && st.st_dev == top.st_dev && depth
				  ? openat(dirfd, de->d_name,
					   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
				  : -1;
		int s = sub >= 0 ? rmdir_empties(sub, depth - 1, left, len) : -ENOTEMPTY;
		if (sub >= 0)
			close(sub);
		if (s == 0 && unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
			s = -errno;
		if (s < 0 && r == 0) {
			r = -ENOTEMPTY;
			if (!*left)
				snprintf(left, len, "%s", de->d_name);
		}
	}
	closedir(d);
	return r;
}

struct rundir_op {
	const struct rs_host *host;
	const char *dir;
	char left[256];
};

/* As the user: empty the runtime dir of empty directories. */
static int empties_fn(void *arg, char *msg, size_t msglen)
{
	struct rundir_op *op = arg;
	_cleanup_close_ int fd = rs_host_openat(op->host, rs_host_rel(op->dir),
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW, NULL);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = rmdir_empties(fd, RUNDIR_DEPTH, op->left, sizeof(op->left));
	if (r == -ENOTEMPTY)
		snprintf(msg, msglen, "kept: '%s' still holds '%s'", op->dir, op->left);
	return r;
}

void rs_uninstall_rundir(struct rs_gen_ctx *f, const struct rs_install_opts *o)
{
	const struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *made = rs_xasprintf(MADE_FMT, (unsigned)ctx->user.uid);
	_cleanup_free_ char *note = NULL, *dir = NULL;
	struct rs_error *e = NULL;
	size_t len;
	char msg[512] = "";

	if (!o->purge || geteuid() != 0 || ctx->user.uid == 0 ||
	    rs_safe_read(ctx->host, made, 4096, &note, &len, &e) < 0 || !note) {
		rs_error_free(e);
		return;
	}
	dir = rs_xasprintf("/run/user/%u", (unsigned)ctx->user.uid);
	struct rs_action *a = rs_action_add(&f->acts, "uninstall", "remove", dir,
					    "the runtime dir root's fix made (no logind here)");
	a->changed = true;
	if (f->acts.dry_run)
		return;
	struct rundir_op op = {.host = ctx->host, .dir = dir};
	int r = rs_as_user(&ctx->user, empties_fn, &op, msg, sizeof(msg), RUNDIR_TIMEOUT);
	_cleanup_close_ int run = rs_host_openat(ctx->host, "run/user",
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW, NULL);
	_cleanup_free_ char *name = rs_xasprintf("%u", (unsigned)ctx->user.uid);
	if (r == 0 && run >= 0 && unlinkat(run, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	if (r < 0) {
		a->changed = false;
		rs_action_detail(a, "%s", *msg ? msg : strerror(-r));
		return;
	}
	rs_safe_unlink(ctx->host, made, false);
}
