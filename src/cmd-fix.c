/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checks/registry.h"
#include "cli.h"
#include "fixers/fixer.h"
#include "lib/xalloc.h"

enum { OPT_DRY_RUN = OPT_VERB_BASE, OPT_RULE, OPT_YES, OPT_FORCE };

static void fix_help(void)
{
	printf("Usage:\n rootless-setup fix [--dry-run] [--rule <id>]... [--yes] [--force]\n\n"
	       "Apply the fixers of the rules that fail or warn.\n\n"
	       "Options:\n"
	       "     --dry-run           print what would change, change nothing\n"
	       "     --rule <id>         only this rule's fixer (repeatable)\n"
	       "     --yes               do not ask (needed when standard input is no terminal)\n"
	       "     --force             also override an administrator's restrictive setting\n\n"
	       " -h, --help              display this help\n\n"
	       "Exit status: 0 everything applied (or nothing to do), 1 something could not be\n"
	       "applied, 2 usage error, 3 the host could not be inspected.\n\nSee "
	       "rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

void rs_cli_print_actions(const struct rs_action_report *r, bool dry)
{
	for (size_t i = 0; i < r->acts.n; i++) {
		const struct rs_action *a = &r->acts.a[i];
		const char *state = a->failed	  ? "FAILED"
				    : !a->changed ? "unchanged"
				    : dry	  ? "would change"
						  : "changed";
		/* paths and details come from the user's tree and records */
		printf("%-12s %-20s %-7s %s%s%s\n", state, rs_cli_esc(a->rule), rs_cli_esc(a->kind),
		       a->path ? rs_cli_esc(a->path) : "", a->path ? ": " : "",
		       a->detail ? rs_cli_esc(a->detail) : "");
	}
	printf("summary: %u %s, %u failed, %zu actions\n", r->changed,
	       dry ? "to change" : "changed", r->failed, r->acts.n);
	/* what to type next, last, where the eye ends (install) */
	for (size_t i = 0; i < r->acts.n_next; i++) {
		const struct rs_next *x = &r->acts.next[i];
		const char *what = !strcmp(x->step, "start")	 ? x->done ? "started" : "start it"
				   : !strcmp(x->step, "prepare") ? "prepare"
				   : !strcmp(x->step, "pull")	 ? "pull an image"
				   : !strcmp(x->step, "build")	 ? "a first build"
								 : "a first container";
		printf("next: %s: %s\n", what, rs_cli_esc(x->command));
	}
}

int rs_cli_emit_actions(const struct rs_cli *cli, struct rs_action_report *r, bool dry)
{
	if (cli->format == RS_FORMAT_JSON) {
		json_t *doc = rs_action_report_json(r);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		rs_cli_print_actions(r, dry);
	}
	int code = r->failed ? RS_EXIT_FAIL : RS_EXIT_OK;
	rs_action_report_free(r);
	return code;
}

/* A person at a terminal confirms; a script says --yes (never a prompt
 * without a tty: Debian Policy 6.3). */
static bool confirmed(bool yes)
{
	char buf[16];
	if (yes)
		return true;
	if (!isatty(STDIN_FILENO))
		rs_cli_usage_error("fix changes the system: pass --yes when standard input is no "
				   "terminal, or --dry-run");
	fprintf(stderr, "rootless-setup: apply these changes? [y/N] ");
	return fgets(buf, sizeof(buf), stdin) && (buf[0] == 'y' || buf[0] == 'Y');
}

static int cmd_fix(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"rule", required_argument, NULL, OPT_RULE},
		{"yes", no_argument, NULL, OPT_YES},
		{"force", no_argument, NULL, OPT_FORCE},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_fix_opts o = {0};
	_cleanup_strv_ struct rs_strv only = {0};
	bool yes = false;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, fix_help))
			continue;
		if (c == OPT_DRY_RUN)
			o.dry_run = true;
		else if (c == OPT_YES)
			yes = true;
		else if (c == OPT_FORCE)
			o.force = true;
		else if (c == OPT_RULE && rs_rule_find(&rs_rules, optarg))
			rs_strv_push(&only, optarg);
		else if (c == OPT_RULE)
			rs_cli_usage_error("unknown rule '%s' (see 'rootless-setup rules')",
					   optarg);
	}
	if (optind < argc)
		rs_cli_usage_error("fix takes no arguments: '%s'", argv[optind]);
	rs_cli_check_opts(cli, &o.check);
	o.check.only = (const char *const *)only.v;
	/* plan first (a dry run), then apply what the person agreed to */
	struct rs_fix_opts plan = o;
	plan.dry_run = true;
	struct rs_action_report *r = NULL;
	struct rs_error *err = NULL;
	int ret = rs_fix_run(&plan, &r, &err);
	if (ret == 0 && !o.dry_run && r->changed && !cli->root && geteuid() != 0 &&
	    !rs_fix_user_may(r)) {
		/* what fix changes belongs to root: say so before trying */
		if (cli->format == RS_FORMAT_TEXT)
			rs_cli_print_actions(r, true);
		rs_cli_msg(
			"fix changes the system and needs root: rerun with sudo (nothing changed)");
		rs_action_report_free(r);
		rs_strv_clear(&only);
		return RS_EXIT_FAIL;
	}
	if (ret == 0 && !o.dry_run && r->changed) {
		/* the plan is shown to be agreed to; with --yes only what was
		 * done is printed (the plan and then the actions read as if fix
		 * had run twice) */
		if (cli->format == RS_FORMAT_TEXT && !yes)
			rs_cli_print_actions(r, true);
		if (!confirmed(yes)) {
			rs_action_report_free(r);
			rs_strv_clear(&only);
			rs_cli_msg("nothing changed");
			return RS_EXIT_FAIL;
		}
		rs_action_report_free(r);
		r = NULL;
		ret = rs_fix_run(&o, &r, &err);
	}
	if (ret < 0)
		return rs_cli_fail(ret, err);
	return rs_cli_emit_actions(cli, r, o.dry_run);
}

const struct rs_cmd rs_cmd_fix = {
	.name = "fix",
	.summary = "repair what check found",
	.run = cmd_fix,
};
