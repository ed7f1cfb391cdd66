/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Group membership for fixers: shadow's tools on a live host, an edit of
 * etc/group (and etc/gshadow) under --root. Membership is only ever added
 * (usermod -aG, never -G: anchors-reliability §H21). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

/* A free system gid for a new group under --root: the highest below 1000
 * that etc/group does not use (groupadd --system counts down too). */
static gid_t free_system_gid(const struct rs_host *h)
{
	for (gid_t g = 999; g >= 100; g--) {
		_cleanup_free_ char *name = rs_group_name_of(h, g);
		if (!name)
			return g;
	}
	return 0;
}

/* The text of file with user added to group's line (or the group added). */
static char *with_member(const char *buf, size_t len, const char *group, const char *user,
			 const char *new_line)
{
	size_t gl = strlen(group);
	char *out = rs_xstrdup("");
	bool found = false;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		_cleanup_free_ char *line = rs_xstrndup(buf + pos, n);
		char *o;
		if (!found && strncmp(line, group, gl) == 0 && line[gl] == ':') {
			found = true;
			/* members are the last field: comma-separated, maybe empty */
			const char *last = strrchr(line, ':');
			o = rs_xasprintf("%s%s%s%s\n", out, line, last[1] ? "," : "", user);
		} else {
			o = rs_xasprintf("%s%s\n", out, line);
		}
		free(out);
		out = o;
		pos += n + 1;
	}
	if (!found) {
		char *o = rs_xasprintf("%s%s\n", out, new_line);
		free(out);
		out = o;
	}
	return out;
}

static int edit_file(struct rs_fix_ctx *f, const char *rule, const char *rel, const char *group,
		     const char *new_line)
{
	_cleanup_free_ char *buf = NULL, *text = NULL, *detail = NULL;
	size_t len;
	struct rs_error *e = NULL;

	if (rs_safe_read(f->ctx->host, rel, 16u << 20, &buf, &len, &e) < 0 || !buf) {
		rs_fix_action(f, rule, "note", NULL, "%s", e ? e->msg : "no such file")->failed = !!e;
		rs_error_free(e);
		return e ? -EIO : 0;
	}
	text = with_member(buf, len, group, f->ctx->user.name, new_line);
	detail = rs_xasprintf("'%s' in group '%s'", f->ctx->user.name, group);
	return rs_fix_write(f, rule, rel, text, 0644, detail);
}

int rs_fix_group_member(struct rs_fix_ctx *f, const char *rule, const char *group)
{
	struct rs_ctx *ctx = f->ctx;
	gid_t gid;
	bool exists = rs_group_gid(ctx->host, group, &gid) == 0;
	const char *why;

	if (exists && rs_user_in_group(&ctx->user, gid)) {
		rs_fix_action(f, rule, "note", NULL, "'%s' is in group '%s'", ctx->user.name, group);
		return 0;
	}
	if (ctx->host->live && rs_fix_live(f, &why)) {
		if (!exists) {
			char *const ga[] = {"/usr/sbin/groupadd", "--system", (char *)group, NULL};
			if (rs_fix_exec(f, rule, ga) < 0)
				return -EIO;
		}
		char *const um[] = {"/usr/sbin/usermod", "-aG", (char *)group, ctx->user.name, NULL};
		if (rs_fix_exec(f, rule, um) < 0)
			return -EIO;
	} else {
		gid = exists ? gid : free_system_gid(ctx->host);
		_cleanup_free_ char *gl = rs_xasprintf("%s:x:%u:%s", group, (unsigned)gid, ctx->user.name);
		_cleanup_free_ char *sl = rs_xasprintf("%s:!::%s", group, ctx->user.name);
		if (edit_file(f, rule, "etc/group", group, gl) < 0)
			return -EIO;
		if (rs_host_exists(ctx->host, "etc/gshadow") &&
		    edit_file(f, rule, "etc/gshadow", group, sl) < 0)
			return -EIO;
	}
	rs_fix_action(f, rule, "note", NULL, "'%s' must log in again for the group to apply",
		      ctx->user.name);
	return 0;
}
