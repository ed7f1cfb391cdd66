/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/host/user.c and src/host/access.c on a passwd/group fixture tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/access.h"
#include "host/host.h"
#include "host/user.h"

struct fx {
	char root[64];
	struct rs_host *h;
	struct rs_user root_u, alice, bob, carol;
};

static const char *at(struct fx *f, const char *rel)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", f->root, rel);
	return p[k];
}

static void put(struct fx *f, const char *rel, const char *text)
{
	FILE *fp = fopen(at(f, rel), "w");
	if (!fp)
		fail_msg("cannot create %s: %s", at(f, rel), strerror(errno));
	fputs(text, fp);
	fclose(fp);
	/* a handle reads the host's files once: this one changed them */
	if (f->h)
		rs_host_forget(f->h);
}

/* Owners need root: without it, the tests that depend on them are skipped. */
static bool is_root;
#define NEED_ROOT()             \
	do {                    \
		if (!is_root)   \
			skip(); \
	} while (0)

/* A file or directory with owner and mode (chmod after chown: chown clears setuid). */
static void own(struct fx *f, const char *rel, uid_t u, gid_t g, mode_t m)
{
	if ((is_root && chown(at(f, rel), u, g) < 0) || chmod(at(f, rel), m) < 0)
		fail_msg("chown/chmod %s: %s", rel, strerror(errno));
}

static void file(struct fx *f, const char *rel, uid_t u, gid_t g, mode_t m)
{
	put(f, rel, "x\n");
	own(f, rel, u, g, m);
}

static void dir(struct fx *f, const char *rel, uid_t u, gid_t g, mode_t m)
{
	if (mkdir(at(f, rel), 0700) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", rel, strerror(errno));
	own(f, rel, u, g, m);
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
	snprintf(f->root, sizeof(f->root), "/tmp/rs-user.XXXXXX");
	if (!mkdtemp(f->root) || chmod(f->root, 0755) < 0)
		return -1;
	*state = f;
	dir(f, "etc", 0, 0, 0755);
	dir(f, "home", 0, 0, 0755);
	dir(f, "home/alice", 1000, 1000, 0700);
	dir(f, "srv", 0, 0, 0755);
	put(f, "etc/passwd",
	    "root:x:0:0:root:/root:/bin/bash\n"
	    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
	    "bob:x:1001:1001::/home/bob:/bin/sh\n"
	    "carol:x:1002:100::/home/carol:/bin/sh\n"
	    "nohome:x:1003:1003:::/bin/sh\n");
	put(f, "etc/group",
	    "root:x:0:\nusers:x:100:\nalice:x:1000:alice\nbob:x:1001:\n"
	    "kvm:x:36:alice,bob\nstaff:x:50:bob\ndev:x:60:carol,alice\n");
	if (rs_host_open(f->root, &f->h, NULL) < 0 ||
	    rs_user_resolve(f->h, "root", &f->root_u, NULL) < 0 ||
	    rs_user_resolve(f->h, "alice", &f->alice, NULL) < 0 ||
	    rs_user_resolve(f->h, "bob", &f->bob, NULL) < 0 ||
	    rs_user_resolve(f->h, "carol", &f->carol, NULL) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_user_clear(&f->root_u);
	rs_user_clear(&f->alice);
	rs_user_clear(&f->bob);
	rs_user_clear(&f->carol);
	rs_host_free(f->h);
	int r = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* ---- users and groups ---- */

static void test_user_resolve_by_name_fills_entry(void **state)
{
	struct fx *f = *state;
	assert_string_equal(f->alice.name, "alice");
	assert_int_equal(f->alice.uid, 1000);
	assert_int_equal(f->alice.gid, 1000);
	assert_string_equal(f->alice.home, "/home/alice");
}

static void test_user_resolve_by_uid_finds_name(void **state)
{
	struct fx *f = *state;
	struct rs_user u;
	assert_int_equal(rs_user_resolve(f->h, "1001", &u, NULL), 0);
	assert_string_equal(u.name, "bob");
	assert_int_equal(u.uid, 1001);
	rs_user_clear(&u);
	assert_null(u.name);
	assert_int_equal(rs_user_resolve(f->h, "0", &u, NULL), 0);
	assert_string_equal(u.name, "root");
	rs_user_clear(&u);
}

static void test_user_resolve_unknown_enoent(void **state)
{
	struct fx *f = *state;
	struct rs_user u;
	struct rs_error *e = NULL;
	assert_int_equal(rs_user_resolve(f->h, "dave", &u, &e), -ENOENT);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "dave"));
	rs_error_free(e);
	assert_int_equal(rs_user_resolve(f->h, "4242", &u, NULL), -ENOENT);
	/* 32 characters is a valid name, just not present */
	assert_int_equal(rs_user_resolve(f->h, "abcdefghijklmnopqrstuvwxyz012345", &u, NULL),
			 -ENOENT);
}

static void test_user_resolve_invalid_name_einval(void **state)
{
	struct fx *f = *state;
	struct rs_user u;
	static const char *const bad[] = {"a:b",
					  "alice:x:1000",
					  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
					  "",
					  "a\nb",
					  "../etc",
					  NULL};
	for (const char *const *b = bad; *b; b++) {
		struct rs_error *e = NULL;
		if (rs_user_resolve(f->h, *b, &u, &e) != -EINVAL)
			fail_msg("'%s' not refused with -EINVAL", *b);
		assert_non_null(e);
		rs_error_free(e);
	}
}

static void test_user_resolve_empty_home_becomes_slash(void **state)
{
	struct fx *f = *state;
	struct rs_user u;
	assert_int_equal(rs_user_resolve(f->h, "nohome", &u, NULL), 0);
	assert_string_equal(u.home, "/");
	rs_user_clear(&u);
}

static void test_user_resolve_without_passwd_fails(void **state)
{
	struct fx *f = *state;
	struct rs_user u;
	unlink(at(f, "etc/passwd"));
	rs_host_forget(f->h);
	assert_true(rs_user_resolve(f->h, "alice", &u, NULL) < 0);
}

static void test_user_groups_primary_first_then_members(void **state)
{
	struct fx *f = *state;
	assert_true(f->alice.ngroups >= 1);
	assert_int_equal(f->alice.groups[0], 1000);
	assert_true(rs_user_in_group(&f->alice, 1000));
	assert_true(rs_user_in_group(&f->alice, 36));
	assert_true(rs_user_in_group(&f->alice, 60));
	assert_false(rs_user_in_group(&f->alice, 50));
	assert_false(rs_user_in_group(&f->alice, 0));
	/* alice is also listed in her own primary group: counted once */
	assert_int_equal(f->alice.ngroups, 3);
	assert_true(rs_user_in_group(&f->bob, 50));
	assert_true(rs_user_in_group(&f->bob, 36));
	assert_false(rs_user_in_group(&f->bob, 60));
	assert_int_equal(f->carol.groups[0], 100);
	assert_true(rs_user_in_group(&f->carol, 60));
}

/* etc/group with a 27 kB line (3000 members) before kvm */
static void write_huge_group(struct fx *f)
{
	FILE *fp = fopen(at(f, "etc/group"), "w");
	assert_non_null(fp);
	fputs("root:x:0:\nbig:x:70:", fp);
	for (int i = 0; i < 3000; i++)
		fprintf(fp, "%su%07d", i ? "," : "", i);
	fputs("\nkvm:x:36:alice\n", fp);
	fclose(fp);
	rs_host_forget(f->h);
}

/* a group line longer than a fixed buffer must not hide the groups after it */
static void test_user_groups_after_huge_group_line_found(void **state)
{
	struct fx *f = *state;
	write_huge_group(f);
	struct rs_user u;
	assert_int_equal(rs_user_resolve(f->h, "alice", &u, NULL), 0);
	bool in = rs_user_in_group(&u, 36);
	rs_user_clear(&u);
	assert_true(in);
}

static void test_group_gid_after_huge_group_line_found(void **state)
{
	struct fx *f = *state;
	write_huge_group(f);
	gid_t g = 0;
	assert_int_equal(rs_group_gid(f->h, "kvm", &g), 0);
	assert_int_equal(g, 36);
	char *n = rs_group_name_of(f->h, 36);
	assert_non_null(n);
	free(n);
}

static void test_user_resolve_after_long_passwd_line_found(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(at(f, "etc/passwd"), "w");
	assert_non_null(fp);
	fputs("root:x:0:0::/root:/bin/sh\nsvc:x:999:999:", fp);
	for (int i = 0; i < 5000; i++)
		fputc('g', fp);
	fputs(":/:/bin/false\nalice:x:1000:1000::/home/alice:/bin/sh\n", fp);
	fclose(fp);
	rs_host_forget(f->h);
	struct rs_user u;
	assert_int_equal(rs_user_resolve(f->h, "alice", &u, NULL), 0);
	assert_int_equal(u.uid, 1000);
	rs_user_clear(&u);
}

static void test_user_malformed_passwd_line_skipped(void **state)
{
	struct fx *f = *state;
	put(f, "etc/passwd",
	    "garbage\nroot:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
	struct rs_user u;
	assert_int_equal(rs_user_resolve(f->h, "alice", &u, NULL), 0);
	assert_int_equal(u.uid, 1000);
	rs_user_clear(&u);
}

static void test_group_gid_known_name_found_unknown_enoent(void **state)
{
	struct fx *f = *state;
	gid_t g = 7;
	assert_int_equal(rs_group_gid(f->h, "kvm", &g), 0);
	assert_int_equal(g, 36);
	assert_int_equal(rs_group_gid(f->h, "nope", &g), -ENOENT);
	assert_int_equal(rs_group_gid(f->h, "kv", &g), -ENOENT);
}

static void test_user_name_of_known_id_named_unknown_null(void **state)
{
	struct fx *f = *state;
	char *n = rs_user_name_of(f->h, 1001);
	assert_string_equal(n, "bob");
	free(n);
	assert_null(rs_user_name_of(f->h, 4242));
	n = rs_group_name_of(f->h, 36);
	assert_string_equal(n, "kvm");
	free(n);
	assert_null(rs_group_name_of(f->h, 4242));
	uint32_t *uids = NULL;
	assert_int_equal(rs_passwd_uids(f->h, &uids), 5);
	assert_int_equal(uids[0], 0);
	assert_int_equal(uids[4], 1003);
	free(uids);
}

static void test_nss_subid_source_files_null_sss_named(void **state)
{
	struct fx *f = *state;
	assert_null(rs_nss_subid_source(f->h));
	put(f, "etc/nsswitch.conf", "passwd: files\nsubid: files\n");
	assert_null(rs_nss_subid_source(f->h));
	put(f, "etc/nsswitch.conf", "passwd: files sss\n  subid:   sss  # freeipa\n");
	char *s = rs_nss_subid_source(f->h);
	assert_non_null(s);
	assert_string_equal(s, "sss");
	free(s);
}

/* ---- access ---- */

static void test_access_owner_bits_apply_to_owner(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/own", 1000, 1000, 0600);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/own", R_OK | W_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/own", X_OK), 0);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/own", R_OK), 0);
	/* the owner class is decided first: other bits do not help the owner */
	file(f, "srv/own2", 1000, 1000, 0077);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/own2", R_OK), 0);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/own2", R_OK), 1);
}

static void test_access_group_bits_apply_to_members(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/kvm", 0, 36, 0660);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/kvm", R_OK | W_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/kvm", R_OK | W_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/kvm", R_OK), 0);
	/* a member gets the group bits even when other has more */
	file(f, "srv/kvm2", 0, 36, 0604);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/kvm2", R_OK), 0);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/kvm2", R_OK), 1);
	/* primary group counts as membership */
	file(f, "srv/users", 0, 100, 0640);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/users", R_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/users", W_OK), 0);
}

static void test_access_other_bits_apply_to_others(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/oth", 0, 0, 0604);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/oth", R_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/oth", W_OK), 0);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/oth", R_OK | W_OK), 0);
	file(f, "srv/x", 0, 0, 0755);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/x", X_OK), 1);
}

static void test_access_parent_without_search_bit_denies(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "home/alice/pub", 1000, 1000, 0644);
	assert_int_equal(rs_access_user(f->h, &f->alice, "home/alice/pub", R_OK), 1);
	/* the file's bits allow bob, /home/alice (0700) does not */
	assert_int_equal(rs_access_user(f->h, &f->bob, "home/alice/pub", R_OK), 0);
	/* readable but not searchable directory two levels up */
	dir(f, "srv/r", 0, 0, 0744);
	dir(f, "srv/r/d", 0, 0, 0755);
	file(f, "srv/r/d/f", 0, 0, 0644);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/r/d/f", R_OK), 0);
	own(f, "srv/r", 0, 0, 0711);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/r/d/f", R_OK), 1);
}

static void test_access_root_always_reads_and_writes(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/none", 1000, 1000, 0000);
	assert_int_equal(rs_access_user(f->h, &f->root_u, "srv/none", R_OK | W_OK), 1);
	file(f, "home/alice/secret", 1000, 1000, 0600);
	assert_int_equal(rs_access_user(f->h, &f->root_u, "home/alice/secret", R_OK), 1);
	/* execute still needs one x bit on a file */
	assert_int_equal(rs_access_user(f->h, &f->root_u, "srv/none", X_OK), 0);
	file(f, "srv/ux", 1000, 1000, 0100);
	assert_int_equal(rs_access_user(f->h, &f->root_u, "srv/ux", X_OK), 1);
}

static void test_access_missing_file_negative_errno(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/missing", R_OK), -ENOENT);
	assert_int_equal(rs_access_user(f->h, &f->alice, "nodir/missing", R_OK), -ENOENT);
}

static void test_access_symlink_judged_by_target(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/t", 0, 36, 0660);
	assert_int_equal(symlink("/srv/t", at(f, "srv/l")), 0);
	assert_int_equal(rs_access_user(f->h, &f->alice, "srv/l", W_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/l", R_OK), 0);
}

static bool set_acl(struct fx *f, const char *rel, const char *text)
{
	acl_t a = acl_from_text(text);
	if (!a)
		return false;
	int r = acl_set_file(at(f, rel), ACL_TYPE_ACCESS, a);
	acl_free(a);
	return r == 0;
}

static void test_access_acl_named_user_entry_grants(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/acl", 0, 0, 0600);
	if (!set_acl(f, "srv/acl", "u::rw-,u:1001:rw-,g::---,m::rw-,o::---"))
		skip(); /* filesystem without POSIX ACLs */
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/acl", R_OK | W_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/acl", R_OK), 0);
}

static void test_access_acl_mask_limits_named_entries(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	file(f, "srv/acl", 0, 0, 0600);
	if (!set_acl(f, "srv/acl", "u::rw-,u:1001:rw-,g::---,g:60:rw-,m::r--,o::---"))
		skip();
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/acl", R_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->bob, "srv/acl", W_OK), 0);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/acl", R_OK), 1);
	assert_int_equal(rs_access_user(f->h, &f->carol, "srv/acl", W_OK), 0);
}

static void test_access_describe_mode_and_names(void **state)
{
	struct fx *f = *state;
	NEED_ROOT();
	struct stat st;
	file(f, "srv/d", 0, 36, 0640);
	assert_int_equal(rs_host_stat(f->h, "srv/d", &st, true), 0);
	char *s = rs_access_describe(f->h, &st);
	assert_string_equal(s, "-rw-r----- root:kvm");
	free(s);
	file(f, "srv/suid", 4242, 4343, 04755);
	assert_int_equal(rs_host_stat(f->h, "srv/suid", &st, true), 0);
	s = rs_access_describe(f->h, &st);
	assert_string_equal(s, "-rwsr-xr-x 4242:4343");
	free(s);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	is_root = geteuid() == 0;
	const struct CMUnitTest tests[] = {
		T(test_user_resolve_by_name_fills_entry),
		T(test_user_resolve_by_uid_finds_name),
		T(test_user_resolve_unknown_enoent),
		T(test_user_resolve_invalid_name_einval),
		T(test_user_resolve_empty_home_becomes_slash),
		T(test_user_resolve_without_passwd_fails),
		T(test_user_groups_primary_first_then_members),
		T(test_user_groups_after_huge_group_line_found),
		T(test_group_gid_after_huge_group_line_found),
		T(test_user_resolve_after_long_passwd_line_found),
		T(test_user_malformed_passwd_line_skipped),
		T(test_group_gid_known_name_found_unknown_enoent),
		T(test_user_name_of_known_id_named_unknown_null),
		T(test_nss_subid_source_files_null_sss_named),
		T(test_access_owner_bits_apply_to_owner),
		T(test_access_group_bits_apply_to_members),
		T(test_access_other_bits_apply_to_others),
		T(test_access_parent_without_search_bit_denies),
		T(test_access_root_always_reads_and_writes),
		T(test_access_missing_file_negative_errno),
		T(test_access_symlink_judged_by_target),
		T(test_access_acl_named_user_entry_grants),
		T(test_access_acl_mask_limits_named_entries),
		T(test_access_describe_mode_and_names),
	};
	return cmocka_run_group_tests_name("user", tests, NULL, NULL);
}
