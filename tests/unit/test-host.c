/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host layer: root-relative reads, users and groups, access, id maps. */
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
#include "host/access.h"
#include "host/host.h"
#include "host/idmap.h"
#include "host/user.h"

static char root[64];
static struct rs_host *h;

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *at(const char *rel)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return p;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/rs-host.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mkdir(at("etc"), 0755);
	mkdir(at("home"), 0755);
	mkdir(at("home/alice"), 0700);
	put("etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
			  "bob:x:1001:1001::/home/bob:/bin/sh\n");
	put("etc/group", "root:x:0:\nalice:x:1000:\nkvm:x:36:alice,bob\nstaff:x:50:bob\n");
	put("etc/subuid", "bob:100000:65536\nalice:300000:65536\n1000:200000:65536\n"
			  "alice:1000:1\nalice:365536:10\n");
	put("etc/subgid", "alice:300000:65536\n");
	chown(at("home/alice"), 1000, 1000);
	return rs_host_open(root, &h, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	rs_host_free(h);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_host_read_regular_and_refusals(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len;
	assert_int_equal(rs_host_read(h, "etc/group", 1 << 20, &buf, &len, NULL), 0);
	assert_non_null(strstr(buf, "kvm"));
	free(buf);
	assert_int_equal(rs_host_read(h, "etc/none", 1 << 20, &buf, &len, NULL), -ENOENT);
	assert_int_equal(rs_host_read(h, "etc", 1 << 20, &buf, &len, NULL), -EISDIR);
	assert_int_equal(mkfifo(at("etc/fifo"), 0644), 0);
	assert_int_equal(rs_host_read(h, "etc/fifo", 1 << 20, &buf, &len, NULL), -EINVAL);
	assert_int_equal(rs_host_read(h, "etc/passwd", 16, &buf, &len, NULL), -EFBIG);
}

static void test_host_absolute_symlink_stays_in_root(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len;
	/* /etc/os-release -> /usr/lib/os-release must mean the tree's, never the machine's */
	mkdir(at("usr"), 0755);
	mkdir(at("usr/lib"), 0755);
	put("usr/lib/os-release", "ID=fixture\n");
	assert_int_equal(symlink("/usr/lib/os-release", at("etc/os-release")), 0);
	assert_int_equal(rs_host_read(h, "etc/os-release", 1 << 20, &buf, &len, NULL), 0);
	assert_string_equal(buf, "ID=fixture\n");
	free(buf);
	assert_int_equal(symlink("/etc/hostname", at("etc/escape")), 0);
	assert_int_equal(rs_host_read(h, "etc/escape", 1 << 20, &buf, &len, NULL), -ENOENT);
}

static void test_host_canonical_and_listdir(void **state)
{
	(void)state;
	char *c = NULL;
	assert_int_equal(rs_host_canonical(h, "home/alice/.local/share/containerd", &c), 0);
	assert_string_equal(c, "/home/alice/.local/share/containerd");
	free(c);
	assert_int_equal(symlink("/home", at("var")), 0);
	assert_int_equal(rs_host_canonical(h, "var/alice/x", &c), 0);
	assert_string_equal(c, "/home/alice/x");
	free(c);
	struct rs_strv v = {0};
	assert_int_equal(rs_host_listdir(h, "etc", &v, NULL), 0);
	for (size_t i = 1; i < v.n; i++)
		assert_true(strcmp(v.v[i - 1], v.v[i]) < 0);
	rs_strv_free(&v);
}

static void test_user_resolve_by_name_uid_and_errors(void **state)
{
	(void)state;
	struct rs_user u;
	assert_int_equal(rs_user_resolve(h, "alice", &u, NULL), 0);
	assert_int_equal(u.uid, 1000);
	assert_string_equal(u.home, "/home/alice");
	assert_true(rs_user_in_group(&u, 36));
	assert_false(rs_user_in_group(&u, 50));
	rs_user_clear(&u);
	assert_int_equal(rs_user_resolve(h, "1001", &u, NULL), 0);
	assert_string_equal(u.name, "bob");
	assert_true(rs_user_in_group(&u, 50));
	rs_user_clear(&u);
	assert_int_equal(rs_user_resolve(h, "carol", &u, NULL), -ENOENT);
	assert_int_equal(rs_user_resolve(h, "a:b", &u, NULL), -EINVAL);
	assert_int_equal(rs_user_resolve(h, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &u, NULL), -EINVAL);
	gid_t g;
	assert_int_equal(rs_group_gid(h, "kvm", &g), 0);
	assert_int_equal(g, 36);
	assert_int_equal(rs_group_gid(h, "nope", &g), -ENOENT);
}

static void test_access_bits_groups_and_parents(void **state)
{
	(void)state;
	struct rs_user alice, bob, rootu;
	rs_user_resolve(h, "alice", &alice, NULL);
	rs_user_resolve(h, "bob", &bob, NULL);
	rs_user_resolve(h, "root", &rootu, NULL);
	put("etc/kvmfile", "x");
	chown(at("etc/kvmfile"), 0, 36);
	chmod(at("etc/kvmfile"), 0660);
	assert_int_equal(rs_access_user(h, &alice, "etc/kvmfile", R_OK | W_OK), 1);
	chmod(at("etc/kvmfile"), 0600);
	assert_int_equal(rs_access_user(h, &alice, "etc/kvmfile", R_OK), 0);
	assert_int_equal(rs_access_user(h, &rootu, "etc/kvmfile", R_OK | W_OK), 1);
	put("home/alice/f", "x");
	chown(at("home/alice/f"), 1000, 1000);
	chmod(at("home/alice/f"), 0644);
	assert_int_equal(rs_access_user(h, &alice, "home/alice/f", R_OK), 1);
	/* bob may read the file's bits, but /home/alice (0700) stops him */
	assert_int_equal(rs_access_user(h, &bob, "home/alice/f", R_OK), 0);
	assert_true(rs_access_user(h, &alice, "etc/missing", R_OK) < 0);
	rs_user_clear(&alice);
	rs_user_clear(&bob);
	rs_user_clear(&rootu);
}

static void test_idmap_sorted_merged_own_id_cut(void **state)
{
	(void)state;
	struct rs_user alice;
	struct rs_idmap m;
	rs_user_resolve(h, "alice", &alice, NULL);
	assert_int_equal(rs_idmap_build(h, &alice, false, &m, NULL), 0);
	/* own 1000 -> 0; 1000:1 (own id) dropped; 200000 (by uid), 300000, 365536 merged */
	assert_int_equal(m.e[0].inside, 0);
	assert_int_equal(m.e[0].outside, 1000);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.e[1].outside, 200000);
	assert_int_equal(m.e[1].inside, 1);
	assert_int_equal(m.e[2].outside, 300000);
	assert_int_equal(m.e[2].count, 65546);
	assert_int_equal(m.subordinate, 65536 + 65546);
	unlink(at("etc/subgid"));
	assert_int_equal(rs_idmap_build(h, &alice, true, &m, NULL), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.subordinate, 0);
	rs_user_clear(&alice);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_read_regular_and_refusals),
		cmocka_unit_test(test_host_absolute_symlink_stays_in_root),
		cmocka_unit_test(test_host_canonical_and_listdir),
		cmocka_unit_test(test_user_resolve_by_name_uid_and_errors),
		cmocka_unit_test(test_access_bits_groups_and_parents),
		cmocka_unit_test(test_idmap_sorted_merged_own_id_cut),
	};
	return cmocka_run_group_tests_name("host", tests, setup, teardown);
}
