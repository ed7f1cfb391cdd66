/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "checks/internal.h"

/*
 * engine.programs: the engine's daemon or runtime (the engine table's
 * programs, found where the user would run them: core/find.h) and, for engines that give containers a user-mode network,
 * pasta or slirp4netns, installed and not older than upstream documents
 * (distro data: programs.NAME.min, with its source). Versions come from
 * dpkg's database only: a program is never run to ask (as root that would
 * execute whatever sits at the path); without a database the version is
 * unknown and the program only present.
 */

/* engines whose containers get a user-mode network (network.tun's) */
#define NET_ENGINES RS_ENGINES_STORAGE

static const json_t *program_data(const struct rs_ctx *ctx, const char *name)
{
	return json_object_get(json_object_get(ctx->distro.data, "programs"), name);
}

/* The version dpkg records for rel: the packages of programs.NAME.packages,
 * then a package named like the program. */
static char *program_version(struct rs_ctx *ctx, const char *name, const char *rel)
{
	const json_t *pk = json_object_get(program_data(ctx, name), "packages");
	const char *pkgs[16];
	size_t n = 0, i;
	json_t *x;

	json_array_foreach (pk, i, x) {
		if (n < ARRAY_SIZE(pkgs) - 2 && json_is_string(x))
			pkgs[n++] = json_string_value(x);
	}
	pkgs[n++] = name;
	pkgs[n] = NULL;
	return rs_ctx_dpkg_version(ctx, pkgs, rel);
}

struct verdict {
	char *text; /* "'/usr/bin/runc' 1.1.5 (at least 1.0); ..." */
	char *old;  /* the programs older than their minimum */
	char *pkgs; /* their packages, for the upgrade command */
};

static void append(char **list, const char *sep, char *item)
{
	rs_list_add(list, sep, item);
	free(item);
}

static const char *base_name(const char *rel)
{
	const char *s = strrchr(rel, '/');
	return s ? s + 1 : rel;
}

/* One installed program: its version against programs.NAME.min. */
static void judge(struct rs_ctx *ctx, const char *rel, const char *pkg_key, struct verdict *v)
{
	const char *name = base_name(rel);
	const json_t *data = program_data(ctx, name);
	const char *min = json_string_value(json_object_get(data, "min"));
	const char *src = json_string_value(json_object_get(data, "source"));
	_cleanup_free_ char *ver = program_version(ctx, name, rel);
	struct rs_kver have, want;

	if (!ver || rs_kver_parse(ver, &have) < 0) {
		append(&v->text, "; ",
		       rs_xasprintf("'/%s' (version unknown: no package database "
				    "names it)",
				    rel));
		return;
	}
	if (!min || rs_kver_parse(min, &want) < 0) {
		append(&v->text, "; ", rs_xasprintf("'/%s' %s", rel, ver));
		return;
	}
	if (rs_kver_cmp(&have, &want) < 0) {
		_cleanup_free_ char *key = rs_xasprintf("packages.%s", pkg_key ? pkg_key : name);
		const char *pkg = rs_distro_str(&ctx->distro, key);
		append(&v->old, "; ",
		       rs_xasprintf("'/%s' %s is older than %s (%s)", rel, ver, min,
				    src ? src : "upstream's minimum"));
		if (pkg)
			append(&v->pkgs, " ", rs_xstrdup(pkg));
		return;
	}
	append(&v->text, "; ", rs_xasprintf("'/%s' %s (at least %s)", rel, ver, min));
}

/* Each installed binary of list once (by name), judged; false when none is. */
static bool judge_list(struct rs_ctx *ctx, const char *const *list, const char *pkg_key,
		       struct verdict *v)
{
	_cleanup_strv_ struct rs_strv seen = {0};
	bool any = false;

	for (const char *const *b = list; *b; b++) {
		if (!rs_host_exists(ctx->host, *b) || rs_strv_contains(&seen, base_name(*b)))
			continue;
		rs_strv_push(&seen, base_name(*b));
		judge(ctx, *b, pkg_key, v);
		any = true;
	}
	return any;
}

static char *names_of(const char *const *list)
{
	char *s = rs_xstrdup("");
	for (const char *const *b = list; *b; b++)
		append(&s, " or ", rs_xstrdup(*b));
	return s;
}

/* Each program of engine e found where the user would run it, judged;
 * false when none is (*refused: a candidate passed over, and why). */
static bool judge_engine(struct rs_ctx *ctx, enum rs_engine e, struct verdict *v, char **refused)
{
	bool any = false;

	for (const char *const *b = rs_engine_info(e)->programs; *b; b++) {
		struct rs_found f;
		if (rs_ctx_find_engine(ctx, e, *b, &f)) {
			judge(ctx, rs_host_rel(f.path), rs_engine_name(e), v);
			any = true;
		} else if (f.refused && !*refused) {
			*refused = TAKE_PTR(f.refused);
		}
		rs_found_clear(&f);
	}
	return any;
}

static void missing(struct rs_ctx *ctx, enum rs_engine e, const char *refused,
		    struct rs_finding *out)
{
	_cleanup_free_ char *names = names_of(rs_engine_info(e)->programs);
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, rs_engine_name(e));

	rs_finding_set(out, RS_STATUS_FAIL, "no %s is installed (the %s engine's program)%s%s",
		       names, rs_engine_name(e), refused ? "; " : "", refused ? refused : "");
	if (install)
		rs_finding_hint(out, "install it: %s", install);
	else
		rs_finding_hint(out,
				"install %s from its project's releases (in /usr/local/bin, "
				"/opt/%s/bin or the user's ~/.local/bin); this distribution's "
				"data names no package for it",
				names, rs_engine_name(e));
}

static int engine_programs(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			   struct rs_error **err _unused_)
{
	static const char *const net[] = {"usr/bin/pasta", "usr/local/bin/pasta",
					  "usr/bin/slirp4netns", "usr/local/bin/slirp4netns", NULL};
	const struct rs_engine_info *ei = rs_engine_info(e);
	struct verdict v = {.text = rs_xstrdup(""), .old = rs_xstrdup(""), .pkgs = rs_xstrdup("")};

	_cleanup_free_ char *refused = NULL;

	if (!ei || !ei->programs || !judge_engine(ctx, e, &v, &refused)) {
		if (ei && ei->programs)
			missing(ctx, e, refused, out);
		else
			rs_finding_set(out, RS_STATUS_SKIP, "no engine selected (--engine NAME)");
		free(v.text);
		free(v.old);
		free(v.pkgs);
		return 0;
	}
	bool net_any = true;
	if (RS_ENGINE_BIT(e) & NET_ENGINES)
		net_any = judge_list(ctx, net, NULL, &v);
	if (*v.old) {
		const char *cmd = rs_distro_str(&ctx->distro, "install_cmd");
		rs_finding_set(out, RS_STATUS_FAIL, "%s", v.old);
		if (*v.pkgs && cmd)
			rs_finding_hint(out, "upgrade: %s %s", cmd, v.pkgs);
		else
			rs_finding_hint(out,
					"upgrade to a supported version from the distribution or "
					"upstream releases");
	} else {
		rs_finding_set(out, RS_STATUS_PASS, "%s%s", v.text,
			       net_any ? ""
				       : "; no pasta or slirp4netns (see network.slirp4netns)");
	}
	free(v.text);
	free(v.old);
	free(v.pkgs);
	return 0;
}

const struct rs_rule rs_rule_engine_programs = {
	.id = "engine.programs",
	.summary = "the engine's daemon or runtime (and pasta or slirp4netns) is installed and new "
		   "enough",
	.explain =
		"Each selected engine needs its program: isulad, containerd, buildkitd, podman, "
		"kata-runtime or containerd-shim-kata-v2, runc or crun (the oci engine); engines "
		"whose containers get a user-mode network also use pasta or slirp4netns. A "
		"missing daemon fails with the distribution's install command. Versions come "
		"from dpkg's database (the package that owns the very file), compared with the "
		"minimums upstream documents (distro data, each with its source: Podman 1.6.2, "
		"Kata 1.10, rootless containerd 1.4, runc 1.0, crun 0.8, slirp4netns 0.4.0); an "
		"older one fails. No program is run to ask its version: where no package "
		"database says it, the program passes as present, version unknown. A program "
		"is looked for where the user would run it from: the caller's PATH (when the "
		"caller is the user), the user's ~/.local/bin and ~/bin (walked from the home "
		"without following a symlink; the program and its directory must be the "
		"user's or root's and writable by nobody else), /usr/local/sbin, "
		"/usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin, then the engine's own "
		"/opt/ENGINE/bin (/opt/kata/bin for kata).",
	.engines = RS_ENGINES_ALL,
	.per_engine = true,
	.run = engine_programs,
};

/*
 * engine.conflict: the engine's socket in the user's runtime dir held by
 * something else (nerdctl's containerd-rootless-setuptool.sh puts its
 * containerd and BuildKit at the very paths of the engine table), a user
 * unit of such a setup installed, or the engine's rootful daemon running.
 */
static const struct {
	enum rs_engine e;
	const char *unit, *marker, *who;
} foreign_units[] = {
	{RS_ENGINE_CONTAINERD, "containerd.service", "containerd-rootless",
	 "nerdctl's containerd-rootless-setuptool.sh"},
	{RS_ENGINE_BUILDKIT, "buildkit.service", "containerd-rootless-setuptool.sh",
	 "nerdctl's containerd-rootless-setuptool.sh install-buildkit"},
};

/* "rootless-setup" (ours) or "rootlesskit" among pid and its ancestors:
 * the first found, with its pid. */
static const char *ancestor(struct rs_ctx *ctx, pid_t pid, pid_t *at)
{
	for (int depth = 0; depth < 32 && pid > 1; depth++) {
		_cleanup_free_ char *comm = rs_proc_field(ctx, pid, "comm");
		_cleanup_free_ char *st = rs_proc_field(ctx, pid, "status");
		_cleanup_free_ char *pp = st ? rs_proc_status_get(st, strlen(st), "PPid") : NULL;
		uint64_t v;
		if (!comm)
			return NULL;
		rs_strstrip(comm);
		*at = pid;
		if (!strcmp(comm, "rootless-setup"))
			return "rootless-setup";
		if (!strcmp(comm, "rootlesskit"))
			return "rootlesskit";
		if (!pp || rs_parse_u64(pp, INT32_MAX, &v) < 0)
			return NULL;
		pid = (pid_t)v;
	}
	return NULL;
}

/* The user's socket of engine e. Return: 1 out set (warn), 0 free or ours
 * (*note says which), <0 cannot check. */
static int conflict_socket(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			   char **note, struct rs_error **err)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *sock = rs_xasprintf("%s/%s", run, ei->socket);
	_cleanup_free_ char *ours = rs_xasprintf("rootless-setup-%s.service", ei->name);
	pid_t pid, anc = 0;
	uid_t uid;
	int r = rs_unix_peer(ctx, sock, &pid, &uid);

	if (r == -ENOENT || r == -ENOTDIR || r == -ENOSYS || r == -ECONNREFUSED) {
		*note = r == -ECONNREFUSED
				? rs_xasprintf("'%s' is a socket nobody listens on", sock)
				: NULL;
		return 0;
	}
	if (r == -EAGAIN) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'%s' is held by a listener that accepts no connection (its backlog "
			       "is full): the engine's launch would fail to listen there",
			       sock);
		rs_finding_hint(out, "find it: ss -xlp | grep '%s'; stop that setup first", sock);
		return 1;
	}
	if (r < 0)
		return rs_error_setx(err, -r, "cannot connect to '%s': %s", sock, strerror(-r));
	_cleanup_free_ char *who = rs_proc_describe(ctx, pid);
	const char *up = ancestor(ctx, pid, &anc);
	if ((up && !strcmp(up, "rootless-setup")) || strstr(who, ours)) {
		*note = rs_xasprintf("'%s' is held by this engine's own launch: %s", sock, who);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_WARN,
		       "'%s' is already held by %s%s%s, uid %u: another rootless setup serves "
		       "this socket, and the engine's launch would fail to listen there",
		       sock, who, up ? " under " : "", up ? up : "", (unsigned)uid);
	rs_finding_hint(out, "stop and disable the other setup first (nerdctl's: "
			     "containerd-rootless-setuptool.sh uninstall; a unit: systemctl --user "
			     "disable --now UNIT), or keep it and do not install this engine");
	return 1;
}

/* A user unit of another rootless setup for engine e. Return: 1 (out set),
 * 0, <0 cannot check. */
static int conflict_unit(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			 struct rs_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(foreign_units); i++) {
		struct rs_unit_files u;
		if (foreign_units[i].e != e)
			continue;
		int r = rs_unit_load(ctx, foreign_units[i].unit, true, &u);
		if (r < 0) {
			rs_unit_files_clear(&u);
			return rs_error_setx(err, -r, "cannot read the user unit %s: %s",
					     foreign_units[i].unit, strerror(-r));
		}
		_cleanup_free_ char *exec = u.n ? rs_unit_get(u.text[0], strlen(u.text[0]),
							      "Service", "ExecStart")
						: NULL;
		bool hit = exec && strstr(exec, foreign_units[i].marker);
		if (hit) {
			rs_finding_set(out, RS_STATUS_WARN,
				       "'%s' is installed (%s): started, it serves the same socket "
				       "as this engine",
				       u.path[0], foreign_units[i].who);
			rs_finding_hint(out,
					"remove the other setup (systemctl --user disable "
					"--now %s), or keep it and do not install this engine",
					foreign_units[i].unit);
		}
		rs_unit_files_clear(&u);
		if (hit)
			return 1;
	}
	return 0;
}

/* The rootful daemon of engine e. Return: 1 (out set) or 0. */
static int conflict_rootful(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	_cleanup_free_ char *abs = NULL, *who = NULL, *var = NULL;
	pid_t pid;
	uid_t uid;

	if (!ei->rootful_socket)
		return 0;
	abs = rs_xasprintf("/%s", ei->rootful_socket);
	int r = rs_unix_peer(ctx, abs, &pid, &uid);
	/* EACCES: not the caller's to reach; EAGAIN: listening, not accepting */
	if (r != 0 && r != -EACCES && r != -EAGAIN)
		return 0;
	who = r == 0	     ? rs_proc_describe(ctx, pid)
	      : r == -EACCES ? rs_xstrdup("a daemon the caller may not reach")
			     : rs_xstrdup("a listener that accepts no connection");
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	var = rs_engine_client_value(e, run);
	rs_finding_set(out, RS_STATUS_WARN,
		       "a rootful %s %s at '%s' (%s): clients that do not read %s (sudo, "
		       "root's shell, tools with a fixed default) reach it, not the user's "
		       "engine",
		       ei->title, r == 0 ? "runs" : "may run", abs, who,
		       ei->client_var ? ei->client_var : "the engine's address");
	rs_finding_hint(out,
			"give the user's clients %s%s%s (install writes it into the user's "
			"environment), or stop the rootful daemon where nothing needs it",
			ei->client_var ? ei->client_var : "", var ? "=" : "", var ? var : "");
	return 1;
}

static int engine_conflict(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			   struct rs_error **err)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	_cleanup_free_ char *note = NULL;
	int r;

	if (!ei || !ei->socket) {
		rs_finding_set(out, RS_STATUS_SKIP, "the engine has no socket");
		return 0;
	}
	/* a tree on disk runs nothing: its sockets say nothing, its units do */
	if (ctx->no_proc)
		note = rs_xstrdup("no running system in the tree: sockets not checked");
	else if ((r = conflict_socket(ctx, e, out, &note, err)) != 0)
		return r < 0 ? r : 0;
	if ((r = conflict_unit(ctx, e, out, err)) != 0 ||
	    (!ctx->no_proc && (r = conflict_rootful(ctx, e, out)) != 0))
		return r < 0 ? r : 0;
	rs_finding_set(out, RS_STATUS_PASS, "no other %s holds or claims the user's socket%s%s",
		       ei->title, note ? ": " : "", note ? note : "");
	return 0;
}

const struct rs_rule rs_rule_engine_conflict = {
	.id = "engine.conflict",
	.summary = "no other setup holds the engine's socket, no rootful daemon of it runs",
	.explain = "The engine listens at $XDG_RUNTIME_DIR/ENGINE/ENGINE.sock. nerdctl's "
		   "containerd-rootless-setuptool.sh installs containerd.service and "
		   "buildkit.service user units that listen at the same paths "
		   "(https://github.com/containerd/nerdctl/blob/main/docs/rootless.md); a second "
		   "daemon there fails to listen, or clients reach the other one. The rule "
		   "connects to the socket as the user and names the listener (SO_PEERCRED: pid, "
		   "program, unit, RootlessKit above it); this engine's own launch is not a "
		   "conflict. It also reads those user units, and connects to the engine's rootful "
		   "socket (/run/containerd/containerd.sock, /run/buildkit/buildkitd.sock, "
		   "/var/run/isulad.sock): clients that do not read the engine's address variable "
		   "(CONTAINERD_ADDRESS, BUILDKIT_HOST, ISULAD_HOST) reach a rootful daemon "
		   "instead, with 'permission denied'. Docker's rootless setup "
		   "(dockerd-rootless-setuptool.sh, docker.service) uses sockets of its own "
		   "($XDG_RUNTIME_DIR/docker.sock, its containerd below $XDG_RUNTIME_DIR/docker) "
		   "and is named only when it holds one of these. Warnings only: nothing is "
		   "stopped.",
	.engines = RS_ENGINES_ALL & ~(ENG(PODMAN) | ENG(KATA) | ENG(OCI)),
	.per_engine = true,
	.needs_user = true,
	.run = engine_conflict,
};
