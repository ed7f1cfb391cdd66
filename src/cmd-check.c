/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "core/check.h"
#include "host/parse.h"
#include "host/safewrite.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

enum {
	OPT_STRICT = OPT_VERB_BASE,
	OPT_POSTINSTALL,
	OPT_RULE,
	OPT_ALL_USERS,
	OPT_INTERVAL,
	OPT_REPORT_FILE,
	OPT_READY_FILE,
	OPT_READY_TEST,
};

/* What the verb was asked beyond struct rs_check_opts. */
struct check_args {
	bool strict;
	bool all_users;
	const char *users;	 /* --all-users=a,b; NULL: every owner in etc/subuid */
	unsigned interval;	 /* seconds; 0: run once */
	const char *report_file; /* the last run's JSON, written atomically */
	const char *ready_file;	 /* present iff the last run found no failing rule */
};

static void check_help(void)
{
	printf("Usage:\n rootless-setup check [options]\n\n"
	       "Inspect the host and the user and say, per rule, pass, warn, fail or skip.\n\n"
	       "Options:\n"
	       "     --strict            warnings fail too (exit 1)\n"
	       "     --postinstall       for package scripts: summary on stderr, always exit 0\n"
	       "     --rule <id>         only this rule (repeatable); see 'rootless-setup rules'\n"
	       "     --all-users[=<a,b>] the host once, then every user with subordinate ids\n"
	       "                         (or the named users): one fleet-report/v1 document\n"
	       "     --interval <secs>   run again every <secs> seconds, forever\n"
	       "     --report-file <p>   also write each run's JSON report to <p> (atomically)\n"
	       "     --ready-file <p>    create <p> after a run without failures (of the host,\n"
	       "                         with --all-users), else remove it\n"
	       "     --ready-test <p>    only test: exit 0 when <p> exists, else 1\n"
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

/* Which rules a section shows: a plain report shows all; a fleet report
 * shows the host-wide rules once and each user's per-user rules. */
enum scope { SCOPE_ALL, SCOPE_HOST, SCOPE_USER };

static bool in_scope(const struct rs_rule *rule, enum scope sc)
{
	return sc == SCOPE_ALL || rule->needs_user == (sc == SCOPE_USER);
}

void rs_cli_print_result(const struct rs_cli *cli, const struct rs_ctx *ctx,
			 const struct rs_result *r, int width)
{
	const char *docs = rs_ctx_docs(ctx, r->rule->id);
	bool color = rs_cli_use_color(cli, stdout);
	bool bad = r->f.status >= RS_STATUS_WARN;

	printf("%s%s%s  %-*s  %s\n", color ? status_color(r->f.status) : "",
	       status_label(r->f.status), color ? "\033[0m" : "", width, r->rule->id,
	       rs_cli_esc(r->f.message ? r->f.message : ""));
	if (bad && r->f.hint)
		printf("      hint: %s\n", rs_cli_esc(r->f.hint));
	if (bad && docs)
		printf("      docs: %s\n", docs);
	_cleanup_free_ char *fix = rs_result_fix_cmd(r);
	if (fix)
		printf("      fix:  %s\n", fix);
	if (cli->verbosity > 0)
		printf("      (%s)\n", r->rule->summary);
}

static void print_rules(const struct rs_cli *cli, const struct rs_report *rep, enum scope sc)
{
	const struct rs_ctx *ctx = &rep->ctx;
	size_t w = 0;

	for (size_t i = 0; i < rs_rules_count; i++)
		if (strlen(rs_rules[i]->id) > w)
			w = strlen(rs_rules[i]->id);
	for (size_t i = 0; i < rs_rules_count; i++) {
		const struct rs_result *r = &ctx->results[i];
		bool bad = r->f.status >= RS_STATUS_WARN;
		if (!r->selected || !in_scope(r->rule, sc) || (cli->verbosity < 0 && !bad))
			continue;
		rs_cli_print_result(cli, ctx, r, (int)w);
	}
}

static void print_text(const struct rs_cli *cli, const struct rs_report *rep, enum scope sc)
{
	const struct rs_ctx *ctx = &rep->ctx;
	unsigned n[4] = {0};

	if (cli->verbosity >= 0 && sc != SCOPE_USER)
		printf("host: %s %s (profile %s), kernel %s%s%s\n",
		       ctx->os.id ? rs_cli_esc(ctx->os.id) : "unknown",
		       ctx->os.version_id ? rs_cli_esc(ctx->os.version_id) : "",
		       rs_cli_esc(ctx->distro.id),
		       ctx->kernel_release ? rs_cli_esc(ctx->kernel_release) : "unknown",
		       sc == SCOPE_ALL ? ", user " : "",
		       sc != SCOPE_ALL ? ""
		       : ctx->has_user ? rs_cli_esc(ctx->user.name)
				       : "(none)");
	if (sc == SCOPE_USER)
		printf("user: %s (uid %u)\n", rs_cli_esc(ctx->user.name), (unsigned)ctx->user.uid);
	print_rules(cli, rep, sc);
	if (sc != SCOPE_HOST)
		printf("decisions: snapshotter=%s network=%s cgroup-manager=%s\n", rep->snapshotter,
		       rep->network, rep->cgroup_manager);
	for (size_t i = 0; i < rs_rules_count; i++)
		if (ctx->results[i].selected && in_scope(ctx->results[i].rule, sc))
			n[ctx->results[i].f.status]++;
	printf("summary: %u pass, %u warn, %u fail, %u skip\n", n[RS_STATUS_PASS],
	       n[RS_STATUS_WARN], n[RS_STATUS_FAIL], n[RS_STATUS_SKIP]);
}

static void print_postinstall(const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	_cleanup_free_ char *ids = rs_xstrdup("");

	for (size_t i = 0; i < rs_rules_count; i++) {
		const struct rs_result *r = &ctx->results[i];
		if (!r->selected || r->f.status != RS_STATUS_FAIL)
			continue;
		rs_list_add(&ids, ", ", r->rule->id);
	}
	fprintf(stderr, "rootless-setup: preflight: %u pass, %u warn, %u fail, %u skip%s%s%s\n",
		rep->counts[RS_STATUS_PASS], rep->counts[RS_STATUS_WARN],
		rep->counts[RS_STATUS_FAIL], rep->counts[RS_STATUS_SKIP], *ids ? " (failed: " : "",
		ids, *ids ? "); run 'rootless-setup check' for details" : "");
}

static void print_notes(const struct rs_report *rep, bool postinstall)
{
	for (size_t i = 0; i < rep->notes.n; i++)
		if (!postinstall || !strstr(rep->notes.v[i], "checking for root"))
			rs_cli_msg("%s", rep->notes.v[i]);
}

static int verdict(const unsigned n[4], bool strict)
{
	return n[RS_STATUS_FAIL] || (strict && n[RS_STATUS_WARN]) ? RS_EXIT_FAIL : RS_EXIT_OK;
}

/* One plain run: the report/v1 document in *doc when one is wanted. */
static int run_single(const struct rs_cli *cli, const struct rs_check_opts *o,
		      const struct check_args *a, json_t **doc)
{
	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;
	int r = rs_check_run(o, &rep, &err);

	if (r < 0)
		return rs_cli_fail(r, err);
	print_notes(rep, o->postinstall);
	if (cli->format == RS_FORMAT_JSON || a->report_file) {
		*doc = rs_report_json(rep);
		if (!*doc) {
			rs_cli_msg("cannot build the JSON report");
			rs_report_free(rep);
			return RS_EXIT_HOST;
		}
	}
	if (cli->format == RS_FORMAT_TEXT && !o->postinstall)
		print_text(cli, rep, SCOPE_ALL);
	if (o->postinstall)
		print_postinstall(rep);
	int code = verdict(rep->counts, a->strict);
	rs_report_free(rep);
	return code;
}

/* The results of one scope (host-wide or per-user) out of a report/v1
 * document, counted into n[] by status. */
static json_t *scoped_results(json_t *report, enum scope sc, unsigned n[4])
{
	json_t *out = json_array(), *res;
	size_t i;

	json_array_foreach (json_object_get(report, "results"), i, res) {
		const struct rs_rule *rule = rs_rule_find(
			json_string_value(json_object_get(res, "id")));
		const char *st = json_string_value(json_object_get(res, "status"));
		if (!rule || !st || !in_scope(rule, sc))
			continue;
		for (unsigned k = 0; k < 4; k++)
			if (strcmp(st, rs_status_name((enum rs_status)k)) == 0)
				n[k]++;
		json_array_append(out, res);
	}
	return out;
}

static json_t *summary_json(const unsigned n[4])
{
	return json_pack("{s:I, s:I, s:I, s:I}", "pass", (json_int_t)n[RS_STATUS_PASS], "warn",
			 (json_int_t)n[RS_STATUS_WARN], "fail", (json_int_t)n[RS_STATUS_FAIL],
			 "skip", (json_int_t)n[RS_STATUS_SKIP]);
}

/* Every owner named in etc/subuid of the host or tree, in file order, or
 * the names given to --all-users=. */
static int fleet_users(const struct rs_check_opts *o, const char *named, struct rs_strv *out,
		       struct rs_error **err)
{
	if (named) {
		_cleanup_free_ char *dup = rs_xstrdup(named);
		char *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (!rs_strv_contains(out, t))
				rs_strv_push(out, t);
		return 0;
	}
	struct rs_host *h = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = rs_host_open(o->root, &h, err);
	if (r < 0)
		return r;
	r = rs_host_read(h, "etc/subuid", RS_HOST_READ_MAX, &buf, &len, err);
	rs_host_free(h);
	if (r == -ENOENT) {
		/* no file: no user has subordinate ids */
		rs_error_free(*err);
		*err = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	struct rs_subid_file f = {0};
	r = rs_subid_parse(buf, len, &f);
	for (size_t i = 0; r >= 0 && i < f.n; i++)
		if (!rs_strv_contains(out, f.r[i].owner))
			rs_strv_push(out, f.r[i].owner);
	rs_subid_clear(&f);
	return r < 0 ? rs_error_set(err, r, "cannot parse 'etc/subuid'") : 0;
}

/* How the users of a fleet run fared: each its own line, none the fleet's
 * verdict (rootless-setup(8), check --all-users). */
struct fleet_tally {
	unsigned n[4];	  /* every result, host and users, by status */
	unsigned failing; /* users with a failing rule (--strict: or a warning) */
	unsigned errors;  /* users that could not be checked */
};

/* One user's entry: its per-user results, or why it could not be checked. */
static json_t *user_entry(const struct rs_cli *cli, const struct rs_check_opts *o, const char *name,
			  bool strict, struct fleet_tally *t)
{
	struct rs_check_opts uo = *o;
	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;

	uo.user = name;
	uo.sudo_user = uo.pkexec_uid = NULL;
	int r = rs_check_run(&uo, &rep, &err);
	if (r < 0) {
		const char *why = err ? err->msg : strerror(-r);
		rs_cli_msg("user '%s': %s", name, why);
		if (cli->format == RS_FORMAT_TEXT)
			printf("user: %s: not checked: %s\n", rs_cli_esc(name), rs_cli_esc(why));
		json_t *e = json_pack("{s:{s:o}, s:o}", "user", "name", rs_json_str(name), "error",
				      rs_json_str(why));
		rs_error_free(err);
		t->errors++;
		return e;
	}
	print_notes(rep, false);
	if (cli->format == RS_FORMAT_TEXT)
		print_text(cli, rep, SCOPE_USER);
	json_t *doc = rs_report_json(rep);
	rs_report_free(rep);
	unsigned n[4] = {0};
	json_t *res = scoped_results(doc, SCOPE_USER, n);
	json_t *e = json_pack("{s:O, s:o, s:O, s:o}", "user",
			      json_object_get(json_object_get(doc, "host"), "user"), "results", res,
			      "decisions", json_object_get(doc, "decisions"), "summary",
			      summary_json(n));
	json_decref(doc);
	for (unsigned k = 0; k < 4; k++)
		t->n[k] += n[k];
	if (verdict(n, strict) != RS_EXIT_OK)
		t->failing++;
	return e;
}

/* The host once without a target user (the host-wide rules, as
 * --postinstall does it), then each user: rootless-setup/fleet-report/v1. */
static json_t *fleet_host(const struct rs_cli *cli, const struct rs_check_opts *o, unsigned n[4],
			  int *code)
{
	struct rs_check_opts ho = *o;
	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;

	ho.user = ho.sudo_user = ho.pkexec_uid = NULL;
	ho.postinstall = true;
	int r = rs_check_run(&ho, &rep, &err);
	if (r < 0) {
		*code = rs_cli_fail(r, err);
		return NULL;
	}
	print_notes(rep, true);
	if (cli->format == RS_FORMAT_TEXT)
		print_text(cli, rep, SCOPE_HOST);
	json_t *doc = rs_report_json(rep);
	rs_report_free(rep);
	json_t *host = json_object_get(doc, "host");
	json_object_del(host, "user");
	json_t *fleet = json_pack("{s:s, s:s, s:O, s:O, s:o}", "schema",
				  "rootless-setup/fleet-report/v1", "version", RS_VERSION, "host",
				  host, "engines", json_object_get(doc, "engines"), "results",
				  scoped_results(doc, SCOPE_HOST, n));
	json_decref(doc);
	return fleet;
}

static int run_fleet(const struct rs_cli *cli, const struct rs_check_opts *o,
		     const struct check_args *a, json_t **doc)
{
	struct rs_strv users = {0};
	struct rs_error *err = NULL;
	struct fleet_tally t = {0};
	unsigned host[4] = {0};
	int code = RS_EXIT_OK;

	int r = fleet_users(o, a->users, &users, &err);
	if (r < 0)
		return rs_cli_fail(r, err);
	json_t *fleet = fleet_host(cli, o, host, &code);
	if (!fleet) {
		rs_strv_free(&users);
		return code ? code : RS_EXIT_HOST;
	}
	memcpy(t.n, host, sizeof(host));
	json_t *arr = json_array();
	for (size_t i = 0; i < users.n; i++)
		json_array_append_new(arr, user_entry(cli, o, users.v[i], a->strict, &t));
	rs_strv_free(&users);
	json_t *sum = summary_json(t.n);
	json_object_set_new(sum, "users", json_integer((json_int_t)json_array_size(arr)));
	json_object_set_new(sum, "failing", json_integer((json_int_t)t.failing));
	json_object_set_new(sum, "errors", json_integer((json_int_t)t.errors));
	json_object_set_new(fleet, "users", arr);
	json_object_set_new(fleet, "summary", sum);
	if (cli->format == RS_FORMAT_TEXT)
		printf("fleet: %zu users, %u failing, %u errors; %u pass, %u warn, %u fail, "
		       "%u skip\n",
		       json_array_size(arr), t.failing, t.errors, t.n[RS_STATUS_PASS],
		       t.n[RS_STATUS_WARN], t.n[RS_STATUS_FAIL], t.n[RS_STATUS_SKIP]);
	*doc = fleet;
	/* the host's verdict: a user's failure, or a user that cannot be
	 * checked (a hostile runtime dir, an account gone), is that user's
	 * line and counts, never the node's readiness */
	return verdict(host, a->strict);
}

/* --ready-test: the readiness probe of an image without a shell. */
static int ready_test(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) ? RS_EXIT_OK : RS_EXIT_FAIL;
}

/* A path of this machine (not of --root) as a root-relative one. */
static char *local_rel(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return rs_xstrdup(path + strspn(path, "/"));
	return rs_xasprintf("%s/%s", cwd + strspn(cwd, "/"), path);
}

/* The report file and the ready file live on this machine (a hostPath or
 * an emptyDir of the pod), written through the one safe-write path. */
static int write_outputs(const struct check_args *a, json_t *doc, bool ready)
{
	struct rs_host *h = NULL;
	struct rs_error *err = NULL;
	/* a new file of ours every time, never one a user made there first
	 * (which would keep the user's owner and mode); the report, which
	 * speaks for every user, only where nobody else can replace it */
	const struct rs_write_opts wo = {.mode = 0644,
					 .uid = (uid_t)-1,
					 .gid = (gid_t)-1,
					 .fresh = true};
	struct rs_write_opts ro = wo;
	ro.own_dir = true;
	int r = rs_host_open("/", &h, &err);

	if (r >= 0 && a->report_file && doc) {
		_cleanup_free_ char *rel = local_rel(a->report_file);
		_cleanup_free_ char *s = json_dumps(doc, JSON_INDENT(2));
		_cleanup_free_ char *text = s ? rs_xasprintf("%s\n", s) : NULL;
		r = text ? rs_safe_write(h, rel, text, strlen(text), &ro, &err) : -ENOMEM;
	}
	if (r >= 0 && a->ready_file) {
		_cleanup_free_ char *rel = local_rel(a->ready_file);
		r = ready ? rs_safe_write(h, rel, "ready\n", 6, &wo, &err)
			  : rs_safe_unlink(h, rel, false);
		if (r < 0 && !err)
			rs_error_set(&err, r, "cannot remove '%s'", a->ready_file);
	}
	rs_host_free(h);
	if (r >= 0)
		return 0;
	rs_cli_fail(r, err);
	return RS_EXIT_HOST;
}

static int run_once(const struct rs_cli *cli, const struct rs_check_opts *o,
		    const struct check_args *a, bool *is_ready)
{
	json_t *doc = NULL;
	int code = a->all_users ? run_fleet(cli, o, a, &doc) : run_single(cli, o, a, &doc);

	if (doc && cli->format == RS_FORMAT_JSON) {
		/* one line per run under --interval: `kubectl logs --tail=1` is the last */
		json_dumpf(doc, stdout, a->interval ? JSON_COMPACT : JSON_INDENT(2));
		fputc('\n', stdout);
	}
	/* each run reaches the log at once; a single run is flushed (and a
	 * lost report noticed) by rs_cli_finish */
	if (a->interval && fflush(stdout) != 0 && errno != EPIPE)
		rs_cli_msg("cannot write output: %s", strerror(errno));
	if (a->report_file || a->ready_file) {
		int w = write_outputs(a, doc, code == RS_EXIT_OK);
		code = code ? code : w;
	}
	if (is_ready)
		*is_ready = code == RS_EXIT_OK;
	json_decref(doc);
	return code;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* --interval: for a shell-less image (a DaemonSet), until SIGTERM/SIGINT
 * (PID 1 of a container ignores them unless it handles them). */
static int run_forever(const struct rs_cli *cli, const struct rs_check_opts *o,
		       const struct check_args *a)
{
	struct sigaction sa = {.sa_handler = on_stop};
	int code = RS_EXIT_OK;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* a ready file left by an earlier container must not speak for this one */
	if (a->ready_file)
		write_outputs(&(struct check_args){.ready_file = a->ready_file}, NULL, false);
	while (!stop_signal) {
		code = run_once(cli, o, a, NULL);
		struct timespec ts = {.tv_sec = a->interval};
		while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return code;
}

static int cmd_check(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"strict", no_argument, NULL, OPT_STRICT},
		{"postinstall", no_argument, NULL, OPT_POSTINSTALL},
		{"rule", required_argument, NULL, OPT_RULE},
		{"all-users", optional_argument, NULL, OPT_ALL_USERS},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"report-file", required_argument, NULL, OPT_REPORT_FILE},
		{"ready-file", required_argument, NULL, OPT_READY_FILE},
		{"ready-test", required_argument, NULL, OPT_READY_TEST},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_check_opts o = {0};
	struct check_args a = {0};
	struct rs_strv only = {0};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, check_help))
			continue;
		if (c == OPT_STRICT)
			a.strict = true;
		else if (c == OPT_POSTINSTALL)
			o.postinstall = true;
		else if (c == OPT_RULE && rs_rule_find(optarg))
			rs_strv_push(&only, optarg);
		else if (c == OPT_RULE)
			rs_cli_usage_error("unknown rule '%s' (see 'rootless-setup rules')",
					   optarg);
		else if (c == OPT_ALL_USERS)
			a.all_users = true, a.users = optarg;
		else if (c == OPT_INTERVAL && rs_parse_u64(optarg, 366u * 86400, &v) == 0 && v > 0)
			a.interval = (unsigned)v;
		else if (c == OPT_INTERVAL)
			rs_cli_usage_error("--interval wants seconds (1 or more): '%s'", optarg);
		else if (c == OPT_REPORT_FILE)
			a.report_file = optarg;
		else if (c == OPT_READY_FILE)
			a.ready_file = optarg;
		else if (c == OPT_READY_TEST)
			return ready_test(optarg);
	}
	if (optind < argc)
		rs_cli_usage_error("check takes no arguments: '%s'", argv[optind]);
	if (a.all_users && (cli->user || o.postinstall))
		rs_cli_usage_error(
			"--all-users names the users itself: not with --user or --postinstall");
	if (a.all_users && a.users && !*a.users)
		rs_cli_usage_error("--all-users= names no user");
	if (o.postinstall && (a.interval || a.ready_file))
		rs_cli_usage_error("--postinstall runs once: not with --interval or --ready-file");
	if (o.postinstall)
		cli->color = RS_COLOR_NEVER;
	rs_cli_check_opts(cli, &o);
	o.host_only = true; /* root naming nobody: the host's verdict, not root's */
	o.only = (const char *const *)only.v;

	int code = a.interval ? run_forever(cli, &o, &a) : run_once(cli, &o, &a, NULL);
	rs_strv_free(&only);
	return o.postinstall ? RS_EXIT_OK : code;
}

const struct rs_cmd rs_cmd_check = {
	.name = "check",
	.summary = "inspect the host and the user (read-only)",
	.run = cmd_check,
};
