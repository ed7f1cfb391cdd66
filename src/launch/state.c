/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/proc.h"
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/io.h"
#include "launch/launch.h"
#include "lib/xalloc.h"

/* Our files in a state dir, besides lock: removed when a launch takes the
 * dir over from a killed one, and at the end (the sockets, netns and the
 * pasta FIFO are their owners' to remove). */
static const char *const state_files[] = {"child_pid", "child_start", "resolv.conf", "hosts"};

/* A small /proc file, NUL-terminated. Return: 0 or -errno. */
static int read_proc_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t r = read(fd, buf, n - 1);
	int e = errno;
	close(fd);
	if (r < 0)
		return -e;
	buf[r] = '\0';
	return 0;
}

static int mkdir_parents(const char *dir, mode_t mode)
{
	_cleanup_free_ char *p = rs_xstrdup(dir);
	for (char *s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/* Readers (nsenter) see the old file or the new one, never a partial one:
 * the safe-write module's temporary file and rename, in the state dir held
 * open since rs_state_open; a symlink, FIFO or hard link planted as
 * child_pid is refused, never written through. */
static int write_atomic(const struct rs_state *st, const char *name, const char *text,
			struct rs_error **err)
{
	_cleanup_free_ char *shown = rs_xasprintf("%s/%s", st->dir, name);
	/* no fsync: it cost 4 of launch's milliseconds, and a child_pid that
	 * survived a crash would name a dead process anyway */
	struct rs_write_opts wo = {.mode = 0444,
				   .uid = (uid_t)-1,
				   .gid = (gid_t)-1,
				   .no_sync = true};
	int r = rs_safe_write_at(st->dir_fd, name, shown, text, strlen(text), &wo, err);
	return r < 0 ? r : 0;
}

static void lock_owner(int dfd, char *buf, size_t n)
{
	buf[0] = '\0';
	int fd = openat(dfd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Is pid on its way out: gone, a zombie, exiting (PF_EXITING in the flags
 * of /proc/PID/stat), or with SIGKILL pending (sent, not yet acted on)? */
static bool pid_exiting(pid_t pid)
{
	char path[64], buf[4096];
	unsigned long long flags = 0, pend;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_proc_small(path, buf, sizeof(buf)) < 0)
		return true;
	/* after comm: state (field 3) ... flags (field 9) */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || strchr("ZXx", p[2]))
		return true;
	p++;
	for (int field = 3; field < 9 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoull(p + 1, NULL, 10);
	if (flags & 0x4) /* PF_EXITING */
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_proc_small(path, buf, sizeof(buf)) < 0)
		return true;
	static const char *const keys[] = {"\nSigPnd:", "\nShdPnd:"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if ((p = strstr(buf, keys[i])) && sscanf(p + strlen(keys[i]), "%llx", &pend) == 1 &&
		    (pend >> (SIGKILL - 1)) & 1)
			return true;
	return false;
}

/* The lock decides, not a pid: taken, or held. A launcher SIGKILLed a
 * moment ago holds it until its exit has closed its files (RootlessKit's
 * restart test starts the next launch at once), so while the pid recorded
 * in it is on its way out we wait for the lock (5 s at most); a holder
 * that is not, checked over 20 ms (its state may be read in the instant
 * between the signal and the exit), means the dir is in use.
 * Return: 0, -EBUSY (*pid: the holder as recorded), or -errno. */
static int take_lock(const struct rs_state *st, char *pid, size_t n)
{
	uint64_t v;

	for (unsigned waited = 0;; waited += 5) {
		if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		lock_owner(st->dir_fd, pid, n);
		bool going = rs_parse_u64(pid, INT32_MAX, &v) == 0 && v > 0 &&
			     pid_exiting((pid_t)v);
		if ((!going && waited >= 20) || waited >= 5000)
			return -EBUSY;
		usleep(5000);
	}
}

int rs_state_open(const char *dir, bool given, struct rs_state *st, struct rs_error **err)
{
	struct stat s;
	char pid[32] = "";

	memset(st, 0, sizeof(*st));
	st->dir_fd = st->lock_fd = -1;
	if (mkdir_parents(dir, 0700) < 0)
		return rs_error_set(err, errno, "cannot create the parents of state dir '%s'", dir);
	if (mkdir(dir, 0700) == 0)
		st->created = !given; /* a directory the user named is kept */
	else if (errno != EEXIST)
		return rs_error_set(err, errno, "cannot create state dir '%s'", dir);
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dir_fd < 0)
		return rs_error_set(err, errno, "cannot open state dir '%s'", dir);
	if (fstat(st->dir_fd, &s) < 0 || s.st_uid != geteuid()) {
		rs_state_close(st);
		return rs_error_setx(err, EPERM, "state dir '%s' is not owned by uid %u", dir,
				     (unsigned)geteuid());
	}
	if ((s.st_mode & 07777) != 0700)
		fchmod(st->dir_fd, 0700);
	st->dir = rs_xstrdup(dir);
	st->lock_fd = openat(st->dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		int e = errno;
		rs_state_close(st);
		return rs_error_set(err, e, "cannot open '%s/lock'", dir);
	}
	int r = take_lock(st, pid, sizeof(pid));
	if (r < 0) {
		close(st->lock_fd);
		st->lock_fd = -1;
		st->created = false; /* not ours to remove */
		rs_state_close(st);
		if (r != -EBUSY)
			return rs_error_set(err, -r, "cannot lock '%s/lock'", dir);
		return rs_error_setx(err, EBUSY, "state dir '%s' is in use by another launch%s%s%s",
				     dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
	}
	/* the lock is ours: whatever a killed launcher left is stale */
	for (size_t i = 0; i < ARRAY_SIZE(state_files); i++)
		unlinkat(st->dir_fd, state_files[i], 0);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(st->lock_fd, 0) == 0)
		(void)!pwrite(st->lock_fd, pid, strlen(pid), 0);
	return 0;
}

int rs_state_publish(struct rs_state *st, pid_t pid, struct rs_error **err)
{
	char buf[64];
	int r;

	snprintf(buf, sizeof(buf), "%llu\n", rs_proc_starttime(pid));
	r = write_atomic(st, "child_start", buf, err);
	if (r == 0) {
		snprintf(buf, sizeof(buf), "%d\n", (int)pid);
		r = write_atomic(st, "child_pid", buf, err);
	}
	if (r < 0)
		return rs_error_set(err, -r, "cannot write '%s/child_pid'", st->dir);
	return 0;
}

void rs_state_close(struct rs_state *st)
{
	if (st->dir_fd >= 0 && st->lock_fd >= 0) {
		for (size_t i = 0; i < ARRAY_SIZE(state_files); i++)
			unlinkat(st->dir_fd, state_files[i], 0);
		unlinkat(st->dir_fd, "lock", 0);
	}
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	/* a directory the user named is kept; ours goes, if nothing else is in it */
	if (st->created && st->dir) {
		rmdir(st->dir);
		/* and $XDG_RUNTIME_DIR/rootless-setup, when no other launch uses it */
		_cleanup_free_ char *parent = rs_xstrdup(st->dir);
		char *slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			rmdir(parent);
		}
	}
	free(st->dir);
	memset(st, 0, sizeof(*st));
	st->dir_fd = st->lock_fd = -1;
}

int rs_state_dir_open(const char *dir, bool strict, uid_t *owner, struct rs_error **err)
{
	struct rs_guarded g;
	struct stat st;

	if (strict) {
		int fd = rs_guarded_open(dir, O_RDONLY | O_DIRECTORY, &g, err);
		/* one owner from the user's directories down: a dir of another
		 * uid (or root's) inside a user's is not that user's launch */
		if (fd >= 0 && g.shaper != (uid_t)-1 && g.shaper != g.st.st_uid) {
			close(fd);
			return rs_error_setx(err, EPERM,
					     "refusing state dir '%s': it belongs to uid %u, the "
					     "directory above it to uid %u",
					     dir, (unsigned)g.st.st_uid, (unsigned)g.shaper);
		}
		if (fd >= 0)
			*owner = g.st.st_uid;
		return fd;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return rs_error_set(err, e, "cannot open state dir '%s'", dir);
	}
	*owner = st.st_uid;
	return dfd;
}

/* A small file of the state dir, which its owner writes: a regular file
 * (never a symlink, FIFO or device: opened O_NOFOLLOW and O_NONBLOCK),
 * of owner when strict, at most size - 1 bytes. Return: bytes or -errno
 * (-EINVAL: not such a file). */
static ssize_t read_small(int dfd, const char *name, bool strict, uid_t owner, char *buf,
			  size_t size)
{
	struct stat st;
	_cleanup_close_ int fd = openat(dfd, name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (strict && st.st_uid != owner) ||
	    st.st_size >= (off_t)size)
		return -EINVAL;
	ssize_t n = rs_read_all(fd, buf, size - 1, 1000);
	if (n < 0)
		return n == -EFBIG ? -EINVAL : n;
	buf[n] = '\0';
	return n;
}

static int read_num(int dfd, const char *name, bool strict, uid_t owner, unsigned long long *out)
{
	char buf[64];
	ssize_t n = read_small(dfd, name, strict, owner, buf, sizeof(buf));
	if (n <= 0)
		return n == 0 ? -EINVAL : (int)n;
	buf[strcspn(buf, "\n")] = '\0';
	uint64_t v;
	if (rs_parse_u64(buf, UINT64_MAX, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int rs_state_read_child(int dfd, const char *dir, bool strict, uid_t owner, pid_t *pid,
			unsigned long long *start, struct rs_error **err)
{
	unsigned long long p = 0;
	int r = read_num(dfd, "child_pid", strict, owner, &p);
	/* RootlessKit writes no child_start: 0, the process then decides */
	int r2 = r == 0 ? read_num(dfd, "child_start", strict, owner, start) : r;
	if (r == 0 && r2 == -ENOENT)
		*start = 0, r2 = 0;
	if (r == -ENOENT)
		return rs_error_setx(err, ENOENT, "no launch is running in '%s' (no child_pid)",
				     dir);
	if (r < 0 || p == 0 || p > 4194304)
		return rs_error_setx(err, EINVAL, "cannot read '%s/child_pid'%s", dir,
				     strict ? " (a regular file of the state dir's owner)" : "");
	if (r2 < 0)
		return rs_error_setx(err, EINVAL, "cannot read '%s/child_start'%s", dir,
				     strict ? " (a regular file of the state dir's owner)" : "");
	*pid = (pid_t)p;
	return 0;
}

int rs_state_read_line(int dfd, const char *dir, const char *name, bool strict, uid_t owner,
		       char *buf, size_t size, struct rs_error **err)
{
	ssize_t n = read_small(dfd, name, strict, owner, buf, size);
	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0)
		return rs_error_setx(err, (int)-n,
				     "refusing '%s/%s': not a regular file of uid %u of at most "
				     "%zu bytes (%s)",
				     dir, name, (unsigned)owner, size - 1, strerror((int)-n));
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}
