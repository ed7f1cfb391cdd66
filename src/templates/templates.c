/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "checks/isulad.h"
#include "host/access.h"
#include "lib/xalloc.h"
#include "templates/data.h"
#include "templates/templates.h"

/* A TOML basic string: quotes and backslashes escaped, no control bytes. */
static char *toml_str(const char *s)
{
	size_t n = strlen(s);
	char *out = rs_xmalloc(n * 2 + 3), *o = out;
	*o++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*o++ = '\\';
		if ((unsigned char)*s >= 0x20)
			*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

struct paths {
	const struct rs_engine_info *ei; /* the engine table's layout */
	const char *home, *run;
	char *config, *state_dir;
};

/* home/DATA_DIR, run/RUN_DIR, run/SOCKET, config/CONFIG of the engine */
static char *data_path(const struct paths *p, const char *sub)
{
	return rs_xasprintf("%s/%s%s", p->home, p->ei->data_dir, sub);
}

static char *run_path(const struct paths *p, const char *rel)
{
	return rs_xasprintf("%s/%s", p->run, rel);
}

static char *config_path(const struct paths *p)
{
	return rs_xasprintf("%s/%s", p->config, p->ei->config);
}

static void add(struct rs_gen *g, char *path, char *text, bool json, bool unit)
{
	g->f = rs_xrealloc(g->f, (g->n + 1) * sizeof(*g->f));
	g->f[g->n++] = (struct rs_gen_file){.path = path, .text = text, .json = json, .unit = unit};
}

/* systemd quoting for one ExecStart word */
static char *unit_word(const char *w)
{
	if (!strpbrk(w, " \t\"'\\$%;"))
		return rs_xstrdup(w);
	size_t n = strlen(w);
	char *out = rs_xmalloc(n * 2 + 3), *o = out;
	*o++ = '"';
	for (; *w; w++) {
		if (*w == '"' || *w == '\\')
			*o++ = '\\';
		if (*w == '%' || *w == '$')
			*o++ = *w; /* %% and $$ are literal in unit files */
		*o++ = *w;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* POSIX shell quoting for the printed command */
static char *shell_word(const char *w)
{
	if (*w && !strpbrk(w, " \t\n\"'\\$`;&|<>()*?[]#~{}!"))
		return rs_xstrdup(w);
	char *out = rs_xstrdup("'");
	for (; *w; w++) {
		char *n = *w == '\'' ? rs_xasprintf("%s'\\''", out) : rs_xasprintf("%s%c", out, *w);
		free(out);
		out = n;
	}
	char *n = rs_xasprintf("%s'", out);
	free(out);
	return n;
}

static char *join_with(char *const *argv, char *(*quote)(const char *))
{
	char *s = rs_xstrdup("");
	for (char *const *a = argv; *a; a++) {
		_cleanup_free_ char *w = quote(*a);
		char *n = rs_xasprintf("%s%s%s", s, *s ? " " : "", w);
		free(s);
		s = n;
	}
	return s;
}

/* Docker's and nerdctl's units, less what a launcher in C makes moot */
static char *unit_text(const char *engine, const char *exec)
{
	const char *const vars[] = {"ENGINE", engine, "EXEC_START", exec, NULL};
	return rs_template_fill("user.service", vars);
}

/* A JSON string, for a value in a JSON template. */
static char *json_str(const char *s)
{
	json_t *j = json_string(s);
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return out ? out : rs_xstrdup("\"\"");
}

static const char *snapshotter(const struct rs_report *rep)
{
	return rep->snapshotter;
}

static bool slirp(const struct rs_report *rep)
{
	return strcmp(rep->network, "slirp4netns") == 0;
}

/* The launch command, quoted for the unit (*unit) and for a shell (return). */
static char *launch_cmd(const char *self, const struct paths *p, const char *const *opts,
			char *const *cmd, char **unit)
{
	char *argv[32];
	size_t n = 0;
	_cleanup_free_ char *sd = rs_xasprintf("--state-dir=%s", p->state_dir);
	argv[n++] = (char *)self;
	argv[n++] = "launch";
	argv[n++] = sd;
	for (const char *const *o = opts; *o && n < 24; o++)
		argv[n++] = (char *)*o;
	argv[n++] = "--";
	for (char *const *c = cmd; *c && n < 31; c++)
		argv[n++] = *c;
	argv[n] = NULL;
	*unit = join_with(argv, unit_word);
	return join_with(argv, shell_word);
}

static void render_containerd(const struct rs_report *rep, const struct paths *p, const char *self,
			      struct rs_gen *g)
{
	_cleanup_free_ char *root = data_path(p, "");
	_cleanup_free_ char *state = run_path(p, p->ei->run_dir);
	_cleanup_free_ char *sock = run_path(p, p->ei->socket);
	_cleanup_free_ char *qr = toml_str(root), *qs = toml_str(state), *qa = toml_str(sock);
	char *cfg = config_path(p);
	/* containerd 1.6 has no built-in fuse-overlayfs: native then */
	const char *snap = strcmp(snapshotter(rep), "overlayfs") ? "native" : "overlayfs";
	const char *const vars[] = {"ENGINE", p->ei->name, "ROOT", qr, "STATE", qs, "ADDRESS", qa, NULL};
	add(g, cfg, rs_template_fill("containerd-config.toml", vars), false, false);
	_cleanup_free_ char *sh = rs_xasprintf("echo %s > \"$ROOTLESS_SETUP_STATE_DIR/snapshotter\"; "
					       "rm -f /run/containerd; exec %s -c %s",
					       snap, p->ei->daemon, cfg);
	static const char *const net_opts[] = {"--net=slirp4netns", "--disable-host-loopback",
					       "--copy-up=/etc", "--copy-up=/run", NULL};
	static const char *const host_opts[] = {"--copy-up=/etc", "--copy-up=/run", NULL};
	char *const cmd[] = {"/bin/sh", "-c", sh, NULL};
	g->launch_cmd = launch_cmd(self, p, slirp(rep) ? net_opts : host_opts, cmd, &g->unit_exec);
}

static char *isulad_json(const struct rs_report *rep, const struct paths *p)
{
	_cleanup_free_ char *graph = data_path(p, "");
	_cleanup_free_ char *state = run_path(p, p->ei->run_dir);
	_cleanup_free_ char *pid = rs_xasprintf("%s/%s/isulad.pid", p->run, p->ei->run_dir);
	_cleanup_free_ char *logs = data_path(p, "/logs");
	_cleanup_free_ char *qg = json_str(graph), *qs = json_str(state), *qp = json_str(pid);
	_cleanup_free_ char *ql = json_str(logs);
	bool overlay = strcmp(snapshotter(rep), "overlayfs") == 0;
	/* only keys of iSulad's own daemon.json (src/contrib/config/daemon.json) */
	const char *const vars[] = {
		"GRAPH", qg, "STATE", qs, "PIDFILE", qp, "LOG_PATH", ql,
		"STORAGE_DRIVER", overlay ? "\"overlay2\"" : "\"vfs\"",
		"STORAGE_OPTS", overlay ? "[\"overlay2.override_kernel_check=true\"]" : "[]", NULL,
	};
	_cleanup_free_ char *filled = rs_template_fill("isulad-daemon.json", vars);
	/* the merge with the user's file works on the parsed document; the
	 * written text is jansson's, as a merged file's is */
	json_t *j = json_loads(filled, JSON_REJECT_DUPLICATES, NULL);
	char *text = j ? json_dumps(j, JSON_INDENT(4)) : NULL;
	json_decref(j);
	if (!text)
		abort(); /* the template is not JSON: a bug the goldens catch */
	char *out = rs_xasprintf("%s\n", text);
	free(text);
	return out;
}

/* --overlay-file for each of root's iSulad files the user cannot read: the
 * user's copy (fix --rule isulad.permissions makes it, as the user) shown
 * at the system path. daemon.json is the generated one instead. */
static void isulad_copies(const struct rs_report *rep, const struct paths *p, struct rs_strv *ovl)
{
	const struct rs_ctx *ctx = &rep->ctx;

	for (const char *const *d = rs_isulad_dirs; *d; d++) {
		struct rs_strv names = {0};
		if (rs_host_listdir(ctx->host, *d, &names, NULL) < 0)
			continue;
		for (size_t i = 0; i < names.n && ovl->n < 16; i++) {
			_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, names.v[i]);
			struct stat st;
			if (!strcmp(rel, "etc/isulad/daemon.json") ||
			    rs_host_stat(ctx->host, rel, &st, false) < 0 || !S_ISREG(st.st_mode) ||
			    rs_access_user(ctx->host, &ctx->user, rel, R_OK) == 1)
				continue;
			rs_strv_take(ovl, rs_xasprintf("--overlay-file=%s/%s/%s:/%s", p->home,
						       RS_ISULAD_COPY_DIR, rel, rel));
		}
		rs_strv_free(&names);
	}
}

static void render_isulad(const struct rs_report *rep, const struct paths *p, const char *self,
			  struct rs_gen *g)
{
	char *cfg = config_path(p);
	add(g, cfg, isulad_json(rep, p), true, false);
	/* the RootlessKit line of iSulad's rootless guide, and the per-user
	 * daemon.json shown as the system one inside the namespace: the host's
	 * file is never edited */
	_cleanup_free_ char *ovl = rs_xasprintf("--overlay-file=%s:/etc/isulad/daemon.json", cfg);
	_cleanup_free_ char *host = rs_engine_client_value(RS_ENGINE_ISULAD, p->run);
	struct rs_strv copies = {0};
	const char *opts[24] = {"--cgroupns", "--copy-up=/run", "--copy-up=/usr/local",
				"--copy-up=/etc", ovl};
	size_t n = 5;
	isulad_copies(rep, p, &copies);
	for (size_t i = 0; i < copies.n && n < ARRAY_SIZE(opts) - 1; i++)
		opts[n++] = copies.v[i];
	opts[n] = NULL;
	char *const cmd[] = {(char *)p->ei->daemon, "-H", host, NULL};
	g->launch_cmd = launch_cmd(self, p, opts, cmd, &g->unit_exec);
	rs_strv_free(&copies);
}

/* BuildKit, and DevKit with its own names (the engine table) */
static void render_buildkit(const struct rs_report *rep, enum rs_engine e, const struct paths *p,
			    const char *self, struct rs_gen *g)
{
	_cleanup_free_ char *root = data_path(p, "");
	_cleanup_free_ char *addr = rs_engine_client_value(e, p->run);
	_cleanup_free_ char *qr = toml_str(root), *qa = toml_str(addr), *qs = toml_str(snapshotter(rep));
	const struct rs_result *env = rs_ctx_result(&rep->ctx, "env.container");
	bool in_container = env && env->f.status == RS_STATUS_WARN;
	char *cfg = config_path(p);
	const char *const vars[] = {"ENGINE", p->ei->name, "ROOT", qr, "ADDRESS", qa,
				    "SNAPSHOTTER", qs, "IN_CONTAINER",
				    in_container ? "  noProcessSandbox = true\n" : "", NULL};
	add(g, cfg, rs_template_fill("buildkitd.toml", vars), false, false);
	static const char *const net_opts[] = {"--net=slirp4netns", "--disable-host-loopback",
					       "--copy-up=/etc", NULL};
	static const char *const host_opts[] = {"--copy-up=/etc", NULL};
	char *const cmd[] = {(char *)p->ei->daemon, "--config", cfg, NULL};
	g->launch_cmd = launch_cmd(self, p, slirp(rep) ? net_opts : host_opts, cmd, &g->unit_exec);
}

static void render_podman(const struct rs_report *rep, const struct paths *p, bool kata,
			  bool def, struct rs_gen *g)
{
	_cleanup_free_ char *tmp = rs_xasprintf("%s/%s/tmp", p->run, p->ei->run_dir);
	_cleanup_free_ char *qt = toml_str(tmp);
	/* Podman before 2.0 reads libpod.conf: the podman.config rule's finding */
	bool legacy = rep->ctx.podman_libpod_conf;
	const char *kata_rt = "[\"/usr/bin/kata-runtime\", \"/usr/local/bin/kata-runtime\", "
			      "\"/opt/kata/bin/kata-runtime\"]";
	const char *const vars[] = {"ENGINE", p->ei->name, "TMP_DIR", qt, "KATA_RUNTIME", kata_rt, NULL};
	const char *parts[4] = {legacy ? "libpod.conf" : "containers.conf"};
	size_t n = 1;

	if (kata && def && !legacy)
		parts[n++] = "containers-kata-default.conf";
	if (kata)
		parts[n++] = legacy ? "libpod-kata.conf" : "containers-kata.conf";
	parts[n] = NULL;
	add(g, rs_xasprintf("%s/containers/%s", p->config, parts[0]), rs_template_join(parts, vars),
	    false, false);
}

int rs_gen_render(const struct rs_report *rep, enum rs_engine e, const char *self,
		  bool default_runtime, struct rs_gen *out)
{
	const struct rs_ctx *ctx = &rep->ctx;
	const char *home = strcmp(ctx->user.home, "/") ? ctx->user.home : "";
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	struct paths p = {.ei = rs_engine_info(e), .home = home, .run = run};

	memset(out, 0, sizeof(*out));
	p.config = ctx->user_is_caller && ctx->xdg_config_home && ctx->xdg_config_home[0] == '/'
			   ? rs_xstrdup(ctx->xdg_config_home) : rs_xasprintf("%s/.config", home);
	p.state_dir = rs_xasprintf("%s/rootless-setup/%s", run, rs_engine_name(e));
	switch (e) {
	case RS_ENGINE_CONTAINERD:
		render_containerd(rep, &p, self, out);
		break;
	case RS_ENGINE_ISULAD:
		render_isulad(rep, &p, self, out);
		break;
	case RS_ENGINE_BUILDKIT:
	case RS_ENGINE_DEVKIT:
		render_buildkit(rep, e, &p, self, out);
		break;
	case RS_ENGINE_PODMAN:
	case RS_ENGINE_KATA:
		render_podman(rep, &p, e == RS_ENGINE_KATA, default_runtime, out);
		break;
	case RS_ENGINE_OCI:
	case RS_ENGINE_COUNT:
		break;
	}
	if (out->launch_cmd)
		add(out, rs_xasprintf("%s/systemd/user/rootless-setup-%s.service", p.config,
				      rs_engine_name(e)),
		    unit_text(rs_engine_name(e), out->unit_exec), false, true);
	free(p.config);
	free(p.state_dir);
	return out->n ? 0 : -ENOTSUP;
}

void rs_gen_clear(struct rs_gen *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->f[i].path);
		free(g->f[i].text);
	}
	free(g->f);
	free(g->launch_cmd);
	free(g->unit_exec);
	memset(g, 0, sizeof(*g));
}

char *rs_gen_merge_json(const char *old, const char *ours, char **conflicts)
{
	json_error_t e;
	json_t *o = json_loads(old, JSON_REJECT_DUPLICATES, &e);
	json_t *n = json_loads(ours, 0, &e);
	const char *k;
	json_t *v;
	char *list = rs_xstrdup("");

	if (!json_is_object(o) || !n) {
		json_decref(o);
		json_decref(n);
		free(list);
		return NULL;
	}
	json_object_foreach(n, k, v) {
		json_t *have = json_object_get(o, k);
		if (have && !json_equal(have, v)) {
			char *l = rs_xasprintf("%s%s%s", list, *list ? ", " : "", k);
			free(list);
			list = l;
		}
	}
	/* keys we need are added; the user's values and unknown keys stay, in
	 * their order */
	json_object_update_missing(o, n);
	char *text = json_dumps(o, JSON_INDENT(4));
	char *out = rs_xasprintf("%s\n", text);
	free(text);
	json_decref(o);
	json_decref(n);
	*conflicts = list;
	return out;
}
