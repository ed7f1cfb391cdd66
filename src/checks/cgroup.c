/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "checks/internal.h"
#include "host/libs.h"

static const char *mode_text(int m)
{
	return m == RS_CGROUP_V2       ? "cgroup v2"
	       : m == RS_CGROUP_HYBRID ? "hybrid cgroup v1/v2"
				       : "cgroup v1";
}

/* What an engine's runtime does where the host is not pure cgroup v2. */
enum cg_need {
	CG_LIMITS,    /* runs; only resource limits are lost */
	CG_V2_ONLY,   /* refuses anything but the unified hierarchy */
	CG_RUNTIME,   /* runs with runc; crun refuses controllers in a hybrid's v2 part */
	CG_V1_GROUPS, /* runs with runc in v1 groups root makes per user (isulad.cgroups) */
};

static const struct {
	enum rs_engine e;
	enum cg_need need;
	const char *with_runc; /* what makes the engine use runc, or NULL: the user picks */
} cg_needs[] = {
	/* iSulad's rootless guide: "Host enabled cgroup V2"; yet on v1 or hybrid
	 * its containers run (runc, groups root made for the user): shown here */
	{RS_ENGINE_ISULAD, CG_V1_GROUPS, NULL},
	/* Kata's rootless VMM */
	{RS_ENGINE_KATA, CG_V2_ONLY, NULL},
	/* Podman runs crun when both are installed (containers.conf's runtime list) */
	{RS_ENGINE_PODMAN, CG_RUNTIME,
	 "configure runc: runtime = \"runc\" under [engine] in "
	 "~/.config/containers/containers.conf"},
	{RS_ENGINE_OCI, CG_RUNTIME, NULL},
};

static enum cg_need cg_need_of(enum rs_engine e, const char **with_runc)
{
	*with_runc = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cg_needs); i++)
		if (cg_needs[i].e == e) {
			*with_runc = cg_needs[i].with_runc;
			return cg_needs[i].need;
		}
	return CG_LIMITS;
}

/* A host cgroup file's text (read once per handle: every engine, and in a
 * fleet every user, asks), or NULL; caller frees. */
static char *host_cg_file(struct rs_ctx *ctx, const char *rel)
{
	const char *b;
	size_t len;
	return rs_host_read_cached(ctx->host, rel, 4096, &b, &len, NULL) == 0 ? rs_xstrndup(b, len)
									      : NULL;
}

/* A hybrid layout whose v2 part holds controllers (crun refuses it). */
static bool hybrid_v2_controllers(struct rs_ctx *ctx, char **ctl)
{
	return ctx->cgroup_mode == RS_CGROUP_HYBRID &&
	       (*ctl = host_cg_file(ctx, "sys/fs/cgroup/unified/cgroup.controllers")) &&
	       *rs_strstrip(*ctl);
}

/* Podman already configured for runc (install's drop-in, or the user's or
 * admin's own file): say so instead of asking for it. */
static bool podman_runc(struct rs_ctx *ctx, const char *ctl, struct rs_finding *out)
{
	_cleanup_free_ char *from = NULL;
	_cleanup_free_ char *rt = rs_podman_conf_runtime(ctx, &from);

	if (!rt || strcmp(rt, "runc") != 0)
		return false;
	_cleanup_free_ char *where = rs_escape(from);
	rs_finding_set(out, RS_STATUS_WARN,
		       "hybrid cgroup v1/v2 with controllers in the v2 part (%s): podman runs "
		       "runc ('%s' says so), without resource limits",
		       ctl, where);
	rs_finding_hint(out, "for resource limits, boot with systemd.unified_cgroup_hierarchy=1");
	return true;
}

static void crun_hybrid(struct rs_ctx *ctx, enum rs_engine e, const char *ctl,
			const char *with_runc, struct rs_finding *out)
{
	bool runc = rs_ctx_find_program(ctx, "runc");
	bool crun = rs_ctx_find_program(ctx, "crun");

	if (!runc) {
		_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "runc");
		rs_finding_set(out, RS_STATUS_FAIL,
			       "hybrid cgroup v1/v2 with controllers in the v2 "
			       "part (%s): crun refuses to run here and runc is not installed",
			       ctl);
		rs_finding_hint(out,
				"install runc%s%s%s, or boot with "
				"systemd.unified_cgroup_hierarchy=1",
				install ? " (" : "", install ? install : "", install ? ")" : "");
	} else if (crun && with_runc && e == RS_ENGINE_PODMAN && podman_runc(ctx, ctl, out)) {
		return;
	} else if (crun && with_runc) {
		rs_finding_set(
			out, RS_STATUS_WARN,
			"hybrid cgroup v1/v2 with controllers in the v2 "
			"part (%s): %s runs crun, which refuses it; with runc it runs without "
			"resource limits",
			ctl, rs_engine_name(e));
		rs_finding_hint(out, "%s", with_runc);
	} else {
		rs_finding_set(out, RS_STATUS_WARN,
			       "hybrid cgroup v1/v2 with controllers in the v2 "
			       "part (%s): runc runs without resource limits%s",
			       ctl, crun ? ", crun refuses to run here" : "");
		rs_finding_hint(out, "use runc%s, or boot with systemd.unified_cgroup_hierarchy=1",
				crun ? " (not crun)" : "");
	}
}

/* The layout is unknown on a running system only when libmount cannot be
 * loaded: "cannot check", never a guess. */
static int layout_unknown(struct rs_error **err)
{
	const char *why = rs_libs_error();
	return rs_error_setx(err, ENOSYS, "cannot tell the cgroup layout: %s",
			     why ? why : "the mount table cannot be read");
}

static int cgroup_v2(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		     struct rs_error **err)
{
	_cleanup_free_ char *ctl = NULL;
	const char *with_runc;

	rs_cgroup_detect(ctx);
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN &&
	    rs_offline_skip(ctx, out, true, true, "the running system's cgroup layout"))
		return 0;
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN)
		return layout_unknown(err);
	if (ctx->cgroup_mode == RS_CGROUP_V2) {
		if ((ctl = host_cg_file(ctx, "sys/fs/cgroup/cgroup.controllers")))
			rs_finding_set(out, RS_STATUS_PASS, "cgroup v2, controllers: %s",
				       rs_strstrip(ctl));
		else
			rs_finding_set(out, RS_STATUS_PASS, "cgroup v2");
		return 0;
	}
	enum cg_need need = cg_need_of(e, &with_runc);
	if (need == CG_RUNTIME && hybrid_v2_controllers(ctx, &ctl)) {
		crun_hybrid(ctx, e, ctl, with_runc, out);
		return 0;
	}
	if (need == CG_V1_GROUPS) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "%s: iSulad's rootless guide asks for cgroup v2; here runc runs its "
			       "containers in cgroup v1 groups root makes for each user, with "
			       "their limits (isulad.cgroups)",
			       mode_text(ctx->cgroup_mode));
		rs_finding_hint(out, "rootless-setup fix --rule isulad.cgroups --user NAME, or "
				     "boot with systemd.unified_cgroup_hierarchy=1");
		return 0;
	}
	bool hard = need == CG_V2_ONLY;
	rs_finding_set(out, hard ? RS_STATUS_FAIL : RS_STATUS_WARN, "%s: %s",
		       mode_text(ctx->cgroup_mode),
		       hard ? "this engine needs pure cgroup v2"
			    : "rootless containers get no resource limits");
	rs_finding_hint(out, "%s",
			rs_ctx_hint(ctx, "cgroup.v2",
				    "boot with systemd.unified_cgroup_hierarchy=1 (and "
				    "no cgroup_no_v1/legacy options), then reboot"));
	return 0;
}

const struct rs_rule rs_rule_cgroup_v2 = {
	.id = "cgroup.v2",
	.summary = "the host runs pure cgroup v2",
	.explain = "Rootless resource limits need cgroup v2 with delegation; on cgroup v1 or a "
		   "hybrid layout containers run without limits. Kata requires v2 outright. "
		   "iSulad's rootless guide asks for v2, yet on v1 or a hybrid layout its "
		   "containers run with runc in per-user v1 groups that root makes "
		   "(isulad.cgroups): a warning, not a failure. crun refuses a hybrid layout whose "
		   "v2 part "
		   "(/sys/fs/cgroup/unified) has controllers: there the oci engine and Podman "
		   "fail unless runc is installed, and Podman warns until it is configured to run "
		   "runc ([engine] runtime in a containers.conf it reads, such as install's "
		   "drop-in: the warning then names that file). A --root tree without proc/ and "
		   "sys/ is skipped; without libmount (which "
		   "the package depends on) the rule cannot check rather than guess. Reads "
		   "proc/self/mountinfo (cgroup2 at "
		   "/sys/fs/cgroup) and sys/fs/cgroup/cgroup.controllers.",
	.engines = RS_ENGINES_ALL,
	.per_engine = true,
	.reads_user = true, /* the user's containers.conf may choose runc */
	.run = cgroup_v2,
};

static int cgroup_delegation(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			     struct rs_error **err)
{
	static const char *const want[] = {"cpu", "memory", "pids", "io", NULL};
	_cleanup_free_ char *rel = NULL, *buf = NULL, *missing = rs_xstrdup("");
	size_t len;
	unsigned uid = (unsigned)ctx->user.uid;

	rs_cgroup_detect(ctx);
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN &&
	    rs_offline_skip(ctx, out, false, true, "what the user's manager is delegated"))
		return 0;
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN)
		return layout_unknown(err);
	if (ctx->cgroup_mode != RS_CGROUP_V2) {
		rs_finding_set(out, RS_STATUS_SKIP, "no cgroup v2");
		return 0;
	}
	if (!ctx->systemd_init) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "systemd is not the init system: no cgroup is "
			       "delegated to users, containers get no resource limits");
		rs_finding_hint(out, "resource limits for rootless containers need systemd's "
				     "delegation (OpenRC cannot delegate: OpenRC#452)");
		return 0;
	}
	rel = rs_xasprintf("sys/fs/cgroup/user.slice/user-%u.slice/user@%u.service/"
			   "cgroup.controllers",
			   uid, uid);
	if (rs_host_read(ctx->host, rel, 4096, &buf, &len, NULL) < 0) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "no systemd user manager runs for '%s' "
			       "(not logged in, lingering off)",
			       ctx->user.name);
		rs_finding_hint(out, "loginctl enable-linger %s", ctx->user.name);
		return 0;
	}
	char *ctl = rs_strstrip(buf);
	free(ctx->delegated);
	ctx->delegated = rs_xstrdup(ctl);
	for (const char *const *w = want; *w; w++) {
		_cleanup_free_ char *pad = rs_xasprintf(" %s ", ctl);
		_cleanup_free_ char *needle = rs_xasprintf(" %s ", *w);
		if (!strstr(pad, needle)) {
			rs_list_add(&missing, " ", *w);
		}
	}
	if (*missing) {
		rs_finding_set(out, RS_STATUS_WARN, "not delegated to '%s': %s (delegated: %s)",
			       ctx->user.name, missing, *ctl ? ctl : "none");
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "cgroup.delegation",
					    "add /etc/systemd/system/user@.service.d/"
					    "rootless-setup.conf with [Service] "
					    "Delegate=cpu cpuset io memory pids, then "
					    "systemctl daemon-reload and log in again"));
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "delegated to '%s': %s", ctx->user.name, ctl);
	return 0;
}

extern const struct rs_fixer rs_fixer_cgroup_delegation;
const struct rs_rule rs_rule_cgroup_delegation = {
	.fixer = &rs_fixer_cgroup_delegation,
	.id = "cgroup.delegation",
	.summary = "cpu, memory, pids and io are delegated to the user's systemd manager",
	.explain = "systemd delegates only memory and pids to user@UID.service by default on many "
		   "distros (RHEL 9); a drop-in with Delegate=cpu cpuset io memory pids adds the "
		   "rest. The file exists only while the user's manager runs (login or lingering).",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = cgroup_delegation,
};

/* The user bus comes from a socket unit of the user's manager: Debian
 * and Ubuntu ship it in dbus-user-session, apart from dbus. */
static const char *const dbus_units[] = {"usr/lib/systemd/user/dbus.socket",
					 "lib/systemd/user/dbus.socket",
					 "etc/systemd/user/dbus.socket", NULL};

static bool manager_runs(struct rs_ctx *ctx)
{
	unsigned uid = (unsigned)ctx->user.uid;
	_cleanup_free_ char *rel = rs_xasprintf("sys/fs/cgroup/user.slice/user-%u.slice/"
						"user@%u.service",
						uid, uid);
	return rs_host_exists(ctx->host, rel);
}

static void no_bus_unit(struct rs_ctx *ctx, struct rs_finding *out)
{
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "dbus-user-session");
	rs_finding_set(out, RS_STATUS_WARN,
		       "no user bus for '%s': no dbus.socket user unit is installed, so the "
		       "systemd cgroup manager cannot reach the user's systemd (Podman: 'The "
		       "cgroupv2 manager is set to systemd but there is no systemd user session "
		       "available'); the decision falls back to cgroupfs, without resource "
		       "limits",
		       ctx->user.name);
	if (install)
		rs_finding_hint(out, "install it: %s; then log in again", install);
	else
		rs_finding_hint(out, "install the package that provides the user bus (a "
				     "dbus.socket unit in /usr/lib/systemd/user)");
}

static int cgroup_dbus(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		       struct rs_error **err _unused_)
{
	_cleanup_free_ char *run = NULL, *bus = NULL, *who = NULL;
	pid_t pid;
	uid_t uid;

	rs_cgroup_detect(ctx);
	if (ctx->cgroup_mode == RS_CGROUP_UNKNOWN &&
	    rs_offline_skip(ctx, out, true, true, "which cgroup manager the engine gets"))
		return 0;
	if (ctx->cgroup_mode != RS_CGROUP_V2 || !ctx->systemd_init) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "the cgroup manager is not systemd here (%s%s): no user bus needed",
			       ctx->cgroup_mode == RS_CGROUP_V2 ? "cgroup v2" : "no cgroup v2",
			       ctx->systemd_init ? "" : ", systemd is not the init system");
		return 0;
	}
	const char *unit = rs_first_existing(ctx, dbus_units);
	run = rs_ctx_runtime_dir(ctx);
	bus = rs_xasprintf("%s/bus", run);
	int r = rs_unix_peer(ctx, bus, &pid, &uid);
	if (r == 0) {
		who = rs_proc_describe(ctx, pid);
		rs_finding_set(out, RS_STATUS_PASS, "the user bus answers at '%s' (%s)", bus, who);
		return 0;
	}
	if (!unit) {
		no_bus_unit(ctx, out);
		return 0;
	}
	if (ctx->host->live && manager_runs(ctx)) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "the user manager of '%s' runs, but nothing answers at '%s' (%s): "
			       "the systemd cgroup manager cannot reach it",
			       ctx->user.name, bus, strerror(-r));
		rs_finding_hint(out, "as the user: systemctl --user enable --now dbus.socket");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS,
		       r == -ECONNREFUSED ? "'/%s' is installed and '%s' is a socket"
					  : "'/%s' is installed: '%s' appears when the user's "
					    "manager starts",
		       unit, bus);
	return 0;
}

const struct rs_rule rs_rule_cgroup_dbus = {
	.id = "cgroup.dbus",
	.summary = "the user bus (dbus-user-session) is there where the systemd cgroup manager is "
		   "chosen",
	.explain = "On cgroup v2 with systemd the decision is the systemd cgroup manager: Podman "
		   "(and crun or runc under it) asks the user's systemd over D-Bus for a scope "
		   "per container, at $XDG_RUNTIME_DIR/bus. That socket comes from a dbus.socket "
		   "user unit, which Debian and Ubuntu ship in dbus-user-session, not in dbus "
		   "(Docker's rootless guide: "
		   "https://docs.docker.com/engine/security/rootless/). Without it "
		   "Podman warns 'The cgroupv2 manager is set to systemd but there is no systemd "
		   "user session available' and falls back to cgroupfs; runc says 'dbus: "
		   "couldn't determine address of session bus'. The rule connects to the bus "
		   "as the user where it can (a live host, the user's manager running), else "
		   "looks for the unit; when it warns the decision becomes cgroupfs.",
	.engines = ENG(PODMAN) | ENG(KATA),
	.needs_user = true,
	.run = cgroup_dbus,
};
