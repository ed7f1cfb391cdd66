/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/host/host.c: every read is relative to a root, never escapes it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>
#include "host/host.h"

struct fx {
	char root[64];
	struct rs_host *h;
};

static const char *at(struct fx *f, const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", f->root, rel);
	return p[k];
}

static void mkdirs(struct fx *f, const char *rel, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	for (char *s = p + strlen(f->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	chmod(p, mode);
}

static void put(struct fx *f, const char *rel, const char *text)
{
	FILE *fp = fopen(at(f, rel), "w");
	if (!fp)
		fail_msg("cannot create %s: %s", at(f, rel), strerror(errno));
	fputs(text, fp);
	fclose(fp);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/rs-host.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	mkdirs(f, "etc", 0755);
	mkdirs(f, "usr/lib", 0755);
	mkdirs(f, "home/alice", 0700);
	put(f, "etc/passwd", "root:x:0:0::/root:/bin/sh\nfixture:x:4242:4242::/:/bin/sh\n");
	put(f, "usr/lib/os-release", "ID=fixture\n");
	if (rs_host_open(f->root, &f->h, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_host_free(f->h);
	int r = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* Reads rel whole; returns the status and (on success) the text in *out. */
static int rd(struct fx *f, const char *rel, size_t max, char **out)
{
	size_t len = 12345;
	*out = NULL;
	struct rs_error *e = NULL;
	int r = rs_host_read(f->h, rel, max, out, &len, &e);
	if (r == 0) {
		assert_null(e);
		assert_int_equal(len, strlen(*out));
	} else {
		assert_null(*out);
		assert_non_null(e); /* every failure carries one line of context */
		assert_non_null(e->msg);
		assert_int_equal(e->code, -r);
		rs_error_free(e);
	}
	return r;
}

static void test_host_open_fixture_root_not_live(void **state)
{
	struct fx *f = *state;
	assert_false(f->h->live);
	assert_true(f->h->root[0] == '/');
	assert_non_null(strstr(f->h->root, "rs-host."));
	assert_true(f->h->root[strlen(f->h->root) - 1] != '/');
	struct rs_host *h = NULL;
	assert_int_equal(rs_host_open("/", &h, NULL), 0);
	assert_true(h->live);
	assert_string_equal(h->root, "");
	rs_host_free(h);
}

static void test_host_open_missing_root_enoent_with_error(void **state)
{
	struct fx *f = *state;
	struct rs_host *h = NULL;
	struct rs_error *e = NULL;
	assert_int_equal(rs_host_open(at(f, "nope"), &h, &e), -ENOENT);
	assert_null(h);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "nope"));
	rs_error_free(e);
	assert_int_equal(rs_host_open(at(f, "etc/passwd"), &h, NULL), -ENOTDIR);
}

static void test_host_read_regular_file_whole_nul_terminated(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(rd(f, "etc/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_string_equal(b, "root:x:0:0::/root:/bin/sh\nfixture:x:4242:4242::/:/bin/sh\n");
	free(b);
	/* leading slashes are ignored: paths are root-relative */
	assert_int_equal(rd(f, "///etc/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
	put(f, "etc/empty", "");
	assert_int_equal(rd(f, "etc/empty", RS_HOST_READ_MAX, &b), 0);
	assert_string_equal(b, "");
	free(b);
}

static void test_host_read_larger_than_first_chunk_complete(void **state)
{
	struct fx *f = *state;
	char *big = malloc(100001);
	for (int i = 0; i < 100000; i++)
		big[i] = (char)('a' + i % 26);
	big[100000] = '\0';
	put(f, "etc/big", big);
	char *b;
	assert_int_equal(rd(f, "etc/big", RS_HOST_READ_MAX, &b), 0);
	assert_int_equal(strlen(b), 100000);
	assert_memory_equal(b, big, 100000);
	free(b);
	free(big);
}

static void test_host_read_missing_enoent(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(rd(f, "etc/none", RS_HOST_READ_MAX, &b), -ENOENT);
	assert_int_equal(rd(f, "nodir/none", RS_HOST_READ_MAX, &b), -ENOENT);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char m[] = "rs_host_read blocked on a FIFO\n";
	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(3);
	_exit(2);
}

static void test_host_read_fifo_refused_without_blocking(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(mkfifo(at(f, "etc/fifo"), 0644), 0);
	signal(SIGALRM, on_alarm);
	alarm(3);
	int r = rd(f, "etc/fifo", RS_HOST_READ_MAX, &b);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(r, -EINVAL);
}

static void test_host_read_char_device_refused_einval(void **state)
{
	struct fx *f = *state;
	char *b;
	if (mknod(at(f, "etc/zero"), S_IFCHR | 0666, makedev(1, 5)) < 0)
		skip(); /* not root, or nodev */
	assert_int_equal(rd(f, "etc/zero", RS_HOST_READ_MAX, &b), -EINVAL);
}

/* host.h: "A FIFO, socket, device or directory is refused with -EINVAL / -EISDIR" */
static void test_host_read_socket_refused_einval(void **state)
{
	struct fx *f = *state;
	char *b;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", at(f, "etc/sock"));
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	int r = rd(f, "etc/sock", RS_HOST_READ_MAX, &b);
	close(s);
	assert_int_equal(r, -EINVAL);
}

static void test_host_read_directory_eisdir(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(rd(f, "etc", RS_HOST_READ_MAX, &b), -EISDIR);
	assert_int_equal(rd(f, "", RS_HOST_READ_MAX, &b), -EISDIR);
}

static void test_host_read_too_large_efbig(void **state)
{
	struct fx *f = *state;
	char *b;
	put(f, "etc/17", "0123456789abcdef\n");
	assert_int_equal(rd(f, "etc/17", 16, &b), -EFBIG);
	assert_int_equal(rd(f, "etc/17", 1, &b), -EFBIG);
	char *big = malloc(10001);
	memset(big, 'x', 10000);
	big[10000] = '\0';
	put(f, "etc/10000", big);
	free(big);
	assert_int_equal(rd(f, "etc/10000", 9999, &b), -EFBIG);
	assert_int_equal(rd(f, "etc/10000", 10001, &b), 0);
	free(b);
}

/* the message says "larger than MAX bytes": a file of exactly MAX is not */
static void test_host_read_exactly_max_bytes_accepted(void **state)
{
	struct fx *f = *state;
	char *b;
	put(f, "etc/16", "0123456789abcdef");
	assert_int_equal(rd(f, "etc/16", 16, &b), 0);
	assert_string_equal(b, "0123456789abcdef");
	free(b);
}

static void test_host_absolute_symlink_resolves_inside_root(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(symlink("/usr/lib/os-release", at(f, "etc/os-release")), 0);
	assert_int_equal(rd(f, "etc/os-release", RS_HOST_READ_MAX, &b), 0);
	assert_string_equal(b, "ID=fixture\n");
	free(b);
	/* a link to /etc/passwd is the tree's passwd, never the machine's */
	assert_int_equal(symlink("/etc/passwd", at(f, "usr/lib/pw")), 0);
	assert_int_equal(rd(f, "usr/lib/pw", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture:x:4242"));
	free(b);
}

static void test_host_absolute_symlink_never_reaches_real_etc(void **state)
{
	struct fx *f = *state;
	char *b;
	/* present on this machine, absent in the tree */
	assert_int_equal(access("/bin/sh", F_OK), 0);
	assert_int_equal(symlink("/bin/sh", at(f, "etc/escape")), 0);
	assert_int_equal(rd(f, "etc/escape", RS_HOST_READ_MAX, &b), -ENOENT);
	assert_false(rs_host_exists(f->h, "etc/escape/."));
	/* a directory link to /etc stays in the tree's etc */
	assert_int_equal(symlink("/etc", at(f, "usr/etc")), 0);
	assert_int_equal(rd(f, "usr/etc/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
	assert_int_equal(rd(f, "usr/etc/hostname", RS_HOST_READ_MAX, &b), -ENOENT);
}

static void test_host_dotdot_symlink_clamped_at_root(void **state)
{
	struct fx *f = *state;
	char *b;
	assert_int_equal(symlink("../../../../../../../../etc/passwd", at(f, "usr/lib/up")), 0);
	assert_int_equal(rd(f, "usr/lib/up", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
	assert_int_equal(rd(f, "../../../etc/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
}

static void test_host_stat_nofollow_sees_link(void **state)
{
	struct fx *f = *state;
	struct stat st;
	assert_int_equal(symlink("/usr/lib/os-release", at(f, "etc/l")), 0);
	assert_int_equal(rs_host_stat(f->h, "etc/l", &st, true), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(rs_host_stat(f->h, "etc/l", &st, false), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(rs_host_stat(f->h, "etc/nope", &st, false), -ENOENT);
	assert_true(rs_host_exists(f->h, "etc/l"));
	assert_false(rs_host_exists(f->h, "etc/nope"));
}

static void test_host_path_rel_joined_under_root(void **state)
{
	struct fx *f = *state;
	char *p = rs_host_path(f->h, "/etc/passwd");
	assert_string_equal(p, at(f, "etc/passwd"));
	free(p);
	assert_string_equal(rs_host_rel("///etc/x"), "etc/x");
	assert_string_equal(rs_host_rel("/"), ".");
	assert_string_equal(rs_host_rel("etc"), "etc");
}

static void canon_expect(struct fx *f, const char *rel, const char *want)
{
	char *c = NULL;
	int r = rs_host_canonical(f->h, rel, &c);
	if (r < 0)
		fail_msg("canonical('%s'): %s", rel, strerror(-r));
	if (strcmp(c, want) != 0) {
		char m[512];
		snprintf(m, sizeof(m), "canonical('%s') = '%s', want '%s'", rel, c, want);
		free(c);
		fail_msg("%s", m);
	}
	free(c);
}

static void test_host_canonical_existing_path(void **state)
{
	struct fx *f = *state;
	canon_expect(f, "etc/passwd", "/etc/passwd");
	canon_expect(f, "/etc/passwd", "/etc/passwd");
	canon_expect(f, "etc", "/etc");
	canon_expect(f, "", "/");
	canon_expect(f, "/", "/");
}

static void test_host_canonical_missing_tail_appended(void **state)
{
	struct fx *f = *state;
	canon_expect(f, "home/alice/.local/share/containerd",
		     "/home/alice/.local/share/containerd");
	canon_expect(f, "nope", "/nope");
	canon_expect(f, "nope/a/b", "/nope/a/b");
}

static void test_host_canonical_symlinked_ancestor_resolved_in_root(void **state)
{
	struct fx *f = *state;
	assert_int_equal(symlink("/home", at(f, "var")), 0);
	canon_expect(f, "var/alice/x/y", "/home/alice/x/y");
	canon_expect(f, "var", "/home");
	assert_int_equal(symlink("alice", at(f, "home/al")), 0);
	canon_expect(f, "home/al/.local", "/home/alice/.local");
	/* an absolute link to "/" is the root itself, not the machine's / */
	assert_int_equal(symlink("/", at(f, "usr/root")), 0);
	canon_expect(f, "usr/root/etc/passwd", "/etc/passwd");
}

static void test_host_listdir_sorted_without_dots(void **state)
{
	struct fx *f = *state;
	mkdirs(f, "d", 0755);
	static const char *const names[] = {"zeta", "alpha", "Beta",   "m.conf",
					    "10",   "9",     ".hidden"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "d/%s", names[i]);
		put(f, rel, "x");
	}
	mkdirs(f, "d/sub", 0755);
	struct rs_strv v = {0};
	assert_int_equal(rs_host_listdir(f->h, "d", &v, NULL), 0);
	static const char *const want[] = {".hidden", "10",	"9",   "Beta",
					   "alpha",   "m.conf", "sub", "zeta"};
	assert_int_equal(v.n, 8);
	for (size_t i = 0; i < 8; i++)
		assert_string_equal(v.v[i], want[i]);
	assert_null(v.v[8]);
	rs_strv_clear(&v);
}

static void test_host_listdir_empty_missing_and_file(void **state)
{
	struct fx *f = *state;
	struct rs_strv v = {0};
	mkdirs(f, "empty", 0755);
	assert_int_equal(rs_host_listdir(f->h, "empty", &v, NULL), 0);
	assert_int_equal(v.n, 0);
	struct rs_error *e = NULL;
	assert_int_equal(rs_host_listdir(f->h, "nope", &v, &e), -ENOENT);
	assert_non_null(e);
	rs_error_free(e);
	assert_int_equal(rs_host_listdir(f->h, "etc/passwd", &v, NULL), -ENOTDIR);
	assert_int_equal(v.n, 0);
	rs_strv_clear(&v);
}

static void test_host_openat_missing_enoent_with_error(void **state)
{
	struct fx *f = *state;
	struct rs_error *e = NULL;
	assert_int_equal(rs_host_openat(f->h, "etc/none", O_RDONLY, &e), -ENOENT);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "/etc/none"));
	rs_error_free(e);
	int fd = rs_host_openat(f->h, "etc/passwd", O_RDONLY, NULL);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* ---- the in-root walk that replaces openat2 where it is missing ---- */

static int setup_walk(void **state)
{
	rs_host_test_no_openat2 = true;
	return setup(state);
}

static int teardown_walk(void **state)
{
	rs_host_test_no_openat2 = false;
	return teardown(state);
}

static void test_walk_link_to_outside_dir_stays_inside(void **state)
{
	struct fx *f = *state;
	char outside[] = "/tmp/rs-outside.XXXXXX", p[256];
	char *b;
	assert_non_null(mkdtemp(outside));
	snprintf(p, sizeof(p), "%s/mountinfo", outside);
	FILE *fp = fopen(p, "w");
	fputs("DECOY\n", fp);
	fclose(fp);
	/* proc/self/mountinfo -> /tmp/rs-outside.X/mountinfo (absolute, out of the tree) */
	mkdirs(f, "proc/self", 0755);
	assert_int_equal(symlink(p, at(f, "proc/self/mountinfo")), 0);
	assert_int_equal(rd(f, "proc/self/mountinfo", RS_HOST_READ_MAX, &b), -ENOENT);
	/* the same path inside the tree is what it reads */
	mkdirs(f, outside + 1, 0755);
	put(f, p + 1, "INSIDE\n");
	assert_int_equal(rd(f, "proc/self/mountinfo", RS_HOST_READ_MAX, &b), 0);
	assert_string_equal(b, "INSIDE\n");
	free(b);
	/* a directory link to the outside dir, then a file below it */
	assert_int_equal(symlink(outside, at(f, "etc/out")), 0);
	assert_int_equal(rd(f, "etc/out/mountinfo", RS_HOST_READ_MAX, &b), 0);
	assert_string_equal(b, "INSIDE\n");
	free(b);
	unlink(p);
	rmdir(outside);
}

static void test_walk_dotdot_in_link_target_clamped(void **state)
{
	struct fx *f = *state;
	char *b;
	/* relative ".." chains inside a link in a subdirectory */
	mkdirs(f, "a/b", 0755);
	assert_int_equal(symlink("../../../../../../etc", at(f, "a/b/up")), 0);
	assert_int_equal(rd(f, "a/b/up/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
	assert_int_equal(rd(f, "a/b/../../../../etc/passwd", RS_HOST_READ_MAX, &b), 0);
	assert_non_null(strstr(b, "fixture"));
	free(b);
}

static void test_walk_link_loop_eloop_and_40_links_allowed(void **state)
{
	struct fx *f = *state;
	char n[64], t[64];
	char *b;
	assert_int_equal(symlink("/etc/loop2", at(f, "etc/loop1")), 0);
	assert_int_equal(symlink("loop1", at(f, "etc/loop2")), 0);
	assert_int_equal(rd(f, "etc/loop1", RS_HOST_READ_MAX, &b), -ELOOP);
	/* a chain of 40 resolves, 41 does not (the kernel's MAXSYMLINKS) */
	for (int i = 0; i <= 40; i++) {
		snprintf(n, sizeof(n), "etc/c%d", i);
		snprintf(t, sizeof(t), i == 0 ? "/etc/passwd" : "c%d", i - 1);
		assert_int_equal(symlink(t, at(f, n)), 0);
	}
	assert_int_equal(rd(f, "etc/c39", RS_HOST_READ_MAX, &b), 0);
	free(b);
	assert_int_equal(rd(f, "etc/c40", RS_HOST_READ_MAX, &b), -ELOOP);
}

static void test_walk_nofollow_and_notdir(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *b;
	assert_int_equal(symlink("/bin", at(f, "etc/bin")), 0);
	assert_int_equal(rs_host_stat(f->h, "etc/bin", &st, true), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(rs_host_stat(f->h, "etc/bin/sh", &st, false), -ENOENT);
	assert_int_equal(rd(f, "etc/passwd/x", RS_HOST_READ_MAX, &b), -ENOTDIR);
	int fd = rs_host_openat(f->h, ".", O_RDONLY | O_DIRECTORY, NULL);
	assert_true(fd >= 0);
	close(fd);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
/* the same test again on the fallback path (no openat2) */
#define W(t) cmocka_unit_test_setup_teardown(t, setup_walk, teardown_walk)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_open_fixture_root_not_live),
		T(test_host_open_missing_root_enoent_with_error),
		T(test_host_read_regular_file_whole_nul_terminated),
		T(test_host_read_larger_than_first_chunk_complete),
		T(test_host_read_missing_enoent),
		T(test_host_read_fifo_refused_without_blocking),
		T(test_host_read_char_device_refused_einval),
		T(test_host_read_socket_refused_einval),
		T(test_host_read_directory_eisdir),
		T(test_host_read_too_large_efbig),
		T(test_host_read_exactly_max_bytes_accepted),
		T(test_host_absolute_symlink_resolves_inside_root),
		T(test_host_absolute_symlink_never_reaches_real_etc),
		T(test_host_dotdot_symlink_clamped_at_root),
		T(test_host_stat_nofollow_sees_link),
		T(test_host_path_rel_joined_under_root),
		T(test_host_canonical_existing_path),
		T(test_host_canonical_missing_tail_appended),
		T(test_host_canonical_symlinked_ancestor_resolved_in_root),
		T(test_host_listdir_sorted_without_dots),
		T(test_host_listdir_empty_missing_and_file),
		T(test_host_openat_missing_enoent_with_error),
		W(test_host_read_regular_file_whole_nul_terminated),
		W(test_host_read_missing_enoent),
		W(test_host_read_fifo_refused_without_blocking),
		W(test_host_read_directory_eisdir),
		W(test_host_absolute_symlink_resolves_inside_root),
		W(test_host_absolute_symlink_never_reaches_real_etc),
		W(test_host_dotdot_symlink_clamped_at_root),
		W(test_host_stat_nofollow_sees_link),
		W(test_host_canonical_existing_path),
		W(test_host_canonical_missing_tail_appended),
		W(test_host_canonical_symlinked_ancestor_resolved_in_root),
		W(test_host_listdir_sorted_without_dots),
		W(test_host_listdir_empty_missing_and_file),
		W(test_host_openat_missing_enoent_with_error),
		T(test_walk_link_to_outside_dir_stays_inside),
		W(test_walk_link_to_outside_dir_stays_inside),
		W(test_walk_dotdot_in_link_target_clamped),
		W(test_walk_link_loop_eloop_and_40_links_allowed),
		W(test_walk_nofollow_and_notdir),
	};
	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
