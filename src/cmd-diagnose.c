/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "core/diagnose.h"
#include "host/userlog.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

enum {
	OPT_LOG = OPT_VERB_BASE,
	OPT_UNIT,
};

static void diagnose_help(void)
{
	printf("Usage:\n rootless-setup diagnose [options] [TEXT... | -]\n\n"
	       "Find the known errors in an engine's error text, run the rules they implicate\n"
	       "for the user, and say which one fails now and how to fix it.\n\n"
	       "Options:\n"
	       "     --log <file>        read the text from a log file (as the user)\n"
	       "     --unit              read the engine unit's journal (journalctl --user -u\n"
	       "                         rootless-setup-ENGINE.service, as the user); one "
	       "--engine\n"
	       " -                       read the text from standard input\n"
	       "     (and the global options of 'rootless-setup --help')\n\n"
	       " -h, --help              display this help\n\n"
	       "Exit status: 0 the text was recognised and no rule it implicates fails now,\n"
	       "1 an implicated rule fails (or warns) now, 2 usage error, 3 the host could not\n"
	       "be inspected, 4 nothing in the text is a known error.\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

struct diag_args {
	const char *log;
	bool unit;
	bool stdin_;
	char *joined; /* the TEXT arguments, joined by spaces */
	char *unit_name;
};

static void parse(struct rs_cli *cli, int argc, char **argv, struct diag_args *a)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, OPT_LOG},
		{"unit", no_argument, NULL, OPT_UNIT},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	int c, sources;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, diagnose_help))
			continue;
		if (c == OPT_LOG)
			a->log = optarg;
		else if (c == OPT_UNIT)
			a->unit = true;
	}
	if (optind + 1 == argc && strcmp(argv[optind], "-") == 0) {
		a->stdin_ = true;
	} else {
		for (int i = optind; i < argc; i++)
			rs_list_add(&a->joined, " ", argv[i]);
	}
	sources = !!a->log + a->unit + a->stdin_ + !!a->joined;
	if (sources == 0)
		rs_cli_usage_error("diagnose needs the error: TEXT, '-' for standard input, "
				   "--log FILE or --unit");
	if (sources > 1)
		rs_cli_usage_error("diagnose reads one of TEXT, '-', --log and --unit");
	if (a->joined && strlen(a->joined) > RS_DIAG_INPUT_MAX)
		rs_cli_usage_error("the text is longer than %u bytes: use '-' or --log",
				   RS_DIAG_INPUT_MAX);
	if (a->unit && cli->root)
		rs_cli_usage_error("--unit reads this host's journal: not with --root");
}

/* The one engine --unit reads: named once, and one with a unit. */
static enum rs_engine unit_engine(const struct rs_cli *cli)
{
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		if (cli->engines != RS_ENGINE_BIT(e))
			continue;
		if (!rs_engine_info(e)->daemon)
			rs_cli_usage_error("--unit: '%s' runs no daemon, so it has no unit",
					   rs_engine_name(e));
		return (enum rs_engine)e;
	}
	rs_cli_usage_error("--unit needs exactly one --engine (the unit's)");
}

static int read_input(const struct rs_cli *cli, const struct rs_check_opts *o, struct diag_args *a,
		      char **text, size_t *len, struct rs_diag_input *in)
{
	struct rs_error *err = NULL;
	int r = 0;

	*in = (struct rs_diag_input){.source = "arguments"};
	if (a->joined) {
		*len = strlen(a->joined);
		*text = TAKE_PTR(a->joined);
	} else if (a->stdin_) {
		in->source = "stdin";
		r = rs_read_tail(0, RS_DIAG_INPUT_MAX, RS_DIAG_READ_MAX, text, len, &in->truncated);
		if (r < 0)
			rs_error_set(&err, -r, "cannot read standard input");
	} else if (a->log) {
		in->source = "file";
		in->name = a->log;
		r = rs_diag_read_log(o, a->log, text, len, &in->truncated, &err);
	} else {
		enum rs_engine e = unit_engine(cli);
		in->source = "unit";
		in->name = a->unit_name = rs_diag_unit_name(e);
		r = rs_diag_read_unit(o, e, text, len, &in->truncated, &err);
	}
	in->bytes = r < 0 ? 0 : *len;
	return r < 0 ? rs_cli_fail(r, err) : 0;
}

static void print_match(size_t i, const struct rs_diag_match *m)
{
	const struct rs_errcat_entry *e = m->entry;

	if (m->hits > 1)
		printf(" %zu. %s (line %zu, %zu lines)\n", i + 1, e->id, m->line, m->hits);
	else
		printf(" %zu. %s (line %zu)\n", i + 1, e->id, m->line);
	printf("    seen:  %s\n", rs_cli_esc(m->excerpt));
	printf("    cause: %s\n", e->cause);
	if (e->nrules) {
		_cleanup_free_ char *rules = rs_xstrdup("");
		for (size_t k = 0; k < e->nrules; k++)
			rs_list_add(&rules, ", ", e->rules[k]);
		printf("    rules: %s\n", rules);
	}
	if (e->fix)
		printf("    fix:   %s\n", e->fix);
	if (e->docs)
		printf("    docs:  %s\n", e->docs);
	/* the first three; --format json has them all */
	for (size_t k = 0; k < e->nsources && k < 3; k++)
		printf("    %s %s\n", k ? "      " : "known:", e->sources[k]);
	if (e->nsources > 3)
		printf("           (%zu more with --format json)\n", e->nsources - 3);
}

static void print_results(const struct rs_cli *cli, const struct rs_diagnosis *d)
{
	const struct rs_ctx *ctx = &d->report->ctx;
	size_t w = 0;

	for (size_t i = 0; i < d->rules.n; i++)
		if (strlen(d->rules.v[i]) > w)
			w = strlen(d->rules.v[i]);
	printf("now, for %s%s:\n", ctx->has_user ? "user " : "the host (no user named)",
	       ctx->has_user ? rs_cli_esc(ctx->user.name) : "");
	for (size_t i = 0; i < d->rules.n; i++) {
		const struct rs_result *r = rs_ctx_result(ctx, d->rules.v[i]);
		if (r)
			rs_cli_print_result(cli, ctx, r, (int)w);
	}
}

static void print_verdict(const struct rs_diagnosis *d)
{
	const struct rs_errcat_entry *top = d->scan->m[0].entry;

	for (size_t i = 0; i < d->missing.n; i++)
		printf("note: rule %s is not in this version of rootless-setup\n", d->missing.v[i]);
	switch (d->verdict) {
	case RS_DIAG_FAILS_NOW: {
		_cleanup_free_ char *fix = rs_result_fix_cmd(d->culprit);
		printf("verdict: %s %s now: that is the cause of %s here", d->culprit->rule->id,
		       d->culprit->f.status == RS_STATUS_FAIL ? "fails" : "warns",
		       d->culprit_match ? d->culprit_match->entry->id : "the error");
		if (fix)
			printf("; fix it with '%s'", fix);
		else if (d->culprit->f.hint)
			printf("; %s", rs_cli_esc(d->culprit->f.hint));
		printf("\n");
		break;
	}
	case RS_DIAG_BY_HAND:
		printf("verdict: no rule can see this cause on a host; what to do: %s\n", top->fix);
		break;
	case RS_DIAG_INCOMPLETE: {
		_cleanup_free_ char *ids = rs_xstrdup("");
		for (size_t i = 0; i < d->unchecked.n; i++)
			rs_list_add(&ids, ", ", d->unchecked.v[i]);
		printf("verdict: the rules that could be checked pass, but %s skipped: the cause "
		       "is not known yet (name the user with --user, the engine with --engine)\n",
		       ids);
		break;
	}
	case RS_DIAG_NOT_HERE:
		printf("verdict: every rule these errors implicate passes now: the known cause "
		       "does "
		       "not apply here\nnext: %s\n",
		       top->next ? top->next
				 : "read the lines just before the error in the engine's log, and "
				   "run 'rootless-setup check' for the whole picture");
		break;
	case RS_DIAG_UNRECOGNISED:
		break;
	}
}

static void print_text(const struct rs_cli *cli, const struct rs_diagnosis *d,
		       const struct rs_diag_input *in)
{
	if (!d->scan->n && in->bytes == 0 && in->name) {
		printf("nothing to read: %s is empty (%s)\n", rs_cli_esc(in->name), in->source);
		printf("next: a unit that never ran has no journal; check the user's manager with "
		       "'systemctl --user status %s' as the user\n",
		       rs_cli_esc(in->name));
		return;
	}
	if (!d->scan->n) {
		printf("no known error in the %zu line%s read (%s%s%s)%s\n", d->scan->lines,
		       d->scan->lines == 1 ? "" : "s", in->source, in->name ? " " : "",
		       in->name ? rs_cli_esc(in->name) : "",
		       in->truncated ? ", only the end was read" : "");
		printf("next: paste the first error line the engine printed, or run "
		       "'rootless-setup check' for the whole picture\n");
		return;
	}
	printf("recognised %zu known error%s in %zu line%s (%s%s%s):\n", d->scan->n,
	       d->scan->n == 1 ? "" : "s", d->scan->lines, d->scan->lines == 1 ? "" : "s",
	       in->source, in->name ? " " : "", in->name ? rs_cli_esc(in->name) : "");
	for (size_t i = 0; i < d->scan->n; i++)
		print_match(i, &d->scan->m[i]);
	if (d->report)
		print_results(cli, d);
	print_verdict(d);
}

static int exit_code(const struct rs_diagnosis *d)
{
	switch (d->verdict) {
	case RS_DIAG_UNRECOGNISED:
		return RS_EXIT_UNRECOGNISED;
	case RS_DIAG_FAILS_NOW:
		return RS_EXIT_FAIL;
	case RS_DIAG_NOT_HERE:
	case RS_DIAG_INCOMPLETE:
	case RS_DIAG_BY_HAND:
		break;
	}
	return RS_EXIT_OK;
}

static int cmd_diagnose(struct rs_cli *cli, int argc, char **argv)
{
	struct diag_args a = {0};
	struct rs_check_opts o = {0};
	struct rs_diag_input in;
	struct rs_diagnosis *d = NULL;
	struct rs_error *err = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	parse(cli, argc, argv, &a);
	rs_cli_check_opts(cli, &o);
	o.host_only = true; /* root naming nobody: the host-wide rules only */
	int code = read_input(cli, &o, &a, &text, &len, &in);
	if (code) {
		free(a.unit_name);
		return code;
	}
	int r = rs_diagnose(&o, text, len, &d, &err);
	if (r < 0) {
		free(a.unit_name);
		return rs_cli_fail(r, err);
	}
	if (d->report)
		for (size_t i = 0; i < d->report->notes.n; i++)
			rs_cli_msg("%s", d->report->notes.v[i]);
	if (cli->format == RS_FORMAT_JSON) {
		json_t *doc = rs_diagnosis_json(d, &in);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		print_text(cli, d, &in);
	}
	code = exit_code(d);
	rs_diagnosis_free(d);
	free(a.unit_name);
	return code;
}

const struct rs_cmd rs_cmd_diagnose = {
	.name = "diagnose",
	.summary = "find known errors in a log and check their cause here",
	.run = cmd_diagnose,
};
