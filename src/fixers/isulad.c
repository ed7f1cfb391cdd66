/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/access.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

static const char *const isulad_dirs[] = {"etc/isulad", "etc/default/isulad",
					  "etc/default/isulad/hooks", NULL};

/* Group isula gets read access (root:isula, g+r; directories g+rx): the
 * files stay closed to everyone else. The guide's `chmod +r` is not done:
 * the world-readable route is the administrator's call. */
static void grant(struct rs_fix_ctx *f, const char *rule, const char *rel, gid_t gid, bool dir)
{
	struct stat st;
	char proc[64];
	int fd = rs_host_openat(f->ctx->host, rel, O_PATH | O_NOFOLLOW, NULL);
	mode_t want;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto out;
	/* one known node at a time, never through a link (CVE-2017-18078) */
	if (!(dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) || (!dir && st.st_nlink > 1)) {
		rs_fix_action(f, rule, "note", NULL, "'/%s' is not a plain %s: left alone", rel,
			      dir ? "directory" : "file")->failed = true;
		goto out;
	}
	want = (st.st_mode & 07777) | (dir ? 0050 : 0040);
	bool same = st.st_gid == gid && (st.st_mode & 07777) == want;
	struct rs_action *a = rs_fix_action(f, rule, "chmod", NULL, "root:isula %04o", (unsigned)want);
	a->path = rs_xasprintf("/%s", rel);
	a->changed = !same;
	if (same || f->o->dry_run)
		goto out;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchownat(fd, "", (uid_t)-1, gid, AT_EMPTY_PATH) < 0 || chmod(proc, want) < 0) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xasprintf("cannot change '/%s': %s", rel, strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
}

static int fix_permissions(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	gid_t gid;

	if (rs_fix_group_member(f, res->rule->id, "isula") < 0)
		return 0;
	if (rs_group_gid(ctx->host, "isula", &gid) < 0) {
		rs_fix_action(f, res->rule->id, "note", NULL, "group 'isula' is created by the real "
			      "run")->failed = !f->o->dry_run;
		return 0;
	}
	for (const char *const *d = isulad_dirs; *d; d++) {
		struct rs_strv names = {0};
		if (rs_host_listdir(ctx->host, *d, &names, NULL) < 0)
			continue;
		grant(f, res->rule->id, *d, gid, true);
		for (size_t i = 0; i < names.n; i++) {
			_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, names.v[i]);
			struct stat st;
			if (rs_host_stat(ctx->host, rel, &st, true) == 0 && S_ISREG(st.st_mode))
				grant(f, res->rule->id, rel, gid, false);
		}
		rs_strv_free(&names);
	}
	return 0;
}

const struct rs_fixer rs_fixer_isulad_permissions = {"isulad.permissions", fix_permissions};

/* Is a root iSulad still running? Its pid file names a live isulad, or
 * its socket accepts. Under --root nothing can be asked: a pid file there
 * means "maybe". */
static bool isulad_running(struct rs_ctx *ctx, char **why)
{
	_cleanup_free_ char *pid = NULL;
	size_t len;
	uint64_t n;

	if (rs_host_read(ctx->host, "var/run/isulad.pid", 64, &pid, &len, NULL) == 0 &&
	    rs_parse_u64(rs_strstrip(pid), INT32_MAX, &n) == 0) {
		if (!ctx->host->live) {
			*why = rs_xasprintf("'/var/run/isulad.pid' names pid %llu (not checkable "
					    "under --root)", (unsigned long long)n);
			return true;
		}
		if (kill((pid_t)n, 0) == 0 || errno == EPERM) {
			*why = rs_xasprintf("iSulad runs as pid %llu", (unsigned long long)n);
			return true;
		}
	}
	if (ctx->host->live) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/var/run/isulad.sock"};
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool up = s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (s >= 0)
			close(s);
		if (up) {
			*why = rs_xstrdup("'/var/run/isulad.sock' accepts connections");
			return true;
		}
	}
	return false;
}

static int fix_stale(struct rs_fix_ctx *f, const struct rs_result *res)
{
	static const char *const names[] = {"isula", "isulad", "lxc", NULL};
	struct rs_ctx *ctx = f->ctx;
	char *why = NULL;

	/* never the state of a live daemon (anchors-reliability §G.3) */
	if (isulad_running(ctx, &why) && !f->o->force) {
		rs_fix_action(f, res->rule->id, "note", NULL, "%s: stop it first (systemctl stop "
			      "isulad), nothing removed", why)->failed = true;
		free(why);
		return 0;
	}
	free(why);
	int dfd = rs_host_openat(ctx->host, "var/run", O_RDONLY | O_DIRECTORY, NULL);
	if (dfd < 0) {
		rs_fix_action(f, res->rule->id, "note", NULL, "cannot open /var/run")->failed = true;
		return 0;
	}
	for (const char *const *n = names; *n; n++) {
		struct stat st;
		if (fstatat(dfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		struct rs_action *a = rs_fix_action(f, res->rule->id, "remove", NULL,
						    "left by a root iSulad");
		a->path = rs_xasprintf("/var/run/%s", *n);
		a->changed = true;
		if (!f->o->dry_run && rs_remove_tree(dfd, *n, 16) < 0)
			a->failed = true;
	}
	close(dfd);
	return 0;
}

const struct rs_fixer rs_fixer_isulad_stale_state = {"isulad.stale-state", fix_stale};
