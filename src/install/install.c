/* SPDX-License-Identifier: GPL-2.0-or-later */
/* generate and install, as actions (the verbs print them); uninstall.c
 * follows the record install leaves. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/safewrite.h"
#include "lib/xalloc.h"
#include "install/install.h"
#include "install/record.h"

int rs_inst_finish(struct rs_gen_ctx *f, struct rs_report *rep, struct rs_action_report **out)
{
	*out = rs_action_report_new(rep, &f->acts);
	return 0;
}

static const char *home_of(const struct rs_ctx *ctx)
{
	return strcmp(ctx->user.home, "/") ? ctx->user.home : "";
}

char *rs_record_user_path(const struct rs_ctx *ctx, enum rs_engine e)
{
	return rs_xasprintf("%s/.local/state/rootless-setup/%s.json", home_of(ctx),
			    rs_engine_name(e));
}

char *rs_record_root_path(const struct rs_ctx *ctx, enum rs_engine e)
{
	return rs_xasprintf(RS_RECORD_ROOT_DIR "/%u/%s.json", (unsigned)ctx->user.uid,
			    rs_engine_name(e));
}

bool rs_record_by_root(const struct rs_ctx *ctx)
{
	return geteuid() == 0 && ctx->user.uid != 0;
}

const char *rs_record_hash(const char *text)
{
	static char buf[17];
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)rs_gen_hash(text));
	return buf;
}

/* The directories below the home that writing path would create, added to
 * dirs once each: uninstall removes them again when empty. */
/* The length of the target user's home when path lies below it, else 0. */
static size_t below_home(const struct rs_ctx *ctx, const char *path)
{
	const char *home = home_of(ctx);
	size_t hl = strlen(home);
	return strncmp(path, home, hl) || path[hl] != '/' ? 0 : hl;
}

static void missing_dirs(const struct rs_ctx *ctx, const char *path, struct rs_strv *dirs)
{
	size_t hl = below_home(ctx, path);
	_cleanup_free_ char *d = rs_xstrdup(path);
	char *slash;
	struct stat st;

	if (!hl)
		return;
	while ((slash = strrchr(d, '/')) && (size_t)(slash - d) > hl) {
		*slash = '\0';
		if (rs_host_stat(ctx->host, d, &st, true) == 0)
			return;
		if (!rs_strv_contains(dirs, d))
			rs_strv_push(dirs, d);
	}
}

/* dirs that exist now, and those the record's own writing will make
 * (more), deepest (most slashes) first. */
static json_t *created_dirs(const struct rs_ctx *ctx, const struct rs_strv *dirs,
			    const struct rs_strv *more)
{
	json_t *out = json_array();
	size_t max = 0;

	for (size_t i = 0; i < dirs->n + more->n; i++) {
		const char *d = i < dirs->n ? dirs->v[i] : more->v[i - dirs->n];
		max = strlen(d) > max ? strlen(d) : max;
	}
	for (size_t depth = max + 1; depth-- > 0;) {
		for (size_t i = 0; i < dirs->n + more->n; i++) {
			const char *d = i < dirs->n ? dirs->v[i] : more->v[i - dirs->n];
			struct stat st;
			size_t n = 0;
			for (const char *p = d; *p; p++)
				n += *p == '/';
			if (n != depth ||
			    (i < dirs->n &&
			     (rs_host_stat(ctx->host, d, &st, true) < 0 || !S_ISDIR(st.st_mode))))
				continue;
			if (i >= dirs->n && rs_strv_contains(dirs, d))
				continue;
			json_array_append_new(out, json_string(d));
		}
	}
	return out;
}

void rs_record_keys(json_t *list, struct rs_toml_keys *out)
{
	size_t i;
	json_t *x;

	json_array_foreach (list, i, x) {
		const char *t = json_string_value(json_object_get(x, "table"));
		const char *k = json_string_value(json_object_get(x, "key"));
		const char *v = json_string_value(json_object_get(x, "value"));
		const char *b = json_string_value(json_object_get(x, "before"));
		bool h = json_is_true(json_object_get(x, "header"));
		/* names the reader can find again; the rest is no key of ours */
		if (t && k && v && rs_toml_bare_path(t) && rs_toml_bare_path(k) &&
		    !strchr(k, '.') && !strpbrk(v, "\r\n") &&
		    (!b || strspn(b, "\r\n") == strlen(b)))
			rs_toml_keys_push(out, t, k, v, h, b);
	}
}

/* What the record (prior: the last install's, read by install_prior) says
 * of path: its hash when written whole, its keys when merged. */
static void prior_of(json_t *prior, const char *path, struct rs_gen_merged *mg,
		     struct rs_toml_keys *keys)
{
	size_t i;
	json_t *x;

	json_array_foreach (json_object_get(prior, "files"), i, x) {
		if (!json_is_string(json_object_get(x, "path")) ||
		    strcmp(json_string_value(json_object_get(x, "path")), path))
			continue;
		mg->prior_hash = json_string_value(json_object_get(x, "hash"));
		rs_record_keys(json_object_get(x, "merged"), keys);
		mg->prior = keys;
		return;
	}
}

/* The record entry of a file written: its hash, or the keys merged into the
 * user's own file (nothing when none of ours is in it). */
static json_t *record_entry(const struct rs_gen_file *gf, const struct rs_gen_merged *mg)
{
	if (!mg->merged)
		return json_pack("{s:s, s:s%}", "path", gf->path, "hash", rs_record_hash(gf->text),
				 16);
	if (!mg->added.n)
		return NULL;
	json_t *keys = json_array();
	for (size_t i = 0; i < mg->added.n; i++) {
		const struct rs_toml_key *k = &mg->added.v[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "table", k->table, "key", k->key,
				      "value", k->value, "header", k->header);
		if (k->header)
			json_object_set_new(o, "before", json_string(k->before));
		json_array_append_new(keys, o);
	}
	return json_pack("{s:s, s:o}", "path", gf->path, "merged", keys);
}

static void write_files(struct rs_gen_ctx *f, const struct rs_install_opts *o, struct rs_gen *g,
			json_t *manifest, struct rs_strv *dirs, json_t *prior)
{
	struct rs_ctx *ctx = f->ctx;
	uid_t uid = geteuid() == 0 ? ctx->user.uid : (uid_t)-1;
	gid_t gid = geteuid() == 0 ? ctx->user.gid : (gid_t)-1;
	struct rs_host *out = NULL;

	if (o->output && !o->dry_run) {
		/* mkdir -p: the user named the directory */
		_cleanup_free_ char *d = rs_xstrdup(o->output);
		for (char *p = d + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			mkdir(d, 0755);
			*p = '/';
		}
		mkdir(d, 0755);
	}
	if (o->output && rs_host_open(o->output, &out, NULL) < 0) {
		rs_action_add(&f->acts, "generate", "note", o->output,
			      "cannot open the output "
			      "directory")
			->failed = true;
		return;
	}
	for (size_t i = 0; dirs && i < g->n; i++)
		missing_dirs(ctx, g->f[i].path, dirs);
	for (size_t i = 0; i < g->n; i++) {
		const char *rel = o->output ? strrchr(g->f[i].path, '/') + 1 : g->f[i].path;
		/* the action names the file written: in DIR for --output */
		_cleanup_free_ char *shown = o->output ? rs_xasprintf("%s/%s", o->output, rel)
						       : rs_xstrdup(rel);
		struct rs_toml_keys keys = {0};
		struct rs_gen_merged mg = {0};
		json_t *entry;
		if (prior && !o->output)
			prior_of(prior, g->f[i].path, &mg, &keys);
		int r = rs_gen_write(f, out ? out : ctx->host, rel, shown, &g->f[i], o->force, uid,
				     gid, &mg);
		if (r >= 0 && manifest && (entry = record_entry(&g->f[i], &mg)))
			json_array_append_new(manifest, entry);
		rs_toml_keys_clear(&keys);
		rs_toml_keys_clear(&mg.added);
	}
	rs_host_free(out);
}

/* The record the last install left, as far as this install may trust it:
 * root's own when root installs for a user (the user's is never read
 * then), else the caller's own. NULL: none, or not a record. */
static json_t *install_prior(const struct rs_ctx *ctx, const char *mpath)
{
	_cleanup_free_ char *text = NULL;
	struct rs_error *e = NULL;
	size_t len;

	if (rs_safe_read(ctx->host, mpath, RS_RECORD_MAX, &text, &len, &e) < 0) {
		rs_error_free(e);
		return NULL;
	}
	json_t *m = text ? json_loads(text, 0, NULL) : NULL;
	if (m && !json_is_object(m)) {
		json_decref(m);
		return NULL;
	}
	return m;
}

unsigned rs_inst_gen_flags(const struct rs_install_opts *o)
{
	return (o->default_runtime ? RS_GEN_DEFAULT_RUNTIME : 0) |
	       (o->containerd_worker ? RS_GEN_CONTAINERD_WORKER : 0);
}

int rs_generate_run(const struct rs_install_opts *o, struct rs_action_report **out,
		    struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_gen g;
	int r = rs_check_run(&o->check, &rep, err);
	if (r < 0)
		return r;
	struct rs_gen_ctx f = {.ctx = &rep->ctx, .acts.dry_run = o->dry_run};
	if (rs_gen_render(rep, o->engine, o->self, rs_inst_gen_flags(o), &g) < 0) {
		rs_action_add(&f.acts, "generate", "note", NULL, "nothing to generate for '%s'",
			      rs_engine_name(o->engine))
			->failed = true;
		return rs_inst_finish(&f, rep, out);
	}
	write_files(&f, o, &g, NULL, NULL, NULL);
	rs_gen_clear(&g);
	return rs_inst_finish(&f, rep, out);
}

bool rs_inst_user_manager(const struct rs_ctx *ctx)
{
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *sock = rs_xasprintf("%s/systemd/private", run);
	/* root reaches another user's manager too: rs_inst_systemctl then runs
	 * systemctl as that user */
	return ctx->host->live && rs_host_exists(ctx->host, sock) &&
	       (geteuid() == ctx->user.uid || geteuid() == 0);
}

int rs_inst_systemctl(struct rs_gen_ctx *f, const char *rule, char *const argv[])
{
	/* the clean environment of helpers has neither variable, and without
	 * them systemctl --user cannot find the user's manager (seen on a
	 * booted Debian 12 and 13: "$DBUS_SESSION_BUS_ADDRESS and
	 * $XDG_RUNTIME_DIR not defined"); both come from the context, never
	 * from the caller's environment. Root acting for the user runs it as
	 * the user: the manager, its bus and the unit files are the user's,
	 * and root gains nothing by talking to them with its own rights */
	_cleanup_free_ char *run = rs_ctx_runtime_dir(f->ctx);
	_cleanup_free_ char *xdg = rs_xasprintf("XDG_RUNTIME_DIR=/%s", rs_host_rel(run));
	_cleanup_free_ char *bus = rs_xasprintf("DBUS_SESSION_BUS_ADDRESS=unix:path=/%s/bus",
						rs_host_rel(run));
	const char *const env[] = {xdg, bus, NULL};
	return rs_action_exec_env(&f->acts, rule, argv, env, &f->ctx->user);
}

static void start(struct rs_gen_ctx *f, const struct rs_install_opts *o, const struct rs_gen *g)
{
	_cleanup_free_ char *unit = rs_xasprintf("rootless-setup-%s.service",
						 rs_engine_name(o->engine));
	if (!g->launch_cmd)
		return;
	if (o->no_start || !f->ctx->host->live) {
		rs_action_add(&f->acts, "install", "note", NULL, "start it with: %s",
			      g->launch_cmd);
		rs_action_add(&f->acts, "install", "note", NULL,
			      "%s: with a systemd user session, "
			      "'systemctl --user enable --now %s'; to keep it without a login, "
			      "'loginctl enable-linger %s'",
			      o->no_start ? "not started (--no-start)" : "not started (--root)",
			      unit, f->ctx->user.name);
		return;
	}
	if (!rs_inst_user_manager(f->ctx)) {
		/* what the unit would run, detached, as the user */
		rs_inst_detach(f, o->engine, g);
		rs_action_add(&f->acts, "install", "note", NULL,
			      "no systemd user manager reachable: with one, 'systemctl --user "
			      "enable --now %s' (and 'loginctl enable-linger %s') keeps it "
			      "across reboots",
			      unit, f->ctx->user.name);
		return;
	}
	char *const reload[] = {"/usr/bin/systemctl", "--user", "daemon-reload", NULL};
	char *const now[] = {"/usr/bin/systemctl", "--user", "enable", "--now", unit, NULL};
	if (rs_inst_systemctl(f, "install", reload) < 0)
		return;
	/* a daemon that dies at once still leaves "enable --now" a success:
	 * the engine is up when its socket is there, and what it logged says
	 * why when it is not */
	rs_inst_came_up(f, o->engine, unit, rs_inst_systemctl(f, "install", now) == 0);
}

/* What uninstall may remove: exactly these files while unchanged, and
 * these directories while empty. Takes files and dirs. */
static void write_record(struct rs_gen_ctx *f, const struct rs_install_opts *o, json_t *files,
			 json_t *dirs, const char *path)
{
	struct rs_ctx *ctx = f->ctx;
	bool by_root = rs_record_by_root(ctx);
	json_t *m = json_pack("{s:s, s:s, s:o, s:o}", "schema", "rootless-setup/manifest/v1",
			      "engine", rs_engine_name(o->engine), "files", files, "dirs", dirs);
	char *text = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	struct rs_gen_file mf = {.path = (char *)path, .text = rs_xasprintf("%s\n", text)};
	free(text);
	struct rs_error *e = NULL;
	/* root's record: var/lib/rootless-setup 0755 as the package makes it
	 * (preflight.json), users/UID 0700 */
	if (by_root &&
	    rs_safe_mkdirs(ctx->host, "var/lib/rootless-setup", 0755, 0, 0, o->dry_run, &e) < 0) {
		rs_action_add(&f->acts, "install", "note", path, "%s", e->msg)->failed = true;
		rs_error_free(e);
	} else {
		bool chown = geteuid() == 0 && !by_root;
		rs_gen_write(f, ctx->host, path, path, &mf, true, chown ? ctx->user.uid : (uid_t)-1,
			     chown ? ctx->user.gid : (gid_t)-1, NULL);
	}
	free(mf.text);
}

/* The engine's data directory, made by install (0700, the user's) so that
 * the directories it adds are recorded: uninstall --purge empties it and
 * leaves the home as it was. */
static void make_data_dir(struct rs_gen_ctx *f, const struct rs_install_opts *o,
			  struct rs_strv *dirs, struct rs_strv *later)
{
	struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *data = rs_ctx_data_dir(ctx, o->engine);
	_cleanup_free_ char *below = data ? rs_xasprintf("%s/x", data) : NULL;
	struct rs_error *e = NULL;

	if (!rs_engine_info(o->engine)->data_dir || o->output)
		return;
	missing_dirs(ctx, below, dirs);
	/* the directories the engine itself will add beside it: removed by
	 * uninstall when empty, as they were not there before */
	for (const char *const *m = rs_engine_info(o->engine)->more_data; m && *m; m++) {
		_cleanup_free_ char *p = rs_xasprintf("%s/%s", home_of(ctx), *m);
		missing_dirs(ctx, p, later);
	}
	if (rs_safe_mkdirs(ctx->host, data, 0700, geteuid() == 0 ? ctx->user.uid : (uid_t)-1,
			   geteuid() == 0 ? ctx->user.gid : (gid_t)-1, o->dry_run, &e) < 0) {
		rs_action_add(&f->acts, "install", "note", data, "%s", e->msg)->failed = true;
		rs_error_free(e);
	}
}

/* systemctl --user enable makes default.target.wants beside the unit:
 * recorded (when it is not there yet) so that uninstall, after disable,
 * removes it again when empty and the home is as it was. */
static void wants_dir(struct rs_gen_ctx *f, const struct rs_install_opts *o, const struct rs_gen *g,
		      struct rs_strv *later)
{
	if (o->no_start || o->output || !g->launch_cmd || !rs_inst_user_manager(f->ctx))
		return;
	for (size_t i = 0; i < g->n; i++) {
		if (!g->f[i].unit)
			continue;
		_cleanup_free_ char *w = rs_xstrdup(g->f[i].path);
		*strrchr(w, '/') = '\0';
		_cleanup_free_ char *x = rs_xasprintf("%s/default.target.wants/x", w);
		missing_dirs(f->ctx, x, later);
	}
}

/* A second install finds the directories the first one made: they stay
 * recorded (those still there), so uninstall removes them all the same. */
static void prior_dirs(const struct rs_ctx *ctx, json_t *prior, struct rs_strv *dirs)
{
	size_t i, hl;
	json_t *x;

	json_array_foreach (json_object_get(prior, "dirs"), i, x) {
		const char *d = json_string_value(x);
		/* below the home, by name: no empty, "." or ".." component */
		if (d && (hl = below_home(ctx, d)) && rs_path_plain(d + hl + 1) &&
		    !rs_strv_contains(dirs, d))
			rs_strv_push(dirs, d);
	}
}

/* Whether the engine runs now that start() is done: it was started, or
 * found running, and nothing start recorded (from action before) failed. */
static bool started(const struct rs_gen_ctx *f, const struct rs_install_opts *o,
		    const struct rs_gen *g, size_t before)
{
	if (!g->launch_cmd || o->dry_run || o->no_start || !f->ctx->host->live)
		return false;
	for (size_t i = before; i < f->acts.n; i++)
		if (f->acts.a[i].failed)
			return false;
	return true;
}

/* The commands the user types next, in order (rootless-setup(8) JSON
 * OUTPUT "next"): start the engine (or that install did), then a first
 * container or build, from the engine table. None after a failure. */
static void next_steps(struct rs_gen_ctx *f, const struct rs_install_opts *o,
		       const struct rs_gen *g, bool running)
{
	const struct rs_engine_info *ei = rs_engine_info(o->engine);
	for (size_t i = 0; i < f->acts.n; i++)
		if (f->acts.a[i].failed)
			return;
	if (g->launch_cmd)
		rs_action_next(&f->acts, "start", g->launch_cmd, running);
	if (g->first_prep)
		rs_action_next(&f->acts, "prepare", g->first_prep, false);
	if (g->first_pull)
		rs_action_next(&f->acts, "pull", g->first_pull, false);
	if (g->first_run)
		rs_action_next(&f->acts, ei->client_what ? "build" : "run", g->first_run, false);
}

int rs_install_run(const struct rs_install_opts *o, struct rs_action_report **out,
		   struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_gen g;
	int r = rs_check_run(&o->check, &rep, err);
	if (r < 0)
		return r;
	struct rs_gen_ctx f = {.ctx = &rep->ctx, .acts.dry_run = o->dry_run};
	if (rep->counts[RS_STATUS_FAIL] && !o->force) {
		for (size_t i = 0; i < rep->ctx.rules->n; i++)
			if (rep->ctx.results[i].selected &&
			    rep->ctx.results[i].f.status == RS_STATUS_FAIL)
				rs_action_add(&f.acts, rep->ctx.results[i].rule->id, "note", NULL,
					      "fails: %s", rep->ctx.results[i].f.message)
					->failed = true;
		rs_action_add(&f.acts, "install", "note", NULL,
			      "refusing to install past failing rules "
			      "(--fix repairs what it can, --force goes on)")
			->failed = true;
		return rs_inst_finish(&f, rep, out);
	}
	if (rs_gen_render(rep, o->engine, o->self, rs_inst_gen_flags(o), &g) < 0) {
		rs_action_add(&f.acts, "install", "note", NULL, "nothing to install for '%s'",
			      rs_engine_name(o->engine))
			->failed = true;
		return rs_inst_finish(&f, rep, out);
	}
	json_t *files = json_array();
	struct rs_strv dirs = {0}, rdirs = {0};
	_cleanup_free_ char *mpath = rs_record_by_root(&rep->ctx)
					     ? rs_record_root_path(&rep->ctx, o->engine)
					     : rs_record_user_path(&rep->ctx, o->engine);
	if (!rs_record_by_root(&rep->ctx))
		missing_dirs(&rep->ctx, mpath, &rdirs);
	json_t *prior = install_prior(&rep->ctx, mpath);
	write_files(&f, o, &g, files, &dirs, prior);
	prior_dirs(&rep->ctx, prior, &dirs);
	json_decref(prior);
	if (!rs_actions_last_failed(&f.acts))
		make_data_dir(&f, o, &dirs, &rdirs);
	wants_dir(&f, o, &g, &rdirs);
	if (!rs_actions_last_failed(&f.acts))
		write_record(&f, o, files, created_dirs(&rep->ctx, &dirs, &rdirs), mpath);
	else
		json_decref(files);
	rs_strv_clear(&dirs);
	rs_strv_clear(&rdirs);
	size_t before = f.acts.n;
	if (!o->dry_run)
		start(&f, o, &g);
	else if (g.launch_cmd)
		rs_action_add(&f.acts, "install", "note", NULL, "would start: %s", g.launch_cmd);
	/* what no configuration file can say, as the exact command */
	if (g.client_cmd && !rs_actions_last_failed(&f.acts))
		rs_action_add(&f.acts, "install", "note", NULL, "run %s with: %s %s",
			      rs_engine_info(o->engine)->client_what
				      ? rs_engine_info(o->engine)->client_what
				      : "a container",
			      g.client_cmd, rs_engine_info(o->engine)->client_args);
	next_steps(&f, o, &g, started(&f, o, &g, before));
	rs_gen_clear(&g);
	return rs_inst_finish(&f, rep, out);
}
