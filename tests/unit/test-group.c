/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The in-memory rewrites of src/fixers/group.c and kata.c: byte-exact
 * outside the one changed line, linear, refusing what they cannot read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "fixers/rewrite.h"

static int add(const char *in, size_t len, const char *group, bool gshadow, struct rs_rewrite *r)
{
	struct rs_group_edit e = {.group = group,
				  .user = "alice",
				  .gshadow = gshadow,
				  .gid = (gid_t)-1};
	return rs_group_add_member(in, len, &e, r);
}

static void test_odd_bytes_kept(void **state)
{
	(void)state;
	/* trailing blanks, a comment-looking line, CRLF elsewhere, no final newline */
	static const char in[] = "root:x:0:  \n#kvm:x:1:bob\nodd line without colons\r\n"
				 "kvm:x:36:bob\nwheel:x:10:\t\nlast:x:99:z";
	static const char want[] = "root:x:0:  \n#kvm:x:1:bob\nodd line without colons\r\n"
				   "kvm:x:36:bob,alice\nwheel:x:10:\t\nlast:x:99:z";
	struct rs_rewrite r;
	assert_int_equal(add(in, sizeof(in) - 1, "kvm", false, &r), 0);
	assert_true(r.changed);
	assert_int_equal(r.gid, 36);
	assert_int_equal(r.line, 4);
	assert_int_equal(r.len, sizeof(want) - 1);
	assert_memory_equal(r.text, want, r.len);
	rs_rewrite_clear(&r);
}

static void test_empty_members_and_last_line(void **state)
{
	(void)state;
	static const char in[] = "root:x:0:\nkvm:x:36:";
	struct rs_rewrite r;
	assert_int_equal(add(in, sizeof(in) - 1, "kvm", false, &r), 0);
	assert_string_equal(r.text, "root:x:0:\nkvm:x:36:alice");
	rs_rewrite_clear(&r);
}

static void test_already_member(void **state)
{
	(void)state;
	static const char in[] = "kvm:x:36:bob,alice,carol\n";
	struct rs_rewrite r;
	assert_int_equal(add(in, sizeof(in) - 1, "kvm", false, &r), 0);
	assert_false(r.changed);
	assert_string_equal(r.text, in);
	rs_rewrite_clear(&r);
	/* "alice2" is not "alice" */
	assert_int_equal(add("kvm:x:36:alice2", 15, "kvm", false, &r), 0);
	assert_string_equal(r.text, "kvm:x:36:alice2,alice");
	rs_rewrite_clear(&r);
}

static void test_new_line_and_gid(void **state)
{
	(void)state;
	static const char in[] = "root:x:0:\nsys:x:999:\nbad:x:998x:\nb:x:998:\nlast:x:997:";
	struct rs_rewrite r;
	assert_int_equal(add(in, sizeof(in) - 1, "kvm", false, &r), 0);
	assert_true(r.added_line);
	/* 999 and 998 used (998x is no gid), 997 used: 996 */
	assert_int_equal(r.gid, 996);
	assert_int_equal(r.line, 6);
	char want[256];
	snprintf(want, sizeof(want), "%s\nkvm:x:996:alice\n", in);
	assert_string_equal(r.text, want);
	rs_rewrite_clear(&r);
	assert_int_equal(add(in, sizeof(in) - 1, "kvm", true, &r), 0);
	snprintf(want, sizeof(want), "%s\nkvm:!::alice\n", in);
	assert_string_equal(r.text, want);
	rs_rewrite_clear(&r);
	assert_int_equal(add("", 0, "kvm", false, &r), 0);
	assert_string_equal(r.text, "kvm:x:999:alice\n");
	rs_rewrite_clear(&r);
}

static void test_no_free_gid(void **state)
{
	(void)state;
	size_t cap = 900 * 16, n = 0;
	char *in = malloc(cap);
	for (unsigned g = 100; g <= 999; g++)
		n += (size_t)snprintf(in + n, cap - n, "g%u:x:%u:\n", g, g);
	struct rs_rewrite r;
	assert_int_equal(add(in, n, "kvm", false, &r), -ENOSPC);
	assert_null(r.text);
	assert_non_null(strstr(r.msg, "no free system gid"));
	free(in);
}

static void test_refusals(void **state)
{
	(void)state;
	static const char nul[] = "root:x:0:\nkvm:x:36:b\0ob\n";
	struct rs_rewrite r;
	assert_int_equal(add(nul, sizeof(nul) - 1, "kvm", false, &r), -EINVAL);
	assert_null(r.text);
	assert_non_null(strstr(r.msg, "line 2 holds a NUL byte"));
	assert_int_equal(add("kvm:x:36\n", 9, "kvm", false, &r), -EINVAL);
	assert_non_null(strstr(r.msg, "4 fields"));
	assert_int_equal(add("kvm:x:36:a:b\n", 13, "kvm", false, &r), -EINVAL);
	assert_int_equal(add("kvm:x:36:a b\n", 13, "kvm", false, &r), -EINVAL);
	assert_int_equal(add("kvm:x:36:a\r\n", 12, "kvm", false, &r), -EINVAL);
	assert_int_equal(add("kvm:x:3x6:a\n", 12, "kvm", false, &r), -EINVAL);
	/* a malformed line elsewhere is kept, not refused */
	assert_int_equal(add("a b c\nkvm:x:36:\n", 16, "kvm", false, &r), 0);
	rs_rewrite_clear(&r);
	size_t big = RS_REWRITE_LINE_MAX + 10;
	char *l = malloc(big);
	memset(l, 'a', big);
	assert_int_equal(add(l, big, "kvm", false, &r), -EINVAL);
	assert_non_null(strstr(r.msg, "longer than"));
	free(l);
	struct rs_group_edit e = {.group = "kv:m", .user = "alice", .gid = (gid_t)-1};
	assert_int_equal(rs_group_add_member("", 0, &e, &r), -EINVAL);
}

/* 200,000 lines: linear, so well under a second even unoptimised */
static void test_large_linear(void **state)
{
	(void)state;
	size_t cap = 200000 * 40, n = 0;
	char *in = malloc(cap);
	for (unsigned i = 0; i < 200000; i++)
		n += (size_t)snprintf(in + n, cap - n, "grp%u:x:%u:u%u\n", i, 1000 + i, i);
	struct rs_rewrite r;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(add(in, n, "kvm", false, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(r.len, n + strlen("kvm:x:999:alice\n"));
	assert_memory_equal(r.text, in, n);
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 2000);
	rs_rewrite_clear(&r);
	free(in);
}

static void test_kata(void **state)
{
	(void)state;
	static const char in[] =
		"[hypervisor.qemu]\npath = \"x\"  \n  #  disable_vhost_net = true\n"
		"# comment\n[agent.kata]\nx = 1";
	static const char want[] = "[hypervisor.qemu]\npath = \"x\"  \ndisable_vhost_net = true\n"
				   "# comment\n[agent.kata]\nx = 1";
	struct rs_rewrite r;
	assert_int_equal(rs_kata_vhost_disabled(in, sizeof(in) - 1, &r), 0);
	assert_true(r.changed);
	assert_string_equal(r.text, want);
	rs_rewrite_clear(&r);
	static const char add_in[] = "[hypervisor.qemu]\npath = 1\n[x]\n";
	assert_int_equal(rs_kata_vhost_disabled(add_in, sizeof(add_in) - 1, &r), 0);
	assert_string_equal(r.text, "[hypervisor.qemu]\npath = 1\ndisable_vhost_net = true\n[x]\n");
	rs_rewrite_clear(&r);
	assert_int_equal(rs_kata_vhost_disabled("[hypervisor.qemu]", 17, &r), 0);
	assert_string_equal(r.text, "[hypervisor.qemu]\ndisable_vhost_net = true\n");
	rs_rewrite_clear(&r);
	assert_int_equal(rs_kata_vhost_disabled("a = 1\n\0", 7, &r), -EINVAL);
	assert_null(r.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odd_bytes_kept),
		cmocka_unit_test(test_empty_members_and_last_line),
		cmocka_unit_test(test_already_member),
		cmocka_unit_test(test_new_line_and_gid),
		cmocka_unit_test(test_no_free_gid),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_large_linear),
		cmocka_unit_test(test_kata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
