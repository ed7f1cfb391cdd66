/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The safe-write module (src/host/safewrite.c) against a scratch root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/safewrite.h"

struct fx {
	char dir[64];
	struct rs_host *h;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rs-sw.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/etc", f->dir);
	mkdir(p, 0755);
	if (rs_host_open(f->dir, &f->h, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	rs_host_free(f->h);
	free(f);
	return 0;
}

static char *path(struct fx *f, const char *rel)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", f->dir, rel);
	return p;
}

static void put(struct fx *f, const char *rel, const char *text)
{
	FILE *fp = fopen(path(f, rel), "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *get(struct fx *f, const char *rel)
{
	static char buf[4096];
	FILE *fp = fopen(path(f, rel), "r");
	if (!fp)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

static int sw(struct fx *f, const char *rel, const char *text, bool dry)
{
	struct rs_write_opts o = {.mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1, .dry_run = dry};
	struct rs_error *err = NULL;
	int r = rs_safe_write(f->h, rel, text, strlen(text), &o, &err);
	rs_error_free(err);
	return r;
}

static int entries(struct fx *f, const char *rel)
{
	DIR *d = opendir(path(f, rel));
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	if (d)
		closedir(d);
	return n;
}

static void test_safewrite_new_file_mode_ignores_umask(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(0077);
	assert_int_equal(sw(f, "etc/a.conf", "x=1\n", false), 1);
	umask(old);
	struct stat st;
	assert_int_equal(stat(path(f, "etc/a.conf"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_string_equal(get(f, "etc/a.conf"), "x=1\n");
}

static void test_safewrite_identical_bytes_no_write(void **state)
{
	struct fx *f = *state;
	put(f, "etc/b.conf", "same\n");
	struct stat a, b;
	stat(path(f, "etc/b.conf"), &a);
	assert_int_equal(sw(f, "etc/b.conf", "same\n", false), 0);
	stat(path(f, "etc/b.conf"), &b);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
}

static void test_safewrite_change_keeps_mode_and_leaves_no_temp(void **state)
{
	struct fx *f = *state;
	put(f, "etc/c.conf", "old\n");
	chmod(path(f, "etc/c.conf"), 0640);
	assert_int_equal(sw(f, "etc/c.conf", "new\n", false), 1);
	struct stat st;
	stat(path(f, "etc/c.conf"), &st);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_string_equal(get(f, "etc/c.conf"), "new\n");
	assert_int_equal(entries(f, "etc"), 1);
}

static void test_safewrite_symlink_target_refused(void **state)
{
	struct fx *f = *state;
	put(f, "victim", "precious\n");
	char target[256];
	snprintf(target, sizeof(target), "%s", path(f, "victim"));
	assert_int_equal(symlink(target, path(f, "etc/d.conf")), 0);
	assert_true(sw(f, "etc/d.conf", "evil\n", false) < 0);
	assert_string_equal(get(f, "victim"), "precious\n");
}

static void test_safewrite_fifo_refused_without_blocking(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkfifo(path(f, "etc/e.conf"), 0644), 0);
	assert_int_equal(sw(f, "etc/e.conf", "x\n", false), -EINVAL);
}

static void test_safewrite_hard_link_refused(void **state)
{
	struct fx *f = *state;
	put(f, "shadow", "root:x\n");
	char target[256];
	snprintf(target, sizeof(target), "%s", path(f, "shadow"));
	assert_int_equal(link(target, path(f, "etc/f.conf")), 0);
	assert_int_equal(sw(f, "etc/f.conf", "x\n", false), -EMLINK);
	assert_string_equal(get(f, "shadow"), "root:x\n");
}

static void test_safewrite_directory_and_setuid_refused(void **state)
{
	struct fx *f = *state;
	mkdir(path(f, "etc/g.conf"), 0755);
	assert_int_equal(sw(f, "etc/g.conf", "x\n", false), -EINVAL);
	put(f, "etc/h", "x");
	chmod(path(f, "etc/h"), 04755);
	assert_int_equal(sw(f, "etc/h", "y", false), -EPERM);
}

static void test_safewrite_parent_symlink_out_of_root_refused(void **state)
{
	struct fx *f = *state;
	char out[64];
	snprintf(out, sizeof(out), "/tmp/rs-sw-out.XXXXXX");
	assert_non_null(mkdtemp(out));
	assert_int_equal(symlink(out, path(f, "etc/sysctl.d")), 0);
	assert_true(sw(f, "etc/sysctl.d/x.conf", "k=v\n", false) < 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/x.conf", out);
	assert_int_equal(access(p, F_OK), -1);
	rmdir(out);
}

static void test_safewrite_dry_run_changes_nothing(void **state)
{
	struct fx *f = *state;
	put(f, "etc/i.conf", "a\n");
	assert_int_equal(sw(f, "etc/i.conf", "b\n", true), 1);
	assert_string_equal(get(f, "etc/i.conf"), "a\n");
	assert_int_equal(sw(f, "etc/new.conf", "b\n", true), 1);
	assert_null(get(f, "etc/new.conf"));
	assert_int_equal(sw(f, "etc/i.conf", "a\n", true), 0);
}

static void test_safewrite_read_refuses_what_write_refuses(void **state)
{
	struct fx *f = *state;
	char *buf = NULL;
	size_t len;
	assert_int_equal(mkfifo(path(f, "etc/j"), 0644), 0);
	assert_true(rs_safe_read(f->h, "etc/j", 0, &buf, &len, NULL) < 0);
	assert_int_equal(rs_safe_read(f->h, "etc/absent", 0, &buf, &len, NULL), 0);
	assert_null(buf);
	put(f, "etc/k", "hello");
	assert_int_equal(rs_safe_read(f->h, "etc/k", 0, &buf, &len, NULL), 0);
	assert_int_equal(len, 5);
	free(buf);
}

/* the fd-relative entry (the launcher's state dir): same refusals, atomic */
static void test_safewrite_at_dirfd(void **state)
{
	struct fx *f = *state;
	struct rs_write_opts o = {.mode = 0444, .uid = (uid_t)-1, .gid = (gid_t)-1};
	int dfd = open(path(f, "etc"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(rs_safe_write_at(dfd, "child_pid", "x/child_pid", "42\n", 3, &o, NULL), 1);
	assert_string_equal(get(f, "etc/child_pid"), "42\n");
	assert_int_equal(rs_safe_write_at(dfd, "child_pid", "x/child_pid", "43\n", 3, &o, NULL), 1);
	assert_string_equal(get(f, "etc/child_pid"), "43\n");
	assert_int_equal(entries(f, "etc"), 1); /* no temporary file left */
	struct stat st;
	stat(path(f, "etc/child_pid"), &st);
	assert_int_equal(st.st_mode & 07777, 0444);
	put(f, "victim", "precious\n");
	char target[256];
	snprintf(target, sizeof(target), "%s", path(f, "victim"));
	assert_int_equal(symlink(target, path(f, "etc/child_start")), 0);
	assert_true(rs_safe_write_at(dfd, "child_start", "x/child_start", "1\n", 2, &o, NULL) < 0);
	assert_string_equal(get(f, "victim"), "precious\n");
	assert_int_equal(rs_safe_write_at(dfd, "../victim", "x", "1\n", 2, &o, NULL), -EINVAL);
	assert_int_equal(rs_safe_write_at(dfd, "..", "x", "1\n", 2, &o, NULL), -EINVAL);
	close(dfd);
}

/* fresh: a new inode with the given mode every time, nothing of the old
 * file kept (a report where a user made a 0666 file first); own_dir: a
 * directory others may write without the sticky bit is refused */
static void test_safewrite_fresh_and_own_dir(void **state)
{
	struct fx *f = *state;
	struct rs_write_opts o = {.mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1, .fresh = true};
	struct rs_error *err = NULL;
	struct stat a, b;

	put(f, "etc/r.json", "same\n");
	chmod(path(f, "etc/r.json"), 0666);
	stat(path(f, "etc/r.json"), &a);
	assert_int_equal(rs_safe_write(f->h, "etc/r.json", "same\n", 5, &o, &err), 1);
	stat(path(f, "etc/r.json"), &b);
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_int_equal(b.st_mode & 07777, 0644);
	assert_int_equal(b.st_uid, geteuid());
	o.own_dir = true;
	chmod(path(f, "etc"), 0777);
	assert_int_equal(rs_safe_write(f->h, "etc/r.json", "new\n", 4, &o, &err), -EPERM);
	assert_non_null(strstr(err->msg, "another user"));
	rs_error_free(err);
	err = NULL;
	assert_string_equal(get(f, "etc/r.json"), "same\n");
	chmod(path(f, "etc"), 01777);
	assert_int_equal(rs_safe_write(f->h, "etc/r.json", "new\n", 4, &o, &err), 1);
	assert_string_equal(get(f, "etc/r.json"), "new\n");
	chmod(path(f, "etc"), 0755);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_safewrite_new_file_mode_ignores_umask),
		T(test_safewrite_identical_bytes_no_write),
		T(test_safewrite_change_keeps_mode_and_leaves_no_temp),
		T(test_safewrite_symlink_target_refused),
		T(test_safewrite_fifo_refused_without_blocking),
		T(test_safewrite_hard_link_refused),
		T(test_safewrite_directory_and_setuid_refused),
		T(test_safewrite_parent_symlink_out_of_root_refused),
		T(test_safewrite_dry_run_changes_nothing),
		T(test_safewrite_read_refuses_what_write_refuses),
		T(test_safewrite_at_dirfd),
		T(test_safewrite_fresh_and_own_dir),
	};
	return cmocka_run_group_tests_name("safewrite", tests, NULL, NULL);
}
