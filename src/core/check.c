/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "core/check.h"
#include "host/accounts.h"
#include "host/subids.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

static void load_os(struct rs_ctx *ctx, struct rs_report *rep)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	/* os-release(5): /etc first, /usr/lib only when /etc has none; never both */
	int r = rs_host_read(ctx->host, "etc/os-release", 1u << 20, &buf, &len, NULL);

	if (r == -ENOENT)
		r = rs_host_read(ctx->host, "usr/lib/os-release", 1u << 20, &buf, &len, NULL);
	if (r < 0) {
		if (r != -ENOENT)
			rs_strv_take(&rep->notes, rs_xasprintf("cannot read os-release: %s; "
							       "using generic distro data",
							       strerror(-r)));
		memset(&ctx->os, 0, sizeof(ctx->os));
		return;
	}
	rs_osrelease_parse(buf, len, &ctx->os);
}

static void load_kernel(struct rs_ctx *ctx)
{
	struct utsname u;
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (ctx->host->live && uname(&u) == 0) {
		ctx->kernel_release = rs_xstrdup(u.release);
	} else if (rs_host_read(ctx->host, "proc/sys/kernel/osrelease", 4096, &buf, &len, NULL) ==
		   0) {
		ctx->kernel_release = rs_xstrdup(rs_strstrip(buf));
	}
	ctx->kver_ok = ctx->kernel_release && rs_kver_parse(ctx->kernel_release, &ctx->kver) == 0;
}

/*
 * proc/ or sys/ of a --root tree: a mounted procfs or sysfs (a node's / at
 * /host) is read as a live one, a directory holding files (a fixture) as
 * those files; absent or empty (debootstrap, an image unpacked on disk),
 * no kernel runs behind the tree and nothing it would show can be
 * concluded from its absence.
 */
enum tree_dir { TREE_DIR_FILES, TREE_DIR_EMPTY, TREE_DIR_MOUNTED };

/* What a --root tree's proc/ or sys/ is: absent or empty, the mounted
 * filesystem (magic), or a directory of files. One open and one fstatfs
 * answer both questions check asks of it. */
static enum tree_dir tree_dir(const struct rs_host *h, const char *rel, unsigned long magic)
{
	struct statfs sf;
	struct dirent *de;

	if (h->live)
		return TREE_DIR_FILES;
	int fd = rs_host_openat(h, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, NULL);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return TREE_DIR_EMPTY;
	if (fd < 0)
		return TREE_DIR_FILES; /* unreadable: the rules say so themselves */
	if (fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == magic) {
		close(fd);
		return TREE_DIR_MOUNTED;
	}
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return TREE_DIR_FILES;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			return TREE_DIR_FILES;
	return TREE_DIR_EMPTY;
}

static int resolve_user(struct rs_ctx *ctx, const struct rs_check_opts *o, struct rs_report *rep,
			struct rs_error **err)
{
	const char *spec = o->user;
	bool implicit_root = false;
	_cleanup_free_ char *self = NULL;

	if (!spec) {
		uid_t caller = ctx->host->live ? getuid() : 0;
		if (caller == 0 && o->sudo_user && *o->sudo_user)
			spec = o->sudo_user;
		else if (caller == 0 && o->pkexec_uid && *o->pkexec_uid)
			spec = o->pkexec_uid;
		else {
			spec = self = rs_xasprintf("%u", (unsigned)caller);
			implicit_root = caller == 0;
		}
	}
	/* root with nobody named checks the host for whoever will use it: the
	 * per-user rules skip; root as a target takes an explicit --user root */
	if (implicit_root && (o->postinstall || o->host_only)) {
		ctx->has_user = false;
		if (!o->postinstall)
			rs_strv_push(&rep->notes, "no target user: the per-user rules are skipped "
						  "(name one with --user NAME)");
		return 0;
	}
	int r = rs_user_resolve(ctx->host, spec, &ctx->user, implicit_root ? NULL : err);
	if (r < 0 && implicit_root) {
		/* a tree without etc/passwd still has a root */
		ctx->user = (struct rs_user){.name = rs_xstrdup("root"),
					     .home = rs_xstrdup("/root"),
					     .groups = rs_xcalloc(1, sizeof(gid_t)),
					     .ngroups = 1};
		r = 0;
	}
	if (r < 0)
		return r;
	ctx->has_user = true;
	ctx->user_is_caller = ctx->host->live && getuid() == ctx->user.uid;
	if (ctx->user.uid == 0)
		rs_strv_push(&rep->notes, "warning: checking for root: rootless mode is for "
					  "non-root users (use --user NAME)");
	return 0;
}

/* The engines whose program is installed where the user would run it */
static unsigned detect_engines(const struct rs_ctx *ctx)
{
	unsigned mask = 0;
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++)
		for (const char *const *b = rs_engine_info(e)->programs; *b; b++) {
			struct rs_found f;
			if (rs_ctx_find_engine(ctx, e, *b, &f))
				mask |= RS_ENGINE_BIT(e);
			rs_found_clear(&f);
		}
	return mask;
}

static int ctx_init(struct rs_report *rep, const struct rs_check_opts *o, struct rs_error **err)
{
	struct rs_ctx *ctx = &rep->ctx;
	int r = rs_host_open(o->root, &ctx->host, err);

	/* a --distro or a user that does not exist is an input error; a root
	 * that cannot be opened, or data that cannot be read, the host's */
	if (r < 0)
		return r;
	load_os(ctx, rep);
	r = rs_distro_load(&ctx->os, o->distro, &ctx->distro, err);
	if (r == -ENOENT)
		return rs_error_input(err, r);
	if (r < 0)
		return r;
	enum tree_dir proc = tree_dir(ctx->host, "proc", PROC_SUPER_MAGIC);
	ctx->no_proc = proc == TREE_DIR_EMPTY;
	ctx->proc_mounted = proc == TREE_DIR_MOUNTED;
	ctx->no_sys = tree_dir(ctx->host, "sys", SYSFS_MAGIC) == TREE_DIR_EMPTY;
	load_kernel(ctx);
	r = resolve_user(ctx, o, rep, err);
	if (r == -ENOENT || r == -EINVAL)
		return rs_error_input(err, r);
	if (r < 0)
		return r;
	ctx->xdg_runtime_dir = o->xdg_runtime_dir;
	ctx->xdg_data_home = o->xdg_data_home;
	ctx->xdg_config_home = o->xdg_config_home;
	ctx->path_env = o->path;
	ctx->postinstall = o->postinstall;
	ctx->no_probe = o->no_probe;
	ctx->engines = o->engines_given ? o->engines : detect_engines(ctx);
	return 0;
}

/* Our launcher runs pasta for the daemons; Podman runs its own network
 * helper and takes pasta from 4.4 on (4.3, Debian 12's, knows only
 * slirp4netns): with Podman (or Kata, which runs under it) selected and
 * not known to be 4.4 or later, pasta is not the decision. */
static bool pasta_for_engines(struct rs_ctx *ctx)
{
	static const char *const pkgs[] = {"podman", NULL};
	unsigned podman = RS_ENGINE_BIT(RS_ENGINE_PODMAN) | RS_ENGINE_BIT(RS_ENGINE_KATA);
	struct rs_kver have, min = {0};

	if (!(ctx->engines & podman))
		return true;
	_cleanup_free_ char *v = rs_ctx_dpkg_version(ctx, pkgs, "usr/bin/podman");
	return v && rs_kver_parse(v, &have) == 0 && rs_kver_parse("4.4", &min) == 0 &&
	       rs_kver_cmp(&have, &min) >= 0;
}

/* The launcher's embedded network serves the daemons it launches (the
 * engines with a daemon); Podman and Kata run their own network helper. */
static bool launched_engine(const struct rs_ctx *ctx)
{
	for (int e = 0; e < RS_ENGINE_COUNT; e++)
		if ((ctx->engines & RS_ENGINE_BIT(e)) && rs_engine_info((enum rs_engine)e)->daemon)
			return true;
	return false;
}

static unsigned engines_for(const struct rs_ctx *ctx, const struct rs_rule *rule)
{
	unsigned sel = rule->engines & ctx->engines;
	if (!rule->per_engine)
		return 0;
	return sel;
}

static char *engine_list(unsigned mask)
{
	_cleanup_free_ char *s = rs_xstrdup("");
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		if (!(mask & RS_ENGINE_BIT(e)))
			continue;
		char *n = rs_xasprintf("%s%s%s", s, *s ? ", " : "", rs_engine_name(e));
		free(s);
		s = n;
	}
	return TAKE_PTR(s);
}

static void run_one(struct rs_ctx *ctx, const struct rs_rule *rule, enum rs_engine e,
		    struct rs_finding *out)
{
	struct rs_error *err = NULL;
	memset(out, 0, sizeof(*out));
	int r = rule->run(ctx, e, out, &err);
	if (r < 0) {
		rs_finding_set(out, RS_STATUS_WARN, "cannot check: %s",
			       err ? err->msg : strerror(-r));
		free(out->hint);
		out->hint = NULL;
	}
	rs_error_free(err);
}

static bool rule_engines_apply(const struct rs_ctx *ctx, const struct rs_rule *rule)
{
	return rule->engines == RS_ENGINES_ALL || (rule->engines & ctx->engines);
}

static bool rule_applies(const struct rs_ctx *ctx, const struct rs_rule *rule)
{
	return rule_engines_apply(ctx, rule) && (!rule->needs_user || ctx->has_user);
}

/* Why a rule that does not apply is skipped: not for these engines, else
 * no user to check it for. */
static void rule_skip(const struct rs_ctx *ctx, const struct rs_rule *rule, struct rs_finding *f)
{
	if (!rule_engines_apply(ctx, rule)) {
		_cleanup_free_ char *l = engine_list(rule->engines);
		rs_finding_set(f, RS_STATUS_SKIP, "only for %s (not checked)", l);
	} else {
		rs_finding_set(f, RS_STATUS_SKIP, "no target user: name one with --user");
	}
}

/* Each rule's start, where it will run: their waits overlap the rules. */
static void start_rules(struct rs_ctx *ctx)
{
	for (size_t i = 0; i < ctx->rules->n; i++)
		if (ctx->rules->v[i]->start && rule_applies(ctx, ctx->rules->v[i]))
			ctx->rules->v[i]->start(ctx);
}

static void run_rule(struct rs_ctx *ctx, const struct rs_rule *rule, struct rs_result *res)
{
	unsigned per = engines_for(ctx, rule);
	unsigned n = 0;

	res->rule = rule;
	res->engine = RS_ENGINE_NONE;
	if (!rule_applies(ctx, rule)) {
		rule_skip(ctx, rule, &res->f);
		return;
	}
	if (!per) {
		run_one(ctx, rule, RS_ENGINE_NONE, &res->f);
		return;
	}
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		struct rs_finding f;
		if (!(per & RS_ENGINE_BIT(e)))
			continue;
		run_one(ctx, rule, e, &f);
		if (n++ == 0 || f.status > res->f.status) {
			rs_finding_clear(&res->f);
			res->f = f;
			res->engine = e;
		} else {
			rs_finding_clear(&f);
		}
	}
	if (n > 1) {
		char *m = rs_xasprintf("%s: %s", rs_engine_name(res->engine), res->f.message);
		free(res->f.message);
		res->f.message = m;
	}
}

static struct rs_result *result_mut(struct rs_ctx *ctx, const char *id)
{
	return (struct rs_result *)rs_ctx_result(ctx, id);
}

/* The live probe outranks what static rules inferred (see userns.probe's explain text). */
static void reconcile_probe(struct rs_ctx *ctx)
{
	struct rs_result *ov = result_mut(ctx, "kernel.overlay-userns");
	const struct rs_probe *p = &ctx->probe;

	if (!p->overlay_tried || !ov || ov->f.status == RS_STATUS_SKIP)
		return;
	if (p->overlay_ok && ov->f.status != RS_STATUS_PASS) {
		char *m = rs_xasprintf("%s; but the live probe mounted overlayfs (userxattr) in "
				       "'%s': the probe wins",
				       ov->f.message, p->scratch);
		rs_finding_set(&ov->f, RS_STATUS_PASS, "%s", m);
		free(m);
		free(ov->f.hint);
		ov->f.hint = NULL;
	} else if (!p->overlay_ok && ov->f.status == RS_STATUS_PASS) {
		char *m = rs_xasprintf("%s; but the live probe's overlay mount in '%s' failed "
				       "(%s): the probe wins",
				       ov->f.message, p->scratch, strerror(p->overlay_err));
		rs_finding_set(&ov->f, RS_STATUS_WARN, "%s", m);
		free(m);
		rs_finding_hint(&ov->f, "containers will use fuse-overlayfs or native snapshots; "
					"see 'rootless-setup explain kernel.overlay-userns'");
	}
}

/* pasta first where every selected engine can use it, else slirp4netns;
 * the embedded network (libslirp, a dependency of our package) when
 * neither program is installed and a selected engine has a daemon the
 * launcher starts: host facts, found once per host (a fleet asks for
 * every user) */
static const char *net_helper(struct rs_ctx *ctx)
{
	if (ctx->net_helper_known)
		return ctx->net_helper;
	ctx->net_helper_known = true;
	if (rs_ctx_find_program(ctx, "pasta") && pasta_for_engines(ctx))
		ctx->net_helper = "pasta";
	else if (rs_ctx_find_program(ctx, "slirp4netns"))
		ctx->net_helper = "slirp4netns";
	else if (launched_engine(ctx) && rs_ctx_find_library(ctx, RS_LIBSLIRP_SONAME))
		ctx->net_helper = "libslirp";
	return ctx->net_helper;
}

static bool rule_passes(const struct rs_ctx *ctx, const char *id)
{
	const struct rs_result *r = rs_ctx_result(ctx, id);
	return r && r->f.status == RS_STATUS_PASS;
}

static void decide(struct rs_report *rep)
{
	struct rs_ctx *ctx = &rep->ctx;

	rep->snapshotter = rs_ctx_snapshotter(ctx);
	/* pasta, slirp4netns and the launcher's embedded network all need
	 * /dev/net/tun (network.tun, which passes only for a target user who
	 * can open it) */
	rep->network = "host";
	if (rule_passes(ctx, "network.tun") && net_helper(ctx))
		rep->network = ctx->net_helper;
	/* systemd's manager needs the user bus (cgroup.dbus warns without it) */
	const struct rs_result *bus = rs_ctx_result(ctx, "cgroup.dbus");
	if (ctx->cgroup_mode != RS_CGROUP_V2)
		rep->cgroup_manager = "none";
	else if (ctx->systemd_init && !(bus && bus->f.status >= RS_STATUS_WARN))
		rep->cgroup_manager = "systemd";
	else
		rep->cgroup_manager = "cgroupfs";
}

static bool is_selected(const struct rs_check_opts *o, const char *id)
{
	if (!o->only || !o->only[0])
		return true;
	for (const char *const *p = o->only; *p; p++)
		if (strcmp(*p, id) == 0)
			return true;
	return false;
}

/* The verdicts, the probe's word on them, the decisions, the counts. */
static void finish(struct rs_report *rep)
{
	struct rs_ctx *ctx = &rep->ctx;

	reconcile_probe(ctx);
	decide(rep);
	for (size_t i = 0; i < ctx->rules->n; i++)
		if (ctx->results[i].selected)
			rep->counts[ctx->results[i].f.status]++;
}

int rs_check_run(const struct rs_check_opts *o, struct rs_report **out, struct rs_error **err)
{
	struct rs_report *rep = rs_xcalloc(1, sizeof(*rep));
	struct rs_ctx *ctx = &rep->ctx;
	int r;

	ctx->rules = o->rules;
	r = ctx_init(rep, o, err);

	if (r < 0) {
		rs_report_free(rep);
		return r;
	}
	ctx->results = rs_xcalloc(ctx->rules->n, sizeof(struct rs_result));
	start_rules(ctx);
	for (size_t i = 0; i < ctx->rules->n; i++) {
		run_rule(ctx, ctx->rules->v[i], &ctx->results[i]);
		ctx->results[i].selected = is_selected(o, ctx->rules->v[i]->id);
	}
	/* a real procfs at --root/proc without init's view: the pod's own */
	if (ctx->proc_mounted && ctx->mounts_source &&
	    strcmp(ctx->mounts_source, "proc/1/mountinfo"))
		rs_strv_push(&rep->notes,
			     "note: mounts read from the tree's proc/self/mountinfo (the "
			     "reading process's view): proc/1/mountinfo is unavailable "
			     "(a node's / at --root needs hostPID)");
	finish(rep);
	*out = rep;
	return 0;
}

/* ---- fleet runs (check --all-users) ---- */

struct rs_fleet {
	struct rs_report *host; /* the host-wide run, no target user */
	struct rs_check_opts o;
};

int rs_fleet_open(const struct rs_check_opts *o, struct rs_fleet **out,
		  const struct rs_report **host, struct rs_error **err)
{
	struct rs_check_opts ho = *o;
	struct rs_report *rep = NULL;

	/* the host-wide rules as --postinstall runs them: no target user */
	ho.user = ho.sudo_user = ho.pkexec_uid = NULL;
	ho.postinstall = true;
	int r = rs_check_run(&ho, &rep, err);
	if (r < 0)
		return r;
	/* etc/passwd answers for every user: one that cannot be read (too
	 * large, unreadable) is the host's error, said once, not each
	 * user's; absent, each user is unknown and says so */
	const struct rs_accounts *a;
	r = rs_accounts_get(rep->ctx.host, &a, err);
	if (r < 0 && r != -ENOENT) {
		rs_report_free(rep);
		return r;
	}
	if (r == -ENOENT) {
		rs_error_free(*err);
		*err = NULL;
	}
	/* what every user's run reads, loaded now so that all share it */
	rs_ctx_mounts(&rep->ctx);
	rs_cgroup_detect(&rep->ctx);
	net_helper(&rep->ctx);
	struct rs_fleet *f = rs_xcalloc(1, sizeof(*f));
	f->host = rep;
	f->o = *o;
	*out = f;
	*host = rep;
	return 0;
}

/* A deep copy of a host verdict into a user's results. */
static void result_copy(struct rs_result *dst, const struct rs_result *src)
{
	*dst = *src;
	dst->f.message = src->f.message ? rs_xstrdup(src->f.message) : NULL;
	dst->f.hint = src->f.hint ? rs_xstrdup(src->f.hint) : NULL;
}

int rs_fleet_check(struct rs_fleet *f, const char *user, struct rs_report **out,
		   struct rs_error **err)
{
	const struct rs_ctx *hc = &f->host->ctx;
	struct rs_report *rep = rs_xcalloc(1, sizeof(*rep));
	struct rs_ctx *ctx = &rep->ctx;
	struct rs_check_opts uo = f->o;

	/* the host's facts, borrowed; the user's own state starts empty */
	*ctx = *hc;
	ctx->shared = true;
	ctx->results = NULL;
	ctx->delegated = NULL;
	memset(&ctx->probe, 0, sizeof(ctx->probe));
	memset(&ctx->user, 0, sizeof(ctx->user));
	ctx->has_user = ctx->user_is_caller = false;
	ctx->home_units_known = ctx->home_units = 0;
	ctx->user_memo = NULL;
	ctx->postinstall = f->o.postinstall;
	uo.user = user;
	uo.sudo_user = uo.pkexec_uid = NULL;
	int r = resolve_user(ctx, &uo, rep, err);
	if (r == -ENOENT || r == -EINVAL)
		r = rs_error_input(err, r);
	if (r < 0) {
		rs_report_free(rep);
		return r;
	}
	ctx->results = rs_xcalloc(ctx->rules->n, sizeof(struct rs_result));
	for (size_t i = 0; i < ctx->rules->n; i++) {
		const struct rs_rule *rule = ctx->rules->v[i];
		if (rule->needs_user || rule->reads_user)
			run_rule(ctx, rule, &ctx->results[i]);
		else
			result_copy(&ctx->results[i], &hc->results[i]);
		ctx->results[i].selected = hc->results[i].selected;
	}
	finish(rep);
	*out = rep;
	return 0;
}

/* An owner's identity: its uid when etc/passwd knows it, else its name. */
static char *owner_key(const struct rs_accounts *a, const char *owner)
{
	uint64_t n;
	const struct rs_pwline *e = !a ? NULL
				    : rs_parse_u64(owner, UINT32_MAX - 1, &n) == 0
					    ? rs_accounts_uid(a, (uint32_t)n)
					    : rs_accounts_user(a, owner);
	return e ? rs_xasprintf("#%u", (unsigned)e->uid) : rs_xstrdup(owner);
}

static bool eq_key(const void *c, uint32_t pos)
{
	const struct rs_strv *keys = ((const void *const *)c)[0];
	return strcmp(keys->v[pos], ((const char *const *)c)[1]) == 0;
}

int rs_fleet_users(struct rs_fleet *f, struct rs_strv *out, struct rs_error **err)
{
	static const char *const files[] = {"etc/subuid", "etc/subgid"};
	const struct rs_host *h = f->host->ctx.host;
	const struct rs_accounts *a = NULL;
	struct rs_strv keys = {0};
	struct rs_hidx seen = {0};
	int r = 0;

	if (rs_accounts_get(h, &a, NULL) < 0)
		a = NULL;
	for (size_t fi = 0; fi < ARRAY_SIZE(files) && r >= 0; fi++) {
		const struct rs_subids *s;
		_cleanup_free_ uint32_t *pos = NULL;
		r = rs_subids_get(h, files[fi], &s, err);
		if (r == -ENOENT) { /* no file: nobody has ids from it */
			rs_error_free(*err);
			*err = NULL;
			r = 0;
			continue;
		}
		size_t n = r < 0 ? 0 : rs_subids_owners(s, &pos);
		for (size_t i = 0; i < n; i++) {
			const char *owner = s->f.r[pos[i]].owner;
			char *key = owner_key(a, owner);
			const void *c[2] = {&keys, key};
			uint32_t hash = rs_hash_bytes(key, strlen(key));
			if (rs_hidx_find(&seen, hash, eq_key, c) >= 0) {
				free(key);
				continue;
			}
			rs_strv_take(&keys, key);
			rs_hidx_add(&seen, hash, (uint32_t)(keys.n - 1));
			rs_strv_push(out, owner);
		}
	}
	rs_hidx_clear(&seen);
	rs_strv_clear(&keys);
	return r < 0 ? r : 0;
}

void rs_fleet_free(struct rs_fleet *f)
{
	if (!f)
		return;
	rs_report_free(f->host);
	free(f);
}

void rs_report_free(struct rs_report *rep)
{
	if (!rep)
		return;
	struct rs_ctx *ctx = &rep->ctx;
	if (ctx->results)
		for (size_t i = 0; i < ctx->rules->n; i++)
			rs_finding_clear(&ctx->results[i].f);
	free(ctx->results);
	rs_ctx_started_drop(ctx);
	free(ctx->probe.detail);
	free(ctx->probe.scratch);
	free(ctx->delegated);
	rs_ctx_user_memo_free(ctx);
	rs_user_clear(&ctx->user);
	rs_strv_clear(&rep->notes);
	if (ctx->shared) {
		free(rep);
		return;
	}
	if (ctx->mounts)
		mnt_unref_table(ctx->mounts);
	free(ctx->kernel_release);
	rs_distro_clear(&ctx->distro);
	rs_osrelease_clear(&ctx->os);
	rs_host_free(ctx->host);
	free(rep);
}
