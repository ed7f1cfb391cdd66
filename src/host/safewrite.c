/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "host/safewrite.h"
#include "lib/io.h"
#include "lib/xalloc.h"

#define OLD_MAX (16u << 20)

/* The directory of rel, opened below the root without following any
 * symlink (openat2, Linux 5.6; a component walk with O_NOFOLLOW before). */
static int open_parent(const struct rs_host *h, const char *rel, char **name)
{
	_cleanup_free_ char *dir = rs_xstrdup(rs_host_rel(rel));
	char *slash = strrchr(dir, '/');
	int fd;

	*name = rs_xstrdup(slash ? slash + 1 : dir);
	if (!slash)
		return fcntl(h->root_fd, F_DUPFD_CLOEXEC, 3);
	*slash = '\0';
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH |
					  RESOLVE_NO_MAGICLINKS};
	fd = (int)syscall(SYS_openat2, h->root_fd, dir, &how, sizeof(how));
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd < 0 ? -errno : fd;
	int cur = fcntl(h->root_fd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL;
	for (char *c = strtok_r(dir, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "..")) {
			close(cur);
			return -EXDEV;
		}
		int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(cur);
		if (next < 0)
			return -e;
		cur = next;
	}
	return cur;
}

/* moby atomicwriter's list plus hard links (CVE-2017-18078 class). */
static int plain_file(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (st->st_mode & (S_ISUID | S_ISGID | S_ISVTX))
		return -EPERM;
	if (st->st_nlink > 1)
		return -EMLINK;
	return 0;
}

static const char *refusal(int r)
{
	return r == -EINVAL   ? "not a regular file (symlink, FIFO, device or directory)"
	       : r == -EPERM  ? "a setuid, setgid or sticky file"
	       : r == -EMLINK ? "hard-linked elsewhere"
			      : strerror(-r);
}

static int read_old(int dfd, const char *name, const struct stat *st, size_t max, char **buf,
		    size_t *len)
{
	struct stat fst;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* the file we checked is the file we read */
	if (fstat(fd, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino) {
		close(fd);
		return -ESTALE;
	}
	if ((size_t)fst.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	char *b = rs_xmalloc((size_t)fst.st_size + 1);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, b + n, (size_t)fst.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || n + (size_t)r > (size_t)fst.st_size) {
			int e = r < 0 ? errno : (r == 0 ? 0 : EAGAIN);
			if (e) {
				free(b);
				close(fd);
				return -e;
			}
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int rs_safe_read(const struct rs_host *h, const char *rel, size_t max, char **buf, size_t *len,
		 struct rs_error **err)
{
	_cleanup_free_ char *name = NULL;
	struct stat st;
	int dfd = open_parent(h, rel, &name), r;

	*buf = NULL;
	*len = 0;
	if (dfd < 0)
		return dfd == -ENOENT
			       ? 0
			       : rs_error_set(err, -dfd, "cannot open the directory of '/%s'",
					      rs_host_rel(rel));
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno == ENOENT
			    ? 0
			    : rs_error_set(err, errno, "cannot stat '/%s'", rs_host_rel(rel));
		close(dfd);
		return r;
	}
	r = plain_file(&st);
	if (r == 0)
		r = read_old(dfd, name, &st, max ? max : OLD_MAX, buf, len);
	close(dfd);
	if (r < 0)
		return rs_error_setx(err, -r, "refusing '/%s': %s", rs_host_rel(rel), refusal(r));
	return 0;
}

/* The replaced file keeps its SELinux context (shadow's commonio does the
 * same); a new one gets the policy's default for its path. */
static void copy_label(const struct rs_host *h, int dfd, const char *name, bool exists, int tmpfd,
		       const char *abs)
{
	char *con = NULL;
	char path[64];

	/* the live policy says nothing about a tree under --root; a caller's
	 * own directory (rs_safe_write_at) keeps the policy's default */
	if (!h || !h->live || is_selinux_enabled() <= 0)
		return;
	if (exists) {
		int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (getfilecon(path, &con) < 0)
			con = NULL;
		close(fd);
	} else {
		struct selabel_handle *hnd = selabel_open(SELABEL_CTX_FILE, NULL, 0);
		if (!hnd || selabel_lookup(hnd, &con, abs, S_IFREG) < 0)
			con = NULL;
		if (hnd)
			selabel_close(hnd);
	}
	if (con)
		fsetfilecon(tmpfd, con);
	freecon(con);
}

/* A run killed between write and rename leaves ".NAME.rs-XXXXXX": the next
 * run removes such files of its own (same owner, older than a second, so a
 * concurrent writer's live one is not touched), and nothing else. */
static void clean_stale_temps(int dfd, const char *name)
{
	_cleanup_free_ char *prefix = rs_xasprintf(".%s.rs-", name);
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	struct stat st;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    strlen(de->d_name) != strlen(prefix) + 6)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    (double)(now.tv_sec - st.st_mtim.tv_sec) +
				    (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9 >
			    1.0)
			unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

static int make_temp(int dfd, const char *name, char **tmpname)
{
	clean_stale_temps(dfd, name);
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned seed = (unsigned)getpid() ^ (unsigned)(uintptr_t)&seed;

	for (int tries = 0; tries < 100; tries++) {
		char sfx[7];
		for (int i = 0; i < 6; i++) {
			seed = seed * 1103515245u + 12345u + (unsigned)tries;
			sfx[i] = chars[(seed >> 16) % (sizeof(chars) - 1)];
		}
		sfx[6] = '\0';
		char *t = rs_xasprintf(".%s.rs-%s", name, sfx);
		int fd = openat(dfd, t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*tmpname = t;
			return fd;
		}
		free(t);
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

struct target {
	bool exists;
	struct stat st;
	char *old;
	size_t oldlen;
};

/* The temporary file beside name, with the label, owner and mode the
 * result will have. Return: its fd (*tmp named) or -errno (*step says). */
static int temp_prepare(const struct rs_host *h, int dfd, const char *name, const struct target *t,
			const struct rs_write_opts *o, const char *abs, char **tmp,
			const char **step)
{
	int fd = make_temp(dfd, name, tmp);

	*step = "create a temporary file beside";
	if (fd < 0)
		return fd;
	bool keep = t->exists && !o->fresh;
	copy_label(h, dfd, name, keep, fd, abs);
	uid_t uid = keep ? t->st.st_uid : o->uid;
	gid_t gid = keep ? t->st.st_gid : o->gid;
	mode_t mode = keep ? (t->st.st_mode & 07777) : o->mode;
	*step = "set owner and mode of the temporary file for";
	if (((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0 &&
	     errno != EPERM) ||
	    fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dfd, *tmp, 0);
		return -e;
	}
	return fd;
}

/* fsync, close and rename the temporary file over name (fd is closed,
 * tmp removed on failure). Return: 1 or -errno (*step says). */
static int temp_finish(int dfd, int fd, const char *tmp, const char *name,
		       const struct rs_write_opts *o, const char **step)
{
	*step = "sync";
	if (!o->no_sync && fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	*step = "replace";
	if (renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	/* rename is atomic, not durable without this */
	if (!o->no_sync)
		fsync(dfd);
	return 1;
fail:;
	int r = -errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	return r;
}

static int write_new(const struct rs_host *h, int dfd, const char *name, const struct target *t,
		     const void *data, size_t len, const struct rs_write_opts *o, const char *abs,
		     const char **step)
{
	_cleanup_free_ char *tmp = NULL;
	int fd = temp_prepare(h, dfd, name, t, o, abs, &tmp, step), r;

	if (fd < 0)
		return fd;
	*step = "write";
	if ((r = rs_write_full(fd, data, len)) < 0) {
		close(fd);
		unlinkat(dfd, tmp, 0);
		return r;
	}
	return temp_finish(dfd, fd, tmp, name, o, step);
}

/* Whether only root and the caller can change directory dfd. Return: 0,
 * -EPERM, or -errno of fstat. */
static int dir_private(int dfd)
{
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return -EPERM;
	return 0;
}

/* What may be written at name in dfd: a directory only root and the
 * caller change (own_dir), no target or a plain file (its bytes in t->old
 * unless fresh). Return: 0 or -errno with *err. */
static int target_check(int dfd, const char *name, const char *shown, const struct rs_write_opts *o,
			struct target *t, struct rs_error **err)
{
	int r;

	if (o->own_dir && (r = dir_private(dfd)) < 0)
		return r == -EPERM
			       ? rs_error_setx(err, EPERM,
					       "refusing to write '%s': its directory may be "
					       "changed by another user (owned by one, or "
					       "writable by group or others without the sticky "
					       "bit)",
					       shown)
			       : rs_error_set(err, -r, "cannot stat the directory of '%s'", shown);
	if (fstatat(dfd, name, &t->st, AT_SYMLINK_NOFOLLOW) == 0) {
		t->exists = true;
		r = plain_file(&t->st);
		if (r == 0 && !o->fresh)
			r = read_old(dfd, name, &t->st, o->max_old ? o->max_old : OLD_MAX, &t->old,
				     &t->oldlen);
		if (r < 0)
			return rs_error_setx(err, -r, "refusing to write '%s': %s", shown,
					     refusal(r));
	} else if (errno != ENOENT) {
		return rs_error_set(err, errno, "cannot stat '%s'", shown);
	}
	return 0;
}

/* The write itself, in the directory dfd; shown names the file in messages.
 * h: for the SELinux label, or NULL. */
static int write_in(const struct rs_host *h, int dfd, const char *name, const char *shown,
		    const void *data, size_t len, const struct rs_write_opts *o,
		    struct rs_error **err)
{
	struct target t = {0};
	const char *step = "write";
	int r = target_check(dfd, name, shown, o, &t, err);

	if (r < 0) {
		free(t.old);
		return r;
	}
	if (t.exists && !o->fresh && t.oldlen == len && memcmp(t.old, data, len) == 0)
		r = 0; /* identical bytes: no write, no new mtime */
	else if (o->dry_run)
		r = 1;
	else
		r = write_new(h, dfd, name, &t, data, len, o, shown, &step);
	free(t.old);
	if (r < 0)
		return rs_error_set(err, -r, "cannot %s '%s'", step, shown);
	return r;
}

int rs_safe_write(const struct rs_host *h, const char *rel, const void *data, size_t len,
		  const struct rs_write_opts *o, struct rs_error **err)
{
	_cleanup_free_ char *name = NULL, *inhost = rs_xasprintf("/%s", rs_host_rel(rel));
	int dfd = open_parent(h, rel, &name);

	if (dfd < 0)
		return rs_error_set(err, -dfd, "cannot open the directory of '%s'", inhost);
	int r = write_in(h, dfd, name, inhost, data, len, o, err);
	close(dfd);
	/* a later read through h sees what was written */
	rs_host_forget(h);
	return r;
}

int rs_safe_write_at(int dirfd, const char *name, const char *shown, const void *data, size_t len,
		     const struct rs_write_opts *o, struct rs_error **err)
{
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return rs_error_setx(err, EINVAL, "refusing the name '%s'", shown);
	return write_in(NULL, dirfd, name, shown, data, len, o, err);
}

int rs_safe_mkdirs(const struct rs_host *h, const char *rel, mode_t mode, uid_t uid, gid_t gid,
		   bool dry_run, struct rs_error **err)
{
	_cleanup_free_ char *path = rs_xstrdup(rs_host_rel(rel));
	int cur = fcntl(h->root_fd, F_DUPFD_CLOEXEC, 3), made = 0;
	char *save = NULL;

	for (char *c = strtok_r(path, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "..") || !strcmp(c, ".")) {
			close(cur);
			return rs_error_setx(err, EINVAL, "refusing the path '/%s'",
					     rs_host_rel(rel));
		}
		int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			made = 1;
			if (dry_run) {
				close(cur);
				return 1;
			}
			if (mkdirat(cur, c, mode) < 0 && errno != EEXIST)
				goto fail;
			next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next >= 0 && (fchown(next, uid, gid) < 0 || fchmod(next, mode) < 0)) {
				close(next);
				goto fail;
			}
		}
		if (next < 0)
			goto fail;
		close(cur);
		cur = next;
	}
	if (cur >= 0)
		close(cur);
	return made;
fail:;
	int e = errno;
	close(cur);
	return rs_error_set(err, e, "cannot create '/%s'", rs_host_rel(rel));
}

int rs_remove_tree(int dirfd, const char *name, int depth)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && depth > 0) {
		DIR *d = fdopendir(fd);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rs_remove_tree(fd, de->d_name, depth - 1);
		if (d)
			closedir(d);
		else
			close(fd);
	} else if (fd >= 0) {
		close(fd);
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0)
		return 0;
	if (errno == ENOTDIR && unlinkat(dirfd, name, 0) == 0)
		return 0;
	return -errno;
}

int rs_safe_unlink(const struct rs_host *h, const char *rel, bool dry_run)
{
	_cleanup_free_ char *name = NULL;
	struct stat st;
	int dfd = open_parent(h, rel, &name), r = 0;

	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = errno == ENOENT ? 0 : -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else
		r = dry_run || unlinkat(dfd, name, 0) == 0 ? 1 : -errno;
	close(dfd);
	rs_host_forget(h);
	return r;
}

struct rs_safe_stream {
	const struct rs_host *h;
	int dfd, fd;
	char *name, *tmp, *shown;
	struct rs_write_opts o;
};

int rs_safe_stream_open(const struct rs_host *h, const char *rel, const struct rs_write_opts *o,
			struct rs_safe_stream **out, struct rs_error **err)
{
	struct rs_safe_stream *s = rs_xcalloc(1, sizeof(*s));
	struct target t = {0};
	const char *step = "write";
	int r;

	s->h = h;
	s->o = *o;
	s->o.fresh = true; /* nothing to compare a stream with */
	s->fd = -1;
	s->shown = rs_xasprintf("/%s", rs_host_rel(rel));
	s->dfd = open_parent(h, rel, &s->name);
	if (s->dfd < 0) {
		r = rs_error_set(err, -s->dfd, "cannot open the directory of '%s'", s->shown);
		goto fail;
	}
	if ((r = target_check(s->dfd, s->name, s->shown, &s->o, &t, err)) < 0)
		goto fail;
	s->fd = temp_prepare(h, s->dfd, s->name, &t, &s->o, s->shown, &s->tmp, &step);
	if (s->fd < 0) {
		r = rs_error_set(err, -s->fd, "cannot %s '%s'", step, s->shown);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	rs_safe_stream_abort(s);
	return r;
}

int rs_safe_stream_fd(const struct rs_safe_stream *s)
{
	return s->fd;
}

int rs_safe_stream_commit(struct rs_safe_stream *s, struct rs_error **err)
{
	const char *step;
	int r = temp_finish(s->dfd, s->fd, s->tmp, s->name, &s->o, &step);

	s->fd = -1;
	free(s->tmp);
	s->tmp = NULL;
	if (r < 0)
		rs_error_set(err, -r, "cannot %s '%s'", step, s->shown);
	rs_host_forget(s->h);
	rs_safe_stream_abort(s);
	return r;
}

void rs_safe_stream_abort(struct rs_safe_stream *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlinkat(s->dfd, s->tmp, 0);
	if (s->dfd >= 0)
		close(s->dfd);
	free(s->tmp);
	free(s->name);
	free(s->shown);
	free(s);
}
