/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/core/diagnose.c's verdict (rs_diag_judge) against a set of results,
 * and install's notes on a unit that did not come up
 * (src/install/came-up.c, rs_inst_diagnose_log): which rule is the cause
 * now, when the known cause does not apply, when nothing could be checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "checks/registry.h"
#include "core/diagnose.h"
#include "lib/xalloc.h"
#include "install/record.h"

/* A context whose results say status for every rule, except those named
 * in over (id, status pairs). */
static void fake_ctx(struct rs_ctx *ctx, enum rs_status status, const char *const *over)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->rules = &rs_rules;
	ctx->results = rs_xcalloc(rs_rules.n, sizeof(struct rs_result));
	for (size_t i = 0; i < rs_rules.n; i++) {
		struct rs_result *r = &ctx->results[i];
		r->rule = rs_rules.v[i];
		r->selected = true;
		rs_finding_set(&r->f, status, "%s is as it is", rs_rules.v[i]->id);
		for (const char *const *o = over; o && *o; o += 2)
			if (strcmp(*o, rs_rules.v[i]->id) == 0)
				rs_finding_set(&r->f, (enum rs_status)(o[1][0] - '0'),
					       "%s: overridden", rs_rules.v[i]->id);
	}
}

static void fake_clear(struct rs_ctx *ctx)
{
	for (size_t i = 0; i < rs_rules.n; i++)
		rs_finding_clear(&ctx->results[i].f);
	free(ctx->results);
}

static struct rs_diagnosis judge(const char *text, const struct rs_ctx *ctx)
{
	struct rs_diagnosis d = {0};
	struct rs_error *err = NULL;
	assert_int_equal(rs_diag_scan(text, strlen(text), 0, &d.scan, &err), 0);
	rs_diag_judge(&d, ctx);
	return d;
}

static void done(struct rs_diagnosis *d)
{
	rs_diag_judge_clear(d);
	rs_diag_scan_free(d->scan);
}

/* "3": RS_STATUS_FAIL, "2": WARN, "0": SKIP */
static void first_failing_rule_in_match_order_is_the_cause(void **state)
{
	(void)state;
	struct rs_ctx ctx;
	static const char *const over[] = {"subid.ranges", "3", NULL};
	fake_ctx(&ctx, RS_STATUS_PASS, over);
	/* newuidmap-write-eperm names subid.helpers first: it passes, so the
	 * cause is the next one that fails */
	struct rs_diagnosis d = judge("newuidmap: write to uid_map failed: Operation not permitted",
				      &ctx);
	assert_int_equal(d.verdict, RS_DIAG_FAILS_NOW);
	assert_string_equal(d.culprit->rule->id, "subid.ranges");
	assert_string_equal(d.culprit_match->entry->id, "newuidmap-write-eperm");
	done(&d);
	fake_clear(&ctx);
}

static void a_warning_counts_as_the_cause(void **state)
{
	(void)state;
	struct rs_ctx ctx;
	static const char *const over[] = {"network.tun", "2", NULL};
	fake_ctx(&ctx, RS_STATUS_PASS, over);
	struct rs_diagnosis d = judge("open(\"/dev/net/tun\"): No such device", &ctx);
	assert_int_equal(d.verdict, RS_DIAG_FAILS_NOW);
	assert_string_equal(d.culprit->rule->id, "network.tun");
	done(&d);
	fake_clear(&ctx);
}

static void all_passing_is_not_here_and_skips_are_said(void **state)
{
	(void)state;
	struct rs_ctx ctx;
	fake_ctx(&ctx, RS_STATUS_PASS, NULL);
	struct rs_diagnosis d = judge("newuidmap: Could not set caps", &ctx);
	assert_int_equal(d.verdict, RS_DIAG_NOT_HERE);
	assert_null(d.culprit);
	done(&d);
	static const char *const over[] = {"subid.helpers", "0", NULL};
	fake_clear(&ctx);
	fake_ctx(&ctx, RS_STATUS_PASS, over);
	d = judge("newuidmap: Could not set caps", &ctx);
	assert_int_equal(d.verdict, RS_DIAG_INCOMPLETE);
	assert_int_equal(d.unchecked.n, 1);
	assert_string_equal(d.unchecked.v[0], "subid.helpers");
	done(&d);
	fake_clear(&ctx);
}

static void rule_less_entry_is_by_hand_and_nothing_is_unrecognised(void **state)
{
	(void)state;
	struct rs_diagnosis d = judge("rootless containers require user namespaces", NULL);
	assert_int_equal(d.verdict, RS_DIAG_BY_HAND);
	assert_non_null(d.scan->m[0].entry->fix);
	assert_non_null(strstr(d.scan->m[0].entry->fix, "oci rootless"));
	done(&d);
	d = judge("all is well\n", NULL);
	assert_int_equal(d.verdict, RS_DIAG_UNRECOGNISED);
	done(&d);
}

static bool has_note(const struct rs_actions *a, const char *rule, const char *part)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->a[i].rule, rule) == 0 && a->a[i].detail &&
		    strstr(a->a[i].detail, part))
			return true;
	return false;
}

static void install_notes_name_the_error_and_the_rule(void **state)
{
	(void)state;
	struct rs_ctx ctx;
	static const char *const over[] = {"userns.max", "3", NULL};
	static const char journal[] =
		"2026-12-04T10:00:01+0000 rootless-setup[812]: rootless-setup: cannot create the "
		"namespaces: No space left on device (likely cause: user.max_user_namespaces is 0 "
		"or used up)\n"
		"2026-12-04T10:00:01+0000 systemd[1201]: rootless-setup-containerd.service: Main "
		"process exited, code=exited, status=1/FAILURE\n";
	fake_ctx(&ctx, RS_STATUS_PASS, over);
	struct rs_gen_ctx f = {.ctx = &ctx};
	rs_inst_diagnose_log(&f, RS_ENGINE_CONTAINERD, journal, strlen(journal),
			     "journalctl --user -u rootless-setup-containerd.service");
	assert_true(has_note(&f.acts, "install", "launch-userns-enospc (line 1"));
	assert_true(has_note(&f.acts, "userns.max", "fails now"));
	rs_actions_clear(&f.acts);
	/* nothing known: the note says how to read it */
	rs_inst_diagnose_log(&f, RS_ENGINE_CONTAINERD, "hello\n", 6, "journalctl -u x");
	assert_true(has_note(&f.acts, "install", "read them with: journalctl -u x"));
	rs_actions_clear(&f.acts);
	fake_clear(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_failing_rule_in_match_order_is_the_cause),
		cmocka_unit_test(a_warning_counts_as_the_cause),
		cmocka_unit_test(all_passing_is_not_here_and_skips_are_said),
		cmocka_unit_test(rule_less_entry_is_by_hand_and_nothing_is_unrecognised),
		cmocka_unit_test(install_notes_name_the_error_and_the_rule),
	};
	return cmocka_run_group_tests_name("diagnose", tests, NULL, NULL);
}
