/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fixers that add an own-named file for a system service: the systemd
 * delegation drop-in and the AppArmor profile. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core/engine.h"
#include "fixers/fixer.h"
#include "lib/xalloc.h"

#define DELEGATE_REL "etc/systemd/system/user@.service.d/rootless-setup.conf"

static int fix_delegation(struct rs_fix_ctx *f, const struct rs_result *res)
{
	if (!f->ctx->systemd_init) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "systemd is not the init system: no "
			      "cgroup can be delegated to users here")
			->failed = true;
		return 0;
	}
	/* Delegate= assignments add up across drop-ins, so ours composes with an
	 * administrator's file and never replaces it */
	if (rs_fix_write(f, res->rule->id, DELEGATE_REL,
			 "# rootless-setup fix --rule cgroup.delegation\n[Service]\n"
			 "Delegate=cpu cpuset io memory pids\n",
			 0644, "Delegate=cpu cpuset io memory pids") < 0)
		return 0;
	/* restarting the user's manager is the admin's call: it ends their session */
	rs_fix_action(f, res->rule->id, "note", NULL,
		      "effective after 'systemctl daemon-reload' "
		      "and a new login of '%s'",
		      f->ctx->has_user ? f->ctx->user.name : "the user");
	return 0;
}

const struct rs_fixer rs_fixer_cgroup_delegation = {.order = 50, .run = fix_delegation};

#define PROFILE_REL "etc/apparmor.d/rootless-setup"

/* Engines run under the launcher create user namespaces of their own
 * (runc, crun, buildkitd, devkitd); each gets a profile allowing that too. */
static const char *const engine_bins[] = {
	"usr/bin/runc",	      "usr/sbin/runc",	   "usr/bin/crun",
	"usr/bin/containerd", "usr/bin/buildkitd", "usr/bin/devkitd",
	"usr/bin/isulad",     "usr/bin/podman",	   NULL,
};

static void profile_add(char **text, const char *name, const char *path)
{
	char *n =
		rs_xasprintf("%s\nprofile rootless-setup-%s %s flags=(unconfined) {\n  userns,\n\n"
			     "  include if exists <local/rootless-setup-%s>\n}\n",
			     *text, name, path, name);
	free(*text);
	*text = n;
}

static char *self_path(struct rs_fix_ctx *f)
{
	char buf[4096];
	static const char *const cands[] = {"usr/bin/rootless-setup",
					    "usr/local/bin/rootless-setup", NULL};
	if (f->ctx->host->live) {
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		if (n > 0)
			return rs_xstrndup(buf, (size_t)n);
	}
	for (const char *const *c = cands; *c; c++)
		if (rs_host_exists(f->ctx->host, *c))
			return rs_xasprintf("/%s", *c);
	return rs_xstrdup("/usr/bin/rootless-setup");
}

static int fix_apparmor(struct rs_fix_ctx *f, const struct rs_result *res)
{
	_cleanup_free_ char *self = self_path(f);
	_cleanup_free_ char *text = rs_xstrdup("# rootless-setup fix --rule userns.apparmor: user "
					       "namespaces for rootless-setup and the engines it "
					       "launches (Ubuntu 23.10+)\nabi <abi/4.0>,\ninclude "
					       "<tunables/global>\n");
	const char *why;

	profile_add(&text, "launcher", self);
	for (const char *const *b = engine_bins; *b; b++)
		if (rs_host_exists(f->ctx->host, *b)) {
			_cleanup_free_ char *path = rs_xasprintf("/%s", *b);
			const char *base = strrchr(*b, '/') + 1;
			profile_add(&text, base, path);
		}
	if (rs_fix_write(f, res->rule->id, PROFILE_REL, text, 0644,
			 "AppArmor profiles with 'userns,' for the launcher and the engines") < 0)
		return 0;
	if (!rs_fix_live(f, &why)) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "%s: load it with apparmor_parser -r "
			      "/" PROFILE_REL,
			      why);
	} else {
		char *const argv[] = {"/sbin/apparmor_parser", "-r", "/" PROFILE_REL, NULL};
		rs_fix_exec(f, res->rule->id, argv);
	}
	/* turning the global restriction off lowers every program's guard:
	 * only when asked */
	if (f->o->force)
		rs_fix_apparmor_knob(f);
	return 0;
}

const struct rs_fixer rs_fixer_userns_apparmor = {.order = 40, .run = fix_apparmor};
