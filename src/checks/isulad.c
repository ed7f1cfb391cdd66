/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

static const char *const isulad_dirs[] = {"etc/isulad", "etc/default/isulad",
					  "etc/default/isulad/hooks", NULL};

static void append(char **list, const char *item)
{
	char *n = rs_xasprintf("%s%s'%s'", *list, **list ? ", " : "", item);
	free(*list);
	*list = n;
}

static int isulad_permissions(struct rs_ctx *ctx, enum rs_engine e _unused_,
			      struct rs_finding *out, struct rs_error **err _unused_)
{
	_cleanup_free_ char *bad = rs_xstrdup("");
	unsigned nfiles = 0, nbad = 0;

	for (const char *const *d = isulad_dirs; *d; d++) {
		struct rs_strv names = {0};
		if (rs_host_listdir(ctx->host, *d, &names, NULL) < 0)
			continue;
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, names.v[i]);
			struct stat st;
			if (rs_host_stat(ctx->host, rel, &st, false) < 0 || S_ISDIR(st.st_mode))
				continue;
			nfiles++;
			if (rs_access_user(ctx->host, &ctx->user, rel, R_OK) != 1) {
				_cleanup_free_ char *abs = rs_xasprintf("/%s", rel);
				if (nbad++ < 4)
					append(&bad, abs);
			}
		}
		rs_strv_free(&names);
	}
	if (nbad) {
		rs_finding_set(out, RS_STATUS_FAIL, "%u of %u iSulad files are not readable by "
			       "'%s': %s%s", nbad, nfiles, ctx->user.name, bad, nbad > 4 ? ", ..." : "");
		rs_finding_hint(out, "rootless-setup gives iSulad a per-user daemon.json instead "
				"of loosening root's files (no blanket chmod +r)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "%u iSulad files, all readable by '%s'", nfiles,
		       ctx->user.name);
	return 0;
}

const struct rs_rule rs_rule_isulad_permissions = {
	.id = "isulad.permissions",
	.summary = "iSulad's configuration files are readable by the user",
	.explain = "iSulad installs /etc/isulad/daemon.json (0640) and the files of "
		   "/etc/default/isulad/ and its hooks/ without read access for others; rootless "
		   "iSulad reads them as the user. The guide says 'chmod +r' them all; the fixer "
		   "instead shows a per-user copy as /etc/isulad/daemon.json inside the launcher's "
		   "mount namespace.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_permissions,
};

static int isulad_stale(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err _unused_)
{
	static const char *const dirs[] = {"var/run/isula", "var/run/isulad", "var/run/lxc", NULL};
	_cleanup_free_ char *bad = rs_xstrdup("");

	for (const char *const *d = dirs; *d; d++) {
		if (!rs_host_exists(ctx->host, *d))
			continue;
		if (rs_access_user(ctx->host, &ctx->user, *d, W_OK | X_OK) != 1) {
			_cleanup_free_ char *abs = rs_xasprintf("/%s", *d);
			append(&bad, abs);
		}
	}
	if (*bad) {
		rs_finding_set(out, RS_STATUS_FAIL, "left by a root iSulad and not writable by "
			       "'%s': %s", ctx->user.name, bad);
		/* never deleted for the admin: a live daemon may own them (§G.3) */
		rs_finding_hint(out, "if no root iSulad runs (no /var/run/isulad.pid process, "
				"isulad.service inactive), remove them as root: rm -rf "
				"/var/run/isula /var/run/isulad /var/run/lxc");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "no stale iSulad state directories");
	return 0;
}

const struct rs_rule rs_rule_isulad_stale_state = {
	.id = "isulad.stale-state",
	.summary = "no root-owned iSulad state directories are left behind",
	.explain = "A root iSulad leaves /var/run/isula, /var/run/isulad and /var/run/lxc; "
		   "rootless iSulad cannot write them. They are reported, never removed "
		   "automatically: a running root daemon may still use them.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_stale,
};
