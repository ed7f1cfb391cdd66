/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/core/find.c: where an engine's program is, as its user would run it;
 * the user's directories walked without a symlink, owner and mode checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/find.h"

struct fx {
	char dir[64];
	struct rs_host *h;
	struct rs_user u;
};

/* cmd runs with $D set to the tree */
static void sh(const struct fx *f, const char *cmd)
{
	setenv("D", f->dir, 1);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rs-find.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	setenv("D", f->dir, 1);
	if (system("mkdir -p $D/usr/bin $D/usr/local/bin $D/opt/kata/bin $D/home/alice/.local/bin "
		   "$D/home/alice/bin $D/elsewhere") != 0 ||
	    rs_host_open(f->dir, &f->h, NULL) < 0)
		return -1;
	f->u = (struct rs_user){.name = "alice",
				.uid = getuid(),
				.gid = getgid(),
				.home = "/home/alice"};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_host_free(f->h);
	setenv("D", f->dir, 1);
	if (system("rm -rf \"$D\"") != 0)
		return -1;
	free(f);
	return 0;
}

/* NAME found at WANT (NULL: not found), with on_unit_path UNIT */
static void expect(struct fx *f, const char *path_env, const char *opt, const char *name,
		   const char *want, bool unit)
{
	struct rs_found r;
	int found = rs_find_program(f->h, &f->u, path_env, opt, name, &r);
	if (!want) {
		assert_int_equal(found, 0);
		assert_null(r.path);
	} else {
		assert_int_equal(found, 1);
		assert_string_equal(r.path, want);
		assert_int_equal(r.on_unit_path, unit);
	}
	rs_found_clear(&r);
}

static void system_dirs_in_the_units_order(void **state)
{
	struct fx *f = *state;
	expect(f, NULL, NULL, "buildkitd", NULL, false);
	sh(f, "install -m 0755 /dev/null $D/usr/bin/buildkitd");
	expect(f, NULL, NULL, "buildkitd", "/usr/bin/buildkitd", true);
	/* /usr/local/bin comes first in the unit's PATH */
	sh(f, "install -m 0755 /dev/null $D/usr/local/bin/buildkitd");
	expect(f, NULL, NULL, "buildkitd", "/usr/local/bin/buildkitd", true);
	/* not executable, or a directory: not a program */
	sh(f, "install -m 0644 /dev/null $D/usr/bin/crun && mkdir $D/usr/bin/runc");
	expect(f, NULL, NULL, "crun", NULL, false);
	expect(f, NULL, NULL, "runc", NULL, false);
	/* names only: a path is never looked up */
	expect(f, NULL, NULL, "bin/buildkitd", NULL, false);
}

static void opt_dir_last(void **state)
{
	struct fx *f = *state;
	sh(f, "install -m 0755 /dev/null $D/opt/kata/bin/kata-runtime");
	expect(f, NULL, NULL, "kata-runtime", NULL, false);
	expect(f, NULL, "opt/kata/bin", "kata-runtime", "/opt/kata/bin/kata-runtime", false);
	sh(f, "install -m 0755 /dev/null $D/usr/bin/kata-runtime");
	expect(f, NULL, "opt/kata/bin", "kata-runtime", "/usr/bin/kata-runtime", true);
}

static void home_dirs_first(void **state)
{
	struct fx *f = *state;
	sh(f, "install -m 0755 /dev/null $D/usr/bin/buildkitd && "
	      "install -m 0755 /dev/null $D/home/alice/bin/buildkitd");
	expect(f, NULL, NULL, "buildkitd", "/home/alice/bin/buildkitd", false);
	sh(f, "install -m 0755 /dev/null $D/home/alice/.local/bin/buildkitd");
	expect(f, NULL, NULL, "buildkitd", "/home/alice/.local/bin/buildkitd", false);
	/* no user (root checking the host alone): the system's only */
	struct rs_found r;
	assert_int_equal(rs_find_program(f->h, NULL, NULL, NULL, "buildkitd", &r), 1);
	assert_string_equal(r.path, "/usr/bin/buildkitd");
	rs_found_clear(&r);
}

static void home_refuses_links_and_others_writes(void **state)
{
	struct fx *f = *state;
	struct rs_found r;
	sh(f, "install -m 0755 /dev/null $D/elsewhere/buildkitd && "
	      "ln -s ../../../elsewhere/buildkitd $D/home/alice/.local/bin/buildkitd");
	assert_int_equal(rs_find_program(f->h, &f->u, NULL, NULL, "buildkitd", &r), 0);
	assert_non_null(strstr(r.refused,
			       "/home/alice/.local/bin/buildkitd' is not used: a symbolic "
			       "link"));
	rs_found_clear(&r);
	/* a directory on the way that is a symlink: not searched at all */
	sh(f, "rm -rf $D/home/alice/bin && ln -s ../../elsewhere $D/home/alice/bin && "
	      "rm $D/home/alice/.local/bin/buildkitd");
	assert_int_equal(rs_find_program(f->h, &f->u, NULL, NULL, "buildkitd", &r), 0);
	assert_non_null(strstr(r.refused, "'/home/alice/bin' is not searched: a symbolic link"));
	rs_found_clear(&r);
	/* writable by others: passed over, and a later directory wins */
	sh(f, "install -m 0757 /dev/null $D/home/alice/.local/bin/buildkitd && "
	      "install -m 0755 /dev/null $D/usr/bin/buildkitd");
	assert_int_equal(rs_find_program(f->h, &f->u, NULL, NULL, "buildkitd", &r), 1);
	assert_string_equal(r.path, "/usr/bin/buildkitd");
	assert_non_null(strstr(r.refused, "writable by other users"));
	rs_found_clear(&r);
	sh(f,
	   "chmod 0755 $D/home/alice/.local/bin/buildkitd && chmod 0777 $D/home/alice/.local/bin");
	expect(f, NULL, NULL, "buildkitd", "/usr/bin/buildkitd", true);
	sh(f, "chmod 0755 $D/home/alice/.local/bin");
	expect(f, NULL, NULL, "buildkitd", "/home/alice/.local/bin/buildkitd", false);
	/* owned by another user: only root's tests can make one */
	if (getuid() == 0) {
		sh(f, "chown 12345 $D/home/alice/.local/bin/buildkitd");
		expect(f, NULL, NULL, "buildkitd", "/usr/bin/buildkitd", true);
	}
}

static void caller_path_first(void **state)
{
	struct fx *f = *state;
	sh(f, "mkdir -p $D/home/alice/go/bin $D/srv/bin && "
	      "install -m 0755 /dev/null $D/home/alice/go/bin/containerd && "
	      "install -m 0755 /dev/null $D/srv/bin/containerd && "
	      "install -m 0755 /dev/null $D/usr/bin/containerd");
	expect(f, NULL, NULL, "containerd", "/usr/bin/containerd", true);
	expect(f, "relative:/home/alice/go/bin:/usr/bin", NULL, "containerd",
	       "/home/alice/go/bin/containerd", false);
	expect(f, "/srv/bin:/usr/bin", NULL, "containerd", "/srv/bin/containerd", false);
	/* found through the caller's PATH in a system directory: the unit's
	 * PATH finds the same file by name */
	expect(f, "/usr/bin", NULL, "containerd", "/usr/bin/containerd", true);
	/* a PATH entry below the home is walked as the home's own are */
	sh(f, "rm -rf $D/home/alice/go && ln -s ../../srv $D/home/alice/go");
	expect(f, "/home/alice/go/bin", NULL, "containerd", "/usr/bin/containerd", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(system_dirs_in_the_units_order, setup, teardown),
		cmocka_unit_test_setup_teardown(opt_dir_last, setup, teardown),
		cmocka_unit_test_setup_teardown(home_dirs_first, setup, teardown),
		cmocka_unit_test_setup_teardown(home_refuses_links_and_others_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(caller_path_first, setup, teardown),
	};
	return cmocka_run_group_tests_name("find", tests, NULL, NULL);
}
