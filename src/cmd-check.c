/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "checks/registry.h"
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
	       "                         (or the named users): a fleet-report/v1 document,\n"
	       "                         or v2 lines with --format jsonl\n"
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

	for (size_t i = 0; i < rs_rules.n; i++)
		if (strlen(rs_rules.v[i]->id) > w)
			w = strlen(rs_rules.v[i]->id);
	for (size_t i = 0; i < rs_rules.n; i++) {
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
	for (size_t i = 0; i < rs_rules.n; i++)
		if (ctx->results[i].selected && in_scope(ctx->results[i].rule, sc))
			n[ctx->results[i].f.status]++;
	printf("summary: %u pass, %u warn, %u fail, %u skip\n", n[RS_STATUS_PASS],
	       n[RS_STATUS_WARN], n[RS_STATUS_FAIL], n[RS_STATUS_SKIP]);
}

static void print_postinstall(const struct rs_report *rep)
{
	const struct rs_ctx *ctx = &rep->ctx;
	_cleanup_free_ char *ids = rs_xstrdup("");

	for (size_t i = 0; i < rs_rules.n; i++) {
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
	if (cli->format != RS_FORMAT_TEXT || a->report_file) {
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

static json_t *summary_json(const unsigned n[4])
{
	return json_pack("{s:I, s:I, s:I, s:I}", "pass", (json_int_t)n[RS_STATUS_PASS], "warn",
			 (json_int_t)n[RS_STATUS_WARN], "fail", (json_int_t)n[RS_STATUS_FAIL],
			 "skip", (json_int_t)n[RS_STATUS_SKIP]);
}

/* The selected results of one scope, counted into n[] by status. */
static json_t *scoped_results(const struct rs_report *rep, enum scope sc, unsigned n[4])
{
	json_t *out = json_array();

	for (size_t i = 0; i < rs_rules.n; i++) {
		const struct rs_result *r = &rep->ctx.results[i];
		if (!r->selected || !in_scope(r->rule, sc))
			continue;
		n[r->f.status]++;
		json_array_append_new(out, rs_result_json(&rep->ctx, r));
	}
	return out;
}

/* How the users of a fleet run fared: each its own line, none the fleet's
 * verdict (rootless-setup(8), check --all-users). */
struct fleet_tally {
	unsigned n[4];	  /* every result, host and users, by status */
	unsigned users;	  /* users reported */
	unsigned failing; /* users with a failing rule (--strict: or a warning) */
	unsigned errors;  /* users that could not be checked */
};

/*
 * Where a fleet run goes as each user is checked: fleet-report/v2 lines
 * (--format jsonl) on stdout and into the report file, the host line
 * first, one line per user, a summary line last; or one fleet-report/v1
 * document, built whole (--format json, or a report file beside text).
 * Memory stays that of one user's entry with lines.
 */
struct fleet_out {
	const struct rs_cli *cli;
	bool strict;
	bool lines;		     /* stdout takes v2 lines */
	FILE *report;		     /* the report file's v2 lines, or NULL */
	struct rs_host *report_host; /* the stream's handle: held until commit or abort */
	bool report_bad;
	json_t *doc; /* the v1 document, or NULL */
	struct fleet_tally t;
	unsigned host[4];
};

static void put_line(FILE *f, json_t *o)
{
	json_dumpf(o, f, JSON_COMPACT);
	fputc('\n', f);
}

/* One v2 line, "type" first, to stdout and into the report file. */
static void emit(struct fleet_out *fo, const char *type, json_t *o)
{
	if (!fo->lines && !fo->report)
		return;
	json_t *line = json_pack("{s:s}", "type", type);
	json_object_update(line, o);
	if (fo->lines)
		put_line(stdout, line);
	if (fo->report && !fo->report_bad)
		put_line(fo->report, line);
	json_decref(line);
}

/* One user's entry: its per-user results, or why it could not be checked. */
static void fleet_user(struct rs_fleet *fl, struct fleet_out *fo, const char *name)
{
	const struct rs_cli *cli = fo->cli;
	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;
	json_t *e;

	fo->t.users++;
	if (rs_fleet_check(fl, name, &rep, &err) < 0) {
		const char *why = err ? err->msg : "cannot check";
		rs_cli_msg("user '%s': %s", name, why);
		if (cli->format == RS_FORMAT_TEXT)
			printf("user: %s: not checked: %s\n", rs_cli_esc(name), rs_cli_esc(why));
		e = json_pack("{s:{s:o}, s:o}", "user", "name", rs_json_str(name), "error",
			      rs_json_str(why));
		rs_error_free(err);
		fo->t.errors++;
	} else {
		unsigned n[4] = {0};
		print_notes(rep, false);
		if (cli->format == RS_FORMAT_TEXT)
			print_text(cli, rep, SCOPE_USER);
		json_t *host = rs_report_host_json(rep);
		json_t *res = scoped_results(rep, SCOPE_USER, n);
		e = json_pack("{s:O, s:o, s:o, s:o}", "user", json_object_get(host, "user"),
			      "results", res, "decisions", rs_report_decisions_json(rep), "summary",
			      summary_json(n));
		json_decref(host);
		rs_report_free(rep);
		for (unsigned k = 0; k < 4; k++)
			fo->t.n[k] += n[k];
		if (verdict(n, fo->strict) != RS_EXIT_OK)
			fo->t.failing++;
	}
	if (fo->doc)
		json_array_append(json_object_get(fo->doc, "users"), e);
	emit(fo, "user", e);
	json_decref(e);
}

/* The host section: the host-wide rules, checked once with no target user. */
static void fleet_host(struct fleet_out *fo, const struct rs_report *rep)
{
	json_t *host = rs_report_host_json(rep);

	print_notes(rep, true);
	if (fo->cli->format == RS_FORMAT_TEXT)
		print_text(fo->cli, rep, SCOPE_HOST);
	json_object_del(host, "user");
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "schema",
			      "rootless-setup/fleet-report/v2", "version", RS_VERSION, "host", host,
			      "engines", rs_report_engines_json(rep), "results",
			      scoped_results(rep, SCOPE_HOST, fo->host));
	if (fo->doc) {
		json_object_update(fo->doc, o);
		json_object_set_new(fo->doc, "schema",
				    json_string("rootless-setup/fleet-report/v1"));
		json_object_set_new(fo->doc, "users", json_array());
	}
	emit(fo, "host", o);
	json_decref(o);
	memcpy(fo->t.n, fo->host, sizeof(fo->host));
}

/* The names given to --all-users=a,b, each once. */
static void named_users(const char *named, struct rs_strv *out)
{
	_cleanup_free_ char *dup = rs_xstrdup(named);
	char *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!rs_strv_contains(out, t))
			rs_strv_push(out, t);
}

static int run_fleet(const struct rs_check_opts *o, const struct check_args *a,
		     struct fleet_out *fo)
{
	struct rs_strv users = {0};
	struct rs_error *err = NULL;
	struct rs_fleet *fl = NULL;
	const struct rs_report *host = NULL;
	int r = rs_fleet_open(o, &fl, &host, &err);

	if (r < 0)
		return rs_cli_fail(r, err);
	r = a->users ? (named_users(a->users, &users), 0) : rs_fleet_users(fl, &users, &err);
	if (r < 0) {
		rs_fleet_free(fl);
		return rs_cli_fail(r, err);
	}
	fleet_host(fo, host);
	for (size_t i = 0; i < users.n; i++)
		fleet_user(fl, fo, users.v[i]);
	rs_strv_clear(&users);
	rs_fleet_free(fl);
	const struct fleet_tally *t = &fo->t;
	json_t *sum = summary_json(t->n);
	json_object_set_new(sum, "users", json_integer((json_int_t)t->users));
	json_object_set_new(sum, "failing", json_integer((json_int_t)t->failing));
	json_object_set_new(sum, "errors", json_integer((json_int_t)t->errors));
	json_t *line = json_pack("{s:O}", "summary", sum);
	emit(fo, "summary", line);
	json_decref(line);
	if (fo->doc)
		json_object_set(fo->doc, "summary", sum);
	json_decref(sum);
	if (fo->cli->format == RS_FORMAT_TEXT)
		printf("fleet: %u users, %u failing, %u errors; %u pass, %u warn, %u fail, "
		       "%u skip\n",
		       t->users, t->failing, t->errors, t->n[RS_STATUS_PASS], t->n[RS_STATUS_WARN],
		       t->n[RS_STATUS_FAIL], t->n[RS_STATUS_SKIP]);
	/* the host's verdict: a user's failure, or a user that cannot be
	 * checked (a hostile runtime dir, an account gone), is that user's
	 * line and counts, never the node's readiness */
	return verdict(fo->host, a->strict);
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
 * an emptyDir of the pod), written through the one safe-write path: a new
 * file of ours every time, never one a user made there first (which would
 * keep the user's owner and mode); the report, which speaks for every
 * user, only where nobody else can replace it. */
static const struct rs_write_opts out_opts = {.mode = 0644,
					      .uid = (uid_t)-1,
					      .gid = (gid_t)-1,
					      .fresh = true};

static int open_here(struct rs_host **h, struct rs_error **err)
{
	return rs_host_open("/", h, err);
}

/* The report as lines, written as the run goes (--format jsonl). */
static int report_open(const struct check_args *a, struct fleet_out *fo, struct rs_safe_stream **st)
{
	struct rs_host *h = NULL;
	struct rs_error *err = NULL;
	struct rs_write_opts ro = out_opts;
	_cleanup_free_ char *rel = local_rel(a->report_file);

	ro.own_dir = true;
	int r = open_here(&h, &err);
	if (r >= 0)
		r = rs_safe_stream_open(h, rel, &ro, st, &err);
	if (r < 0) {
		rs_host_free(h);
		rs_cli_fail(r, err);
		return RS_EXIT_HOST;
	}
	fo->report_host = h; /* the stream uses it until commit or abort */
	int fd = fcntl(rs_safe_stream_fd(*st), F_DUPFD_CLOEXEC, 3);
	fo->report = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fo->report) {
		if (fd >= 0)
			close(fd);
		rs_cli_msg("cannot write '%s': %s", a->report_file, strerror(errno));
		rs_safe_stream_abort(*st);
		*st = NULL;
		return RS_EXIT_HOST;
	}
	return 0;
}

static int report_close(const struct check_args *a, struct fleet_out *fo, struct rs_safe_stream *st)
{
	struct rs_error *err = NULL;
	bool bad = fo->report_bad || ferror(fo->report);

	bad |= fclose(fo->report) != 0;
	fo->report = NULL;
	if (bad) {
		rs_cli_msg("cannot write '%s': %s", a->report_file, strerror(errno ? errno : EIO));
		rs_safe_stream_abort(st);
		return RS_EXIT_HOST;
	}
	if (rs_safe_stream_commit(st, &err) < 0) {
		rs_cli_fail(-EIO, err);
		return RS_EXIT_HOST;
	}
	return 0;
}

static int write_outputs(const struct check_args *a, json_t *doc, bool ready)
{
	struct rs_host *h = NULL;
	struct rs_error *err = NULL;
	struct rs_write_opts ro = out_opts;
	int r = open_here(&h, &err);

	ro.own_dir = true;
	if (r >= 0 && a->report_file && doc) {
		_cleanup_free_ char *rel = local_rel(a->report_file);
		_cleanup_free_ char *s = json_dumps(doc, JSON_INDENT(2));
		_cleanup_free_ char *text = s ? rs_xasprintf("%s\n", s) : NULL;
		r = text ? rs_safe_write(h, rel, text, strlen(text), &ro, &err) : -ENOMEM;
	}
	if (r >= 0 && a->ready_file) {
		_cleanup_free_ char *rel = local_rel(a->ready_file);
		r = ready ? rs_safe_write(h, rel, "ready\n", 6, &out_opts, &err)
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

/* A fleet run: lines as they are made (jsonl), or the v1 document. */
static int run_fleet_once(const struct rs_cli *cli, const struct rs_check_opts *o,
			  const struct check_args *a, json_t **doc)
{
	struct fleet_out fo = {.cli = cli, .strict = a->strict};
	struct rs_safe_stream *st = NULL;
	int rep_code = 0;

	fo.lines = cli->format == RS_FORMAT_JSONL;
	if (cli->format == RS_FORMAT_JSON || (a->report_file && !fo.lines))
		fo.doc = *doc = json_object();
	if (a->report_file && fo.lines)
		rep_code = report_open(a, &fo, &st);
	int code = run_fleet(o, a, &fo);
	if (fo.report) {
		/* a failed run leaves the previous report, never part of one */
		if (code >= RS_EXIT_USAGE) {
			fclose(fo.report);
			rs_safe_stream_abort(st);
		} else {
			rep_code = report_close(a, &fo, st);
		}
	}
	rs_host_free(fo.report_host);
	return code ? code : rep_code;
}

static int run_once(const struct rs_cli *cli, const struct rs_check_opts *o,
		    const struct check_args *a, bool *is_ready)
{
	json_t *doc = NULL;
	int code = a->all_users ? run_fleet_once(cli, o, a, &doc) : run_single(cli, o, a, &doc);

	if (doc && cli->format != RS_FORMAT_TEXT &&
	    (cli->format == RS_FORMAT_JSON || !a->all_users)) {
		/* one line per run under --interval (and in jsonl): `kubectl
		 * logs --tail=1` is the last */
		bool one = a->interval || cli->format == RS_FORMAT_JSONL;
		json_dumpf(doc, stdout, one ? JSON_COMPACT : JSON_INDENT(2));
		fputc('\n', stdout);
	}
	/* each run reaches the log at once; a single run is flushed (and a
	 * lost report noticed) by rs_cli_finish */
	if (a->interval && fflush(stdout) != 0 && errno != EPIPE)
		rs_cli_msg("cannot write output: %s", strerror(errno));
	if ((a->report_file && doc) || a->ready_file) {
		/* the ready file follows the host's verdict (1 a failing rule);
		 * a report that could not be written is 3 and not ready */
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
		else if (c == OPT_RULE && rs_rule_find(&rs_rules, optarg))
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
	rs_strv_clear(&only);
	return o.postinstall ? RS_EXIT_OK : code;
}

const struct rs_cmd rs_cmd_check = {
	.name = "check",
	.summary = "inspect the host and the user (read-only)",
	.run = cmd_check,
};
