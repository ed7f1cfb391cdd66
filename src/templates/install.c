/* SPDX-License-Identifier: GPL-2.0-or-later */
/* generate, install and uninstall, as actions (the verbs print them). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"
#include "templates/install.h"

static int finish(struct rs_fix_ctx *f, struct rs_report *rep, struct rs_fix_report **out)
{
	struct rs_fix_report *fr = rs_xcalloc(1, sizeof(*fr));
	fr->check = rep;
	fr->a = f->a;
	fr->n = f->n;
	for (size_t i = 0; i < f->n; i++) {
		fr->changed += f->a[i].changed;
		fr->failed += f->a[i].failed;
	}
	*out = fr;
	return 0;
}

static char *manifest_rel(const struct rs_ctx *ctx, enum rs_engine e)
{
	return rs_xasprintf("%s/.local/state/rootless-setup/%s.json",
			    strcmp(ctx->user.home, "/") ? ctx->user.home : "", rs_engine_name(e));
}

static const char *hash_hex(const char *text)
{
	static char buf[17];
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)rs_gen_hash(text));
	return buf;
}

static void write_files(struct rs_fix_ctx *f, const struct rs_install_opts *o, struct rs_gen *g,
			json_t *manifest)
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
		rs_fix_action(f, "generate", "note", o->output, "cannot open the output "
			      "directory")->failed = true;
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		const char *rel = o->output ? strrchr(g->f[i].path, '/') + 1 : g->f[i].path;
		int r = rs_gen_write(f, out ? out : ctx->host, rel, &g->f[i], o->force, uid, gid);
		if (r >= 0 && manifest)
			json_array_append_new(manifest, json_pack("{s:s, s:s%}", "path", g->f[i].path,
								  "hash", hash_hex(g->f[i].text), 16));
	}
	rs_host_free(out);
}

int rs_generate_run(const struct rs_install_opts *o, struct rs_fix_report **out,
		    struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_gen g;
	int r = rs_check_run(&o->check, &rep, err);
	if (r < 0)
		return r;
	struct rs_fix_opts fo = {.dry_run = o->dry_run, .force = o->force};
	struct rs_fix_ctx f = {.o = &fo, .ctx = &rep->ctx};
	if (rs_gen_render(rep, o->engine, o->self, o->default_runtime, &g) < 0) {
		rs_fix_action(&f, "generate", "note", NULL, "nothing to generate for '%s'",
			      rs_engine_name(o->engine))->failed = true;
		return finish(&f, rep, out);
	}
	write_files(&f, o, &g, NULL);
	rs_gen_clear(&g);
	return finish(&f, rep, out);
}

static bool user_manager(const struct rs_ctx *ctx)
{
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *sock = rs_xasprintf("%s/systemd/private", run);
	return ctx->host->live && rs_host_exists(ctx->host, sock) && geteuid() == ctx->user.uid;
}

static void start(struct rs_fix_ctx *f, const struct rs_install_opts *o, const struct rs_gen *g)
{
	_cleanup_free_ char *unit = rs_xasprintf("rootless-setup-%s.service", rs_engine_name(o->engine));
	if (!g->launch_cmd)
		return;
	if (o->no_start || !user_manager(f->ctx)) {
		rs_fix_action(f, "install", "note", NULL, "start it with: %s", g->launch_cmd);
		rs_fix_action(f, "install", "note", NULL, "%s: with a systemd user session, "
			      "'systemctl --user enable --now %s'; to keep it without a login, "
			      "'loginctl enable-linger %s'", o->no_start ? "not started (--no-start)"
			      : "no systemd user manager reachable", unit, f->ctx->user.name);
		return;
	}
	char *const reload[] = {"/usr/bin/systemctl", "--user", "daemon-reload", NULL};
	char *const now[] = {"/usr/bin/systemctl", "--user", "enable", "--now", unit, NULL};
	if (rs_fix_exec(f, "install", reload) == 0)
		rs_fix_exec(f, "install", now);
}

int rs_install_run(const struct rs_install_opts *o, struct rs_fix_report **out,
		   struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_gen g;
	int r = rs_check_run(&o->check, &rep, err);
	if (r < 0)
		return r;
	struct rs_fix_opts fo = {.dry_run = o->dry_run, .force = o->force};
	struct rs_fix_ctx f = {.o = &fo, .ctx = &rep->ctx};
	if (rep->counts[RS_STATUS_FAIL] && !o->force) {
		for (size_t i = 0; i < rs_rules_count; i++)
			if (rep->ctx.results[i].selected && rep->ctx.results[i].f.status == RS_STATUS_FAIL)
				rs_fix_action(&f, rep->ctx.results[i].rule->id, "note", NULL, "fails: %s",
					      rep->ctx.results[i].f.message)->failed = true;
		rs_fix_action(&f, "install", "note", NULL, "refusing to install past failing rules "
			      "(--fix repairs what it can, --force goes on)")->failed = true;
		return finish(&f, rep, out);
	}
	if (rs_gen_render(rep, o->engine, o->self, o->default_runtime, &g) < 0) {
		rs_fix_action(&f, "install", "note", NULL, "nothing to install for '%s'",
			      rs_engine_name(o->engine))->failed = true;
		return finish(&f, rep, out);
	}
	json_t *files = json_array();
	write_files(&f, o, &g, files);
	/* what uninstall may remove: exactly these files, while unchanged */
	_cleanup_free_ char *mrel = manifest_rel(&rep->ctx, o->engine);
	json_t *m = json_pack("{s:s, s:s, s:o}", "schema", "rootless-setup/manifest/v1", "engine",
			      rs_engine_name(o->engine), "files", files);
	char *text = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	struct rs_gen_file mf = {.path = mrel, .text = rs_xasprintf("%s\n", text)};
	free(text);
	if (!f.a || !f.a[f.n - 1].failed)
		rs_gen_write(&f, rep->ctx.host, mrel, &mf, true,
			     geteuid() == 0 ? rep->ctx.user.uid : (uid_t)-1,
			     geteuid() == 0 ? rep->ctx.user.gid : (gid_t)-1);
	free(mf.text);
	if (!o->dry_run)
		start(&f, o, &g);
	else if (g.launch_cmd)
		rs_fix_action(&f, "install", "note", NULL, "would start: %s", g.launch_cmd);
	rs_gen_clear(&g);
	return finish(&f, rep, out);
}

static void remove_recorded(struct rs_fix_ctx *f, const struct rs_install_opts *o, json_t *files)
{
	size_t i;
	json_t *x;

	json_array_foreach(files, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		const char *hash = json_string_value(json_object_get(x, "hash"));
		_cleanup_free_ char *now = NULL;
		size_t len;
		if (!path || rs_safe_read(f->ctx->host, path, 16u << 20, &now, &len, NULL) < 0)
			continue;
		if (!now)
			continue;
		/* changed by the user since install: theirs now, kept */
		if (!hash || strcmp(hash_hex(now), hash)) {
			rs_fix_action(f, "uninstall", "note", path, "changed since install: kept");
			continue;
		}
		int r = rs_safe_unlink(f->ctx->host, path, o->dry_run);
		struct rs_action *a = rs_fix_action(f, "uninstall", "remove", path, "installed by "
						    "rootless-setup");
		a->changed = r > 0;
		a->failed = r < 0;
	}
}

static void purge(struct rs_fix_ctx *f, const struct rs_install_opts *o)
{
	struct rs_ctx *ctx = f->ctx;
	if (o->purge) {
		_cleanup_free_ char *data = rs_ctx_data_dir(ctx, o->engine);
		struct rs_action *a = rs_fix_action(f, "uninstall", "remove", data, "the engine's data");
		a->changed = rs_host_exists(ctx->host, data);
		_cleanup_free_ char *parent = rs_xstrdup(data);
		char *slash = strrchr(parent, '/');
		if (a->changed && !o->dry_run && slash) {
			*slash = '\0';
			int dfd = rs_host_openat(ctx->host, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, NULL);
			if (dfd < 0 || rs_remove_tree(dfd, slash + 1, 64) < 0)
				a->failed = true;
			if (dfd >= 0)
				close(dfd);
		}
	}
}

int rs_uninstall_run(const struct rs_install_opts *o, struct rs_fix_report **out,
		     struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_check_opts co = o->check;
	co.no_probe = true;
	int r = rs_check_run(&co, &rep, err);
	if (r < 0)
		return r;
	struct rs_fix_opts fo = {.dry_run = o->dry_run, .force = o->force};
	struct rs_fix_ctx f = {.o = &fo, .ctx = &rep->ctx};
	_cleanup_free_ char *mrel = manifest_rel(&rep->ctx, o->engine), *text = NULL;
	size_t len;
	if (rs_safe_read(rep->ctx.host, mrel, 1u << 20, &text, &len, NULL) < 0 || !text) {
		rs_fix_action(&f, "uninstall", "note", mrel, "no install of '%s' recorded: no file "
			      "to remove", rs_engine_name(o->engine));
		purge(&f, o);
		return finish(&f, rep, out);
	}
	json_t *m = json_loads(text, 0, NULL);
	_cleanup_free_ char *unit = rs_xasprintf("rootless-setup-%s.service", rs_engine_name(o->engine));
	if (user_manager(&rep->ctx)) {
		char *const stop[] = {"/usr/bin/systemctl", "--user", "disable", "--now", unit, NULL};
		rs_fix_exec(&f, "uninstall", stop);
	} else {
		rs_fix_action(&f, "uninstall", "note", NULL, "stop a running launch of it first "
			      "(TERM to its 'rootless-setup launch')");
	}
	remove_recorded(&f, o, json_object_get(m, "files"));
	json_decref(m);
	int rr = rs_safe_unlink(rep->ctx.host, mrel, o->dry_run);
	rs_fix_action(&f, "uninstall", "remove", mrel, "the install record")->changed = rr > 0;
	purge(&f, o);
	return finish(&f, rep, out);
}
