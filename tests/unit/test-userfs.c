/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/host/userfs.c: walks that refuse symlinks, removal by fd, and work
 * done with a user's credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/userfs.h"

struct fx {
	char dir[64];
	int fd;
};

/* cmd runs with $D set to the scratch directory */
static void sh(const char *cmd, const char *dir)
{
	setenv("D", dir, 1);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rs-ufs.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* home/ (the user's tree) and outside/ (what an attack aims at) */
	sh("mkdir -p $D/home/a/b $D/outside/keep && echo x > $D/outside/keep/file && "
	   "ln -s ../../outside $D/home/a/link && ln -s /etc $D/home/abs && echo y > $D/home/a/b/f",
	   f->dir);
	char p[128];
	snprintf(p, sizeof(p), "%s/home", f->dir);
	f->fd = open(p, O_RDONLY | O_DIRECTORY);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->fd);
	setenv("D", f->dir, 1);
	if (system("chmod -R u+rwx \"$D\"; rm -rf \"$D\"") != 0)
		return -1;
	free(f);
	return 0;
}

static void beneath_refuses_links_and_escapes(void **state)
{
	struct fx *f = *state;
	int fd = rs_beneath_open(f->fd, "a/b/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rs_beneath_open(f->fd, "a/link/keep/file", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_open(f->fd, "a/link", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_open(f->fd, "abs/passwd", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_open(f->fd, "a/../../outside/keep/file", O_RDONLY, 0), -EXDEV);
	assert_int_equal(rs_beneath_open(f->fd, "/etc/passwd", O_RDONLY, 0), -EXDEV);
	assert_int_equal(rs_beneath_open(f->fd, "a/missing", O_RDONLY, 0), -ENOENT);
}

static void walk_matches_openat2(void **state)
{
	struct fx *f = *state;
	int fd = rs_beneath_walk(f->fd, "a/./b/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rs_beneath_walk(f->fd, "a/link/keep/file", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_walk(f->fd, "a/link", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_walk(f->fd, "abs/passwd", O_RDONLY, 0), -ELOOP);
	assert_int_equal(rs_beneath_walk(f->fd, "a/../../outside/keep/file", O_RDONLY, 0), -EXDEV);
	assert_int_equal(rs_beneath_walk(f->fd, "a/missing/x", O_RDONLY, 0), -ENOENT);
}

static void parent_gives_dir_and_name(void **state)
{
	struct fx *f = *state;
	char *name = NULL;
	int fd = rs_beneath_parent(f->fd, "a/b/f", &name);
	assert_true(fd >= 0);
	assert_string_equal(name, "f");
	struct stat st;
	assert_int_equal(fstatat(fd, name, &st, 0), 0);
	close(fd);
	free(name);
	name = NULL;
	assert_int_equal(rs_beneath_parent(f->fd, "a/link/keep", &name), -ELOOP);
	assert_null(name);
	assert_int_equal(rs_beneath_parent(f->fd, "a/..", &name), -EINVAL);
}

static void remove_keeps_what_links_point_at(void **state)
{
	struct fx *f = *state;
	char *where = NULL;
	sh("mkdir -p $D/home/a/ro/deep && echo z > $D/home/a/ro/deep/g && chmod 0555 "
	   "$D/home/a/ro/deep "
	   "$D/home/a/ro",
	   f->dir);
	assert_int_equal(rs_remove_beneath(f->fd, "a", 64, &where), 0);
	assert_null(where);
	struct stat st;
	assert_int_equal(fstatat(f->fd, "a", &st, AT_SYMLINK_NOFOLLOW), -1);
	char p[128];
	snprintf(p, sizeof(p), "%s/outside/keep/file", f->dir);
	assert_int_equal(stat(p, &st), 0);
	/* a symlink itself is removed, never followed */
	assert_int_equal(rs_remove_beneath(f->fd, "abs", 64, NULL), 0);
	assert_int_equal(stat("/etc/passwd", &st), 0);
	/* absent is done; names with a slash are refused */
	assert_int_equal(rs_remove_beneath(f->fd, "nothing", 64, NULL), 0);
	assert_int_equal(rs_remove_beneath(f->fd, "x/y", 64, NULL), -EINVAL);
	assert_int_equal(rs_remove_beneath(f->fd, "..", 64, NULL), -EINVAL);
}

static void remove_depth_is_bounded(void **state)
{
	struct fx *f = *state;
	char *where = NULL;
	sh("mkdir -p $D/home/d/1/2/3", f->dir);
	assert_int_equal(rs_remove_beneath(f->fd, "d", 2, &where), -ELOOP);
	assert_non_null(where);
	assert_string_equal(where, "d/1/2");
	free(where);
}

static void symlink_is_named(void **state)
{
	struct fx *f = *state;
	char *link = NULL;
	assert_int_equal(rs_beneath_symlink(f->fd, "a/link/keep/file", &link), 1);
	assert_string_equal(link, "a/link");
	free(link);
	assert_int_equal(rs_beneath_symlink(f->fd, "abs", &link), 1);
	assert_string_equal(link, "abs");
	free(link);
	assert_int_equal(rs_beneath_symlink(f->fd, "a/b/f", &link), 0);
	assert_null(link);
	assert_int_equal(rs_beneath_symlink(f->fd, "a/missing/x", &link), -ENOENT);
	assert_int_equal(rs_beneath_symlink(f->fd, "a/../a", &link), -EXDEV);
}

static void tree_locate_is_lexical(void **state)
{
	(void)state;
	static const char *const firsts[] = {".config", ".local", NULL};
	struct rs_user_tree t = {.n = 2};
	t.base[0] = (struct rs_user_base){.path = "/home/al", .firsts = firsts};
	t.base[1] = (struct rs_user_base){.path = "/run/user/1000/"};
	size_t b = 9;
	const char *rel = NULL;
	assert_int_equal(rs_user_tree_locate(&t, "/home/al/.config/x/y", &b, &rel), 0);
	assert_int_equal(b, 0);
	assert_string_equal(rel, ".config/x/y");
	assert_int_equal(rs_user_tree_locate(&t, "/run/user/1000/podman/x", &b, &rel), 0);
	assert_int_equal(b, 1);
	assert_string_equal(rel, "podman/x");
	/* outside, a neighbour sharing the prefix, the home itself or its
	 * other entries, and any "..", "." or empty component */
	const char *bad[] = {"/etc/pam.d/su",
			     "/home/alice/.config/x",
			     "/home/al",
			     "/home/al/",
			     "/home/al/.bashrc",
			     "/home/al/.configx/y",
			     "/home/al/.config/../../../etc",
			     "/home/al/.config/./x",
			     "/home/al//.config/x",
			     "/home/al/.config/x/",
			     "home/al/.config/x",
			     "/run/user/1000",
			     "/run/user/10000/x",
			     NULL};
	for (const char **p = bad; *p; p++)
		assert_int_equal(rs_user_tree_locate(&t, *p, &b, &rel), -EXDEV);
	assert_int_equal(rs_user_tree_locate(&t, NULL, &b, &rel), -EXDEV);
	/* a home of "/" */
	t.base[0].path = "/";
	assert_int_equal(rs_user_tree_locate(&t, "/.local/share/x", &b, &rel), 0);
	assert_string_equal(rel, ".local/share/x");
	assert_int_equal(rs_user_tree_locate(&t, "/etc/x", &b, &rel), -EXDEV);
}

static int give_data(void *arg, char **data, size_t *len, char *msg, size_t mlen)
{
	size_t n = *(size_t *)arg;
	*data = malloc(n);
	memset(*data, 'x', n);
	*len = n;
	snprintf(msg, mlen, "gave %zu", n);
	return 7;
}

static void as_user_hands_data_back(void **state)
{
	(void)state;
	gid_t g = 65534;
	struct rs_user nobody = {.name = "nobody",
				 .uid = 65534,
				 .gid = 65534,
				 .groups = &g,
				 .ngroups = 1};
	char msg[64], *data = NULL;
	size_t len = 0, n = 200000; /* more than a pipe holds */
	assert_int_equal(rs_as_user_data(&nobody, give_data, &n, 1u << 20, &data, &len, msg,
					 sizeof(msg), 5000),
			 7);
	assert_int_equal(len, n);
	assert_int_equal(strspn(data, "x"), n);
	assert_string_equal(msg, "gave 200000");
	free(data);
	/* past max: nothing handed back */
	assert_int_equal(rs_as_user_data(&nobody, give_data, &n, 1000, &data, &len, msg,
					 sizeof(msg), 5000),
			 7);
	assert_int_equal(len, 0);
	free(data);
}

static int report_euid(void *arg, char *msg, size_t len)
{
	(void)arg;
	snprintf(msg, len, "euid %u", (unsigned)geteuid());
	return (int)geteuid();
}

static int sleep_long(void *arg, char *msg, size_t len)
{
	(void)arg;
	(void)msg;
	(void)len;
	sleep(30);
	return 0;
}

static void as_user_drops_and_is_bounded(void **state)
{
	(void)state;
	gid_t g = 65534;
	struct rs_user nobody = {.name = "nobody",
				 .uid = 65534,
				 .gid = 65534,
				 .groups = &g,
				 .ngroups = 1};
	char msg[128];
	int r = rs_as_user(&nobody, report_euid, NULL, msg, sizeof(msg), 5000);
	if (geteuid() == 0) {
		assert_int_equal(r, 65534);
		assert_string_equal(msg, "euid 65534");
	} else {
		assert_int_equal(r, (int)geteuid());
	}
	assert_int_equal(rs_as_user(&nobody, sleep_long, NULL, msg, sizeof(msg), 200), -ETIMEDOUT);
	assert_non_null(strstr(msg, "did not finish"));
}

/* rs_guarded_open: root's symlinks in root-only directories are followed,
 * nothing below a directory others can change (the scratch dir is made
 * 0777, so whoever runs the test, it is such a directory) */
static void guarded_open_trusts_only_root(void **state)
{
	struct fx *f = *state;
	struct rs_guarded g;
	struct rs_error *err = NULL;
	char p[256];

	sh("chmod 0777 $D && mkdir -p $D/real && echo z > $D/real/file && ln -s real $D/link && "
	   "ln -s /etc/passwd $D/real/pw && mkfifo $D/real/fifo",
	   f->dir);
	snprintf(p, sizeof(p), "%s/real/file", f->dir);
	int fd = rs_guarded_open(p, O_RDONLY, &g, &err);
	assert_true(fd >= 0);
	assert_true(g.shaped && S_ISREG(g.st.st_mode));
	assert_int_equal(g.shaper, geteuid() ? geteuid() : (uid_t)-1);
	close(fd);
	snprintf(p, sizeof(p), "%s/link/file", f->dir);
	assert_int_equal(rs_guarded_open(p, O_RDONLY, &g, &err), -ELOOP);
	assert_non_null(strstr(err->msg, "/link' is a symlink"));
	rs_error_freep(&err);
	snprintf(p, sizeof(p), "%s/real/pw", f->dir);
	assert_int_equal(rs_guarded_open(p, O_RDONLY, &g, &err), -ELOOP);
	rs_error_freep(&err);
	snprintf(p, sizeof(p), "%s/real/../real/file", f->dir);
	assert_int_equal(rs_guarded_open(p, O_RDONLY, &g, &err), -EXDEV);
	rs_error_freep(&err);
	/* a FIFO opened non-blocking: no wait for a writer */
	snprintf(p, sizeof(p), "%s/real/fifo", f->dir);
	fd = rs_guarded_open(p, O_RDONLY | O_NONBLOCK, &g, &err);
	assert_true(fd >= 0 && S_ISFIFO(g.st.st_mode));
	close(fd);
	/* root's own: /proc/self (procfs's root) is followed, a magic link
	 * of /proc/PID/fd never */
	fd = rs_guarded_open("/proc/self/status", O_RDONLY, &g, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rs_guarded_open("/proc/self/fd/0", O_RDONLY, &g, &err), -ELOOP);
	rs_error_freep(&err);
	struct stat st;
	if (lstat("/var/run", &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid == 0) {
		fd = rs_guarded_open("/var/run", O_PATH | O_DIRECTORY, &g, &err);
		assert_true(fd >= 0 && !g.shaped);
		close(fd);
	}
	fd = rs_guarded_open("/", O_PATH | O_DIRECTORY, &g, &err);
	assert_true(fd >= 0 && S_ISDIR(g.st.st_mode));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(beneath_refuses_links_and_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(walk_matches_openat2, setup, teardown),
		cmocka_unit_test_setup_teardown(parent_gives_dir_and_name, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_keeps_what_links_point_at, setup, teardown),
		cmocka_unit_test_setup_teardown(remove_depth_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(guarded_open_trusts_only_root, setup, teardown),
		cmocka_unit_test(tree_locate_is_lexical),
		cmocka_unit_test(as_user_hands_data_back),
		cmocka_unit_test(as_user_drops_and_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
