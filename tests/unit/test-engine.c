/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/core/engine.c: engine names, DevKit as its own engine, the engine
 * table, and the walk of an engine's copied files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/engine.h"
#include "host/host.h"
#include "lib/strutil.h"

static void test_engine_parse_each_name_single_bit(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum rs_engine e;
	} names[] = {
		{"isulad", RS_ENGINE_ISULAD},	  {"containerd", RS_ENGINE_CONTAINERD},
		{"buildkit", RS_ENGINE_BUILDKIT}, {"devkit", RS_ENGINE_DEVKIT},
		{"podman", RS_ENGINE_PODMAN},	  {"kata", RS_ENGINE_KATA},
		{"oci", RS_ENGINE_OCI},
	};
	unsigned seen = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned m = 0;
		assert_int_equal(rs_engine_parse(names[i].name, &m), 0);
		assert_int_equal(m, RS_ENGINE_BIT(names[i].e));
		assert_int_equal(seen & m, 0);
		seen |= m;
	}
	assert_int_equal(seen, RS_ENGINES_ALL);
}

static void test_engine_devkit_own_layout_mirrors_buildkit(void **state)
{
	(void)state;
	unsigned m = 0;
	const struct rs_engine_info *d = rs_engine_info(RS_ENGINE_DEVKIT);
	const struct rs_engine_info *b = rs_engine_info(RS_ENGINE_BUILDKIT);
	assert_int_equal(rs_engine_parse("devkit", &m), 0);
	assert_int_equal(m, RS_ENGINE_BIT(RS_ENGINE_DEVKIT));
	assert_string_equal(d->programs[0], "devkitd");
	assert_string_equal(d->opt_dir, "opt/devkit/bin");
	assert_string_equal(d->daemon, "devkitd");
	assert_string_equal(d->socket, "devkit/devkitd.sock");
	assert_string_equal(d->config, "devkit/devkitd.toml");
	assert_string_equal(d->data_dir, ".local/share/devkit");
	assert_string_equal(b->socket, "buildkit/buildkitd.sock");
	assert_string_equal(b->daemon, "buildkitd");
	assert_true(RS_ENGINES_STORAGE & RS_ENGINE_BIT(RS_ENGINE_DEVKIT));
}

static void test_engine_client_value(void **state)
{
	(void)state;
	char *v = rs_engine_client_value(RS_ENGINE_CONTAINERD, "/run/user/1000");
	assert_string_equal(v, "/run/user/1000/containerd/containerd.sock");
	free(v);
	v = rs_engine_client_value(RS_ENGINE_DEVKIT, "/run/user/1000");
	assert_string_equal(v, "unix:///run/user/1000/devkit/devkitd.sock");
	free(v);
	assert_null(rs_engine_client_value(RS_ENGINE_PODMAN, "/run/user/1000"));
	assert_null(rs_engine_client_value(RS_ENGINE_NONE, "/run/user/1000"));
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		const struct rs_engine_info *i = rs_engine_info(e);
		assert_true(!i->client_var || i->socket); /* a variable names a socket */
		assert_true(!i->daemon || i->config);	  /* a daemon has a configuration */
	}
}

static void test_engine_parse_all_every_engine(void **state)
{
	(void)state;
	unsigned m = 0;
	assert_int_equal(rs_engine_parse("all", &m), 0);
	assert_int_equal(m, RS_ENGINES_ALL);
	assert_int_equal(m, (1u << RS_ENGINE_COUNT) - 1);
}

static void test_engine_parse_unknown_einval(void **state)
{
	(void)state;
	static const char *const bad[] = {"docker",  "",      "runc",
					  "isulad ", " kata", "containerd,podman",
					  "al",	     "allx",  "devkitd",
					  NULL};
	for (const char *const *b = bad; *b; b++) {
		unsigned m = 12345;
		if (rs_engine_parse(*b, &m) != -EINVAL)
			fail_msg("'%s' accepted", *b);
	}
}

static void test_engine_name_round_trips_and_none_is_common(void **state)
{
	(void)state;
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		unsigned m = 0;
		assert_int_equal(rs_engine_parse(rs_engine_name(e), &m), 0);
		assert_int_equal(m, RS_ENGINE_BIT(e));
	}
	assert_string_equal(rs_engine_name(RS_ENGINE_NONE), "common");
	assert_string_equal(rs_engine_name(RS_ENGINE_BUILDKIT), "buildkit");
}

static void test_engine_info_every_engine_has_programs(void **state)
{
	(void)state;
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		const struct rs_engine_info *i = rs_engine_info(e);
		assert_non_null(i);
		assert_non_null(i->programs);
		assert_non_null(i->programs[0]);
		for (const char *const *b = i->programs; *b; b++)
			assert_null(strchr(*b, '/')); /* names, looked for by core/find.c */
		assert_true(!i->opt_dir || i->opt_dir[0] != '/'); /* root-relative */
		if (RS_ENGINES_STORAGE & RS_ENGINE_BIT(e))
			assert_non_null(i->data_dir);
	}
	assert_null(rs_engine_info(RS_ENGINE_NONE));
	assert_null(rs_engine_info(RS_ENGINE_OCI)->data_dir);
	assert_string_equal(rs_engine_info(RS_ENGINE_CONTAINERD)->data_dir,
			    ".local/share/containerd");
	assert_int_equal(RS_ENGINES_STORAGE & RS_ENGINE_BIT(RS_ENGINE_KATA), 0);
	assert_int_equal(RS_ENGINES_STORAGE & RS_ENGINE_BIT(RS_ENGINE_OCI), 0);
	assert_string_equal(rs_engine_info(RS_ENGINE_KATA)->opt_dir, "opt/kata/bin");
	assert_string_equal(rs_engine_home_dirs[0], ".local/bin");
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static void put(const char *root, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fclose(fp);
}

static int seen_file(const char *rel, const struct stat *st, void *arg)
{
	struct rs_strv *seen = arg;
	assert_false(S_ISDIR(st->st_mode));
	rs_strv_push(seen, rel);
	return 0;
}

static int stop_at_second(const char *rel, const struct stat *st, void *arg)
{
	(void)st;
	struct rs_strv *seen = arg;
	rs_strv_push(seen, rel);
	return seen->n == 2 ? 42 : 0;
}

/* iSulad's copied files: each directory's own files, table order then by
 * name, both ways of asking; a subdirectory, a dangling symlink and a
 * missing directory are passed over; fn's non-zero value ends the walk. */
static void test_engine_each_copied_files_in_order(void **state)
{
	(void)state;
	char root[] = "/tmp/rs-engine.XXXXXX", p[512];
	struct rs_host *h = NULL;

	assert_non_null(mkdtemp(root));
	static const char *const dirs[] = {"etc", "etc/isulad", "etc/isulad/sub", "etc/default",
					   "etc/default/isulad"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	put(root, "etc/isulad/daemon.json");
	put(root, "etc/isulad/b.json");
	put(root, "etc/isulad/sub/deeper.json");
	put(root, "etc/default/isulad/config.json");
	snprintf(p, sizeof(p), "%s/etc/isulad/dangling", root);
	assert_int_equal(symlink("nowhere", p), 0);
	/* etc/default/isulad/hooks is absent */
	assert_int_equal(rs_host_open(root, &h, NULL), 0);
	for (int cached = 0; cached < 2; cached++) {
		struct rs_strv seen = {0};
		assert_int_equal(rs_engine_each_copied(h, RS_ENGINE_ISULAD, cached, seen_file,
						       &seen),
				 0);
		assert_int_equal(seen.n, 3);
		assert_string_equal(seen.v[0], "etc/isulad/b.json");
		assert_string_equal(seen.v[1], "etc/isulad/daemon.json");
		assert_string_equal(seen.v[2], "etc/default/isulad/config.json");
		rs_strv_clear(&seen);
	}
	struct rs_strv seen = {0};
	assert_int_equal(rs_engine_each_copied(h, RS_ENGINE_ISULAD, false, stop_at_second, &seen),
			 42);
	assert_int_equal(seen.n, 2);
	rs_strv_clear(&seen);
	/* an engine with no copied_dirs: nothing */
	assert_int_equal(rs_engine_each_copied(h, RS_ENGINE_PODMAN, false, seen_file, &seen), 0);
	assert_int_equal(seen.n, 0);
	rs_host_free(h);
	assert_int_equal(nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_parse_each_name_single_bit),
		cmocka_unit_test(test_engine_devkit_own_layout_mirrors_buildkit),
		cmocka_unit_test(test_engine_client_value),
		cmocka_unit_test(test_engine_parse_all_every_engine),
		cmocka_unit_test(test_engine_parse_unknown_einval),
		cmocka_unit_test(test_engine_name_round_trips_and_none_is_common),
		cmocka_unit_test(test_engine_info_every_engine_has_programs),
		cmocka_unit_test(test_engine_each_copied_files_in_order),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
