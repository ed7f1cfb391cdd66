/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "core/check.h"
#include "lib/xalloc.h"

enum { OPT_STRICT = OPT_VERB_BASE, OPT_POSTINSTALL, OPT_RULE };

static void check_help(void)
{
	printf("Usage:\n rootless-setup check [options]\n\n"
	       "Inspect the host and the user and say, per rule, pass, warn, fail or skip.\n\n"
	       "Options:\n"
	       "     --strict            warnings fail too (exit 1)\n"
	       "     --postinstall       for package scripts: summary on stderr, always exit 0\n"
	       "     --rule <id>         only this rule (repeatable); see 'rootless-setup rules'\n"
	       "     (and the global options of 'rootless-setup --help')\n\n"
	       " -h, --help              display this help\n\n"
	       "Exit status: 0 no rule failed, 1 a rule failed, 2 usage error, 3 the host could\n"
	       "not be inspected.\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

static const char *status_label(enum rs_status s)
{
	static const char *const l[] = {"SKIP", "PASS", "WARN", "FAIL"};
	return l[s];
}

static const char *status_color(enum rs_status s)
{
	static const char *const c[] = {"\033[2m", "\033[32m", "\033[33m", "\033[1;31m"};
	return c[s];
}

static void print_text(const struct rs_cli *cli, const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	bool color = rs_cli_use_color(cli, stdout);
	size_t w = 0;

	for (size_t i = 0; i < rs_rules_count; i++)
		if (strlen(rs_rules[i]->id) > w)
			w = strlen(rs_rules[i]->id);
	if (cli->verbosity >= 0)
		printf("host: %s %s (profile %s), kernel %s, user %s\n",
		       ctx->os.id ? rs_cli_esc(ctx->os.id) : "unknown",
		       ctx->os.version_id ? rs_cli_esc(ctx->os.version_id) : "",
		       rs_cli_esc(ctx->distro.id),
		       ctx->kernel_release ? rs_cli_esc(ctx->kernel_release) : "unknown",
		       ctx->has_user ? rs_cli_esc(ctx->user.name) : "(none)");
	for (size_t i = 0; i < rs_rules_count; i++) {
		const struct rs_result *r = &ctx->results[i];
		bool bad = r->f.status >= RS_STATUS_WARN;
		if (!r->selected || (cli->verbosity < 0 && !bad))
			continue;
		printf("%s%s%s  %-*s  %s\n", color ? status_color(r->f.status) : "",
		       status_label(r->f.status), color ? "\033[0m" : "", (int)w, r->rule->id,
		       rs_cli_esc(r->f.message ? r->f.message : ""));
		if (bad && r->f.hint)
			printf("      hint: %s\n", rs_cli_esc(r->f.hint));
		_cleanup_free_ char *fix = rs_result_fix_cmd(r);
		if (fix)
			printf("      fix:  %s\n", fix);
		if (cli->verbosity > 0)
			printf("      (%s)\n", r->rule->summary);
	}
	printf("decisions: snapshotter=%s network=%s cgroup-manager=%s\n", rep->snapshotter,
	       rep->network, rep->cgroup_manager);
	printf("summary: %u pass, %u warn, %u fail, %u skip\n", rep->counts[RS_STATUS_PASS],
	       rep->counts[RS_STATUS_WARN], rep->counts[RS_STATUS_FAIL], rep->counts[RS_STATUS_SKIP]);
}

static void print_postinstall(const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	_cleanup_free_ char *ids = rs_xstrdup("");

	for (size_t i = 0; i < rs_rules_count; i++) {
		const struct rs_result *r = &ctx->results[i];
		if (!r->selected || r->f.status != RS_STATUS_FAIL)
			continue;
		char *n = rs_xasprintf("%s%s%s", ids, *ids ? ", " : "", r->rule->id);
		free(ids);
		ids = n;
	}
	fprintf(stderr, "rootless-setup: preflight: %u pass, %u warn, %u fail, %u skip%s%s%s\n",
		rep->counts[RS_STATUS_PASS], rep->counts[RS_STATUS_WARN],
		rep->counts[RS_STATUS_FAIL], rep->counts[RS_STATUS_SKIP], *ids ? " (failed: " : "",
		ids, *ids ? "); run 'rootless-setup check' for details" : "");
}

static int emit(const struct rs_cli *cli, const struct rs_report *rep, bool postinstall)
{
	for (size_t i = 0; i < rep->notes.n; i++)
		if (!postinstall || !strstr(rep->notes.v[i], "checking for root"))
			rs_cli_msg("%s", rep->notes.v[i]);
	if (cli->format == RS_FORMAT_JSON) {
		json_t *doc = rs_report_json(rep);
		if (!doc) {
			rs_cli_msg("cannot build the JSON report");
			return RS_EXIT_HOST;
		}
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else if (!postinstall) {
		print_text(cli, rep);
	}
	if (postinstall)
		print_postinstall(rep);
	return 0;
}

static int cmd_check(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"strict", no_argument, NULL, OPT_STRICT},
		{"postinstall", no_argument, NULL, OPT_POSTINSTALL},
		{"rule", required_argument, NULL, OPT_RULE},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_check_opts o = {0};
	struct rs_strv only = {0};
	bool strict = false;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, check_help))
			continue;
		if (c == OPT_STRICT)
			strict = true;
		else if (c == OPT_POSTINSTALL)
			o.postinstall = true;
		else if (c == OPT_RULE && rs_rule_find(optarg))
			rs_strv_push(&only, optarg);
		else if (c == OPT_RULE)
			rs_cli_usage_error("unknown rule '%s' (see 'rootless-setup rules')", optarg);
	}
	if (optind < argc)
		rs_cli_usage_error("check takes no arguments: '%s'", argv[optind]);
	if (o.postinstall)
		cli->color = RS_COLOR_NEVER;
	rs_cli_check_opts(cli, &o);
	o.host_only = true; /* root naming nobody: the host's verdict, not root's */
	o.only = (const char *const *)only.v;

	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;
	int r = rs_check_run(&o, &rep, &err);
	rs_strv_free(&only);
	if (r < 0) {
		int code = rs_cli_fail(r, err);
		return o.postinstall ? RS_EXIT_OK : code;
	}
	int code = emit(cli, rep, o.postinstall);
	if (!code && !o.postinstall)
		code = rep->counts[RS_STATUS_FAIL] || (strict && rep->counts[RS_STATUS_WARN])
			       ? RS_EXIT_FAIL : RS_EXIT_OK;
	rs_report_free(rep);
	return o.postinstall ? RS_EXIT_OK : code;
}

const struct rs_cmd rs_cmd_check = {
	.name = "check",
	.summary = "inspect the host and the user (read-only)",
	.run = cmd_check,
};
