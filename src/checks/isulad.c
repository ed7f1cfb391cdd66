/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <unistd.h>
#include "checks/internal.h"
#include "checks/isulad.h"
#include "host/userfs.h"

const char *const rs_isulad_dirs[] = {"etc/isulad", "etc/default/isulad",
				      "etc/default/isulad/hooks", NULL};

bool rs_isulad_copy_ok(const struct rs_host *h, const struct rs_user *u, const char *rel)
{
	_cleanup_free_ char *sub = rs_xasprintf("%s/%s", RS_ISULAD_COPY_DIR, rel);
	_cleanup_close_ int home = -1, fd = -1;
	struct stat st;

	if (!u->home || u->home[0] != '/' || !strcmp(u->home, "/"))
		return false;
	/* the home itself comes from passwd; below it the user decides, so an
	 * O_PATH open (no read, no FIFO wait) that refuses every symlink */
	home = rs_host_openat(h, rs_host_rel(u->home), O_PATH | O_DIRECTORY, NULL);
	if (home < 0)
		return false;
	fd = rs_beneath_open(home, sub, O_PATH, 0);
	return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == u->uid &&
	       (st.st_mode & 0400);
}

static void append(char **list, const char *item)
{
	char *n = rs_xasprintf("%s%s'%s'", *list, **list ? ", " : "", item);
	free(*list);
	*list = n;
}

static int isulad_permissions(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			      struct rs_error **err _unused_)
{
	_cleanup_free_ char *bad = rs_xstrdup("");
	unsigned nfiles = 0, nbad = 0, ncopies = 0;

	for (const char *const *d = rs_isulad_dirs; *d; d++) {
		struct rs_strv names = {0};
		if (!rs_host_exists_host(ctx->host, *d) ||
		    rs_host_listdir(ctx->host, *d, &names, NULL) < 0)
			continue;
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, names.v[i]);
			struct stat st;
			if (rs_host_stat_host(ctx->host, rel, &st, false) < 0 ||
			    S_ISDIR(st.st_mode))
				continue;
			nfiles++;
			if (rs_access_user_host(ctx->host, &ctx->user, rel, R_OK) == 1)
				continue;
			if (rs_isulad_copy_ok(ctx->host, &ctx->user, rel)) {
				ncopies++;
			} else {
				_cleanup_free_ char *abs = rs_xasprintf("/%s", rel);
				if (nbad++ < 4)
					append(&bad, abs);
			}
		}
		rs_strv_free(&names);
	}
	if (nbad) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "%u of %u iSulad files are not readable by "
			       "'%s': %s%s",
			       nbad, nfiles, ctx->user.name, bad, nbad > 4 ? ", ..." : "");
		rs_finding_hint(out,
				"rootless-setup fix --rule isulad.permissions copies them, as "
				"the user, to ~/" RS_ISULAD_COPY_DIR "/ (root's files and group "
				"'isula' stay as they are; no blanket chmod +r)");
		return 0;
	}
	if (ncopies)
		rs_finding_set(out, RS_STATUS_PASS,
			       "%u iSulad files readable by '%s', %u of them "
			       "through its copy in ~/" RS_ISULAD_COPY_DIR,
			       nfiles, ctx->user.name, ncopies);
	else
		rs_finding_set(out, RS_STATUS_PASS, "%u iSulad files, all readable by '%s'", nfiles,
			       ctx->user.name);
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_permissions;
const struct rs_rule rs_rule_isulad_permissions = {
	.fixer = &rs_fixer_isulad_permissions,
	.id = "isulad.permissions",
	.summary = "iSulad's configuration files are readable by the user",
	.explain = "iSulad installs /etc/isulad/daemon.json (0640) and the files of "
		   "/etc/default/isulad/ and its hooks/ without read access for others; rootless "
		   "iSulad reads them as the user. The guide says 'chmod +r' them all. The fixer "
		   "changes none of root's files and adds the user to no group (group 'isula' owns "
		   "the root daemon's socket: membership is root-equivalent); it copies each file "
		   "the user cannot read to ~/.config/isulad/system/<path> (e.g. "
		   "~/.config/isulad/system/etc/default/isulad/hooks/default.json), made as the "
		   "user (directories 0700, files 0600, written atomically, never through a "
		   "symlink). The generated launch shows each copy at its system path inside the "
		   "launcher's mount namespace, and the generated ~/.config/isulad/daemon.json "
		   "in place of /etc/isulad/daemon.json. The rule passes when every file is "
		   "readable by the user or has such a copy.",
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
		if (!rs_host_exists_host(ctx->host, *d))
			continue;
		if (rs_access_user_host(ctx->host, &ctx->user, *d, W_OK | X_OK) != 1) {
			_cleanup_free_ char *abs = rs_xasprintf("/%s", *d);
			append(&bad, abs);
		}
	}
	if (*bad) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "left by a root iSulad and not writable by "
			       "'%s': %s",
			       ctx->user.name, bad);
		/* a running root daemon, a process or LXC may use them */
		rs_finding_hint(
			out, "if no root iSulad runs (isulad.service inactive), rootless-setup "
			     "fix --rule isulad.stale-state removes those that no process uses "
			     "(/var/run/lxc only where LXC is not installed) and names the rest");
		return 0;
	}
	/* /run is a tmpfs: on a tree with no kernel behind it, empty says nothing */
	if (rs_offline_skip(ctx, out, true, false, "whether a root iSulad left state in /run"))
		return 0;
	rs_finding_set(out, RS_STATUS_PASS, "no stale iSulad state directories");
	return 0;
}

extern const struct rs_fixer rs_fixer_isulad_stale_state;
const struct rs_rule rs_rule_isulad_stale_state = {
	.fixer = &rs_fixer_isulad_stale_state,
	.id = "isulad.stale-state",
	.summary = "no root-owned iSulad state directories are left behind",
	.explain = "A root iSulad leaves /var/run/isula, /var/run/isulad and /var/run/lxc; "
		   "rootless iSulad cannot write them. The check only reports them. The fixer "
		   "removes nothing while a root iSulad runs (its pid file or socket; --force "
		   "overrides only this), and leaves a directory in place, naming it and why, "
		   "when a process has a file open, its working directory, its root or a mapped "
		   "file below it (read from /proc; under --root without a live /proc it cannot "
		   "tell and leaves them all), or, for /var/run/lxc, when LXC is installed "
		   "(lxc-start, the Debian package lxc). Symlinks inside are removed, never "
		   "followed.",
	.engines = ENG(ISULAD),
	.needs_user = true,
	.run = isulad_stale,
};
