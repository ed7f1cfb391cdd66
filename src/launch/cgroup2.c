/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --evacuate-cgroup2=NAME, in the parent: cgroup v2 lets a group enable
 * controllers for its children only while it holds no process itself ("no
 * internal processes"), so every process of our group (the launcher, the
 * child and whatever else the unit runs) moves into the sub-group NAME, and
 * then our group enables every controller it has for its sub-groups. Done
 * with the caller's own credentials: only a delegated group (a systemd user
 * service with Delegate=yes) is writable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "launch/internal.h"
#include "lib/xalloc.h"

static ssize_t read_at(int dfd, const char *name, char *buf, size_t n)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	ssize_t k;
	while (got + 1 < n && (k = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)k;
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

static int write_at(int dfd, const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t k = write(fd, text, strlen(text));
	int e = k < 0 ? errno : 0;
	close(fd);
	return -e;
}

/* Our group ("0::/user.slice/...") relative to the cgroup2 mount. */
static int own_group(char *buf, size_t n)
{
	char all[4096] = "";
	if (read_at(AT_FDCWD, "/proc/self/cgroup", all, sizeof(all)) < 0)
		return -ENOENT;
	for (char *l = all; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "0::/", 4) != 0)
			continue;
		size_t len = strcspn(l + 4, "\n");
		if (len + 1 > n)
			return -ENAMETOOLONG;
		memcpy(buf, l + 4, len);
		buf[len] = '\0';
		return 0;
	}
	return -ENOENT;
}

static const char *cgroup2_mount(void)
{
	static const char *const where[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs sf;
	for (size_t i = 0; i < ARRAY_SIZE(where); i++)
		if (statfs(where[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			return where[i];
	return NULL;
}

static void move_procs(int old, int sub, const char *name, rs_launch_warn_fn warn)
{
	static char procs[65536];
	if (read_at(old, "cgroup.procs", procs, sizeof(procs)) < 0)
		return;
	for (char *p = strtok(procs, "\n"); p; p = strtok(NULL, "\n")) {
		if (strcmp(p, "0") == 0)
			continue;
		int r = write_at(sub, "cgroup.procs", p);
		/* a process that has left meanwhile is no failure */
		if (r < 0 && r != -ESRCH) {
			_cleanup_free_ char *m =
				rs_xasprintf("cannot move process %s into cgroup '%s': %s", p, name,
					     strerror(-r));
			warn(m);
		}
	}
}

int rs_cgroup2_evacuate(const char *name, rs_launch_warn_fn warn, struct rs_error **err)
{
	char group[2048], ctl[1024], plus[64];
	const char *mnt = cgroup2_mount();

	if (!mnt || own_group(group, sizeof(group)) < 0) {
		warn("cgroup v2 is not mounted, or this process is in none of its groups: "
		     "--evacuate-cgroup2 does nothing");
		return 0;
	}
	_cleanup_free_ char *path = rs_xasprintf("%s/%s", mnt, group);
	int old = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		return rs_error_set(err, errno, "cannot open cgroup '%s'", path);
	if (mkdirat(old, name, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		close(old);
		return rs_error_set(err, e,
				    "cannot create cgroup '%s/%s' for --evacuate-cgroup2 "
				    "(is the group delegated to you?)",
				    path, name);
	}
	int sub = openat(old, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0) {
		int e = errno;
		close(old);
		return rs_error_set(err, e, "cannot open cgroup '%s/%s'", path, name);
	}
	move_procs(old, sub, name, warn);
	if (read_at(old, "cgroup.controllers", ctl, sizeof(ctl)) >= 0) {
		for (char *c = strtok(ctl, " \n"); c; c = strtok(NULL, " \n")) {
			snprintf(plus, sizeof(plus), "+%s", c);
			int r = write_at(old, "cgroup.subtree_control", plus);
			if (r < 0) {
				_cleanup_free_ char *m =
					rs_xasprintf("cannot enable controller '%s' in '%s': %s", c,
						     path, strerror(-r));
				warn(m);
			}
		}
	}
	close(sub);
	close(old);
	return 0;
}
