/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hand-written parsers (src/host/parse.c) and src/lib/strutil.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "lib/strutil.h"

#define S(x) x, sizeof(x) - 1

static void test_strutil_parse_u64_strict(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(rs_parse_u64("65536", UINT32_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(rs_parse_u64("4294967295", UINT32_MAX, &v), 0);
	assert_int_equal(rs_parse_u64("4294967296", UINT32_MAX, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("0", UINT32_MAX, &v), 0);
	assert_int_equal(v, 0);
	static const char *bad[] = {"", "010", "0x10", "+5", "-1", " 1", "1 ", "1a", NULL};
	for (const char **b = bad; *b; b++) {
		v = 42;
		assert_int_equal(rs_parse_u64(*b, UINT32_MAX, &v), -EINVAL);
		assert_int_equal(v, 42); /* untouched on failure */
	}
}

static void test_strutil_kver_parse_and_compare(void **state)
{
	(void)state;
	struct rs_kver a, b;
	assert_int_equal(rs_kver_parse("5.10.0-60.18.0.50.oe2203.x86_64", &a), 0);
	assert_int_equal(a.major, 5);
	assert_int_equal(a.minor, 10);
	assert_int_equal(rs_kver_parse("5.11", &b), 0);
	assert_true(rs_kver_cmp(&a, &b) < 0);
	assert_int_equal(rs_kver_parse("3.10.0-1160.el7.x86_64", &a), 0);
	assert_int_equal(rs_kver_parse("5.15.133+", &b), 0);
	assert_int_equal(b.patch, 133);
	assert_true(rs_kver_cmp(&a, &b) < 0);
	assert_int_equal(rs_kver_parse("6.1", &a), 0);
	assert_int_equal(a.patch, 0);
	assert_int_equal(rs_kver_parse("garbage", &a), -EINVAL);
	assert_int_equal(rs_kver_parse("5", &a), -EINVAL);
}

static void test_strutil_strip_and_strv(void **state)
{
	(void)state;
	char s[] = " \t a b \r\n";
	assert_string_equal(rs_strstrip(s), "a b");
	struct rs_strv v = {0};
	rs_strv_push(&v, "x");
	rs_strv_push(&v, "y");
	assert_int_equal(v.n, 2);
	assert_null(v.v[2]);
	assert_true(rs_strv_contains(&v, "y"));
	assert_false(rs_strv_contains(&v, "z"));
	rs_strv_free(&v);
	assert_int_equal(v.n, 0);
}

static void test_subid_valid_and_numeric_owner(void **state)
{
	(void)state;
	struct rs_subid_file f;
	rs_subid_parse(S("alice:100000:65536\n1000:200000:10\n# c\n\n  \nbob:4294967295:1\n"), &f);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.nbad, 0);
	assert_string_equal(f.r[1].owner, "1000");
	assert_int_equal(f.r[2].start, 4294967295ULL);
	assert_int_equal(f.r[0].line, 1);
	rs_subid_clear(&f);
}

static void test_subid_malformed_lines_flagged_not_counted(void **state)
{
	(void)state;
	struct rs_subid_file f;
	static const char in[] = "alice:100000:65536\r\nalice:-1:65536\nalice:0x10000:65536\n"
				 "alice:+5:65536\nalice:4294967295:2\nalice:100000:0\nalice:100000\n"
				 ":1:2\nalice:1:2 \nal\0ice:1:2\nok:1:2\n";
	rs_subid_parse(in, sizeof(in) - 1, &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].owner, "ok");
	assert_int_equal(f.nbad, 10);
	assert_int_equal(f.bad_lines[0], 1);
	rs_subid_clear(&f);
	char *longline = malloc(5002);
	memset(longline, 'a', 5000);
	longline[5000] = '\n';
	rs_subid_parse(longline, 5001, &f);
	assert_int_equal(f.nbad, 1);
	rs_subid_clear(&f);
	free(longline);
}

static void test_osrelease_quotes_escapes_crlf(void **state)
{
	(void)state;
	struct rs_osrelease o;
	rs_osrelease_parse(S("# c\nID=\"openEuler\"\r\nID_LIKE='rhel centos'\nNAME=\"a \\\"q\\\" \\$x\"\n"
			     "VERSION_ID=22.03 trailing\nBAD\n"), &o);
	assert_string_equal(o.id, "openEuler");
	assert_string_equal(o.id_like, "rhel centos");
	assert_string_equal(o.name, "a \"q\" $x");
	assert_string_equal(o.version_id, "22.03");
	rs_osrelease_clear(&o);
	rs_osrelease_parse(S("ID=arch\nBUILD_ID=rolling\n"), &o);
	assert_null(o.version_id);
	rs_osrelease_clear(&o);
}

static void test_logindefs_defaults_and_invalid(void **state)
{
	(void)state;
	struct rs_logindefs d;
	rs_logindefs_parse(NULL, 0, &d);
	assert_int_equal(d.sub_uid_min, 100000);
	assert_int_equal(d.sub_uid_max, 600100000);
	assert_int_equal(d.sub_uid_count, 65536);
	assert_false(d.invalid);
	rs_logindefs_parse(S("SUB_UID_MIN 524288\nSUB_UID_COUNT 0\n#SUB_UID_MAX 1\n"), &d);
	assert_int_equal(d.sub_uid_min, 524288);
	assert_int_equal(d.sub_uid_count, 0);
	assert_false(d.invalid);
	rs_logindefs_parse(S("SUB_UID_MIN 0x100\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_UID_MIN 700000000\n"), &d);
	assert_true(d.invalid); /* MIN > MAX */
}

static void test_sysctl_values(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(rs_sysctl_parse_u64(S("1\n"), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rs_sysctl_parse_u64(S(" 1 "), &v), 0);
	assert_int_equal(rs_sysctl_parse_u64(S("abc"), &v), -EINVAL);
	assert_int_equal(rs_sysctl_parse_u64(S("-1"), &v), -EINVAL);
	assert_int_equal(rs_sysctl_parse_u64(S("99999999999999999999"), &v), -ERANGE);
	assert_int_equal(rs_sysctl_parse_u64(S(""), &v), -EINVAL);
	char *s = rs_sysctl_conf_get(S("a.b = 1\n-kernel/x=0\n; c\nkernel.x = 2\n"), "kernel.x");
	assert_string_equal(s, "2");
	free(s);
	assert_null(rs_sysctl_conf_get(S("a=1\n"), "kernel.x"));
}

static void test_toml_scan_section_scoped(void **state)
{
	(void)state;
	static const char in[] = "version = 2\n[hypervisor.qemu]\n# disable_vhost_net = false\n"
				 "image = \"/a/b.img\" # c\ndisable_vhost_net = true\n"
				 "[hypervisor.clh]\ndisable_vhost_net = false\n";
	char *v = rs_toml_get(in, sizeof(in) - 1, "hypervisor.qemu", "disable_vhost_net");
	assert_string_equal(v, "true");
	free(v);
	v = rs_toml_get(in, sizeof(in) - 1, "hypervisor.qemu", "image");
	assert_string_equal(v, "/a/b.img");
	free(v);
	v = rs_toml_get(in, sizeof(in) - 1, "", "version");
	assert_string_equal(v, "2");
	free(v);
	assert_null(rs_toml_get(in, sizeof(in) - 1, "hypervisor.qemu", "initrd"));
}

static void test_dpkg_version(void **state)
{
	(void)state;
	static const char in[] = "Package: podmanx\nStatus: install ok installed\nVersion: 9\n\n"
				 "Package: podman\nStatus: install ok installed\nVersion: 1:4.3.1+ds1-8\n\n";
	char *v = rs_dpkg_version(in, sizeof(in) - 1, "podman");
	assert_string_equal(v, "4.3.1");
	free(v);
	assert_null(rs_dpkg_version(S("Package: podman\nStatus: deinstall ok config-files\nVersion: 4\n"),
				    "podman"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strutil_parse_u64_strict),
		cmocka_unit_test(test_strutil_kver_parse_and_compare),
		cmocka_unit_test(test_strutil_strip_and_strv),
		cmocka_unit_test(test_subid_valid_and_numeric_owner),
		cmocka_unit_test(test_subid_malformed_lines_flagged_not_counted),
		cmocka_unit_test(test_osrelease_quotes_escapes_crlf),
		cmocka_unit_test(test_logindefs_defaults_and_invalid),
		cmocka_unit_test(test_sysctl_values),
		cmocka_unit_test(test_toml_scan_section_scoped),
		cmocka_unit_test(test_dpkg_version),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
