/* SPDX-License-Identifier: GPL-2.0-or-later */
/* podman.migrate's fixer: 'podman system migrate' as the user, which ends
 * the pause process that holds the user namespace of the old ranges. */
#include <errno.h>
#include <string.h>
#include "fixers/fixer.h"
#include "lib/xalloc.h"

static int fix_migrate(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *podman = rs_ctx_find_program(ctx, "podman");

	if (res->f.status != RS_STATUS_FAIL || !ctx->has_user)
		return 0;
	if (!podman) {
		rs_fix_action(f, res->rule->id, "note", NULL, "podman is not installed")->failed =
			true;
		return 0;
	}
	_cleanup_free_ char *path = rs_xasprintf("/%s", podman);
	/* the user's own processes, not the host's state: a container is no
	 * reason to leave them (rs_fix_live), a tree under --root is */
	if (!ctx->host->live) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "not applied under --root: as '%s', run: podman system migrate",
			      ctx->user.name);
		return 0;
	}
	/* Podman finds its runtime dir, storage and configuration through
	 * these; it needs no setuid helper to end the pause process, so the
	 * exec path's no_new_privs is no obstacle */
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	_cleanup_free_ char *xdg = rs_xasprintf("XDG_RUNTIME_DIR=%s", run);
	_cleanup_free_ char *home = rs_xasprintf("HOME=%s", ctx->user.home);
	_cleanup_free_ char *user = rs_xasprintf("USER=%s", ctx->user.name);
	const char *const env[] = {xdg, home, user, NULL};
	char *const argv[] = {path, "system", "migrate", NULL};
	if (rs_action_exec_env(&f->acts, res->rule->id, argv, env, &ctx->user) == 0)
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "podman system migrate stops '%s''s running containers with the "
			      "pause process; Podman's next command maps the new ranges",
			      ctx->user.name);
	return 0;
}

/* last: after subid.ranges, which may change the ranges to migrate to */
const struct rs_fixer rs_fixer_podman_migrate = {.order = 110, .run = fix_migrate};
