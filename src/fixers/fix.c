/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "checks/registry.h"
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

/* qsort order of the results to fix: by fixer order, then report order. */
static int by_fixer_order(const void *a, const void *b)
{
	const struct rs_result *x = *(const struct rs_result *const *)a;
	const struct rs_result *y = *(const struct rs_result *const *)b;
	if (x->rule->fixer->order != y->rule->fixer->order)
		return x->rule->fixer->order < y->rule->fixer->order ? -1 : 1;
	return x < y ? -1 : x > y;
}

int rs_fix_run(const struct rs_fix_opts *o, struct rs_action_report **out, struct rs_error **err)
{
	struct rs_check_opts co = o->check;
	struct rs_report *rep = NULL;

	co.no_probe = true;
	int r = rs_check_run(&co, &rep, err);
	if (r < 0)
		return r;
	struct rs_fix_ctx f = {.o = o, .ctx = &rep->ctx, .acts.dry_run = o->dry_run};
	/* the selected rules that warn or fail and have a fixer, in fixer
	 * order, which puts what others need first */
	/* an array of pointers: sizeof(*todo) is a pointer's size on purpose */
	_cleanup_free_ const struct rs_result **todo =
		rs_xcalloc(rep->ctx.rules->n, sizeof(*todo)); // NOLINT(bugprone-sizeof-expression)
	size_t n = 0;
	for (size_t i = 0; i < rep->ctx.rules->n; i++) {
		const struct rs_result *res = &rep->ctx.results[i];
		if (res->selected && res->rule->fixer && res->f.status >= RS_STATUS_WARN)
			todo[n++] = res;
	}
	qsort(todo, n, sizeof(*todo), by_fixer_order); // NOLINT(bugprone-sizeof-expression)
	for (size_t i = 0; i < n; i++)
		if (todo[i]->rule->fixer->run(&f, todo[i]) < 0)
			rs_fix_action(&f, todo[i]->rule->id, "note", NULL, "could not plan a fix")
				->failed = true;
	*out = rs_action_report_new(rep, &f.acts);
	return 0;
}

int rs_fix_write(struct rs_fix_ctx *f, const char *rule, const char *rel, const char *text,
		 mode_t mode, const char *detail)
{
	struct rs_write_opts wo = {.mode = mode, .uid = 0, .gid = 0, .dry_run = f->o->dry_run};
	struct rs_error *e = NULL;
	_cleanup_free_ char *dir = rs_xstrdup(rel), *abs = rs_xasprintf("/%s", rs_host_rel(rel));
	char *slash = strrchr(dir, '/');
	int r = 0;

	/* Container-Optimized OS and Bottlerocket rebuild /etc at boot: a write
	 * there would claim a fix that is gone tomorrow */
	if (rs_startswith(rs_host_rel(rel), "etc/") &&
	    !rs_distro_bool(&f->ctx->distro, "etc_persistent", true)) {
		const char *hint = rs_ctx_hint(f->ctx, rule, NULL);
		rs_fix_action(f, rule, "note", abs, "/etc does not persist on this system%s%s",
			      hint ? ": " : "; use its provisioning (cloud-init, settings API)",
			      hint ? hint : "")
			->failed = true;
		return -EROFS;
	}
	if (slash) {
		*slash = '\0';
		r = rs_safe_mkdirs(f->ctx->host, dir, 0755, 0, 0, f->o->dry_run, &e);
	}
	/* in a dry run a missing directory means the file is new too */
	if (r >= 0 && !(r == 1 && f->o->dry_run))
		r = rs_safe_write(f->ctx->host, rel, text, strlen(text), &wo, &e);
	struct rs_action *a = rs_fix_action(f, rule, "write", abs, "%s", detail);
	a->changed = r > 0;
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "%s", e ? e->msg : strerror(-r));
	}
	rs_error_free(e);
	return r;
}

bool rs_fix_live(struct rs_fix_ctx *f, const char **why)
{
	const struct rs_result *env = rs_ctx_result(f->ctx, "env.container");
	if (!f->ctx->host->live)
		*why = "not applied to the running system under --root";
	else if (env && env->f.status == RS_STATUS_WARN)
		*why = "not applied to the running system: inside a container";
	else
		return true;
	return false;
}

bool rs_fix_user_may(const struct rs_action_report *r)
{
	for (size_t i = 0; i < r->acts.n; i++) {
		const struct rs_rule *rule = r->acts.a[i].changed
						     ? rs_rule_find(&rs_rules, r->acts.a[i].rule)
						     : NULL;
		if (r->acts.a[i].changed && (!rule || !rule->fixer || !rule->fixer->user_may))
			return false;
	}
	return true;
}
