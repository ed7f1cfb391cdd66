/* SPDX-License-Identifier: GPL-2.0-or-later */
/* runtime.dir: the user's $XDG_RUNTIME_DIR where no login made one. With
 * systemd, logind makes /run/user/UID at login and keeps it for a lingering
 * user; without it (OpenRC, sysvinit, WSL, a container, su and sudo
 * sessions) nothing does, and every engine's socket has nowhere to go. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/xalloc.h"

/* root's note that it made the user's runtime dir, for uninstall --purge:
 * root-owned like install's records, so the user cannot plant one */
#define MADE_REL_FMT "var/lib/rootless-setup/users/%u/runtime-dir"

static bool systemd_host(struct rs_ctx *ctx)
{
	return rs_host_exists(ctx->host, "run/systemd/system");
}

/* As pam_systemd does: /run/user root's 0755, /run/user/UID the user's 0700
 * (each made without following a symlink), and a note of root's for
 * uninstall --purge: nothing else removes it where no logind runs. */
static void make_run_user(struct rs_fix_ctx *f, const char *rule, const char *dir)
{
	const struct rs_user *u = &f->ctx->user;
	struct rs_error *e = NULL;
	_cleanup_free_ char *made = rs_xasprintf(MADE_REL_FMT, (unsigned)u->uid);
	_cleanup_free_ char *text =
		rs_xasprintf("# rootless-setup fix --rule runtime.dir made %s for uid %u\n", dir,
			     (unsigned)u->uid);

	int r = rs_safe_mkdirs(f->ctx->host, "run/user", 0755, 0, 0, f->o->dry_run, &e);
	if (r >= 0)
		r = rs_safe_mkdirs(f->ctx->host, dir, 0700, u->uid, u->gid, f->o->dry_run, &e);
	struct rs_action *a = rs_fix_action(f, rule, "mkdir", dir,
					    "0700 %s:%u, as pam_systemd makes it", u->name,
					    (unsigned)u->gid);
	a->changed = r > 0;
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "%s", e->msg);
		rs_error_free(e);
		return;
	}
	if (rs_fix_write(f, rule, made, text, 0600, "root's note for uninstall --purge") < 0)
		return;
	rs_fix_action(f, rule, "note", dir,
		      "no logind runs here, so nothing removes it at logout; it lasts until "
		      "reboot (/run is a tmpfs), and 'uninstall --purge' removes it");
}

/* An existing directory of the user's with another mode: 0700 on the opened
 * directory itself (never through a symlink). Anything else is not ours to
 * change: a directory of another owner, a symlink, a file. */
static void repair_mode(struct rs_fix_ctx *f, const char *rule, const char *dir)
{
	struct stat st;
	_cleanup_close_ int fd = rs_host_openat(f->ctx->host, rs_host_rel(dir),
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW, NULL);

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != f->ctx->user.uid) {
		rs_fix_action(f, rule, "note", dir,
			      "not a directory of '%s' (or a symlink): an administrator must look "
			      "at it; nothing changed",
			      f->ctx->user.name)
			->failed = true;
		return;
	}
	struct rs_action *a = rs_fix_action(f, rule, "chmod", dir, "0700 (was %04o)",
					    (unsigned)(st.st_mode & 07777));
	a->changed = true;
	if (!f->o->dry_run && fchmod(fd, 0700) < 0) {
		a->failed = true;
		rs_action_detail(a, "cannot chmod: %s", strerror(errno));
	}
}

/* The user acting alone, without root: a directory under the home, made by
 * fd with no symlink followed, and the export that makes it the runtime dir
 * (Docker's setuptool does the same under ~/.docker/run). */
static void make_fallback(struct rs_fix_ctx *f, const char *rule)
{
	const struct rs_user *u = &f->ctx->user;
	static const char *const sub[] = {".local", ".local/state", ".local/state/rootless-setup",
					  ".local/state/rootless-setup/run"};
	_cleanup_free_ char *dir = rs_xasprintf("%s/%s", u->home, sub[3]);
	_cleanup_close_ int home = rs_host_openat(f->ctx->host, rs_host_rel(u->home),
						  O_PATH | O_DIRECTORY, NULL);
	int r = home < 0 ? -errno : 0;
	_cleanup_close_ int there = r ? -1 : rs_beneath_open(home, sub[3], O_PATH | O_DIRECTORY, 0);
	struct stat st;
	bool have = there >= 0 && fstat(there, &st) == 0 && st.st_uid == u->uid &&
		    (st.st_mode & 07777) == 0700;

	for (size_t i = 0; !have && r == 0 && i < ARRAY_SIZE(sub); i++) {
		if (f->o->dry_run)
			break;
		if (mkdirat(home, sub[i], 0700) < 0 && errno != EEXIST)
			r = -errno;
		_cleanup_close_ int fd = r ? -1
					   : rs_beneath_open(home, sub[i], O_RDONLY | O_DIRECTORY,
							     0);
		if (!r && fd < 0)
			r = fd;
		if (!r && i == ARRAY_SIZE(sub) - 1 && fchmod(fd, 0700) < 0)
			r = -errno;
	}
	struct rs_action *a = rs_fix_action(f, rule, "mkdir", dir,
					    "0700, the runtime dir for a session without a login");
	a->changed = !have;
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "cannot create it: %s", strerror(-r));
		return;
	}
	rs_fix_action(
		f, rule, "note", NULL,
		"then, in this shell and in your profile: export XDG_RUNTIME_DIR=%s "
		"(as root, 'rootless-setup --user %s fix --rule runtime.dir' makes /run/user/%u "
		"instead)",
		dir, u->name, (unsigned)u->uid);
}

static int fix_runtime_dir(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *rule = res->rule->id;
	_cleanup_free_ char *dir = rs_ctx_runtime_dir(ctx);
	struct stat st;

	if (!ctx->has_user || ctx->user.uid == 0) {
		rs_fix_action(f, rule, "note", NULL, "root's runtime dir is not ours to make");
		return 0;
	}
	if (rs_host_stat(ctx->host, dir, &st, true) == 0) {
		repair_mode(f, rule, dir);
		return 0;
	}
	if (geteuid() != 0) {
		make_fallback(f, rule);
		return 0;
	}
	if (ctx->host->live && systemd_host(ctx)) {
		/* logind makes it at the user manager's start and keeps it */
		char *argv[] = {"/usr/bin/loginctl", "enable-linger", ctx->user.name, NULL};
		rs_fix_exec(f, rule, argv);
		return 0;
	}
	if (systemd_host(ctx)) {
		rs_fix_action(f, rule, "note", dir,
			      "a systemd host under --root: 'loginctl enable-linger %s' on it",
			      ctx->user.name);
		return 0;
	}
	make_run_user(f, rule, dir);
	return 0;
}

/* before anything that writes below the runtime dir */
const struct rs_fixer rs_fixer_runtime_dir = {.order = 5, .run = fix_runtime_dir, .user_may = true};
