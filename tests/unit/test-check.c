/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/core/check.c: rs_check_run on small fixture roots built here. */
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
#include "checks/registry.h"
#include "core/check.h"

#define ENG(x) RS_ENGINE_BIT(RS_ENGINE_##x)

struct fx {
	char root[64];
	struct rs_report *rep;
};

static const char *at(struct fx *f, const char *rel)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	return p;
}

static void mkparents(struct fx *f, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", f->root, rel);
	for (char *s = p + strlen(f->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
}

static void put(struct fx *f, const char *rel, const char *text)
{
	mkparents(f, rel);
	FILE *fp = fopen(at(f, rel), "w");
	if (!fp)
		fail_msg("cannot create %s: %s", rel, strerror(errno));
	fputs(text, fp);
	fclose(fp);
}

static void mkdir_p(struct fx *f, const char *rel)
{
	mkparents(f, rel);
	mkdir(at(f, rel), 0755);
}

static const char mi_v2[] =
	"21 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
	"25 21 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw\n";
static const char mi_hybrid[] = "21 1 8:1 / / rw,relatime - ext4 /dev/vda1 rw\n"
				"31 21 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
				"32 31 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
				"33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

/* A healthy Debian 12 host for alice (1000), pure cgroup v2. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/rs-check.XXXXXX");
	if (!mkdtemp(f->root) || chmod(f->root, 0755) < 0)
		return -1;
	*state = f;
	put(f, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
	put(f, "etc/passwd",
	    "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
	    "bob:x:1001:1001::/home/bob:/bin/sh\n");
	put(f, "etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\nkvm:x:36:alice\n");
	put(f, "etc/subuid", "alice:100000:65536\n");
	put(f, "etc/subgid", "alice:100000:65536\n");
	put(f, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
	put(f, "proc/sys/user/max_user_namespaces", "63359\n");
	put(f, "proc/self/mountinfo", mi_v2);
	put(f, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	mkdir_p(f, "home/alice");
	/* only the runtime/storage rules look at the owner: not root, not fatal */
	if (chown(at(f, "home/alice"), 1000, 1000) < 0 && geteuid() == 0)
		return -1;
	chmod(at(f, "home/alice"), 0700);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_report_free(f->rep);
	int r = nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return r;
}

/* Runs check; the report is freed by teardown. */
static struct rs_report *run(struct fx *f, struct rs_check_opts o)
{
	struct rs_error *e = NULL;
	o.root = f->root;
	o.rules = &rs_rules;
	rs_report_free(f->rep);
	f->rep = NULL;
	int r = rs_check_run(&o, &f->rep, &e);
	if (r < 0) {
		char m[512];
		snprintf(m, sizeof(m), "rs_check_run: %d %s", r, e ? e->msg : "");
		rs_error_free(e);
		fail_msg("%s", m);
	}
	assert_null(e);
	assert_non_null(f->rep);
	return f->rep;
}

static const struct rs_result *res(const struct rs_report *r, const char *id)
{
	const struct rs_result *x = rs_ctx_result(&r->ctx, id);
	if (!x)
		fail_msg("no result for '%s'", id);
	return x;
}

static unsigned total(const struct rs_report *r)
{
	return r->counts[0] + r->counts[1] + r->counts[2] + r->counts[3];
}

static void test_check_every_rule_reported_exactly_once(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice",
							    .engines_given = true,
							    .engines = RS_ENGINES_ALL});
	assert_int_equal(total(r), rs_rules.n);
	for (size_t i = 0; i < rs_rules.n; i++) {
		const struct rs_result *x = &r->ctx.results[i];
		assert_ptr_equal(x->rule, rs_rules.v[i]);
		assert_true(x->selected);
		assert_non_null(x->f.message);
		assert_true(x->f.status <= RS_STATUS_FAIL);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(rs_rules.v[j]->id, rs_rules.v[i]->id);
	}
	/* the JSON report carries each id once, too */
	json_t *doc = rs_report_json(r);
	json_t *results = json_object_get(doc, "results");
	assert_int_equal(json_array_size(results), rs_rules.n);
	for (size_t i = 0; i < rs_rules.n; i++)
		assert_string_equal(json_string_value(
					    json_object_get(json_array_get(results, i), "id")),
				    rs_rules.v[i]->id);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")),
			    "rootless-setup/report/v1");
	json_decref(doc);
}

static void test_check_unselected_engine_rules_skip(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice",
							    .engines_given = true,
							    .engines = ENG(CONTAINERD)});
	static const char *const other[] = {"kvm.device",	  "kvm.group",
					    "isulad.permissions", "isulad.stale-state",
					    "kata.config",	  "kata.image",
					    "podman.config",	  NULL};
	for (const char *const *id = other; *id; id++) {
		const struct rs_result *x = res(r, *id);
		if (x->f.status != RS_STATUS_SKIP || !strstr(x->f.message, "only for"))
			fail_msg("%s: %s '%s', want skip 'only for ...'", *id,
				 rs_status_name(x->f.status), x->f.message);
	}
	assert_int_equal(res(r, "kernel.version")->f.status, RS_STATUS_PASS);
	assert_int_equal(res(r, "subid.ranges")->f.status, RS_STATUS_PASS);
	assert_int_equal(total(r), rs_rules.n);
}

static void test_check_no_engine_installed_common_rules_only(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_int_equal(r->ctx.engines, 0);
	assert_int_equal(res(r, "storage.fs")->f.status, RS_STATUS_SKIP);
	assert_int_equal(res(r, "network.tun")->f.status, RS_STATUS_SKIP);
	assert_int_equal(res(r, "kernel.version")->f.status, RS_STATUS_PASS);
	assert_int_equal(res(r, "kernel.version")->engine, RS_ENGINE_NONE);
}

static void test_check_installed_daemon_selects_its_engine(void **state)
{
	struct fx *f = *state;
	put(f, "usr/bin/containerd", "#!/bin/sh\n");
	put(f, "usr/local/bin/buildkitd", "#!/bin/sh\n");
	/* a program: a file that is not executable is not one */
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_int_equal(r->ctx.engines, 0);
	chmod(at(f, "usr/bin/containerd"), 0755);
	chmod(at(f, "usr/local/bin/buildkitd"), 0755);
	r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_int_equal(r->ctx.engines, ENG(CONTAINERD) | ENG(BUILDKIT));
	assert_int_equal(res(r, "kvm.device")->f.status, RS_STATUS_SKIP);
}

static void test_check_rule_selection_limits_counts(void **state)
{
	struct fx *f = *state;
	static const char *const only[] = {"kernel.version", "userns.max", NULL};
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice", .only = only});
	assert_int_equal(total(r), 2);
	assert_int_equal(r->counts[RS_STATUS_PASS], 2);
	for (size_t i = 0; i < rs_rules.n; i++) {
		bool want = !strcmp(rs_rules.v[i]->id, "kernel.version") ||
			    !strcmp(rs_rules.v[i]->id, "userns.max");
		assert_int_equal(r->ctx.results[i].selected, want);
	}
	json_t *doc = rs_report_json(r);
	assert_int_equal(json_array_size(json_object_get(doc, "results")), 2);
	json_decref(doc);
}

static void test_check_unknown_user_enoent(void **state)
{
	struct fx *f = *state;
	struct rs_check_opts o = {.rules = &rs_rules, .root = f->root, .user = "carol"};
	struct rs_error *e = NULL;
	struct rs_report *r = NULL;
	assert_int_equal(rs_check_run(&o, &r, &e), -ENOENT);
	assert_null(r);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "carol"));
	rs_error_free(e);
	e = NULL;
	o.user = "4242";
	assert_int_equal(rs_check_run(&o, &r, &e), -ENOENT);
	rs_error_free(e);
}

static void test_check_invalid_user_name_einval(void **state)
{
	struct fx *f = *state;
	struct rs_check_opts o = {.rules = &rs_rules, .root = f->root, .user = "a:b"};
	struct rs_error *e = NULL;
	struct rs_report *r = NULL;
	assert_int_equal(rs_check_run(&o, &r, &e), -EINVAL);
	assert_null(r);
	assert_non_null(e);
	assert_true(e->input); /* exit 2, the caller's input */
	rs_error_free(e);
}

static void test_check_unknown_distro_override_enoent(void **state)
{
	struct fx *f = *state;
	struct rs_check_opts o = {.rules = &rs_rules,
				  .root = f->root,
				  .user = "alice",
				  .distro = "plan9"};
	struct rs_error *e = NULL;
	struct rs_report *r = NULL;
	assert_int_equal(rs_check_run(&o, &r, &e), -ENOENT);
	assert_null(r);
	assert_non_null(e);
	assert_true(e->input); /* exit 2, the caller's input */
	rs_error_free(e);
	r = run(f, (struct rs_check_opts){.user = "alice", .distro = "rhel"});
	assert_string_equal(r->ctx.distro.id, "rhel");
	r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_string_equal(r->ctx.distro.id, "debian");
}

/* a missing root is "cannot inspect" (exit 3): a host error, not the
 * caller's input (exit 2) */
static void test_check_missing_root_host_error(void **state)
{
	struct fx *f = *state;
	struct rs_check_opts o = {.rules = &rs_rules,
				  .root = at(f, "nonexistent"),
				  .user = "alice"};
	struct rs_error *e = NULL;
	struct rs_report *r = NULL;
	int ret = rs_check_run(&o, &r, &e);
	assert_true(ret < 0);
	assert_null(r);
	assert_non_null(e);
	assert_false(e->input);
	rs_error_free(e);
}

static void test_check_postinstall_root_no_user_skips_needs_user(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.postinstall = true,
							    .engines_given = true,
							    .engines = RS_ENGINES_ALL});
	assert_false(r->ctx.has_user);
	size_t n = 0;
	for (size_t i = 0; i < rs_rules.n; i++) {
		const struct rs_result *x = &r->ctx.results[i];
		if (!rs_rules.v[i]->needs_user) {
			if (x->f.message && !strncmp(x->f.message, "no target user", 14))
				fail_msg("%s does not need a user but says so", rs_rules.v[i]->id);
			continue;
		}
		n++;
		if (x->f.status != RS_STATUS_SKIP ||
		    strcmp(x->f.message, "no target user: name one with --user") != 0)
			fail_msg("%s: %s '%s', want skip 'no target user: ...'", rs_rules.v[i]->id,
				 rs_status_name(x->f.status), x->f.message);
	}
	assert_true(n >= 5);
	assert_int_equal(res(r, "kernel.version")->f.status, RS_STATUS_PASS);
	assert_int_equal(res(r, "userns.max")->f.status, RS_STATUS_PASS);
	json_t *doc = rs_report_json(r);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "host"), "user")));
	json_decref(doc);
}

static void test_check_postinstall_with_sudo_user_checks_that_user(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.postinstall = true,
							    .sudo_user = "alice"});
	assert_true(r->ctx.has_user);
	assert_string_equal(r->ctx.user.name, "alice");
	assert_int_equal(res(r, "subid.ranges")->f.status, RS_STATUS_PASS);
	r = run(f, (struct rs_check_opts){.pkexec_uid = "1001"});
	assert_string_equal(r->ctx.user.name, "bob");
	assert_int_equal(res(r, "subid.ranges")->f.status, RS_STATUS_FAIL);
	r = run(f, (struct rs_check_opts){.user = "bob", .sudo_user = "alice"});
	assert_string_equal(r->ctx.user.name, "bob");
}

/* root naming nobody checks the host: per-user rules skip, a note names
 * --user; root as a target only when named (with the rootless warning) */
static void test_check_root_caller_without_user_checks_host(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.host_only = true});
	assert_false(r->ctx.has_user);
	bool noted = false;
	for (size_t i = 0; i < r->notes.n; i++)
		noted |= strstr(r->notes.v[i], "--user") != NULL;
	assert_true(noted);
	assert_int_equal(res(r, "subid.ranges")->f.status, RS_STATUS_SKIP);
	assert_int_equal(res(r, "kernel.version")->f.status, RS_STATUS_PASS);
	/* verbs that act for a user (generate, install) still target root */
	r = run(f, (struct rs_check_opts){0});
	assert_true(r->ctx.has_user);
	assert_int_equal(r->ctx.user.uid, 0);
	r = run(f, (struct rs_check_opts){.user = "root", .host_only = true});
	assert_true(r->ctx.has_user);
	assert_int_equal(r->ctx.user.uid, 0);
	bool warned = false;
	for (size_t i = 0; i < r->notes.n; i++)
		warned |= strstr(r->notes.v[i], "non-root") != NULL;
	assert_true(warned);
}

static void test_check_cgroup_hybrid_most_severe_engine_named(void **state)
{
	struct fx *f = *state;
	put(f, "proc/self/mountinfo", mi_hybrid);
	unlink(at(f, "sys/fs/cgroup/cgroup.controllers"));
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice",
							    .engines_given = true,
							    .engines = ENG(ISULAD) | ENG(KATA)});
	const struct rs_result *x = res(r, "cgroup.v2");
	assert_int_equal(x->f.status, RS_STATUS_FAIL);
	assert_int_equal(x->engine, RS_ENGINE_KATA);
	assert_true(strncmp(x->f.message, "kata: ", 6) == 0);
	assert_null(strstr(x->f.message + 6, "kata:"));
	assert_string_equal(r->cgroup_manager, "none");
	/* order does not matter: containerd (warn) + kata (fail) names kata */
	r = run(f, (struct rs_check_opts){.user = "alice",
					  .engines_given = true,
					  .engines = ENG(CONTAINERD) | ENG(KATA)});
	x = res(r, "cgroup.v2");
	assert_int_equal(x->f.status, RS_STATUS_FAIL);
	assert_true(strncmp(x->f.message, "kata: ", 6) == 0);
}

static void test_check_cgroup_hybrid_single_engine_unprefixed(void **state)
{
	struct fx *f = *state;
	put(f, "proc/self/mountinfo", mi_hybrid);
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice",
							    .engines_given = true,
							    .engines = ENG(CONTAINERD)});
	const struct rs_result *x = res(r, "cgroup.v2");
	assert_int_equal(x->f.status, RS_STATUS_WARN);
	assert_null(strstr(x->f.message, "containerd:"));
	r = run(f, (struct rs_check_opts){.user = "alice",
					  .engines_given = true,
					  .engines = ENG(ISULAD)});
	/* iSulad runs there, in v1 groups root makes per user */
	x = res(r, "cgroup.v2");
	assert_int_equal(x->f.status, RS_STATUS_WARN);
	assert_non_null(strstr(x->f.message, "isulad.cgroups"));
}

static void test_check_kernel_below_kata_minimum_fail_names_kata(void **state)
{
	struct fx *f = *state;
	put(f, "proc/sys/kernel/osrelease", "4.9.0-8-amd64\n");
	struct rs_report *r = run(f,
				  (struct rs_check_opts){.user = "alice",
							 .engines_given = true,
							 .engines = ENG(CONTAINERD) | ENG(KATA)});
	const struct rs_result *x = res(r, "kernel.version");
	assert_int_equal(x->f.status, RS_STATUS_FAIL);
	assert_int_equal(x->engine, RS_ENGINE_KATA);
	assert_true(strncmp(x->f.message, "kata: ", 6) == 0);
	assert_non_null(strstr(x->f.message, "4.14"));
	r = run(f, (struct rs_check_opts){.user = "alice",
					  .engines_given = true,
					  .engines = ENG(CONTAINERD)});
	assert_int_equal(res(r, "kernel.version")->f.status, RS_STATUS_PASS);
}

static void test_check_cgroup_manager_decision(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_int_equal(res(r, "cgroup.v2")->f.status, RS_STATUS_PASS);
	assert_string_equal(r->cgroup_manager, "cgroupfs");
	mkdir_p(f, "run/systemd/system");
	r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_string_equal(r->cgroup_manager, "systemd");
}

static void test_check_userns_max_zero_fails(void **state)
{
	struct fx *f = *state;
	put(f, "proc/sys/user/max_user_namespaces", "0\n");
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_int_equal(res(r, "userns.max")->f.status, RS_STATUS_FAIL);
	assert_int_equal(r->counts[RS_STATUS_FAIL] >= 1, 1);
}

static void test_check_probe_skipped_under_root(void **state)
{
	struct fx *f = *state;
	struct rs_report *r = run(f, (struct rs_check_opts){.user = "alice"});
	assert_false(r->ctx.host->live);
	assert_int_equal(res(r, "userns.probe")->f.status, RS_STATUS_SKIP);
	assert_false(r->ctx.probe.ran);
}

/* "check has no side effects": the tree is the same before and after */
static char listing[1 << 16];
static size_t listing_len;

static int list_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)type;
	(void)ftw;
	int n = snprintf(listing + listing_len, sizeof(listing) - listing_len, "%s %o %lld %lld\n",
			 p, st->st_mode, (long long)st->st_size, (long long)st->st_mtime);
	if (n > 0 && (size_t)n < sizeof(listing) - listing_len)
		listing_len += (size_t)n;
	return 0;
}

static void test_check_fixture_tree_left_unchanged(void **state)
{
	struct fx *f = *state;
	static char before[sizeof(listing)];
	listing_len = 0;
	nftw(f->root, list_one, 16, FTW_PHYS);
	memcpy(before, listing, listing_len + 1);
	run(f, (struct rs_check_opts){.user = "alice",
				      .engines_given = true,
				      .engines = RS_ENGINES_ALL});
	listing_len = 0;
	nftw(f->root, list_one, 16, FTW_PHYS);
	assert_string_equal(listing, before);
}

static int drops;
static void count_drop(void *obj)
{
	drops++;
	free(obj);
}

/* What a rule's start began: taken back by that rule only, once; what is
 * never taken, or has no room, is dropped (the probe's child killed). */
static void test_check_started_work_taken_or_dropped(void **state)
{
	(void)state;
	struct rs_ctx ctx = {0};
	const struct rs_rule a = {.id = "a"}, b = {.id = "b"}, c = {.id = "c"};
	void *pa = malloc(1), *pb = malloc(1);

	drops = 0;
	rs_ctx_started_keep(&ctx, &a, pa, count_drop);
	rs_ctx_started_keep(&ctx, &b, pb, count_drop);
	for (int i = RS_STARTED_MAX; i < 3; i++) /* no room: dropped at once */
		rs_ctx_started_keep(&ctx, &c, malloc(1), count_drop);
	assert_int_equal(drops, 3 - RS_STARTED_MAX);
	assert_ptr_equal(rs_ctx_started_take(&ctx, &a), pa);
	assert_null(rs_ctx_started_take(&ctx, &a));
	free(pa);
	rs_ctx_started_drop(&ctx);
	assert_int_equal(drops, 3 - RS_STARTED_MAX + 1);
	assert_null(rs_ctx_started_take(&ctx, &b));
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_check_every_rule_reported_exactly_once),
		T(test_check_unselected_engine_rules_skip),
		T(test_check_no_engine_installed_common_rules_only),
		T(test_check_installed_daemon_selects_its_engine),
		T(test_check_rule_selection_limits_counts),
		T(test_check_unknown_user_enoent),
		T(test_check_invalid_user_name_einval),
		T(test_check_unknown_distro_override_enoent),
		T(test_check_missing_root_host_error),
		T(test_check_postinstall_root_no_user_skips_needs_user),
		T(test_check_postinstall_with_sudo_user_checks_that_user),
		T(test_check_root_caller_without_user_checks_host),
		T(test_check_cgroup_hybrid_most_severe_engine_named),
		T(test_check_cgroup_hybrid_single_engine_unprefixed),
		T(test_check_kernel_below_kata_minimum_fail_names_kata),
		T(test_check_cgroup_manager_decision),
		T(test_check_userns_max_zero_fails),
		T(test_check_probe_skipped_under_root),
		T(test_check_fixture_tree_left_unchanged),
		T(test_check_started_work_taken_or_dropped),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
