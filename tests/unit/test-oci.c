/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the OCI rootless transformation (src/oci/rootless.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include "oci/oci.h"

/* `runc spec` of runc 1.1, trimmed to the parts the transformation reads */
static const char *root_spec =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"sh\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"runc\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\","
	"\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"ro\"]}],\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
	"\"access\":\"rwm\"}],\"memory\":{\"limit\":1000000},\"pids\":{\"limit\":10}},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
	"{\"type\":\"mount\"}],\"maskedPaths\":[\"/proc/kcore\"]},\"x-unknown\":{\"keep\":[1,2]}}";

struct maps {
	struct rs_idmap u, g;
};

static json_t *load(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);
	assert_non_null(j);
	return j;
}

static int convert(json_t *spec, bool host_net, bool limits_ok, const char *delegated)
{
	static struct maps m;
	rs_idmap_single(&m.u, 1000);
	rs_idmap_single(&m.g, 1000);
	struct rs_oci_opts o = {.uidmap = &m.u, .gidmap = &m.g, .host_net = host_net,
				.limits_ok = limits_ok, .delegated = delegated};
	struct rs_error *err = NULL;
	int r = rs_oci_rootless(spec, &o, &err);
	rs_error_free(err);
	return r;
}

static bool has_ns(const json_t *spec, const char *type)
{
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, x)
		if (strcmp(json_string_value(json_object_get(x, "type")), type) == 0)
			return true;
	return false;
}

static const json_t *mount_at(const json_t *spec, const char *dest)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(spec, "mounts"), i, m)
		if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0)
			return m;
	return NULL;
}

static void test_oci_default_adds_userns_keeps_netns(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, false, false, NULL), 0);
	assert_true(has_ns(s, "user"));
	assert_true(has_ns(s, "network"));
	json_t *um = json_object_get(json_object_get(s, "linux"), "uidMappings");
	assert_int_equal(json_array_size(um), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(um, 0), "hostID")), 1000);
	/* an own network namespace can mount sysfs: kept */
	assert_string_equal(json_string_value(json_object_get(mount_at(s, "/sys"), "type")), "sysfs");
	json_decref(s);
}

static void test_oci_host_net_matches_runc_rootless(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, true, false, NULL), 0);
	assert_false(has_ns(s, "network"));
	assert_true(has_ns(s, "user"));
	const json_t *sys = mount_at(s, "/sys");
	assert_string_equal(json_string_value(json_object_get(sys, "type")), "none");
	assert_string_equal(json_string_value(json_object_get(sys, "source")), "/sys");
	assert_string_equal(json_string_value(json_array_get(json_object_get(sys, "options"), 0)),
			    "rbind");
	json_decref(s);
}

static void test_oci_unmapped_gid_option_removed(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, false, false, NULL), 0);
	const json_t *pts = json_object_get(mount_at(s, "/dev/pts"), "options");
	size_t i;
	json_t *o;
	json_array_foreach(pts, i, o) assert_string_not_equal(json_string_value(o), "gid=5");
	assert_int_equal(json_array_size(pts), 5);
	json_decref(s);
}

static void test_oci_mapped_gid_option_kept(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	/* gid 5 is mapped when the spec maps subordinate ids */
	json_object_set_new(json_object_get(s, "linux"), "gidMappings",
			    json_pack("[{s:i,s:i,s:i},{s:i,s:i,s:i}]", "containerID", 0, "hostID", 1000,
				      "size", 1, "containerID", 1, "hostID", 100000, "size", 65536));
	assert_int_equal(convert(s, false, false, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(mount_at(s, "/dev/pts"), "options")), 6);
	json_decref(s);
}

static void test_oci_limits_dropped_without_delegation(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, false, false, NULL), 0);
	assert_null(json_object_get(json_object_get(s, "linux"), "resources"));
	json_decref(s);
}

static void test_oci_limits_kept_per_delegated_controller(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, false, true, "cpu memory"), 0);
	json_t *res = json_object_get(json_object_get(s, "linux"), "resources");
	assert_non_null(json_object_get(res, "memory"));
	assert_null(json_object_get(res, "pids"));
	assert_null(json_object_get(res, "devices"));
	json_decref(s);
}

static void test_oci_unknown_fields_preserved(void **state)
{
	(void)state;
	json_t *s = load(root_spec), *orig = load(root_spec);
	assert_int_equal(convert(s, false, false, NULL), 0);
	assert_true(json_equal(json_object_get(s, "x-unknown"), json_object_get(orig, "x-unknown")));
	assert_true(json_equal(json_object_get(s, "process"), json_object_get(orig, "process")));
	assert_true(json_equal(json_object_get(json_object_get(s, "linux"), "maskedPaths"),
			       json_object_get(json_object_get(orig, "linux"), "maskedPaths")));
	json_decref(s);
	json_decref(orig);
}

static void test_oci_second_conversion_changes_nothing(void **state)
{
	(void)state;
	json_t *s = load(root_spec);
	assert_int_equal(convert(s, true, false, NULL), 0);
	json_t *once = json_deep_copy(s);
	assert_int_equal(convert(s, true, false, NULL), 0);
	assert_true(json_equal(s, once));
	json_decref(s);
	json_decref(once);
}

static void test_oci_bad_input_rejected(void **state)
{
	(void)state;
	static const char *bad[] = {
		"[]", "{}", "{\"process\":{\"args\":[\"sh\"]}}",
		"{\"process\":{\"args\":\"sh\"},\"root\":{\"path\":\"r\"}}",
		"{\"process\":{\"args\":[1]},\"root\":{\"path\":\"r\"}}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"mounts\":{}}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"mounts\":[{\"type\":\"x\"}]}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"linux\":{\"namespaces\":[1]}}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"linux\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *s = load(bad[i]);
		assert_int_equal(convert(s, false, false, NULL), -EINVAL);
		json_decref(s);
	}
}

static void test_oci_elf_interp_of_this_test(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/self/exe", "re");
	assert_non_null(f);
	static unsigned char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char *interp = rs_elf_interp(buf, n);
	assert_non_null(interp);
	assert_true(interp[0] == '/');
	free(interp);
	assert_null(rs_elf_interp((const unsigned char *)"\x7f" "ELF", 4));
	assert_null(rs_elf_interp(buf, 63));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_default_adds_userns_keeps_netns),
		cmocka_unit_test(test_oci_host_net_matches_runc_rootless),
		cmocka_unit_test(test_oci_unmapped_gid_option_removed),
		cmocka_unit_test(test_oci_mapped_gid_option_kept),
		cmocka_unit_test(test_oci_limits_dropped_without_delegation),
		cmocka_unit_test(test_oci_limits_kept_per_delegated_controller),
		cmocka_unit_test(test_oci_unknown_fields_preserved),
		cmocka_unit_test(test_oci_second_conversion_changes_nothing),
		cmocka_unit_test(test_oci_bad_input_rejected),
		cmocka_unit_test(test_oci_elf_interp_of_this_test),
	};
	return cmocka_run_group_tests_name("oci", tests, NULL, NULL);
}
