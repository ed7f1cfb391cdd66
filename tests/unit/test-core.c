/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The core: distro data, engines, and the rule engine on a small tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/check.h"
#include "core/distro.h"
#include "core/engine.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0755);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/rs-core.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mk("etc");
	mk("proc");
	mk("proc/self");
	mk("proc/sys");
	mk("proc/sys/kernel");
	put("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
	put("etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
	put("etc/group", "root:x:0:\n");
	put("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	/* hybrid cgroups */
	put("proc/self/mountinfo", "21 1 0:21 / / rw - ext4 /dev/vda rw\n"
				   "31 21 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
				   "32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
				   "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_distro_matching(void **state)
{
	(void)state;
	struct rs_distro d;
	struct rs_osrelease os = {.id = "openEuler", .version_id = "22.03"};
	assert_int_equal(rs_distro_load(&os, NULL, &d, NULL), 0);
	assert_string_equal(d.id, "openeuler");
	rs_distro_clear(&d);
	os = (struct rs_osrelease){.id = "rocky", .id_like = "rhel centos fedora", .version_id = "7.9"};
	assert_int_equal(rs_distro_load(&os, NULL, &d, NULL), 0);
	assert_string_equal(d.id, "rhel");
	assert_non_null(strstr(rs_distro_hint(&d, "userns.max"), "28633"));
	rs_distro_clear(&d);
	os.version_id = "8.6";
	assert_int_equal(rs_distro_load(&os, NULL, &d, NULL), 0);
	assert_null(rs_distro_hint(&d, "userns.max"));
	rs_distro_clear(&d);
	os = (struct rs_osrelease){.id = "plan9"};
	assert_int_equal(rs_distro_load(&os, NULL, &d, NULL), 0);
	assert_string_equal(d.id, "generic");
	assert_string_equal(rs_distro_str(&d, "thresholds.overlay_userns"), "5.11");
	assert_string_equal(rs_distro_str(&d, "thresholds.kernel_min.kata"), "4.14");
	rs_distro_clear(&d);
	assert_int_equal(rs_distro_load(&os, "bottlerocket", &d, NULL), 0);
	assert_false(rs_distro_bool(&d, "etc_persistent", true));
	rs_distro_clear(&d);
	assert_int_equal(rs_distro_load(&os, "nope", &d, NULL), -ENOENT);
}

static void test_distro_validation(void **state)
{
	(void)state;
	static const char *bad[] = {
		"[]", "{}", "{\"id\":\"x\",\"colour\":1}", "{\"id\":\"x\",\"init\":\"upstart\"}",
		"{\"id\":\"x\",\"thresholds\":{\"overlay_userns\":\"five\"}}",
		"{\"id\":\"x\",\"subid_min_count\":-1}", "{\"id\":\"x\",\"hints\":{\"a\":1}}",
		"{\"id\":\"x\",\"versions\":[{\"eol\":true}]}",
		"{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"id\":\"y\"}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		struct rs_error *e = NULL;
		assert_int_equal(rs_distro_validate(j, "t", &e), -EINVAL);
		assert_non_null(e);
		rs_error_free(e);
		json_decref(j);
	}
	json_t *j = json_loads("{\"id\":\"x\",\"versions\":[{\"version_id\":\"7\",\"eol\":true}]}", 0, NULL);
	assert_int_equal(rs_distro_validate(j, "t", NULL), 0);
	json_decref(j);
}

static void test_engine_parse(void **state)
{
	(void)state;
	unsigned m;
	assert_int_equal(rs_engine_parse("devkit", &m), 0);
	assert_int_equal(m, RS_ENGINE_BIT(RS_ENGINE_BUILDKIT));
	assert_int_equal(rs_engine_parse("all", &m), 0);
	assert_int_equal(m, RS_ENGINES_ALL);
	assert_int_equal(rs_engine_parse("docker", &m), -EINVAL);
	assert_string_equal(rs_engine_name(RS_ENGINE_NONE), "common");
}

static const struct rs_result *res(const struct rs_report *r, const char *id)
{
	return rs_ctx_result(&r->ctx, id);
}

static void test_check_every_rule_once_and_merge(void **state)
{
	(void)state;
	struct rs_check_opts o = {.root = root, .user = "alice", .engines_given = true,
				  .engines = RS_ENGINE_BIT(RS_ENGINE_ISULAD) |
					     RS_ENGINE_BIT(RS_ENGINE_CONTAINERD)};
	struct rs_report *r = NULL;
	assert_int_equal(rs_check_run(&o, &r, NULL), 0);
	unsigned total = 0;
	for (int i = 0; i < 4; i++)
		total += r->counts[i];
	assert_int_equal(total, rs_rules_count);
	/* hybrid: isulad fails, containerd warns; the most severe wins, named */
	assert_int_equal(res(r, "cgroup.v2")->f.status, RS_STATUS_FAIL);
	assert_int_equal(strncmp(res(r, "cgroup.v2")->f.message, "isulad:", 7), 0);
	assert_int_equal(res(r, "kvm.device")->f.status, RS_STATUS_SKIP);
	assert_int_equal(res(r, "userns.probe")->f.status, RS_STATUS_SKIP);
	assert_string_equal(r->cgroup_manager, "none");
	rs_report_free(r);
}

static void test_check_rule_filter_and_postinstall(void **state)
{
	(void)state;
	static const char *const only[] = {"kernel.version", NULL};
	struct rs_check_opts o = {.root = root, .user = "alice", .only = only};
	struct rs_report *r = NULL;
	assert_int_equal(rs_check_run(&o, &r, NULL), 0);
	assert_int_equal(r->counts[RS_STATUS_PASS] + r->counts[RS_STATUS_WARN] +
				 r->counts[RS_STATUS_FAIL] + r->counts[RS_STATUS_SKIP],
			 1);
	rs_report_free(r);
	struct rs_check_opts p = {.root = root, .postinstall = true};
	assert_int_equal(rs_check_run(&p, &r, NULL), 0);
	assert_false(r->ctx.has_user);
	assert_int_equal(res(r, "subid.ranges")->f.status, RS_STATUS_SKIP);
	assert_string_equal(res(r, "subid.ranges")->f.message, "no target user");
	rs_report_free(r);
	struct rs_check_opts bad = {.root = root, .user = "carol"};
	struct rs_error *e = NULL;
	assert_int_equal(rs_check_run(&bad, &r, &e), -ENOENT);
	rs_error_free(e);
	struct rs_check_opts gone = {.root = "/nonexistent/rs"};
	e = NULL;
	assert_true(rs_check_run(&gone, &r, &e) < 0);
	rs_error_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distro_matching),
		cmocka_unit_test(test_distro_validation),
		cmocka_unit_test(test_engine_parse),
		cmocka_unit_test(test_check_every_rule_once_and_merge),
		cmocka_unit_test(test_check_rule_filter_and_postinstall),
	};
	return cmocka_run_group_tests_name("core", tests, setup, teardown);
}
