/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

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
	struct rs_strv names = {0};

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
	rs_strv_free(&names);
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
