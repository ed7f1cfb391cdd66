/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/core/distro.c: profile selection, version overrides and the data schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/distro.h"

/* Loads the profile for (id, id_like, version_id) or force; fails the test on error. */
static void load(struct rs_distro *d, const char *id, const char *like, const char *ver,
		 const char *force)
{
	struct rs_osrelease os = {.id = (char *)id,
				  .id_like = (char *)like,
				  .version_id = (char *)ver};
	struct rs_error *e = NULL;
	int r = rs_distro_load(&os, force, d, &e);
	if (r < 0) {
		char m[256];
		snprintf(m, sizeof(m), "rs_distro_load(%s): %d %s", id ? id : "-", r,
			 e ? e->msg : "");
		rs_error_free(e);
		fail_msg("%s", m);
	}
	assert_null(e);
	assert_non_null(d->id);
	assert_non_null(d->data);
}

static void test_distro_load_debian_by_id(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "debian", NULL, "12", NULL);
	assert_string_equal(d.id, "debian");
	rs_distro_clear(&d);
	assert_null(d.id);
	assert_null(d.data);
}

static void test_distro_load_openeuler_case_insensitive(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "openEuler", NULL, "22.03", NULL);
	assert_string_equal(d.id, "openeuler");
	/* the profile's own hints are merged over generic's */
	assert_non_null(rs_distro_hint(&d, "cgroup.v2"));
	rs_distro_clear(&d);
	load(&d, "OPENEULER", NULL, NULL, NULL);
	assert_string_equal(d.id, "openeuler");
	rs_distro_clear(&d);
}

static void test_distro_load_rocky_reaches_rhel(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "rocky", "rhel centos fedora", "9.3", NULL);
	assert_string_equal(d.id, "rhel");
	rs_distro_clear(&d);
	/* a rebuild no profile names: ID_LIKE, first word first */
	load(&d, "myclone", "rhel centos fedora", "9", NULL);
	assert_string_equal(d.id, "rhel");
	rs_distro_clear(&d);
	load(&d, "myclone", "fedora rhel", NULL, NULL);
	assert_string_equal(d.id, "fedora");
	rs_distro_clear(&d);
	load(&d, "mint", "  ubuntu\tdebian", NULL, NULL);
	assert_string_equal(d.id, "ubuntu");
	rs_distro_clear(&d);
}

static void test_distro_load_unknown_generic(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "plan9", "inferno", "4", NULL);
	assert_string_equal(d.id, "generic");
	assert_string_equal(rs_distro_str(&d, "thresholds.overlay_userns"), "5.11");
	assert_string_equal(rs_distro_str(&d, "thresholds.kernel_min.kata"), "4.14");
	assert_int_equal(rs_distro_int(&d, "subid_min_count", -1), 65536);
	rs_distro_clear(&d);
	load(&d, NULL, NULL, NULL, NULL);
	assert_string_equal(d.id, "generic");
	rs_distro_clear(&d);
}

static void test_distro_load_override_wins_over_os_release(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "debian", "debian", "12", "bottlerocket");
	assert_string_equal(d.id, "bottlerocket");
	assert_false(rs_distro_bool(&d, "etc_persistent", true));
	rs_distro_clear(&d);
	load(&d, "debian", NULL, NULL, "RHEL");
	assert_string_equal(d.id, "rhel");
	rs_distro_clear(&d);
	load(&d, "debian", NULL, NULL, "generic");
	assert_string_equal(d.id, "generic");
	rs_distro_clear(&d);
}

static void test_distro_load_unknown_override_enoent(void **state)
{
	(void)state;
	struct rs_distro d;
	struct rs_osrelease os = {.id = "debian"};
	struct rs_error *e = NULL;
	assert_int_equal(rs_distro_load(&os, "nope", &d, &e), -ENOENT);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "nope"));
	rs_error_free(e);
	assert_null(d.id);
	assert_null(d.data);
}

static void test_distro_version_rhel7_gets_userns_max_hint(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "rhel", NULL, "7.9", NULL);
	const char *h = rs_distro_hint(&d, "userns.max");
	assert_non_null(h);
	assert_non_null(strstr(h, "max_user_namespaces"));
	assert_true(rs_distro_bool(&d, "eol", false));
	assert_string_equal(rs_distro_str(&d, "install_cmd"), "yum install -y");
	/* the version's hints are merged, the profile's stay */
	assert_non_null(rs_distro_hint(&d, "cgroup.delegation"));
	rs_distro_clear(&d);
	load(&d, "centos", NULL, "7", NULL);
	assert_non_null(rs_distro_hint(&d, "userns.max"));
	rs_distro_clear(&d);
}

static void test_distro_version_rhel8_no_userns_max_hint(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "rhel", NULL, "8.6", NULL);
	assert_null(rs_distro_hint(&d, "userns.max"));
	assert_non_null(rs_distro_hint(&d, "kernel.overlay-userns"));
	assert_false(rs_distro_bool(&d, "eol", true));
	assert_string_equal(rs_distro_str(&d, "install_cmd"), "dnf install -y");
	rs_distro_clear(&d);
	/* "7" is a prefix by component: "70" and "7a" are not 7 */
	load(&d, "rhel", NULL, "70", NULL);
	assert_null(rs_distro_hint(&d, "userns.max"));
	rs_distro_clear(&d);
	load(&d, "rhel", NULL, NULL, NULL);
	assert_null(rs_distro_hint(&d, "userns.max"));
	rs_distro_clear(&d);
}

static void test_distro_lookup_absent_path_default(void **state)
{
	(void)state;
	struct rs_distro d;
	load(&d, "debian", NULL, "12", NULL);
	assert_null(rs_distro_str(&d, "no.such.key"));
	assert_int_equal(rs_distro_int(&d, "no.such", 7), 7);
	assert_int_equal(rs_distro_int(&d, "install_cmd", 7), 7); /* wrong type */
	assert_true(rs_distro_bool(&d, "nope", true));
	assert_null(rs_distro_hint(&d, "no.rule"));
	assert_null(rs_distro_str(&d, "versions"));
	rs_distro_clear(&d);
}

static void test_distro_known_any_case_true(void **state)
{
	(void)state;
	assert_true(rs_distro_known("debian"));
	assert_true(rs_distro_known("Generic"));
	assert_true(rs_distro_known("openeuler"));
	assert_false(rs_distro_known("nope"));
	assert_false(rs_distro_known(""));
}

/* ---- schema ---- */

static int validate(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, je.text);
	struct rs_error *e = NULL;
	int r = rs_distro_validate(j, "t", &e);
	json_decref(j);
	if (r < 0) {
		assert_non_null(e); /* names the offending key */
		assert_non_null(e->msg);
	} else {
		assert_null(e);
	}
	rs_error_free(e);
	return r;
}

static void expect_invalid(const char *const *docs)
{
	for (; *docs; docs++)
		if (validate(*docs) != -EINVAL)
			fail_msg("accepted: %s", *docs);
}

static void test_distro_validate_every_embedded_profile_valid(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id; b++, n++) {
		json_t *j = json_loadb(b->json, b->len, JSON_REJECT_DUPLICATES, NULL);
		assert_non_null(j);
		if (rs_distro_validate(j, b->id, NULL) != 0)
			fail_msg("embedded profile '%s' invalid", b->id);
		assert_true(rs_distro_known(b->id));
		json_decref(j);
	}
	assert_true(n >= 2);
}

static void test_distro_validate_minimal_and_full_versions_accepted(void **state)
{
	(void)state;
	assert_int_equal(validate("{\"id\":\"x\"}"), 0);
	assert_int_equal(validate("{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"eol\":true,"
				  "\"hints\":{\"a.b\":\"c\"},\"thresholds\":{\"overlay_userns\":"
				  "\"5.11\"}}]}"),
			 0);
	assert_int_equal(validate("{\"id\":\"x\",\"packages\":{\"newuidmap\":null},"
				  "\"match\":{\"ids\":[\"a\"],\"id_like\":[]}}"),
			 0);
}

/* programs.NAME: a minimum version only with where it is documented */
static void test_distro_validate_programs(void **state)
{
	(void)state;
	assert_int_equal(validate("{\"id\":\"x\",\"programs\":{\"runc\":{\"min\":\"1.0\","
				  "\"source\":\"runc 1.0.0\",\"packages\":[\"runc\"]}}}"),
			 0);
	assert_int_equal(
		validate("{\"id\":\"x\",\"programs\":{\"pasta\":{\"packages\":[\"passt\"]}}}"), 0);
	assert_int_equal(validate("{\"id\":\"x\",\"programs\":{\"runc\":{\"min\":\"1.0\"}}}"),
			 -EINVAL);
	assert_int_equal(validate("{\"id\":\"x\",\"programs\":{\"runc\":{\"min\":\"one\","
				  "\"source\":\"s\"}}}"),
			 -EINVAL);
	assert_int_equal(validate("{\"id\":\"x\",\"programs\":{\"runc\":{\"max\":\"1.0\"}}}"),
			 -EINVAL);
	assert_int_equal(validate("{\"id\":\"x\",\"programs\":{\"runc\":\"1.0\"}}"), -EINVAL);
}

static void test_distro_validate_not_object_or_no_id_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {"[]", "{}", "\"x\"", "{\"id\":1}", "{\"name\":\"x\"}",
					  NULL};
	expect_invalid(bad);
}

static void test_distro_validate_unknown_keys_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"colour\":1}",
		"{\"id\":\"x\",\"thresholds\":{\"kernel\":\"5.1\"}}",
		"{\"id\":\"x\",\"match\":{\"ids\":[],\"name\":[]}}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"colour\":1}]}",
		NULL,
	};
	expect_invalid(bad);
	struct rs_error *e = NULL;
	json_t *j = json_loads("{\"id\":\"x\",\"colour\":1}", 0, NULL);
	assert_int_equal(rs_distro_validate(j, "t", &e), -EINVAL);
	assert_non_null(strstr(e->msg, "colour"));
	rs_error_free(e);
	json_decref(j);
}

static void test_distro_validate_wrong_types_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"name\":1}",
		"{\"id\":\"x\",\"subid_min_count\":\"65536\"}",
		"{\"id\":\"x\",\"subid_min_count\":-1}",
		"{\"id\":\"x\",\"subid_min_count\":1.5}",
		"{\"id\":\"x\",\"eol\":\"yes\"}",
		"{\"id\":\"x\",\"eol\":1}",
		"{\"id\":\"x\",\"hints\":[]}",
		"{\"id\":\"x\",\"hints\":{\"a\":1}}",
		"{\"id\":\"x\",\"packages\":{\"a\":true}}",
		"{\"id\":\"x\",\"match\":[]}",
		"{\"id\":\"x\",\"match\":{\"ids\":\"debian\"}}",
		"{\"id\":\"x\",\"match\":{\"ids\":[1]}}",
		"{\"id\":\"x\",\"thresholds\":[]}",
		"{\"id\":\"x\",\"versions\":{}}",
		NULL,
	};
	expect_invalid(bad);
}

static void test_distro_validate_bad_enum_values_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"init\":\"upstart\"}",
		"{\"id\":\"x\",\"mac\":\"tomoyo\"}",
		"{\"id\":\"x\",\"sysctl_persist\":\"rc.local\"}",
		"{\"id\":\"x\",\"overlay_userns_patch\":\"fedora\"}",
		"{\"id\":\"x\",\"init\":\"Systemd\"}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"init\":\"sysv\"}]}",
		NULL,
	};
	expect_invalid(bad);
	assert_int_equal(validate("{\"id\":\"x\",\"init\":\"openrc\",\"mac\":\"selinux\"}"), 0);
}

static void test_distro_validate_bad_threshold_strings_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":\"five\"}}",
		"{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":\"5\"}}",
		"{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":\"\"}}",
		"{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":5.11}}",
		"{\"id\":\"x\",\"thresholds\":{\"fuse_overlayfs\":null}}",
		"{\"id\":\"x\",\"thresholds\":{\"selinux_overlay\":\"v5.13\"}}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"thresholds\":"
		"{\"overlay_userns\":\"x\"}}]}",
		NULL,
	};
	expect_invalid(bad);
	assert_int_equal(validate("{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":\"5.11\","
				  "\"kernel_min\":{\"kata\":\"4.14\"}}}"),
			 0);
}

/* kernel.version reads thresholds.kernel_min.<engine> as a kernel version:
 * a value that is not one must be refused like the other thresholds */
static void test_distro_validate_bad_kernel_min_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"thresholds\":{\"kernel_min\":{\"kata\":\"four\"}}}",
		"{\"id\":\"x\",\"thresholds\":{\"kernel_min\":{\"*\":\"3\"}}}",
		NULL,
	};
	expect_invalid(bad);
}

static void test_distro_validate_version_entry_rules(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"id\":\"x\",\"versions\":[{\"eol\":true}]}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":7}]}",
		"{\"id\":\"x\",\"versions\":[\"7\"]}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"id\":\"y\"}]}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"match\":{}}]}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"versions\":[]}]}",
		NULL,
	};
	expect_invalid(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distro_load_debian_by_id),
		cmocka_unit_test(test_distro_load_openeuler_case_insensitive),
		cmocka_unit_test(test_distro_load_rocky_reaches_rhel),
		cmocka_unit_test(test_distro_load_unknown_generic),
		cmocka_unit_test(test_distro_load_override_wins_over_os_release),
		cmocka_unit_test(test_distro_load_unknown_override_enoent),
		cmocka_unit_test(test_distro_version_rhel7_gets_userns_max_hint),
		cmocka_unit_test(test_distro_version_rhel8_no_userns_max_hint),
		cmocka_unit_test(test_distro_lookup_absent_path_default),
		cmocka_unit_test(test_distro_known_any_case_true),
		cmocka_unit_test(test_distro_validate_every_embedded_profile_valid),
		cmocka_unit_test(test_distro_validate_minimal_and_full_versions_accepted),
		cmocka_unit_test(test_distro_validate_programs),
		cmocka_unit_test(test_distro_validate_not_object_or_no_id_rejected),
		cmocka_unit_test(test_distro_validate_unknown_keys_rejected),
		cmocka_unit_test(test_distro_validate_wrong_types_rejected),
		cmocka_unit_test(test_distro_validate_bad_enum_values_rejected),
		cmocka_unit_test(test_distro_validate_bad_threshold_strings_rejected),
		cmocka_unit_test(test_distro_validate_bad_kernel_min_rejected),
		cmocka_unit_test(test_distro_validate_version_entry_rules),
	};
	return cmocka_run_group_tests_name("distro", tests, NULL, NULL);
}
