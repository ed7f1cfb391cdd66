/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "checks/isulad.h"
#include "host/access.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"
#include "install/data.h"
#include "install/templates.h"

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
	enum rs_engine e;
	const struct rs_engine_info *ei; /* the engine table's layout */
	const char *home, *run;
	char *config, *state_dir;
	char *daemon; /* the daemon as the unit runs it: its name, or its path */
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

/* Docker's and nerdctl's units, less what a launcher in C makes moot;
 * deps: [Unit] lines (another engine's unit this one runs in), or "" */
static char *unit_text(const char *engine, const char *exec, const char *deps)
{
	const char *const vars[] = {"ENGINE", engine, "EXEC_START", exec, "UNIT_DEPS", deps, NULL};
	return rs_template_fill("user.service", vars);
}

/* A JSON string, for a value in a JSON template. */
static char *json_str(const char *s)
{
	_cleanup_json_ json_t *j = json_string(s);
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	return out ? out : rs_xstrdup("\"\"");
}

/* Podman's containers get the host network when no program of its own
 * (pasta, slirp4netns) can give them one. */
static bool podman_host_net(const struct rs_report *rep)
{
	return !strcmp(rep->network, "host") || !strcmp(rep->network, "libslirp");
}

static const char *snapshotter(const struct rs_report *rep)
{
	return rep->snapshotter;
}

/* The launcher's network options for the decision: a user-mode network
 * with its port driver (so a daemon can publish ports), or the host's. */
static const char *const *launch_net(const struct rs_report *rep, bool copy_run)
{
	static const char *const slirp[] = {"--net=slirp4netns",       "--port-driver=builtin",
					    "--disable-host-loopback", "--copy-up=/etc",
					    "--copy-up=/run",	       NULL};
	static const char *const pasta[] = {"--net=pasta",
					    "--port-driver=implicit",
					    "--disable-host-loopback",
					    "--copy-up=/etc",
					    "--copy-up=/run",
					    NULL};
	/* the embedded network: no external program, the builtin port driver
	 * (as with slirp4netns: faster than libslirp's own forwarding) */
	static const char *const emb[] = {"--net=libslirp",	     "--port-driver=builtin",
					  "--disable-host-loopback", "--copy-up=/etc",
					  "--copy-up=/run",	     NULL};
	static const char *const host[] = {"--copy-up=/etc", "--copy-up=/run", NULL};
	const char *const *o = strcmp(rep->network, "slirp4netns") == 0 ? slirp
			       : strcmp(rep->network, "pasta") == 0	? pasta
			       : strcmp(rep->network, "libslirp") == 0	? emb
									: host;
	if (copy_run)
		return o;
	/* the same without --copy-up=/run (the last option) */
	static const char *const slirp_etc[] = {"--net=slirp4netns", "--port-driver=builtin",
						"--disable-host-loopback", "--copy-up=/etc", NULL};
	static const char *const pasta_etc[] = {"--net=pasta", "--port-driver=implicit",
						"--disable-host-loopback", "--copy-up=/etc", NULL};
	static const char *const emb_etc[] = {"--net=libslirp", "--port-driver=builtin",
					      "--disable-host-loopback", "--copy-up=/etc", NULL};
	static const char *const host_etc[] = {"--copy-up=/etc", NULL};
	return o == slirp ? slirp_etc : o == pasta ? pasta_etc : o == emb ? emb_etc : host_etc;
}

#define KATA_RT                                                         \
	"[\"/usr/bin/kata-runtime\", \"/usr/local/bin/kata-runtime\", " \
	"\"/opt/kata/bin/kata-runtime\"]"

bool rs_gen_cgroups_usable(const struct rs_report *rep)
{
	return rep->ctx.cgroup_mode == RS_CGROUP_V2 && rep->ctx.delegated && *rep->ctx.delegated;
}

/* The client command that runs a container here, as install prints it:
 * through nsenter when the engine has a launch, with the flags no
 * configuration file can give (the engine table); and the first container
 * or build with it. */
static void client_cmd(const struct rs_report *rep, const struct paths *p, const char *self,
		       struct rs_gen *g)
{
	const struct rs_engine_info *ei = p->ei;
	const char *flags = rs_gen_cgroups_usable(rep) ? NULL : ei->no_cgroup_flags;
	_cleanup_free_ char *pre = NULL;
	if (!ei->client_run)
		return;
	if (ei->client_direct) {
		_cleanup_free_ char *v = rs_engine_client_value(p->e, p->run);
		_cleanup_free_ char *qv = shell_word(v);
		pre = rs_xasprintf("%s=%s ", ei->client_var, qv);
		flags = NULL;
	} else {
		pre = ei->daemon ? rs_xasprintf("%s nsenter --engine %s -- ", self, ei->name)
				 : rs_xstrdup("");
	}
	g->client_cmd = rs_xasprintf("%s%s%s%s", pre, ei->client_run, flags ? " " : "",
				     flags ? flags : "");
	if (ei->first_prep)
		g->first_prep = rs_xstrdup(ei->first_prep);
	if (ei->first_pull)
		g->first_pull = rs_xasprintf("%s%s", pre, ei->first_pull);
	if (ei->first_args)
		g->first_run = rs_xasprintf("%s %s", g->client_cmd, ei->first_args);
}

/* The launch command, quoted for the unit (g->unit_exec) and for a shell
 * (g->launch_cmd), and as words (g->launch_argv). */
static void launch_cmd(const char *self, const struct paths *p, const char *const *opts,
		       char *const *cmd, struct rs_gen *g)
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
	g->unit_exec = join_with(argv, unit_word);
	g->launch_cmd = join_with(argv, shell_word);
	g->launch_argv = rs_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		g->launch_argv[i] = rs_xstrdup(argv[i]);
}

/* The user's own containerd config.toml (not one we generated) stays
 * theirs: ours goes beside it and imports it, so their values win
 * (containerd 1.6 merges imports over the file that names them). */
static bool user_owns_config(const struct rs_report *rep, const char *cfg)
{
	_cleanup_free_ char *old = NULL;
	size_t len;
	struct rs_error *e = NULL;
	int r = rs_safe_read(rep->ctx.host, cfg, 1u << 20, &old, &len, &e);
	rs_error_free(e);
	return r >= 0 && old && strncmp(old, RS_GEN_MARK, strlen(RS_GEN_MARK)) != 0;
}

static void render_containerd(const struct rs_report *rep, const struct paths *p, const char *self,
			      struct rs_gen *g)
{
	_cleanup_free_ char *root = data_path(p, "");
	_cleanup_free_ char *state = run_path(p, p->ei->run_dir);
	_cleanup_free_ char *sock = run_path(p, p->ei->socket);
	_cleanup_free_ char *qr = toml_str(root), *qs = toml_str(state), *qa = toml_str(sock);
	_cleanup_free_ char *user_cfg = config_path(p), *imports = NULL, *cg = NULL;
	char *cfg = rs_xstrdup(user_cfg);
	if (user_owns_config(rep, user_cfg)) {
		_cleanup_free_ char *qu = toml_str(user_cfg);
		free(cfg);
		cfg = rs_xasprintf("%s/containerd/rootless-setup.toml", p->config);
		imports = rs_xasprintf(
			"# your own config.toml, merged over this file\nimports = [%s]\n", qu);
	}
	if (!rs_gen_cgroups_usable(rep))
		cg = rs_xasprintf("# no cgroups for this user here: containers run with\n"
				  "#   %s %s IMAGE ID [COMMAND]\n",
				  p->ei->client_run, p->ei->no_cgroup_flags);
	/* containerd 1.6 has no built-in fuse-overlayfs: native then */
	const char *snap = strcmp(snapshotter(rep), "overlayfs") ? "native" : "overlayfs";
	const char *const vars[] = {"ENGINE",  p->ei->name,
				    "ROOT",    qr,
				    "STATE",   qs,
				    "ADDRESS", qa,
				    "IMPORTS", imports ? imports : "",
				    "CGROUP",  cg ? cg : "",
				    NULL};
	add(g, cfg, rs_template_fill("containerd-config.toml", vars), false, false);
	_cleanup_free_ char *sh =
		rs_xasprintf("echo %s > \"$ROOTLESS_SETUP_STATE_DIR/snapshotter\"; "
			     "rm -f /run/containerd; exec %s -c %s",
			     snap, p->daemon, cfg);
	char *const cmd[] = {"/bin/sh", "-c", sh, NULL};
	/* cgroups delegated to the user (v2, the unit's Delegate=yes): the
	 * unit's group becomes the launch's cgroup namespace, the launch moved
	 * into a leaf of it, so runc makes the containers' groups below it.
	 * Without that, ctr run's "/default/ID" is made below the host's root
	 * group: "mkdir /sys/fs/cgroup/default: permission denied" (the lab,
	 * Debian 13 booted with a lingering user) */
	const char *opts[16];
	size_t n = 0;
	for (const char *const *o = launch_net(rep, true); *o && n < 12; o++)
		opts[n++] = *o;
	if (rs_gen_cgroups_usable(rep)) {
		opts[n++] = "--pidns";
		opts[n++] = "--cgroupns";
		opts[n++] = "--evacuate-cgroup2=rootless-setup";
	}
	opts[n] = NULL;
	launch_cmd(self, p, opts, cmd, g);
	client_cmd(rep, p, self, g);
}

/* The keys whose values depend on the host, beyond the template's:
 * on cgroup v1 or hybrid, the per-user group root made (isulad.cgroups)
 * as the containers' cgroup-parent; in the host's network namespace, a
 * CRI streaming port of the user's own (isulad.h). Both are keys of
 * iSulad's daemon configuration schema. */
static void isulad_host_keys(const struct rs_report *rep, json_t *j)
{
	const struct rs_ctx *ctx = &rep->ctx;
	if (ctx->cgroup_mode == RS_CGROUP_V1 || ctx->cgroup_mode == RS_CGROUP_HYBRID) {
		_cleanup_free_ char *cg = rs_xasprintf("/" RS_ISULAD_CGROUP_FMT,
						       (unsigned)ctx->user.uid);
		json_object_set_new(j, "cgroup-parent", json_string(cg));
	}
	if (!strcmp(rep->network, "host"))
		json_object_set_new(j, "websocket-server-listening-port",
				    json_integer(RS_ISULAD_CRI_PORT(ctx->user.uid)));
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
		"GRAPH",
		qg,
		"STATE",
		qs,
		"PIDFILE",
		qp,
		"LOG_PATH",
		ql,
		"STORAGE_DRIVER",
		overlay ? "\"overlay2\"" : "\"vfs\"",
		"STORAGE_OPTS",
		overlay ? "[\"overlay2.override_kernel_check=true\"]" : "[]",
		NULL,
	};
	_cleanup_free_ char *filled = rs_template_fill("isulad-daemon.json", vars);
	/* the merge with the user's file works on the parsed document; the
	 * written text is jansson's, as a merged file's is */
	json_t *j = json_loads(filled, JSON_REJECT_DUPLICATES, NULL);
	if (j)
		isulad_host_keys(rep, j);
	char *text = j ? json_dumps(j, JSON_INDENT(4)) : NULL;
	json_decref(j);
	if (!text)
		abort(); /* the template is not JSON: a bug the goldens catch */
	char *out = rs_xasprintf("%s\n", text);
	free(text);
	return out;
}

struct copies_arg {
	const struct rs_ctx *ctx;
	const char *home;
	struct rs_strv *ovl;
};

static int overlay_copy(const char *rel, const struct stat *st, void *arg)
{
	struct copies_arg *c = arg;

	if (c->ovl->n >= 16)
		return 1;
	if (!strcmp(rel, "etc/isulad/daemon.json") || !S_ISREG(st->st_mode) ||
	    rs_access_user(c->ctx->host, &c->ctx->user, rel, R_OK) == 1)
		return 0;
	rs_strv_take(c->ovl, rs_xasprintf("--overlay-file=%s/%s/%s:/%s", c->home,
					  RS_ISULAD_COPY_DIR, rel, rel));
	return 0;
}

/* --overlay-file for each of root's iSulad files the user cannot read: the
 * user's copy (fix --rule isulad.permissions makes it, as the user) shown
 * at the system path, 16 at the most. daemon.json is the generated one
 * instead. */
static void isulad_copies(const struct rs_report *rep, const struct paths *p, struct rs_strv *ovl)
{
	struct copies_arg c = {.ctx = &rep->ctx, .home = p->home, .ovl = ovl};

	rs_engine_each_copied(rep->ctx.host, RS_ENGINE_ISULAD, false, overlay_copy, &c);
}

/* What iSulad needs in its environment that its guide does not say, as
 * words for env(1): a temporary directory (ISULAD_TMPDIR; without it
 * iSulad makes /var/lib/isulad/isulad_tmpdir, which the user cannot);
 * and for a daemon installed under a prefix of its own (/opt/isulad/bin,
 * ~/.local/bin) its bin first in PATH (iSulad runs isulad-shim by name)
 * and, when the prefix holds iSulad's libraries, its lib in
 * LD_LIBRARY_PATH (upstream's build sets no RUNPATH). */
static void isulad_env(const struct rs_ctx *ctx, const struct paths *p, const char *daemon,
		       struct rs_strv *env)
{
	static const char unit_path[] =
		"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *tmp = data_path(p, "/tmp"), *bin = NULL, *lib = NULL;
	const char *slash = strrchr(daemon, '/');

	rs_strv_take(env, rs_xasprintf("ISULAD_TMPDIR=%s", tmp));
	if (!slash || slash == daemon)
		return;
	bin = rs_xstrndup(daemon, (size_t)(slash - daemon));
	rs_strv_take(env, rs_xasprintf("PATH=%s:%s", bin, unit_path));
	slash = strrchr(bin, '/');
	if (!slash || strcmp(slash, "/bin") || slash == bin)
		return;
	lib = rs_xasprintf("%.*s/lib", (int)(slash - bin), bin);
	_cleanup_free_ char *probe = rs_xasprintf("%s/libisulad_tools.so", lib);
	if (strcmp(lib, "/usr/lib") && rs_host_exists(ctx->host, rs_host_rel(probe)))
		rs_strv_take(env, rs_xasprintf("LD_LIBRARY_PATH=%s", lib));
}

static void render_isulad(const struct rs_report *rep, const struct paths *p, const char *self,
			  struct rs_gen *g)
{
	char *cfg = config_path(p);
	add(g, cfg, isulad_json(rep, p), true, false);
	/* the RootlessKit line of iSulad's rootless guide (--cgroupns
	 * --copy-up=/run --copy-up=/usr/local), the network of the check's
	 * decision, a pid namespace (stopping the daemon stops isulad-shim and
	 * the containers, which iSulad itself leaves running), and the
	 * per-user daemon.json shown as the system one inside the namespace:
	 * the host's file is never edited */
	_cleanup_free_ char *ovl = rs_xasprintf("--overlay-file=%s:/etc/isulad/daemon.json", cfg);
	_cleanup_free_ char *host = rs_engine_client_value(RS_ENGINE_ISULAD, p->run);
	struct rs_strv copies = {0}, env = {0};
	const char *opts[28] = {"--pidns", "--cgroupns"};
	size_t n = 2;
	/* cgroups delegated (v2): the containers' groups below the unit's */
	if (rs_gen_cgroups_usable(rep))
		opts[n++] = "--evacuate-cgroup2=rootless-setup";
	for (const char *const *o = launch_net(rep, true); *o; o++)
		opts[n++] = *o;
	opts[n++] = "--copy-up=/usr/local";
	opts[n++] = ovl;
	isulad_copies(rep, p, &copies);
	for (size_t i = 0; i < copies.n && n < ARRAY_SIZE(opts) - 1; i++)
		opts[n++] = copies.v[i];
	opts[n] = NULL;
	const char *daemon = p->daemon;
	isulad_env(&rep->ctx, p, daemon, &env);
	char *cmd[12] = {"/usr/bin/env"};
	size_t c = 1;
	for (size_t i = 0; i < env.n && c < 8; i++)
		cmd[c++] = env.v[i];
	cmd[c++] = (char *)daemon;
	cmd[c++] = "-H";
	cmd[c++] = host;
	cmd[c] = NULL;
	launch_cmd(self, p, opts, cmd, g);
	rs_strv_clear(&copies);
	rs_strv_clear(&env);
	client_cmd(rep, p, self, g);
}

/* containerd's snapshotter as render_containerd decides it: containerd
 * 1.6 has no built-in fuse-overlayfs */
static const char *containerd_snapshotter(const struct rs_report *rep)
{
	return strcmp(snapshotter(rep), "overlayfs") ? "native" : "overlayfs";
}

/* The containerd worker (nerdctl's install-buildkit-containerd): the
 * daemon joins the user's containerd launch (nsenter --engine
 * containerd), whose containerd runs the builds; the unit is bound to
 * containerd's. */
static void render_buildkit_containerd(const struct rs_report *rep, enum rs_engine e,
				       const struct paths *p, const char *self, struct rs_gen *g)
{
	_cleanup_free_ char *root = data_path(p, "");
	_cleanup_free_ char *addr = rs_engine_client_value(e, p->run);
	_cleanup_free_ char *csock = run_path(p, rs_engine_info(RS_ENGINE_CONTAINERD)->socket);
	_cleanup_free_ char *qr = toml_str(root), *qa = toml_str(addr), *qc = toml_str(csock),
			    *qs = toml_str(containerd_snapshotter(rep));
	char *cfg = config_path(p);
	const char *const vars[] = {"ENGINE",	  p->ei->name, "DAEMON",      p->ei->daemon,
				    "ROOT",	  qr,	       "ADDRESS",     qa,
				    "CONTAINERD", qc,	       "SNAPSHOTTER", qs,
				    NULL};
	add(g, cfg, rs_template_fill("buildkitd-containerd.toml", vars), false, false);
	char *argv[] = {(char *)self, "nsenter",  "--engine", "containerd", "--",
			p->daemon,    "--config", cfg,	      NULL};
	g->unit_exec = join_with(argv, unit_word);
	g->launch_cmd = join_with(argv, shell_word);
	g->launch_argv = rs_xcalloc(ARRAY_SIZE(argv), sizeof(char *));
	for (size_t i = 0; argv[i]; i++)
		g->launch_argv[i] = rs_xstrdup(argv[i]);
	g->joins = true;
	client_cmd(rep, p, self, g);
}

/* BuildKit, and DevKit with its own names (the engine table) */
static void render_buildkit(const struct rs_report *rep, enum rs_engine e, const struct paths *p,
			    const char *self, struct rs_gen *g)
{
	_cleanup_free_ char *root = data_path(p, "");
	_cleanup_free_ char *addr = rs_engine_client_value(e, p->run);
	_cleanup_free_ char *qr = toml_str(root), *qa = toml_str(addr),
			    *qs = toml_str(snapshotter(rep));
	const struct rs_result *env = rs_ctx_result(&rep->ctx, "env.container");
	bool in_container = env && env->f.status == RS_STATUS_WARN;
	char *cfg = config_path(p);
	const char *const vars[] = {"ENGINE",
				    p->ei->name,
				    "ROOT",
				    qr,
				    "ADDRESS",
				    qa,
				    "SNAPSHOTTER",
				    qs,
				    "IN_CONTAINER",
				    in_container ? "  noProcessSandbox = true\n" : "",
				    NULL};
	add(g, cfg, rs_template_fill("buildkitd.toml", vars), false, false);
	char *const cmd[] = {p->daemon, "--config", cfg, NULL};
	launch_cmd(self, p, launch_net(rep, false), cmd, g);
	client_cmd(rep, p, self, g);
}

/* Podman's OCI runtime: crun 1.8 refuses a hybrid layout ("cgroups in
 * hybrid mode not supported, drop all controllers from cgroupv2"), runc
 * runs there (rootless on v1 it uses no cgroups at all). */
static const char *podman_runtime(const struct rs_report *rep)
{
	static const char *const runc[] = {"usr/bin/runc", "usr/sbin/runc", "usr/local/bin/runc",
					   "usr/local/sbin/runc", NULL};
	if (rep->ctx.cgroup_mode != RS_CGROUP_HYBRID && rep->ctx.cgroup_mode != RS_CGROUP_V1)
		return NULL;
	for (const char *const *r = runc; *r; r++)
		if (rs_host_exists(rep->ctx.host, *r))
			return "runc";
	return NULL;
}

/* storage.conf has no drop-in directory: ours whole when the user has none,
 * else our missing keys go into theirs (write.c, toml-merge.c) */
static void render_storage(const struct rs_report *rep, const struct paths *p, struct rs_gen *g)
{
	const char *snap = snapshotter(rep);
	bool overlay = !strcmp(snap, "overlayfs") || !strcmp(snap, "fuse-overlayfs");
	const char *const vars[] = {"ENGINE",
				    p->ei->name,
				    "DRIVER",
				    overlay ? "\"overlay\"" : "\"vfs\"",
				    "OPTIONS",
				    strcmp(snap, "fuse-overlayfs")
					    ? ""
					    : "\n[storage.options.overlay]\nmount_program = "
					      "\"/usr/bin/fuse-overlayfs\"\n",
				    NULL};
	add(g, rs_xasprintf("%s/containers/storage.conf", p->config),
	    rs_template_fill("storage.conf", vars), false, false);
	g->f[g->n - 1].toml_keys = true;
}

static void render_podman_legacy(const struct paths *p, bool kata, const char *qt, struct rs_gen *g)
{
	const char *const vars[] = {"ENGINE",	    p->ei->name, "TMP_DIR", qt,
				    "KATA_RUNTIME", KATA_RT,	 NULL};
	const char *parts[] = {"libpod.conf", kata ? "libpod-kata.conf" : NULL, NULL};
	add(g, rs_xasprintf("%s/containers/libpod.conf", p->config), rs_template_join(parts, vars),
	    false, false);
}

static void render_podman(const struct rs_report *rep, const struct paths *p, bool kata, bool def,
			  const char *self, struct rs_gen *g)
{
	_cleanup_free_ char *tmp = rs_xasprintf("%s/%s/tmp", p->run, p->ei->run_dir);
	_cleanup_free_ char *qt = toml_str(tmp), *keys = NULL;
	client_cmd(rep, p, self, g);
	/* Podman before 2.0 reads libpod.conf: the podman.config rule's finding */
	if (rep->ctx.podman_libpod_conf) {
		render_podman_legacy(p, kata, qt, g);
		return;
	}
	if (kata) {
		const char *const vars[] = {"ENGINE",
					    p->ei->name,
					    "KATA_RUNTIME",
					    KATA_RT,
					    "DEFAULT_RUNTIME",
					    def ? "runtime = \"kata\"" : "",
					    NULL};
		add(g, config_path(p), rs_template_fill("containers-kata.conf", vars), false,
		    false);
		return;
	}
	const char *rt = podman_runtime(rep);
	bool sd = !strcmp(rep->cgroup_manager, "systemd");
	keys = rs_xasprintf("%s%s%s", rt ? "runtime = \"runc\"\n" : "",
			    sd ? "" : "cgroup_manager = \"cgroupfs\"\n",
			    /* no journald to log events to */
			    rep->ctx.systemd_init ? "" : "events_logger = \"file\"\n");
	const char *const vars[] = {"ENGINE", p->ei->name, "TMP_DIR", qt, "CONTAINERS",
				    /* Podman runs its own network helper: the
				     * launcher's embedded one is not for it */
				    podman_host_net(rep) ? "netns = \"host\"" : "", "ENGINE_KEYS",
				    keys, NULL};
	add(g, config_path(p), rs_template_fill("containers.conf", vars), false, false);
	render_storage(rep, p, g);
}

/* The daemon as the unit's PATH finds it by name; one found elsewhere
 * (the user's ~/.local/bin, /opt/ENGINE/bin) by its path; one not found
 * by name all the same (install refuses past engine.programs' failure). */
static char *daemon_path(const struct rs_ctx *ctx, enum rs_engine e)
{
	const char *name = rs_engine_info(e)->daemon;
	struct rs_found f;
	char *out;

	if (!name)
		return NULL;
	out = rs_ctx_find_engine(ctx, e, name, &f) && !f.on_unit_path ? TAKE_PTR(f.path)
								      : rs_xstrdup(name);
	rs_found_clear(&f);
	return out;
}

int rs_gen_render(const struct rs_report *rep, enum rs_engine e, const char *self, unsigned flags,
		  struct rs_gen *out)
{
	const struct rs_ctx *ctx = &rep->ctx;
	const char *home = strcmp(ctx->user.home, "/") ? ctx->user.home : "";
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	struct paths p = {.e = e, .ei = rs_engine_info(e), .home = home, .run = run};

	memset(out, 0, sizeof(*out));
	p.config = ctx->user_is_caller && ctx->xdg_config_home && ctx->xdg_config_home[0] == '/'
			   ? rs_xstrdup(ctx->xdg_config_home)
			   : rs_xasprintf("%s/.config", home);
	p.state_dir = rs_xasprintf("%s/rootless-setup/%s", run, rs_engine_name(e));
	p.daemon = daemon_path(ctx, e);
	switch (e) {
	case RS_ENGINE_CONTAINERD:
		render_containerd(rep, &p, self, out);
		break;
	case RS_ENGINE_ISULAD:
		render_isulad(rep, &p, self, out);
		break;
	case RS_ENGINE_BUILDKIT:
	case RS_ENGINE_DEVKIT:
		if (flags & RS_GEN_CONTAINERD_WORKER)
			render_buildkit_containerd(rep, e, &p, self, out);
		else
			render_buildkit(rep, e, &p, self, out);
		break;
	case RS_ENGINE_PODMAN:
	case RS_ENGINE_KATA:
		render_podman(rep, &p, e == RS_ENGINE_KATA, flags & RS_GEN_DEFAULT_RUNTIME, self,
			      out);
		break;
	case RS_ENGINE_OCI:
	case RS_ENGINE_COUNT:
		break;
	}
	if (out->launch_cmd) {
		out->state_dir = rs_xstrdup(p.state_dir);
		out->socket = p.ei->socket;
	}
	/* started after containerd's unit, stopped with it */
	_cleanup_free_ char *deps = out->joins
					    ? rs_xstrdup(
						      "BindsTo=rootless-setup-containerd.service\n"
						      "After=rootless-setup-containerd.service\n")
					    : rs_xstrdup("");
	if (out->launch_cmd)
		add(out,
		    rs_xasprintf("%s/systemd/user/rootless-setup-%s.service", p.config,
				 rs_engine_name(e)),
		    unit_text(rs_engine_name(e), out->unit_exec, deps), false, true);
	free(p.config);
	free(p.state_dir);
	free(p.daemon);
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
	for (size_t i = 0; g->launch_argv && g->launch_argv[i]; i++)
		free(g->launch_argv[i]);
	free(g->launch_argv);
	free(g->state_dir);
	free(g->client_cmd);
	free(g->first_prep);
	free(g->first_pull);
	free(g->first_run);
	memset(g, 0, sizeof(*g));
}

char *rs_gen_merge_json(const char *old, const char *ours, char **conflicts)
{
	json_error_t e;
	_cleanup_json_ json_t *o = json_loads(old, JSON_REJECT_DUPLICATES, &e);
	_cleanup_json_ json_t *n = json_loads(ours, 0, &e);
	const char *k;
	json_t *v;

	if (!json_is_object(o) || !n)
		return NULL;
	char *list = rs_xstrdup("");
	json_object_foreach (n, k, v) {
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
	*conflicts = list;
	return out;
}
