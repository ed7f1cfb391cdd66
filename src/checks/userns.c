/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"
#include "host/idmap.h"

#define KNOB_MAX      "proc/sys/user/max_user_namespaces"
#define KNOB_CLONE    "proc/sys/kernel/unprivileged_userns_clone"
#define KNOB_APPARMOR "proc/sys/kernel/apparmor_restrict_unprivileged_userns"

static bool knob_unreadable(struct rs_finding *out, const char *rel, int r)
{
	if (r == -EINVAL || r == -ERANGE) {
		rs_finding_set(out, RS_STATUS_WARN, "cannot parse '/%s'", rel);
		rs_finding_hint(out, "the kernel writes a decimal number there: look at 'cat /%s'",
				rel);
		return true;
	}
	if (r < 0) {
		rs_finding_set(out, RS_STATUS_WARN, "cannot read '/%s': %s", rel, strerror(-r));
		rs_finding_hint(out,
				"inside a container /proc/sys may be hidden: check on the host");
		return true;
	}
	return false;
}

static int userns_max(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		      struct rs_error **err _unused_)
{
	uint64_t v;
	long long rec = rs_distro_int(&ctx->distro, "max_user_namespaces_recommended", 28633);
	int r;

	if (rs_offline_skip(ctx, out, true, false, "the running kernel's user.max_user_namespaces"))
		return 0;
	r = rs_ctx_sysctl(ctx, KNOB_MAX, &v);

	if (r == -ENOENT) {
		rs_finding_set(out, RS_STATUS_SKIP, "'/%s' is absent (kernel older than 4.9)",
			       KNOB_MAX);
		return 0;
	}
	if (knob_unreadable(out, KNOB_MAX, r))
		return 0;
	if (v == 0) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "user.max_user_namespaces = 0: no user "
			       "namespace can be created");
		_cleanup_free_ char *def =
			rs_xasprintf("allow them: echo 'user.max_user_namespaces = %lld' > "
				     "/etc/sysctl.d/51-rootless-setup.conf && sysctl --system",
				     rec);
		rs_finding_hint(out, "%s", rs_ctx_hint(ctx, "userns.max", def));
		return 0;
	}
	/* RootlessKit warns below 1024 (pkg/parent/warn.go) */
	if (v < 1024) {
		rs_finding_set(out, RS_STATUS_WARN, "user.max_user_namespaces = %llu is low",
			       (unsigned long long)v);
		rs_finding_hint(out, "raise it to at least 1024 in /etc/sysctl.d/");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "user.max_user_namespaces = %llu",
		       (unsigned long long)v);
	return 0;
}

extern const struct rs_fixer rs_fixer_userns_max;
const struct rs_rule rs_rule_userns_max = {
	.fixer = &rs_fixer_userns_max,
	.id = "userns.max",
	.summary = "user namespaces are allowed (user.max_user_namespaces > 0)",
	.explain = "RHEL/CentOS 7.4+ and Bottlerocket ship user.max_user_namespaces = 0, which "
		   "forbids every user namespace. The fix is a sysctl.d drop-in (RHEL 7: 28633), "
		   "or Bottlerocket's settings API, since its /etc does not persist.",
	.engines = RS_ENGINES_ALL,
	.run = userns_max,
};

static int userns_clone(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err _unused_)
{
	uint64_t v;
	int r;

	if (rs_offline_skip(ctx, out, true, false,
			    "the running kernel's kernel.unprivileged_userns_clone"))
		return 0;
	r = rs_ctx_sysctl(ctx, KNOB_CLONE, &v);

	if (r == -ENOENT) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "absent: this kernel has no Debian "
			       "unprivileged_userns_clone patch, nothing restricts");
		return 0;
	}
	if (knob_unreadable(out, KNOB_CLONE, r))
		return 0;
	if (v == 0) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "kernel.unprivileged_userns_clone = 0: only root "
			       "may create user namespaces");
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "userns.clone",
					    "allow them: echo 'kernel.unprivileged_userns_"
					    "clone = 1' > /etc/sysctl.d/50-rootless-setup."
					    "conf && sysctl --system"));
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "kernel.unprivileged_userns_clone = %llu",
		       (unsigned long long)v);
	return 0;
}

extern const struct rs_fixer rs_fixer_userns_clone;
const struct rs_rule rs_rule_userns_clone = {
	.fixer = &rs_fixer_userns_clone,
	.id = "userns.clone",
	.summary = "unprivileged user namespaces are not disabled by the Debian knob",
	.explain = "Kernels with Debian's patch (Debian, Ubuntu, Arch linux-hardened) have "
		   "kernel.unprivileged_userns_clone; Debian 10 defaults it to 0, Debian 11 and "
		   "later to 1. Absent means the kernel has no such restriction.",
	.engines = RS_ENGINES_ALL,
	.run = userns_clone,
};

/* A profile in etc/apparmor.d naming path with a "userns," rule. */
static char *apparmor_profile_for(struct rs_ctx *ctx, const char *path)
{
	_cleanup_strv_ struct rs_strv names = {0};

	if (rs_host_listdir(ctx->host, "etc/apparmor.d", &names, NULL) < 0)
		return NULL;
	char *found = NULL;
	for (size_t i = 0; i < names.n && !found; i++) {
		_cleanup_free_ char *rel = rs_xasprintf("etc/apparmor.d/%s", names.v[i]);
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (rs_host_read(ctx->host, rel, 1u << 20, &buf, &len, NULL) < 0)
			continue;
		if (strstr(buf, path) && strstr(buf, "userns,"))
			found = rs_xasprintf("/%s", rel);
	}
	return found;
}

static char *launcher_path(struct rs_ctx *ctx)
{
	char buf[4096];
	static const char *const cands[] = {"usr/bin/rootless-setup",
					    "usr/local/bin/rootless-setup", NULL};

	if (ctx->host->live) {
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			return rs_xstrdup(buf);
		}
	}
	const char *p = rs_first_existing(ctx, cands);
	return rs_xasprintf("/%s", p ? p : "usr/bin/rootless-setup");
}

static int userns_apparmor(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			   struct rs_error **err _unused_)
{
	uint64_t v;
	int r;

	if (rs_offline_skip(ctx, out, true, false,
			    "the running kernel's kernel.apparmor_restrict_unprivileged_userns"))
		return 0;
	r = rs_ctx_sysctl(ctx, KNOB_APPARMOR, &v);

	if (r == -ENOENT) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "absent: no AppArmor user namespace restriction");
		return 0;
	}
	if (knob_unreadable(out, KNOB_APPARMOR, r))
		return 0;
	if (v == 0) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "kernel.apparmor_restrict_unprivileged_userns = 0");
		return 0;
	}
	_cleanup_free_ char *exe = launcher_path(ctx);
	_cleanup_free_ char *prof = apparmor_profile_for(ctx, exe);
	if (prof) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "restricted, but '%s' allows user namespaces for "
			       "'%s'",
			       prof, exe);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_FAIL,
		       "kernel.apparmor_restrict_unprivileged_userns = 1 and "
		       "no AppArmor profile allows '%s' to create user namespaces",
		       exe);
	_cleanup_free_ char *def = rs_xasprintf(
		"add a profile, e.g. /etc/apparmor.d/rootless-setup with: abi <abi/4.0>, include "
		"<tunables/global> profile rootless-setup %s flags=(unconfined) { userns, } -- "
		"then "
		"systemctl reload apparmor",
		exe);
	rs_finding_hint(out, "%s", rs_ctx_hint(ctx, "userns.apparmor", def));
	return 0;
}

extern const struct rs_fixer rs_fixer_userns_apparmor;
const struct rs_rule rs_rule_userns_apparmor = {
	.fixer = &rs_fixer_userns_apparmor,
	.id = "userns.apparmor",
	.summary = "AppArmor does not block unprivileged user namespaces",
	.explain =
		"Ubuntu 23.10 added kernel.apparmor_restrict_unprivileged_userns; 24.04 turns "
		"it on (/usr/lib/sysctl.d/10-apparmor.conf). Unconfined programs then get EACCES "
		"from unshare(CLONE_NEWUSER) unless an AppArmor profile with a 'userns,' rule "
		"covers them. The safe fix is such a profile for rootless-setup's path, not "
		"turning the sysctl off.",
	.engines = RS_ENGINES_ALL,
	.run = userns_apparmor,
};

/*
 * userns.nnp. With no_new_privs a setuid newuidmap runs without its
 * privilege (Documentation/userspace-api/no_new_privs.rst): it fails
 * "write to uid_map failed: Operation not permitted" and engines fall back
 * to a single-id map or stop. systemd sets it for NoNewPrivileges=yes and,
 * in a unit without CAP_SYS_ADMIN (every unit of a user manager, and
 * user@.service itself, which has User=), for each of these
 * (systemd.exec(5), NoNewPrivileges=).
 */
static const char *const nnp_keys[] = {"NoNewPrivileges",	  "DynamicUser",
				       "LockPersonality",	  "MemoryDenyWriteExecute",
				       "PrivateDevices",	  "ProtectClock",
				       "ProtectHostname",	  "ProtectKernelLogs",
				       "ProtectKernelModules",	  "ProtectKernelTunables",
				       "RestrictAddressFamilies", "RestrictNamespaces",
				       "RestrictRealtime",	  "RestrictSUIDSGID",
				       "SystemCallArchitectures", "SystemCallFilter",
				       "SystemCallLog",		  NULL};

/* A value that turns the setting on: any but an empty assignment (a
 * reset) and systemd's false words. */
static bool nnp_on(const char *v)
{
	static const char *const off[] = {"0", "no", "n", "false", "f", "off", NULL};
	if (!v || !*v)
		return false;
	for (const char *const *o = off; *o; o++)
		if (rs_strcaseeq(v, *o))
			return false;
	return true;
}

/* "NoNewPrivileges=yes in /etc/.../x.conf", the last file to set a key
 * that is on at the end, or NULL. */
static char *nnp_in_unit(const struct rs_unit_files *u)
{
	for (const char *const *k = nnp_keys; *k; k++) {
		_cleanup_free_ char *last = NULL;
		size_t at = 0;
		for (size_t i = 0; i < u->n; i++) {
			char *v = rs_unit_get(u->text[i], strlen(u->text[i]), "Service", *k);
			if (v) {
				free(last);
				last = v;
				at = i;
			}
		}
		if (nnp_on(last))
			return rs_xasprintf("%s=%s in '%s'", *k, last, u->path[at]);
	}
	return NULL;
}

/* NoNewPrivs of proc/PID/status: 1, 0, or -1 unknown. */
static int nnp_of(struct rs_ctx *ctx, const char *pid)
{
	_cleanup_free_ char *rel = rs_xasprintf("proc/%s/status", pid), *buf = NULL, *v = NULL;
	size_t len;
	uint64_t n;

	if (rs_host_read(ctx->host, rel, 1u << 16, &buf, &len, NULL) < 0)
		return -1;
	v = rs_proc_status_get(buf, len, "NoNewPrivs");
	return v && rs_parse_u64(v, 1, &n) == 0 ? (int)n : -1;
}

/* The pid of the user's manager (user@UID.service's init.scope), or NULL. */
static char *manager_pid(struct rs_ctx *ctx)
{
	static const char *const roots[] = {"sys/fs/cgroup", "sys/fs/cgroup/unified",
					    "sys/fs/cgroup/systemd", NULL};
	unsigned uid = (unsigned)ctx->user.uid;

	for (const char *const *r = roots; *r; r++) {
		_cleanup_free_ char *slice = rs_xasprintf("%s/user.slice", *r);
		/* a host fact: no user.slice, no user's manager under it */
		if (!rs_host_exists_host(ctx->host, slice))
			continue;
		_cleanup_free_ char *rel = rs_xasprintf(
			"%s/user.slice/user-%u.slice/user@%u.service/init.scope/cgroup.procs", *r,
			uid, uid);
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (rs_host_read(ctx->host, rel, 4096, &buf, &len, NULL) < 0)
			continue;
		size_t n = strspn(buf, "0123456789");
		if (n)
			return rs_xstrndup(buf, n);
	}
	return NULL;
}

/* no_new_privs a live process shows: the caller when it is the user, the
 * user's manager. Return: true with out set. */
static bool nnp_live(struct rs_ctx *ctx, struct rs_finding *out, char **seen)
{
	if (ctx->host->live && ctx->user_is_caller && nnp_of(ctx, "self") == 1) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "this process runs with no_new_privs (NoNewPrivs: 1 in "
			       "/proc/self/status): setuid newuidmap and newgidmap cannot gain "
			       "their privilege, so engines started from here get a single-id "
			       "map or fail ('newuidmap: write to uid_map failed')");
		rs_finding_hint(out, "start the engine from a session without it (not under "
				     "'setpriv --no-new-privs', a NoNewPrivileges= unit or a "
				     "container run with no-new-privileges)");
		return true;
	}
	_cleanup_free_ char *pid = ctx->no_proc ? NULL : manager_pid(ctx);
	int m = pid ? nnp_of(ctx, pid) : -1;
	if (m == 1) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "the user manager of '%s' (pid %s) runs with no_new_privs: every "
			       "process it starts does, and setuid newuidmap cannot gain its "
			       "privilege",
			       ctx->user.name, pid);
		rs_finding_hint(out,
				"remove NoNewPrivileges= (and options implying it) from "
				"user@.service and its drop-ins, then restart user@%u.service",
				(unsigned)ctx->user.uid);
		return true;
	}
	if (m == 0)
		*seen = rs_xasprintf("the user manager (pid %s) runs without it", pid);
	return false;
}

/* A unit that gives its processes no_new_privs. Return: 1 (out set), 0,
 * or <0 with *err. */
static int nnp_unit(struct rs_ctx *ctx, const char *name, bool user_manager, struct rs_finding *out,
		    struct rs_error **err)
{
	struct rs_unit_files u;
	int r = rs_unit_load(ctx, name, user_manager, &u);

	if (r < 0) {
		rs_unit_files_clear(&u);
		return rs_error_setx(err, -r, "cannot read the unit %s: %s", name, strerror(-r));
	}
	_cleanup_free_ char *what = nnp_in_unit(&u);
	rs_unit_files_clear(&u);
	if (!what)
		return 0;
	rs_finding_set(out, RS_STATUS_FAIL,
		       "%s: %s runs with no_new_privs, so setuid newuidmap and newgidmap "
		       "cannot gain their privilege ('write to uid_map failed: Operation not "
		       "permitted')",
		       what, name);
	rs_finding_hint(out, "remove it: in a user manager (and in user@.service, which has User=) "
			     "that option implies NoNewPrivileges=yes, and no later "
			     "NoNewPrivileges=no undoes it (systemd.exec(5))");
	return 1;
}

static int userns_nnp(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		      struct rs_error **err)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	_cleanup_free_ char *seen = NULL,
			    *mgr = rs_xasprintf("user@%u.service", (unsigned)ctx->user.uid);
	_cleanup_free_ char *unit = ei && ei->daemon
					    ? rs_xasprintf("rootless-setup-%s.service", ei->name)
					    : NULL;
	int r;

	if (nnp_live(ctx, out, &seen))
		return 0;
	/* the unit files, wherever they are: a tree on disk boots with them */
	if ((r = nnp_unit(ctx, mgr, false, out, err)) != 0)
		return r < 0 ? r : 0;
	if (unit && (r = nnp_unit(ctx, unit, true, out, err)) != 0)
		return r < 0 ? r : 0;
	rs_finding_set(out, RS_STATUS_PASS,
		       "no no_new_privs in the way of newuidmap: user@.service%s%s and their "
		       "drop-ins set nothing implying it",
		       unit ? " and " : "", unit ? unit : "");
	if (seen) {
		char *m = rs_xasprintf("%s; %s", out->message, seen);
		free(out->message);
		out->message = m;
	}
	return 0;
}

const struct rs_rule rs_rule_userns_nnp = {
	.id = "userns.nnp",
	.summary = "no no_new_privs stops the setuid newuidmap and newgidmap",
	.explain =
		"With no_new_privs (Linux 3.5, prctl PR_SET_NO_NEW_PRIVS) setuid bits and file "
		"capabilities are ignored at exec, so newuidmap fails with 'write to uid_map "
		"failed: Operation not permitted' and Podman says 'cannot set up namespace "
		"using newuidmap' (https://docs.kernel.org/userspace-api/no_new_privs.html). Live, "
		"the "
		"rule reads NoNewPrivs of /proc/self/status when the caller is the user, and of "
		"the user's manager (user@UID.service's init.scope). From the unit files, with "
		"their drop-ins: user@.service (system) and, for an engine with a daemon, its "
		"rootless-setup-ENGINE.service (the user's manager). There NoNewPrivileges=yes "
		"or any of DynamicUser, LockPersonality, MemoryDenyWriteExecute, PrivateDevices, "
		"ProtectClock, ProtectHostname, ProtectKernelLogs, ProtectKernelModules, "
		"ProtectKernelTunables, RestrictAddressFamilies, RestrictNamespaces, "
		"RestrictRealtime, RestrictSUIDSGID, SystemCallArchitectures, SystemCallFilter "
		"or SystemCallLog implies it, because these units lack CAP_SYS_ADMIN "
		"(systemd.exec(5), "
		"https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html). The "
		"user's ~/.config/systemd/user is read with the user's credentials. No fixer: "
		"hardening the admin chose is the admin's to undo.",
	.engines = RS_ENGINES_ALL,
	.per_engine = true,
	.needs_user = true,
	.run = userns_nnp,
};

/* "0 1000 1, 1 100000 65536" for messages; caller frees. */
static char *map_text(const struct rs_idmap *m)
{
	char *s = rs_xstrdup("");
	for (size_t i = 0; i < m->n && i < 4; i++) {
		_cleanup_free_ char *x = rs_xasprintf("%llu %llu %llu",
						      (unsigned long long)m->e[i].inside,
						      (unsigned long long)m->e[i].outside,
						      (unsigned long long)m->e[i].count);
		rs_list_add(&s, ", ", x);
	}
	if (m->n > 4)
		rs_list_add(&s, ", ", "...");
	return s;
}

/* The first of the user's ids (own and subordinate) the current namespace
 * does not map, as "uids 100000-165535", or NULL. */
static char *unmapped(struct rs_ctx *ctx, bool gid, const struct rs_idmap *cur,
		      struct rs_error **err, int *r)
{
	struct rs_idmap want;

	*r = rs_idmap_build(ctx->host, &ctx->user, gid, &want, err);
	if (*r < 0)
		return NULL;
	for (size_t i = 0; i < want.n; i++) {
		const struct rs_idmap_extent *x = &want.e[i];
		if (rs_idmap_covers(cur, x->outside, x->count))
			continue;
		if (i == 0)
			return rs_xasprintf("%s own %s %llu", ctx->user.name, gid ? "gid" : "uid",
					    (unsigned long long)x->outside);
		return rs_xasprintf("%s's subordinate %s %llu-%llu", ctx->user.name,
				    gid ? "gids" : "uids", (unsigned long long)x->outside,
				    (unsigned long long)(x->outside + x->count - 1));
	}
	return NULL;
}

static int read_map(struct rs_ctx *ctx, const char *rel, struct rs_idmap *m, struct rs_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = rs_host_read(ctx->host, rel, 1u << 16, &buf, &len, err);

	if (r < 0)
		return r;
	if (rs_idmap_parse(buf, len, m) < 0)
		return rs_error_setx(err, EINVAL, "cannot parse '/%s'", rel);
	return 0;
}

static int userns_nested(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err)
{
	struct rs_idmap um, gm;
	int r;

	if (rs_offline_skip(ctx, out, true, false, "which user namespace it runs in"))
		return 0;
	if ((r = read_map(ctx, "proc/self/uid_map", &um, err)) < 0 ||
	    (r = read_map(ctx, "proc/self/gid_map", &gm, err)) < 0)
		return r;
	if (um.n == 1 && um.e[0].inside == 0 && um.e[0].outside == 0 &&
	    um.e[0].count == (uint64_t)UINT32_MAX) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "not inside a user namespace (the uid map is the identity)");
		return 0;
	}
	_cleanup_free_ char *ut = map_text(&um), *gt = map_text(&gm);
	_cleanup_free_ char *miss = unmapped(ctx, false, &um, err, &r);
	if (r < 0)
		return r;
	bool g = !miss;
	if (g && !(miss = unmapped(ctx, true, &gm, err, &r)) && r < 0)
		return r;
	if (miss) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "inside a user namespace whose %s map (%s) does not hold %s: "
			       "newuidmap here cannot map it ('write to %s_map failed: "
			       "Operation not permitted')",
			       g ? "gid" : "uid", g ? gt : ut, miss, g ? "gid" : "uid");
		rs_finding_hint(out,
				"the outer runtime must map those ids into this container (a "
				"larger --uidmap/--gidmap), or '%s' gets ranges inside the ids "
				"mapped here in /etc/subuid and /etc/subgid, as Podman's own "
				"image does (podman:1:999 and podman:1001:64535)",
				ctx->user.name);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS,
		       "inside a user namespace (uid map %s) that maps '%s' and its "
		       "subordinate ids",
		       ut, ctx->user.name);
	return 0;
}

const struct rs_rule rs_rule_userns_nested = {
	.id = "userns.nested",
	.summary = "a nested user namespace's outer map holds the user's subordinate ids",
	.explain =
		"Inside a container (a user namespace: /proc/self/uid_map is not '0 0 "
		"4294967295') newuidmap can only map ids the outer namespace maps: the kernel "
		"refuses a map whose lower ids are unmapped in the parent "
		"(user_namespaces(7), 'Defining user and group ID mappings'), and newuidmap "
		"reports 'write to uid_map failed: Operation not permitted'. The rule checks "
		"that the user's own uid and gid and every subordinate range of /etc/subuid and "
		"/etc/subgid (as they are inside) lie in this namespace's uid_map and gid_map. "
		"Podman's own image for nesting (quay.io/podman/stable) keys its user's ranges "
		"inside the 65536 ids a rootless container maps: podman:1:999 and "
		"podman:1001:64535 (https://github.com/containers/image_build/tree/main/podman). "
		"A --root tree without proc/ is skipped.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = userns_nested,
};
