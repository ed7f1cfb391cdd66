/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "checks/internal.h"

static int runtime_dir(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		       struct rs_error **err _unused_)
{
	_cleanup_free_ char *dir = rs_ctx_runtime_dir(ctx);
	struct stat st;
	/* a package install runs without the user logged in: not a failure then */
	enum rs_status bad = ctx->postinstall ? RS_STATUS_WARN : RS_STATUS_FAIL;

	if (rs_host_stat(ctx->host, dir, &st, true) < 0) {
		if (rs_offline_skip(ctx, out, true, false,
				    "whether the user is logged in "
				    "(the runtime dir exists during a login)"))
			return 0;
		rs_finding_set(out, bad, "'%s' does not exist: '%s' has no login session", dir,
			       ctx->user.name);
		if (rs_host_exists_host(ctx->host, "run/systemd/system"))
			/* su and sudo open no logind session (systemd#7451) */
			rs_finding_hint(out,
					"log in through ssh or the console, or from root "
					"'machinectl shell %s@' (su and sudo start no login "
					"session); to keep it without a login: 'loginctl "
					"enable-linger %s' (what fix runs)",
					ctx->user.name, ctx->user.name);
		else
			rs_finding_hint(out,
					"no systemd-logind on this host makes it: fix, run by "
					"root, makes /run/user/%u as pam_systemd would; run by "
					"'%s', it makes one under the home and prints the "
					"export",
					(unsigned)ctx->user.uid, ctx->user.name);
		return 0;
	}
	_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
	if (!S_ISDIR(st.st_mode) || st.st_uid != ctx->user.uid || (st.st_mode & 07777) != 0700) {
		rs_finding_set(out, bad,
			       "'%s' (%s) must be a directory owned by '%s' with mode "
			       "0700",
			       dir, d, ctx->user.name);
		/* XDG_RUNTIME_DIR under /tmp is open to TOCTOU (Docker docs) */
		rs_finding_hint(out, "let systemd-logind create it (pam_systemd); never point "
				     "XDG_RUNTIME_DIR into /tmp");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'%s' (%s)", dir, d);
	return 0;
}

extern const struct rs_fixer rs_fixer_runtime_dir;

const struct rs_rule rs_rule_runtime_dir = {
	.id = "runtime.dir",
	.summary = "the user's runtime directory exists, owned by the user, mode 0700",
	.explain = "Sockets and launcher state live in $XDG_RUNTIME_DIR (/run/user/UID), which "
		   "pam_systemd creates at login; su and sudo do not (from root, 'machinectl "
		   "shell USER@' opens a real login), and hosts without systemd (OpenRC, "
		   "sysvinit, WSL, containers) have no logind to make it at all. 'loginctl "
		   "enable-linger' keeps it without a login. The fixer, run by root: on a systemd "
		   "host 'loginctl enable-linger USER'; elsewhere it makes /run/user/UID as "
		   "pam_systemd would (root's /run/user 0755, the user's directory 0700) and "
		   "notes it for 'uninstall --purge', since nothing else removes it; a "
		   "directory of the user's with another mode becomes 0700. Run by the user "
		   "itself (no root needed): ~/.local/state/rootless-setup/run (0700) and the "
		   "'export XDG_RUNTIME_DIR=' line, as Docker's setuptool does with "
		   "~/.docker/run. Under --postinstall a missing one is only a warning.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = runtime_dir,
	.fixer = &rs_fixer_runtime_dir,
};
