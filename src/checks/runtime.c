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
		rs_finding_hint(out,
				"log in through ssh or the console (not su/sudo), or: "
				"loginctl enable-linger %s",
				ctx->user.name);
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

const struct rs_rule rs_rule_runtime_dir = {
	.id = "runtime.dir",
	.summary = "the user's runtime directory exists, owned by the user, mode 0700",
	.explain = "Sockets and launcher state live in $XDG_RUNTIME_DIR (/run/user/UID), which "
		   "pam_systemd creates at login; su and sudo do not. 'loginctl enable-linger' "
		   "keeps it without a login. Under --postinstall a missing one is only a warning.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = runtime_dir,
};
