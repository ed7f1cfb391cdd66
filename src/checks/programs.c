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
	struct rs_strv seen = {0};
	bool any = false;

	for (const char *const *b = list; *b; b++) {
		if (!rs_host_exists(ctx->host, *b) || rs_strv_contains(&seen, base_name(*b)))
			continue;
		rs_strv_push(&seen, base_name(*b));
		judge(ctx, *b, pkg_key, v);
		any = true;
	}
	rs_strv_free(&seen);
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
