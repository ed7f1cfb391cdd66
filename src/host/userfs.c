/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking, removing and acting inside user-controlled trees by fd. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "host/userfs.h"
#include "lib/io.h"
#include "lib/macro.h"
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

/* The child's answer: this header, then len bytes of data (rs_as_user_data). */
struct as_user_reply {
	int rc;
	uint32_t len;
	char msg[512];
};

static int drop_to(const struct rs_user *u, char *msg, size_t len)
{
	int r = rs_user_drop(u);
	if (r == -EPERM)
		snprintf(msg, len, "uid %u was not fully taken, or capabilities are left",
			 (unsigned)u->uid);
	else if (r < 0)
		snprintf(msg, len, "cannot switch to uid %u: %s", (unsigned)u->uid, strerror(-r));
	return r;
}

struct as_user_call {
	rs_as_user_fn fn;
	rs_as_user_data_fn dfn;
	void *arg;
	size_t max;
};

_noreturn_ static void as_user_child(const struct rs_user *u, const struct as_user_call *c, int out,
				     pid_t parent)
{
	struct as_user_reply rep = {0};
	char *data = NULL;
	size_t len = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	rep.rc = drop_to(u, rep.msg, sizeof(rep.msg));
	if (rep.rc == 0)
		rep.rc = c->fn ? c->fn(c->arg, rep.msg, sizeof(rep.msg))
			       : c->dfn(c->arg, &data, &len, rep.msg, sizeof(rep.msg));
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	if (!data || len > c->max)
		len = 0;
	rep.len = (uint32_t)len;
	if (rs_write_full(out, &rep, sizeof(rep)) < 0 || rs_write_full(out, data, len) < 0)
		_exit(126);
	_exit(0);
}

/* Reads len bytes before the deadline end. Return: 0, -ETIMEDOUT or -ECHILD. */
static int read_reply(int fd, void *buf, size_t len, uint64_t end)
{
	int r = rs_read_full(fd, buf, len, rs_ms_left(end));
	return r == -ETIMEDOUT ? r : r < 0 ? -ECHILD : 0;
}

static int read_all(int fd, struct as_user_reply *rep, size_t max, char **data, unsigned timeout_ms)
{
	uint64_t end = rs_now_ms() + timeout_ms;
	int r = read_reply(fd, rep, sizeof(*rep), end);

	if (r < 0 || !data)
		return r;
	if (rep->len > max)
		return -ECHILD;
	*data = rs_xmalloc((size_t)rep->len + 1);
	r = read_reply(fd, *data, rep->len, end);
	(*data)[rep->len] = '\0';
	if (r < 0) {
		free(*data);
		*data = NULL;
	}
	return r;
}

static int as_user_run(const struct rs_user *u, const struct as_user_call *c, char **data,
		       size_t *len, char *msg, size_t msglen, unsigned timeout_ms)
{
	struct as_user_reply rep = {0};
	int p[2], status = 0;
	pid_t parent = getpid(), pid;

	if (msglen)
		msg[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		as_user_child(u, c, p[1], parent);
	}
	close(p[1]);
	int r = read_all(p[0], &rep, c->max, data, timeout_ms);
	close(p[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -ETIMEDOUT) {
		snprintf(msg, msglen, "the process acting as '%s' did not finish within %u s",
			 u->name, timeout_ms / 1000);
		return r;
	}
	if (r < 0) {
		snprintf(msg, msglen, "the process acting as '%s' died (%s %d)", u->name,
			 WIFSIGNALED(status) ? "signal" : "status",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return -ECHILD;
	}
	snprintf(msg, msglen, "%s", rep.msg);
	if (len)
		*len = rep.len;
	return rep.rc;
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
