/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "host/host.h"
#include "lib/xalloc.h"

const char *rs_host_rel(const char *abs)
{
	while (*abs == '/')
		abs++;
	return *abs ? abs : ".";
}

int rs_host_open(const char *root, struct rs_host **out, struct rs_error **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *real;

	if (!root || !*root)
		root = "/";
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rs_error_set(err, errno, "cannot open root '%s'", root);
	if (fstat(fd, &st) < 0)
		return rs_error_set(err, errno, "cannot stat root '%s'", root);
	real = realpath(root, NULL);
	if (!real)
		return rs_error_set(err, errno, "cannot resolve root '%s'", root);

	struct rs_host *h = rs_xcalloc(1, sizeof(*h));
	h->live = strcmp(real, "/") == 0;
	if (h->live)
		real[0] = '\0';
	h->root = real;
	h->root_fd = TAKE_FD(fd);
	*out = h;
	return 0;
}

void rs_host_free(struct rs_host *h)
{
	if (!h)
		return;
	if (h->root_fd >= 0)
		close(h->root_fd);
	rs_host_cache_free(h->cache);
	free(h->root);
	free(h);
}

bool rs_host_test_no_openat2;

#define WALK_MAX_LINKS 40 /* the kernel's MAXSYMLINKS */

struct walk {
	int *fd; /* fd[0] is the root (not ours); fd[depth] the current directory */
	size_t depth, cap;
};

static void walk_pop_all(struct walk *w)
{
	while (w->depth > 0)
		close(w->fd[w->depth--]);
}

/* One component name from *p (slashes skipped); returns its length, 0 at the end. */
static size_t walk_next(const char **p)
{
	while (**p == '/')
		(*p)++;
	return strcspn(*p, "/");
}

/* A symlink met during the walk: its target, then what was left of the path. */
static int walk_link(struct walk *w, int lfd, const char *rest, char **path)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(lfd, "", target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	/* an absolute target restarts at the root of the tree, never at / */
	if (target[0] == '/')
		walk_pop_all(w);
	char *np = rs_xasprintf("%s/%s", target, rest);
	free(*path);
	*path = np;
	return 0;
}

/*
 * RESOLVE_IN_ROOT without openat2 (Linux < 5.6, or a seccomp filter that
 * answers EPERM): a plain openat() would follow "proc/self/mountinfo ->
 * /outside" out of the tree. Every component is opened O_PATH|O_NOFOLLOW
 * relative to the previous one; symlinks are read and resolved here, with
 * absolute targets restarting at the root, ".." stopping at the root, and
 * at most 40 links (ELOOP). Return: fd or -1 with errno.
 */
static int walk_in_root(int root_fd, const char *rel, int flags)
{
	_cleanup_free_ char *path = rs_xstrdup(rel);
	struct walk w = {.cap = 16};
	unsigned links = 0;
	int r = -1, e = 0;

	w.fd = rs_xmalloc(w.cap * sizeof(int));
	w.fd[0] = root_fd;
	for (size_t off = 0;;) {
		const char *p = path + off;
		size_t n = walk_next(&p);
		_cleanup_free_ char *name = rs_xstrndup(p, n);
		const char *rest = p + n;
		bool last = walk_next(&rest) == 0;
		int cur = w.fd[w.depth];
		off = (size_t)(rest - path);
		if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			if (n == 2 && w.depth > 0) /* ".." never climbs above the root */
				close(w.fd[w.depth--]);
			if (!last && n)
				continue;
			r = openat(w.fd[w.depth], ".", flags | O_CLOEXEC, 0);
			e = errno;
			break;
		}
		if (last && (flags & O_NOFOLLOW)) {
			r = openat(cur, name, flags | O_CLOEXEC, 0);
			e = errno;
			break;
		}
		int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			e = errno;
			if (fd >= 0)
				close(fd);
			/* a missing last component may be created (O_CREAT) */
			if (last && e == ENOENT && (flags & O_CREAT)) {
				r = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
				e = errno;
			}
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			int lr = ++links > WALK_MAX_LINKS ? -ELOOP : walk_link(&w, fd, rest, &path);
			close(fd);
			if (lr < 0) {
				e = -lr;
				break;
			}
			off = 0;
			continue;
		}
		if (last) {
			close(fd);
			/* O_NOFOLLOW: a swap to a symlink since the check fails, never follows */
			r = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, 0);
			e = errno;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			e = ENOTDIR;
			break;
		}
		if (w.depth + 1 == w.cap) {
			w.cap *= 2;
			w.fd = rs_xrealloc(w.fd, w.cap * sizeof(int));
		}
		w.fd[++w.depth] = fd;
	}
	walk_pop_all(&w);
	free(w.fd);
	errno = e;
	return r;
}

static int host_openat_raw(const struct rs_host *h, const char *rel, int flags)
{
	static bool no_openat2;
	int fd;

	rel = rs_host_rel(rel);
	if (h->live)
		return openat(h->root_fd, rel, flags | O_CLOEXEC, 0);
	if (no_openat2 || rs_host_test_no_openat2)
		return walk_in_root(h->root_fd, rel, flags);
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	fd = (int)syscall(SYS_openat2, h->root_fd, rel, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* Linux < 5.6, or a seccomp filter that hides openat2: walk it
		 * ourselves, never a plain openat that leaves the tree */
		no_openat2 = true;
		return walk_in_root(h->root_fd, rel, flags);
	}
	return fd;
}

int rs_host_openat(const struct rs_host *h, const char *rel, int flags, struct rs_error **err)
{
	int fd = host_openat_raw(h, rel, flags);
	if (fd < 0)
		return rs_error_set(err, errno, "cannot open '/%s'", rs_host_rel(rel));
	return fd;
}

/* A large buffer's pages made at once (Linux 5.14), not one fault per
 * 4 KiB as read(2) fills them: on a paravirtualised guest each fault
 * traps, and dpkg's status cost a user's check 256 of them. Best effort. */
static void prefault(char *b, size_t len)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)b + pg - 1) & ~(pg - 1), hi = ((uintptr_t)b + len) & ~(pg - 1);

	if (len >= (256u << 10) && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
}

/* size: what fstat said, a hint (the file may grow or shrink meanwhile;
 * /proc and /sys files say 0 or 4096): one buffer of that size takes a
 * file like dpkg's status (1 MB) in one read instead of nine reallocs. */
static int read_fd(int fd, size_t max, size_t size, char **buf, size_t *len)
{
	size_t want = size < 4096 ? 4096 : size + 1;
	size_t cap = max < want ? max : want, n = 0;
	_cleanup_free_ char *b = rs_xmalloc(cap + 1);

	prefault(b, cap);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				char c;
				ssize_t x;
				while ((x = read(fd, &c, 1)) < 0 && errno == EINTR)
					;
				if (x < 0)
					return -errno;
				if (x > 0)
					return -EFBIG;
				break;
			}
			cap = cap * 2 > max ? max : cap * 2;
			b = rs_xrealloc(b, cap + 1);
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = TAKE_PTR(b);
	*len = n;
	return 0;
}

int rs_host_read(const struct rs_host *h, const char *rel, size_t max, char **buf, size_t *len,
		 struct rs_error **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = host_openat_raw(h, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 && errno == ENXIO)
		return rs_error_setx(err, EINVAL, "cannot read '/%s': not a regular file",
				     rs_host_rel(rel));
	if (fd < 0)
		return rs_error_set(err, errno, "cannot open '/%s'", rs_host_rel(rel));
	if (fstat(fd, &st) < 0)
		return rs_error_set(err, errno, "cannot stat '/%s'", rs_host_rel(rel));
	if (S_ISDIR(st.st_mode))
		return rs_error_set(err, EISDIR, "cannot read '/%s'", rs_host_rel(rel));
	if (!S_ISREG(st.st_mode))
		return rs_error_setx(err, EINVAL, "cannot read '/%s': not a regular file",
				     rs_host_rel(rel));
	r = read_fd(fd, max, (size_t)st.st_size, buf, len);
	if (r == -EFBIG)
		return rs_error_setx(err, EFBIG, "cannot read '/%s': larger than %zu bytes",
				     rs_host_rel(rel), max);
	if (r < 0)
		return rs_error_set(err, -r, "cannot read '/%s'", rs_host_rel(rel));
	return 0;
}

int rs_host_stat(const struct rs_host *h, const char *rel, struct stat *st, bool nofollow)
{
	_cleanup_close_ int fd = -1;

	fd = host_openat_raw(h, rel, O_PATH | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	return 0;
}

bool rs_host_exists(const struct rs_host *h, const char *rel)
{
	struct stat st;
	return rs_host_stat(h, rel, &st, true) == 0;
}

char *rs_host_path(const struct rs_host *h, const char *rel)
{
	return rs_xasprintf("%s/%s", h->root,
			    strcmp(rs_host_rel(rel), ".") ? rs_host_rel(rel) : "");
}

int rs_host_canonical(const struct rs_host *h, const char *rel, char **out)
{
	_cleanup_free_ char *path = rs_xstrdup(rs_host_rel(rel));
	_cleanup_free_ char *rest = rs_xstrdup("");
	char link[64], real[PATH_MAX];

	for (;;) {
		_cleanup_close_ int fd = host_openat_raw(h, path, O_PATH);
		if (fd >= 0) {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
			ssize_t n = readlink(link, real, sizeof(real) - 1);
			if (n < 0)
				return -errno;
			real[n] = '\0';
			size_t rl = strlen(h->root);
			const char *in = real;
			if (rl && strncmp(real, h->root, rl) == 0 && (real[rl] == '/' || !real[rl]))
				in = real + rl;
			*out = rs_xasprintf("%s%s%s", *in ? in : "/",
					    (*rest && *in && strcmp(in, "/")) ? "/" : "", rest);
			return 0;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		if (strcmp(path, ".") == 0)
			return -ENOENT;
		char *slash = strrchr(path, '/');
		char *tail = slash ? slash + 1 : path;
		char *nrest = *rest ? rs_xasprintf("%s/%s", tail, rest) : rs_xstrdup(tail);
		free(rest);
		rest = nrest;
		if (!slash) {
			free(path);
			path = rs_xstrdup(".");
		} else {
			*slash = '\0';
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rs_host_listdir(const struct rs_host *h, const char *rel, struct rs_strv *out,
		    struct rs_error **err)
{
	int fd = host_openat_raw(h, rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
	if (fd < 0)
		return rs_error_set(err, errno, "cannot open '/%s'", rs_host_rel(rel));
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return rs_error_set(err, errno, "cannot read '/%s'", rs_host_rel(rel));
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rs_strv_push(out, de->d_name);
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	return 0;
}
