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
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci/oci.h"

/* `runc spec` of runc 1.1, trimmed to the parts the transformation reads */
static const char *root_spec =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":"
	"0},"
	"\"args\":[\"sh\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"hostname\":\"runc\",\"mounts\":[{\"destination\":\"/"
	"proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/dev/"
	"pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\","
	"\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
	"\"noexec\",\"nodev\",\"ro\"]}],\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,"
	"\"access\":\"rwm\"}],\"memory\":{\"limit\":1000000},\"pids\":{\"limit\":10}},"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":"
	"\"uts\"},"
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
	struct rs_oci_opts o = {.uidmap = &m.u,
				.gidmap = &m.g,
				.host_net = host_net,
				.limits_ok = limits_ok,
				.delegated = delegated};
	struct rs_error *err = NULL;
	int r = rs_oci_rootless(spec, &o, &err);
	rs_error_free(err);
	return r;
}

static bool has_ns(const json_t *spec, const char *type)
{
	size_t i;
	json_t *x;
	json_array_foreach (json_object_get(json_object_get(spec, "linux"), "namespaces"), i, x)
		if (strcmp(json_string_value(json_object_get(x, "type")), type) == 0)
			return true;
	return false;
}

static const json_t *mount_at(const json_t *spec, const char *dest)
{
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(spec, "mounts"), i, m)
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
	assert_int_equal(json_integer_value(json_object_get(json_array_get(um, 0), "hostID")),
			 1000);
	/* an own network namespace can mount sysfs: kept */
	assert_string_equal(json_string_value(json_object_get(mount_at(s, "/sys"), "type")),
			    "sysfs");
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
	json_array_foreach (pts, i, o)
		assert_string_not_equal(json_string_value(o), "gid=5");
	assert_int_equal(json_array_size(pts), 5);
	json_decref(s);
}

static void test_oci_mapped_gid_option_kept(void **state)
{
	(void)state;
	static struct maps m;
	json_t *s = load(root_spec);
	/* gid 5 is mapped with the caller's subordinate ids (--subids); the
	 * spec's own gidMappings are never what decides (they are replaced) */
	rs_idmap_single(&m.u, 1000);
	rs_idmap_single(&m.g, 1000);
	m.g.e[1].inside = 1;
	m.g.e[1].outside = 100000;
	m.g.e[1].count = 65536;
	m.g.n = 2;
	m.g.subordinate = 65536;
	struct rs_oci_opts o = {.uidmap = &m.u, .gidmap = &m.g};
	assert_int_equal(rs_oci_rootless(s, &o, NULL), 0);
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
	assert_true(
		json_equal(json_object_get(s, "x-unknown"), json_object_get(orig, "x-unknown")));
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
		"[]",
		"{}",
		"{\"process\":{\"args\":[\"sh\"]}}",
		"{\"process\":{\"args\":\"sh\"},\"root\":{\"path\":\"r\"}}",
		"{\"process\":{\"args\":[1]},\"root\":{\"path\":\"r\"}}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"mounts\":{}}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"mounts\":[{\"type\":"
		"\"x\"}]}",
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},\"linux\":{"
		"\"namespaces\":[1]}}",
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
	assert_null(rs_elf_interp((const unsigned char *)"\x7f"
							 "ELF",
				  4));
	assert_null(rs_elf_interp(buf, 63));
}

/* hostile input: a full-range map and a joined user namespace (item 11) */
static const char *hostile_spec =
	"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"rootfs\"},\"linux\":{"
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"},"
	"{\"type\":\"mount\"},{\"type\":\"user\"}],"
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":4294967295}],"
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":4294967295}]}}";

static void test_oci_input_mappings_and_userns_path_replaced(void **state)
{
	(void)state;
	static struct maps m;
	struct rs_strv notes = {0};
	json_t *s = load(hostile_spec);
	rs_idmap_single(&m.u, 1000);
	rs_idmap_single(&m.g, 1001);
	struct rs_oci_opts o = {.uidmap = &m.u, .gidmap = &m.g, .notes = &notes};
	assert_int_equal(rs_oci_rootless(s, &o, NULL), 0);
	json_t *linux_ = json_object_get(s, "linux");
	json_t *um = json_object_get(linux_, "uidMappings"),
	       *gm = json_object_get(linux_, "gidMappings");
	assert_int_equal(json_array_size(um), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(um, 0), "hostID")),
			 1000);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(um, 0), "size")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(gm, 0), "hostID")),
			 1001);
	/* exactly one user entry, in the first one's place, without a path */
	json_t *ns = json_object_get(linux_, "namespaces");
	assert_int_equal(json_array_size(ns), 3);
	json_t *user = json_array_get(ns, 1);
	assert_string_equal(json_string_value(json_object_get(user, "type")), "user");
	assert_null(json_object_get(user, "path"));
	/* and it says so: the namespace and both maps */
	assert_int_equal(notes.n, 3);
	rs_strv_clear(&notes);
	/* a second run: same document, nothing to say */
	json_t *once = json_deep_copy(s);
	assert_int_equal(rs_oci_rootless(s, &o, NULL), 0);
	assert_true(json_equal(s, once));
	assert_int_equal(notes.n, 0);
	json_decref(once);
	json_decref(s);
}

static void test_oci_proot_fifo_refused_without_blocking(void **state)
{
	(void)state;
	char dir[] = "/tmp/rs-oci.XXXXXX", fifo[64], txt[64];
	static struct maps m;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/proot", dir);
	snprintf(txt, sizeof(txt), "%s/text", dir);
	assert_int_equal(mkfifo(fifo, 0755), 0);
	FILE *f = fopen(txt, "w");
	fputs("not a program", f);
	fclose(f);
	rs_idmap_single(&m.u, 1000);
	rs_idmap_single(&m.g, 1000);
	struct rs_oci_opts o = {.uidmap = &m.u, .gidmap = &m.g, .proot = fifo};
	struct rs_error *err = NULL;
	json_t *s = load(root_spec);
	/* would block forever in open(2) if it were opened without O_NONBLOCK */
	alarm(5);
	assert_int_equal(rs_oci_rootless(s, &o, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "not an executable regular file"));
	rs_error_free(err);
	err = NULL;
	o.proot = txt; /* regular, but not executable */
	assert_int_equal(rs_oci_rootless(s, &o, &err), -EINVAL);
	rs_error_free(err);
	alarm(0);
	json_decref(s);
	unlink(fifo);
	unlink(txt);
	rmdir(dir);
}

/* a parse error in fixed words: never the text near it */
static void test_oci_json_error_hides_the_text(void **state)
{
	(void)state;
	static const char *const bad[] = {"{\"a\": root:$6$SECRETHASH:19000::\n",
					  "{\"a\": \"SECRET\x01\"}",
					  "{\"SECRET\": 1, \"SECRET\": 2}",
					  "[SECRET]",
					  "{\"a\": \"\\uD800SECRET\"}",
					  "{\"a\": 1} SECRET",
					  "{\"a\": \"SECRET"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t e;
		json_t *j = json_loads(bad[i], JSON_REJECT_DUPLICATES, &e);
		assert_null(j);
		const char *what = rs_oci_json_what(&e);
		assert_non_null(what);
		assert_null(strstr(what, "SECRET"));
		assert_null(strstr(what, "near"));
	}
	json_error_t e;
	assert_null(json_loads("{\"a\": [1, 2}", 0, &e));
	assert_string_equal(rs_oci_json_what(&e), "']' expected");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_json_error_hides_the_text),
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
		cmocka_unit_test(test_oci_input_mappings_and_userns_path_replaced),
		cmocka_unit_test(test_oci_proot_fifo_refused_without_blocking),
	};
	return cmocka_run_group_tests_name("oci", tests, NULL, NULL);
}
