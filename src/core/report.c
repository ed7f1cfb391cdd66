/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>
#include "core/check.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

/* every host-derived string through the one helper: a hostile os-release
 * or finding message is reported escaped, never dropped (rs_json_str) */
#define jstr(s) rs_json_str(s)

static json_t *engines_json(unsigned mask)
{
	json_t *a = json_array();
	if (mask == RS_ENGINES_ALL) {
		json_array_append_new(a, json_string("*"));
		return a;
	}
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++)
		if (mask & RS_ENGINE_BIT(e))
			json_array_append_new(a, json_string(rs_engine_name(e)));
	return a;
}

json_t *rs_report_host_json(const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	json_t *user = json_null();

	if (ctx->has_user)
		user = json_pack("{s:o, s:I, s:I}", "name", jstr(ctx->user.name), "uid",
				 (json_int_t)ctx->user.uid, "gid", (json_int_t)ctx->user.gid);
	return json_pack("{s:o, s:{s:o, s:o, s:s}, s:o, s:o}", "root",
			 jstr(ctx->host->live ? "/" : ctx->host->root), "distro", "id",
			 jstr(ctx->os.id), "version_id", jstr(ctx->os.version_id), "profile",
			 ctx->distro.id, "kernel", jstr(ctx->kernel_release), "user", user);
}

json_t *rs_result_json(const struct rs_ctx *ctx, const struct rs_result *res)
{
	_cleanup_free_ char *fixer = rs_result_fix_cmd(res);
	bool show = res->f.status == RS_STATUS_WARN || res->f.status == RS_STATUS_FAIL;

	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", res->rule->id, "status",
			 rs_status_name(res->f.status), "message", jstr(res->f.message), "hint",
			 show ? jstr(res->f.hint) : json_null(), "docs",
			 jstr(rs_ctx_docs(ctx, res->rule->id)), "fixer", jstr(fixer), "engines",
			 engines_json(res->rule->engines));
}

json_t *rs_report_results_json(const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	json_t *results = json_array();

	for (size_t i = 0; i < ctx->rules->n; i++)
		if (ctx->results[i].selected)
			json_array_append_new(results, rs_result_json(ctx, &ctx->results[i]));
	return results;
}

json_t *rs_report_engines_json(const struct rs_report *rep)
{
	json_t *engines = json_array();
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++)
		if (rep->ctx.engines & RS_ENGINE_BIT(e))
			json_array_append_new(engines, json_string(rs_engine_name(e)));
	return engines;
}

json_t *rs_report_decisions_json(const struct rs_report *rep)
{
	return json_pack("{s:s, s:s, s:s}", "snapshotter", rep->snapshotter, "network",
			 rep->network, "cgroup_manager", rep->cgroup_manager);
}

json_t *rs_report_json(const struct rs_report *rep)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s, s:s}, s:{s:I, s:I, s:I, s:I}}",
			 "schema", "rootless-setup/report/v1", "version", RS_VERSION, "host",
			 rs_report_host_json(rep), "engines", rs_report_engines_json(rep),
			 "results", rs_report_results_json(rep), "decisions", "snapshotter",
			 rep->snapshotter, "network", rep->network, "cgroup_manager",
			 rep->cgroup_manager, "summary", "pass",
			 (json_int_t)rep->counts[RS_STATUS_PASS], "warn",
			 (json_int_t)rep->counts[RS_STATUS_WARN], "fail",
			 (json_int_t)rep->counts[RS_STATUS_FAIL], "skip",
			 (json_int_t)rep->counts[RS_STATUS_SKIP]);
}
