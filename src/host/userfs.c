/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking, removing and acting inside user-controlled trees by fd. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "host/userfs.h"
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
			if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
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

struct as_user_reply {
	int rc;
	char msg[512];
};

static int drop_to(const struct rs_user *u, char *msg, size_t len)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	uid_t r, e, s;

	if (geteuid() == 0 && u->uid != 0) {
		if (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
		    setresuid(u->uid, u->uid, u->uid) < 0) {
			snprintf(msg, len, "cannot switch to uid %u: %s", (unsigned)u->uid,
				 strerror(errno));
			return -errno;
		}
		if (getresuid(&r, &e, &s) < 0 || r != u->uid || e != u->uid || s != u->uid) {
			snprintf(msg, len, "uid %u was not fully taken", (unsigned)u->uid);
			return -EPERM;
		}
		if (syscall(SYS_capget, &hdr, data) < 0 || data[0].effective || data[0].permitted ||
		    data[1].effective || data[1].permitted) {
			snprintf(msg, len, "capabilities left after switching to uid %u",
				 (unsigned)u->uid);
			return -EPERM;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(msg, len, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

_noreturn_ static void as_user_child(const struct rs_user *u, rs_as_user_fn fn, void *arg, int out,
				     pid_t parent)
{
	struct as_user_reply rep = {0};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	rep.rc = drop_to(u, rep.msg, sizeof(rep.msg));
	if (rep.rc == 0)
		rep.rc = fn(arg, rep.msg, sizeof(rep.msg));
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	if (write(out, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(126);
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the reply before the deadline. Return: 0, -ETIMEDOUT or -ECHILD. */
static int read_reply(int fd, struct as_user_reply *rep, unsigned timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < sizeof(*rep)) {
		long long left = end - now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ETIMEDOUT : -ECHILD;
		ssize_t x = read(fd, (char *)rep + got, sizeof(*rep) - got);
		if (x < 0 && errno == EINTR)
			continue;
		if (x <= 0)
			return -ECHILD;
		got += (size_t)x;
	}
	return 0;
}

int rs_as_user(const struct rs_user *u, rs_as_user_fn fn, void *arg, char *msg, size_t msglen,
	       unsigned timeout_ms)
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
		as_user_child(u, fn, arg, p[1], parent);
	}
	close(p[1]);
	int r = read_reply(p[0], &rep, timeout_ms);
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
	return rep.rc;
}
