/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking, removing and acting inside user-controlled trees by fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host/userfs.h"
#include "lib/io.h"
#include "lib/macro.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

/* The walk openat2 does, one component at a time (Linux < 5.6, or a
 * seccomp filter that hides openat2). */
static int open_here(int cur, int flags, mode_t mode)
{
	int fd = openat(cur, ".", flags | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

int rs_beneath_walk(int dirfd, const char *rel, int flags, mode_t mode)
{
	_cleanup_free_ char *copy = rs_xstrdup(rel);
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL, *next, *comp = strtok_r(copy, "/", &save);

	if (cur < 0)
		return -errno;
	for (; comp; comp = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, ".."))
			return -EXDEV;
		if (!next) {
			int fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			return fd < 0 ? -errno : fd;
		}
		int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			struct stat st;
			int e = errno;
			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				return -ELOOP;
			return -e;
		}
		close(cur);
		cur = fd;
	}
	return open_here(cur, flags, mode);
}

int rs_beneath_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	static bool no_openat2;
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	if (!*rel || *rel == '/')
		return -EXDEV;
	if (!no_openat2) {
		int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		no_openat2 = true;
	}
	return rs_beneath_walk(dirfd, rel, flags, mode);
}

int rs_beneath_parent(int dirfd, const char *rel, char **name)
{
	_cleanup_free_ char *dir = rs_xstrdup(rel);
	char *slash = strrchr(dir, '/');

	while (slash && slash[1] == '\0') { /* "a/b/" */
		*slash = '\0';
		slash = strrchr(dir, '/');
	}
	if (!slash) {
		if (!*dir || !strcmp(dir, ".") || !strcmp(dir, ".."))
			return -EINVAL;
		*name = TAKE_PTR(dir);
		int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	*slash = '\0';
	if (!strcmp(slash + 1, ".") || !strcmp(slash + 1, ".."))
		return -EINVAL;
	int fd = rs_beneath_open(dirfd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0)
		*name = rs_xstrdup(slash + 1);
	return fd;
}

int rs_beneath_symlink(int dirfd, const char *rel, char **link)
{
	_cleanup_free_ char *copy = rs_xstrdup(rel);
	_cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL, *comp = strtok_r(copy, "/", &save);
	struct stat st;

	*link = NULL;
	if (cur < 0)
		return -errno;
	for (; comp; comp = strtok_r(NULL, "/", &save)) {
		if (!strcmp(comp, ".") || !strcmp(comp, ".."))
			return -EXDEV;
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode)) {
			/* the prefix of rel up to and including comp */
			*link = rs_xstrndup(rel, (size_t)(comp - copy) + strlen(comp));
			return 1;
		}
		int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOTDIR ? 0 : -errno;
		close(cur);
		cur = fd;
	}
	return 0;
}

static bool first_allowed(const struct rs_user_base *b, const char *rel)
{
	size_t n = strcspn(rel, "/");
	if (!b->firsts)
		return true;
	for (const char *const *f = b->firsts; *f; f++)
		if (strlen(*f) == n && !strncmp(rel, *f, n))
			return true;
	return false;
}

int rs_user_tree_locate(const struct rs_user_tree *t, const char *path, size_t *base,
			const char **rel)
{
	if (!path || path[0] != '/' || !rs_path_plain(path + 1))
		return -EXDEV;
	for (size_t i = 0; i < t->n; i++) {
		const char *b = t->base[i].path;
		size_t n = strlen(b);
		while (n && b[n - 1] == '/')
			n--;
		if (strncmp(path, b, n) || path[n] != '/' || !path[n + 1])
			continue;
		if (!first_allowed(&t->base[i], path + n + 1))
			continue;
		*base = i;
		*rel = path + n + 1;
		return 0;
	}
	return -EXDEV;
}

int rs_user_tree_open(const struct rs_user_tree *t, size_t base)
{
	const char *r = rs_host_rel(t->base[base].path);
	/* the base itself comes from passwd (or the caller's own XDG_*): the
	 * admin's symlinks on the way to a home are followed, as login does */
	return rs_host_openat(t->host, *r ? r : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, NULL);
}

static int remove_fail(char **where, const char *path, int r)
{
	if (where && !*where)
		*where = rs_xstrdup(path);
	return r;
}

static int remove_at(int dirfd, const char *name, unsigned depth, dev_t dev, const char *path,
		     char **where);

/* Empties the directory open as O_PATH fd pfd; path names it for errors. */
static int remove_children(int pfd, unsigned depth, dev_t dev, const char *path, char **where)
{
	int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return remove_fail(where, path, -errno);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return remove_fail(where, path, -errno);
	}
	_cleanup_closedir_ DIR *dp = d;
	struct dirent *de;
	int r = 0;
	/* unlinking while reading is fine for readdir on Linux, and a name
	 * that vanished meanwhile counts as removed */
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		_cleanup_free_ char *sub = rs_xasprintf("%s/%s", path, de->d_name);
		int x = remove_at(dirfd(d), de->d_name, depth - 1, dev, sub, where);
		if (x < 0 && !r)
			r = x;
	}
	if (errno && !r)
		r = remove_fail(where, path, -errno);
	return r;
}

static int remove_at(int dirfd, const char *name, unsigned depth, dev_t dev, const char *path,
		     char **where)
{
	struct stat st;
	_cleanup_close_ int pfd = -1;

	/* O_PATH needs no permission on the directory itself, and O_NOFOLLOW
	 * makes a symlink (or one swapped in a moment ago) an object of its
	 * own: it is unlinked below, never entered */
	pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT ? 0 : remove_fail(where, path, -errno);
	if (fstat(pfd, &st) < 0)
		return remove_fail(where, path, -errno);
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev)
			return remove_fail(where, path, -EXDEV);
		if (!depth)
			return remove_fail(where, path, -ELOOP);
		if ((st.st_mode & 0700) != 0700) {
			/* chmod through the fd (O_PATH has no fchmod): the object
			 * checked above, whatever the name points at now */
			char proc[64];
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
			if (chmod(proc, (st.st_mode & 07777) | 0700) < 0)
				return remove_fail(where, path, -errno);
		}
		int r = remove_children(pfd, depth, dev, path, where);
		if (r < 0)
			return r;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return remove_fail(where, path, -errno);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return remove_fail(where, path, -errno);
	return 0;
}

int rs_remove_beneath(int dirfd, const char *name, unsigned depth, char **where)
{
	struct stat st;

	if (where)
		*where = NULL;
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (fstat(dirfd, &st) < 0)
		return -errno;
	return remove_at(dirfd, name, depth, st.st_dev, name, where);
}

/* The child's answer on its stdout: this header, then len bytes of data
 * (rs_as_user_data). */
struct as_user_reply {
	int rc;
	uint32_t len;
	char msg[512];
};

struct as_user_call {
	const struct rs_user *u;
	rs_as_user_fn fn;
	rs_as_user_data_fn dfn;
	void *arg;
	size_t max;
};

static int as_user_setup(void *arg, struct rs_spawn_ctx *ctx)
{
	const struct as_user_call *c = arg;
	return rs_user_spawn_drop((void *)c->u, ctx);
}

/* What of fn's data is sent back: all of it, or none when there is none
 * or more than the caller allowed. */
static size_t reply_len(const char *data, size_t len, size_t max)
{
	return !data || len > max ? 0 : len;
}

/* The caller's copy of fn's data (when it asked for one): it may be
 * binary (a struct ucred), so copied whole, then a NUL. */
static void reply_copy(char **data, const char *src, size_t len)
{
	if (!data)
		return;
	*data = rs_xmalloc(len + 1);
	memcpy(*data, src ? src : "", len);
	(*data)[len] = '\0';
}

/* The child, as the user (lib/spawn dropped it: uid, gid, groups, no
 * capability, no_new_privs; a new session, no terminal, stdin /dev/null). */
static int as_user_child(void *arg)
{
	const struct as_user_call *c = arg;
	struct as_user_reply rep = {0};
	char *data = NULL;
	size_t len = 0;

	rep.rc = c->fn ? c->fn(c->arg, rep.msg, sizeof(rep.msg))
		       : c->dfn(c->arg, &data, &len, rep.msg, sizeof(rep.msg));
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	len = reply_len(data, len, c->max);
	rep.len = (uint32_t)len;
	if (rs_write_full(STDOUT_FILENO, &rep, sizeof(rep)) < 0 ||
	    rs_write_full(STDOUT_FILENO, data, len) < 0)
		return 126;
	return 0;
}

/* The reply the child wrote, whole. Return: 0 or -ECHILD. */
static int take_reply(const struct rs_spawn_result *res, size_t max, struct as_user_reply *rep,
		      char **data)
{
	if (res->out_cut || res->out_len < sizeof(*rep) || !WIFEXITED(res->status) ||
	    WEXITSTATUS(res->status) != 0)
		return -ECHILD;
	memcpy(rep, res->out, sizeof(*rep));
	if (rep->len > max || res->out_len != sizeof(*rep) + rep->len)
		return -ECHILD;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	reply_copy(data, res->out + sizeof(*rep), rep->len);
	return 0;
}

/* The caller is the user already and holds no privilege (a user's own
 * check): a child would run with these same credentials (rs_user_become
 * changes nothing without root), so it would keep nothing from the user
 * that the caller does not already give away. */
static bool caller_is(const struct rs_user *u)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	return getresuid(&r, &e, &s) == 0 && getresgid(&rg, &eg, &sg) == 0 && e != 0 &&
	       r == u->uid && e == u->uid && s == u->uid && rg == u->gid && eg == u->gid &&
	       sg == u->gid;
}

/* fn run here, its answer shaped as take_reply shapes the child's: a fork
 * of us costs more than most fns (two were a tenth of a user's check). */
static int as_self_run(struct as_user_call *c, char **data, size_t *len, char *msg, size_t msglen)
{
	char *d = NULL;
	size_t n = 0;
	int r = c->fn ? c->fn(c->arg, msg, msglen) : c->dfn(c->arg, &d, &n, msg, msglen);

	n = reply_len(d, n, c->max);
	reply_copy(data, d, n);
	free(d);
	if (len)
		*len = n;
	return r;
}

static int as_user_run(const struct rs_user *u, struct as_user_call *c, char **data, size_t *len,
		       char *msg, size_t msglen, unsigned timeout_ms)
{
	struct as_user_reply rep = {0};
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_spawn_result res;

	c->u = u;
	if (msglen)
		msg[0] = '\0';
	if (caller_is(u))
		return as_self_run(c, data, len, msg, msglen);
	/* fn is ours, it execs nothing, and its args hold fds (a tree's
	 * host, a home): they stay; the terminal and stdio of root's do not */
	struct rs_spawn o = {.path = "rootless-setup",
			     .flags = RS_SPAWN_STDOUT | RS_SPAWN_KEEP_FDS,
			     .setup = as_user_setup,
			     .arg = c,
			     .steps = rs_user_steps,
			     .fn = as_user_child,
			     .out_max = sizeof(rep) + c->max,
			     .timeout_ms = timeout_ms ? timeout_ms : 1};
	int r = rs_spawn_run(&o, &res, &e);
	if (r == -ETIMEDOUT) {
		snprintf(msg, msglen, "the process acting as '%s' did not finish within %u s",
			 u->name, timeout_ms / 1000);
	} else if (r < 0) {
		snprintf(msg, msglen, "the process acting as '%s' could not start: %s", u->name,
			 e->msg);
		r = -ECHILD;
	} else if ((r = take_reply(&res, c->max, &rep, data)) < 0) {
		snprintf(msg, msglen, "the process acting as '%s' died (%s %d)", u->name,
			 WIFSIGNALED(res.status) ? "signal" : "status",
			 WIFSIGNALED(res.status) ? WTERMSIG(res.status) : WEXITSTATUS(res.status));
	} else {
		snprintf(msg, msglen, "%s", rep.msg);
		if (len)
			*len = rep.len;
		r = rep.rc;
	}
	rs_spawn_result_clear(&res);
	return r;
}

int rs_as_user(const struct rs_user *u, rs_as_user_fn fn, void *arg, char *msg, size_t msglen,
	       unsigned timeout_ms)
{
	struct as_user_call c = {.fn = fn, .arg = arg};
	return as_user_run(u, &c, NULL, NULL, msg, msglen, timeout_ms);
}

int rs_as_user_data(const struct rs_user *u, rs_as_user_data_fn fn, void *arg, size_t max,
		    char **data, size_t *len, char *msg, size_t msglen, unsigned timeout_ms)
{
	struct as_user_call c = {.dfn = fn, .arg = arg, .max = max};
	*data = NULL;
	*len = 0;
	int r = as_user_run(u, &c, data, len, msg, msglen, timeout_ms);
	if (r < 0 && *data) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	return r;
}

/* ---- paths a user may have shaped, opened by root ---- */

enum { GUARD_LINKS_MAX = 40 };

/* Only root can change it: root's, and nobody else may write in it (or
 * only remove their own entries: the sticky bit). */
static bool root_only(const struct stat *st)
{
	return st->st_uid == 0 && (!(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX));
}

/* A symlink of directory cur root may follow (cur is root's alone): the
 * link is root's, and not one of /proc's magic links (the text of
 * /proc/PID/fd/N or /proc/PID/root is no path to follow); /proc/self and
 * /proc/thread-self, in procfs's root, are. */
static bool link_followable(int cur, const struct stat *lst)
{
	struct statfs sf;
	struct stat dst;

	if (lst->st_uid != 0 || fstatfs(cur, &sf) < 0)
		return false;
	return sf.f_type != PROC_SUPER_MAGIC || (fstat(cur, &dst) == 0 && dst.st_ino == 1);
}

struct guard {
	const char *path; /* as given, for messages */
	int cur;
	bool trusted; /* every directory so far is root's alone */
	unsigned links;
	struct rs_guarded *g;
	struct rs_error **err;
};

static int guard_link_refused(struct guard *w, const char *comp)
{
	return rs_error_setx(
		w->err, ELOOP,
		"refusing '%s': '%s' is a symlink a user could have made (not followed)", w->path,
		comp);
}

static int guard_reset(struct guard *w)
{
	struct stat st;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return rs_error_set(w->err, e, "cannot open '/'");
	}
	if (w->cur >= 0)
		close(w->cur);
	w->cur = fd;
	w->trusted = root_only(&st);
	w->g->shaped = !w->trusted;
	w->g->shaper = st.st_uid ? st.st_uid : (uid_t)-1;
	return 0;
}

/* Steps into directory comp of w->cur. */
static int guard_enter(struct guard *w, const char *comp)
{
	struct stat st;
	int fd = openat(w->cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		/* swapped for a symlink since it was looked at */
		return e == ELOOP || e == ENOTDIR
			       ? rs_error_setx(w->err, e, "refusing '%s': '%s' is not a directory",
					       w->path, comp)
			       : rs_error_set(w->err, e, "cannot open '%s'", w->path);
	}
	close(w->cur);
	w->cur = fd;
	if (!strcmp(comp, ".."))
		return 0; /* back where the walk came from (trusted only) */
	w->trusted = w->trusted && root_only(&st);
	w->g->shaped = w->g->shaped || !root_only(&st);
	if (st.st_uid != 0 && w->g->shaper == (uid_t)-1)
		w->g->shaper = st.st_uid;
	return 0;
}

/* Follows the symlink comp of w->cur: *rest becomes its target, then what
 * was left after comp (tail). */
static int guard_follow(struct guard *w, const char *comp, const char *tail, char **rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(w->cur, comp, target, sizeof(target) - 1);

	if (n < 0)
		return rs_error_set(w->err, errno, "cannot read the symlink '%s'", comp);
	target[n] = '\0';
	if (++w->links > GUARD_LINKS_MAX)
		return rs_error_setx(w->err, ELOOP, "cannot open '%s': too many symlinks", w->path);
	char *next = rs_xasprintf("%s%s", target, tail);
	free(*rest);
	*rest = next;
	return target[0] == '/' ? guard_reset(w) : 0;
}

/* The last component: opened with the caller's flags, never a symlink
 * (shown: its path, for messages). */
static int guard_last(struct guard *w, const char *comp, const char *shown, int flags)
{
	int fd = openat(w->cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, 0);

	if (fd < 0)
		return errno == ELOOP ? guard_link_refused(w, shown)
				      : rs_error_set(w->err, errno, "cannot open '%s'", w->path);
	if (fstat(fd, &w->g->st) < 0 || S_ISLNK(w->g->st.st_mode)) {
		int e = errno;
		close(fd);
		return S_ISLNK(w->g->st.st_mode)
			       ? guard_link_refused(w, shown)
			       : rs_error_set(w->err, e, "cannot open '%s'", w->path);
	}
	return fd;
}

/* One step: comp (of length n) of *rest, tail the text after it. Return:
 * 1 go on, an fd (>= 0 returned as fd + 2) when done, or -errno. */
static int guard_step(struct guard *w, char **rest, size_t off, size_t n, int flags)
{
	_cleanup_free_ char *comp = rs_xstrndup(*rest + off, n);
	_cleanup_free_ char *shown = rs_xstrndup(*rest, off + n);
	const char *tail = *rest + off + n;
	bool last = !tail[strspn(tail, "/")];
	struct stat lst;
	int fd;

	if (!strcmp(comp, ".") && !last)
		return 1;
	if (!strcmp(comp, "..") && !w->trusted)
		return rs_error_setx(w->err, EXDEV,
				     "refusing '%s': '..' below a directory a user could change",
				     w->path);
	if (fstatat(w->cur, comp, &lst, AT_SYMLINK_NOFOLLOW) < 0)
		return rs_error_set(w->err, errno, "cannot open '%s'", w->path);
	if (S_ISLNK(lst.st_mode)) {
		if (!w->trusted || !link_followable(w->cur, &lst))
			return guard_link_refused(w, shown);
		_cleanup_free_ char *t = rs_xstrdup(tail);
		int r = guard_follow(w, comp, t, rest);
		return r < 0 ? r : 0;
	}
	if (!last || !strcmp(comp, "..")) {
		int r = guard_enter(w, comp);
		return r < 0 ? r : 1;
	}
	fd = guard_last(w, comp, shown, flags);
	return fd < 0 ? fd : fd + 2;
}

int rs_guarded_open(const char *path, int flags, struct rs_guarded *g, struct rs_error **err)
{
	struct guard w = {.path = path, .cur = -1, .g = g, .err = err};
	_cleanup_free_ char *rest = NULL;
	size_t off = 0;
	int r;

	memset(g, 0, sizeof(*g));
	if (!*path)
		return rs_error_setx(err, ENOENT, "cannot open '': no such file");
	if (path[0] == '/') {
		rest = rs_xstrdup(path);
	} else {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return rs_error_set(err, errno, "cannot resolve '%s'", path);
		rest = rs_xasprintf("%s/%s", cwd, path);
	}
	if ((r = guard_reset(&w)) < 0)
		return r;
	for (;;) {
		off += strspn(rest + off, "/");
		size_t n = strcspn(rest + off, "/");
		if (!n) { /* "/" itself, or a trailing "/" after a ".." */
			r = guard_last(&w, ".", path, flags);
			break;
		}
		r = guard_step(&w, &rest, off, n, flags);
		if (r < 0 || r >= 2) {
			r = r < 0 ? r : r - 2;
			break;
		}
		off = r == 0 ? 0 : off + n; /* 0: a symlink's target replaced rest */
	}
	close(w.cur);
	return r;
}

struct guarded_read {
	int fd; /* O_PATH fd of the file */
	size_t max;
	const char *path;
	bool tail; /* a log: its last max bytes, not -EFBIG */
};

/* Opens the O_PATH fd's file for reading again (a FIFO or device swapped
 * in is impossible: the fd is the inode checked) and reads it whole. */
static int read_reopened(void *arg, char **data, size_t *len, char *msg, size_t msglen)
{
	const struct guarded_read *c = arg;
	char proc[64];
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->fd);
	_cleanup_close_ int fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(msg, msglen, "cannot read '%s': %s", c->path, strerror(errno));
		return -errno;
	}
	/* a log's newest lines are at its end */
	off_t skip = c->tail && (uint64_t)st.st_size > c->max ? st.st_size - (off_t)c->max : 0;
	if (skip && lseek(fd, skip, SEEK_SET) < 0) {
		snprintf(msg, msglen, "cannot read '%s': %s", c->path, strerror(errno));
		return -errno;
	}
	char *buf = rs_xmalloc(c->max + 2);
	size_t got = 0, want = c->max + !c->tail; /* one more: is it larger? */
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			snprintf(msg, msglen, "cannot read '%s': %s", c->path, strerror(e));
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > c->max) {
		free(buf);
		snprintf(msg, msglen, "'%s' is larger than %zu bytes", c->path, c->max);
		return -EFBIG;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return skip > 0; /* 1: the beginning was left out */
}

static int guarded_read(const char *path, size_t max, bool tail, unsigned timeout_ms, char **buf,
			size_t *len, struct rs_error **err)
{
	struct rs_guarded g;
	char msg[512] = "";
	_cleanup_close_ int fd = rs_guarded_open(path, O_PATH, &g, err);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return fd;
	if (!S_ISREG(g.st.st_mode))
		return rs_error_setx(err, EINVAL, "cannot read '%s': not a regular file", path);
	if (!tail && (uint64_t)g.st.st_size > max)
		return rs_error_setx(err, EFBIG, "'%s' is larger than %zu bytes", path, max);
	struct guarded_read c = {.fd = fd, .max = max, .path = path, .tail = tail};
	int r;
	if (g.shaper == (uid_t)-1 || g.shaper == geteuid()) {
		r = read_reopened(&c, buf, len, msg, sizeof(msg));
	} else {
		struct rs_user u = {0};
		struct rs_host *h = NULL;
		char spec[16];
		snprintf(spec, sizeof(spec), "%u", (unsigned)g.shaper);
		r = rs_host_open("/", &h, err);
		if (r == 0 && rs_user_resolve(h, spec, &u, err) < 0)
			r = rs_error_wrap(err, "'%s' is in a directory of uid %u", path,
					  (unsigned)g.shaper);
		rs_host_free(h);
		if (r < 0)
			return r;
		r = rs_as_user_data(&u, read_reopened, &c, max, buf, len, msg, sizeof(msg),
				    timeout_ms);
		rs_user_clear(&u);
	}
	if (r < 0)
		return rs_error_setx(err, -r, "%s", msg[0] ? msg : strerror(-r));
	return r;
}

int rs_guarded_read(const char *path, size_t max, unsigned timeout_ms, char **buf, size_t *len,
		    struct rs_error **err)
{
	int r = guarded_read(path, max, false, timeout_ms, buf, len, err);
	return r < 0 ? r : 0;
}

int rs_guarded_read_tail(const char *path, size_t max, unsigned timeout_ms, char **buf, size_t *len,
			 bool *truncated, struct rs_error **err)
{
	int r = guarded_read(path, max, true, timeout_ms, buf, len, err);
	*truncated = r == 1;
	return r < 0 ? r : 0;
}
