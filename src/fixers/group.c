/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Group membership for fixers: shadow's tools on a live host, an edit of
 * etc/group (and etc/gshadow) under --root. Membership is only ever added
 * (usermod -aG, never -G, which would drop the user's other groups). The edit reads the
 * file once and writes it once: the first version re-read etc/group for
 * every candidate gid and rebuilt the text line by line, quadratic (12 s
 * at 40,000 lines) and blind to a NUL byte, which cut the line short. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "fixers/rewrite.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

#define SYS_GID_MIN 100
#define SYS_GID_MAX 999

struct scan {
	size_t off, n, lineno, nlines; /* the group's first line */
	bool found;
	unsigned char used[SYS_GID_MAX + 1];
};

static int refuse(struct rs_rewrite *out, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct rs_rewrite *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static size_t line_of(const char *buf, size_t off)
{
	size_t no = 1;
	for (const char *p = buf; (p = memchr(p, '\n', off - (size_t)(p - buf))); p++)
		no++;
	return no;
}

/* Field 3 as a gid when it is 1-3 decimal digits (a system gid). */
static void mark_gid(const char *l, size_t n, struct scan *s)
{
	const char *c1 = memchr(l, ':', n), *c2, *c3;
	if (!c1 || !(c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - l))) ||
	    !(c3 = memchr(c2 + 1, ':', n - (size_t)(c2 + 1 - l))))
		return;
	size_t k = (size_t)(c3 - c2 - 1);
	unsigned v = 0;
	if (k == 0 || k > 3)
		return;
	for (const char *p = c2 + 1; p < c3; p++) {
		if (*p < '0' || *p > '9')
			return;
		v = v * 10 + (unsigned)(*p - '0');
	}
	s->used[v] = 1;
}

/* One pass: the group's first line, and the system gids in use. */
static int scan_file(const char *buf, size_t len, const char *group, struct scan *s,
		     struct rs_rewrite *out)
{
	size_t gl = strlen(group), pos = 0, no = 0;
	const char *nul = memchr(buf, '\0', len);

	if (nul)
		return refuse(out, "line %zu holds a NUL byte", line_of(buf, (size_t)(nul - buf)));
	while (pos < len) {
		const char *l = buf + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;
		no++;
		if (n > RS_REWRITE_LINE_MAX)
			return refuse(out, "line %zu is longer than %u bytes", no,
				      RS_REWRITE_LINE_MAX);
		if (!s->found && n > gl && l[gl] == ':' && memcmp(l, group, gl) == 0) {
			s->found = true;
			s->off = pos;
			s->n = n;
			s->lineno = no;
		}
		mark_gid(l, n, s);
		pos += n + 1;
	}
	s->nlines = no;
	return 0;
}

/* The target line: name:x:gid:members (gshadow: name:pw:admins:members),
 * members a comma list without blanks or control bytes. Sets *present when
 * user is listed and *gid (etc/group). */
static int parse_target(const char *l, size_t n, const struct rs_group_edit *e, size_t lineno,
			bool *present, gid_t *gid, struct rs_rewrite *out)
{
	const char *c[3], *p = l;
	for (int i = 0; i < 3; i++) {
		c[i] = memchr(p, ':', n - (size_t)(p - l));
		if (!c[i])
			return refuse(out, "line %zu (group '%s') does not have 4 fields", lineno,
				      e->group);
		p = c[i] + 1;
	}
	const char *m = c[2] + 1, *end = l + n;
	if (memchr(m, ':', (size_t)(end - m)))
		return refuse(out, "line %zu (group '%s') has more than 4 fields", lineno,
			      e->group);
	for (const char *q = m; q < end; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return refuse(out,
				      "line %zu (group '%s') has a blank or control byte in its "
				      "member list",
				      lineno, e->group);
	if (!e->gshadow) {
		unsigned long v = 0;
		if (c[2] == c[1] + 1 || c[2] - c[1] > 11)
			return refuse(out, "line %zu (group '%s') has no valid gid", lineno,
				      e->group);
		for (const char *q = c[1] + 1; q < c[2]; q++) {
			if (*q < '0' || *q > '9')
				return refuse(out, "line %zu (group '%s') has no valid gid", lineno,
					      e->group);
			v = v * 10 + (unsigned long)(*q - '0');
		}
		if (v >= (gid_t)-1)
			return refuse(out, "line %zu (group '%s') has no valid gid", lineno,
				      e->group);
		*gid = (gid_t)v;
	}
	size_t ul = strlen(e->user);
	*present = false;
	for (const char *t = m; t < end;) {
		const char *comma = memchr(t, ',', (size_t)(end - t));
		const char *te = comma ? comma : end;
		if ((size_t)(te - t) == ul && memcmp(t, e->user, ul) == 0)
			*present = true;
		t = te + 1;
	}
	return 0;
}

static bool valid_name(const char *s)
{
	return *s && !strpbrk(s, ":,\n\r \t") && strlen(s) <= 256;
}

int rs_group_add_member(const char *buf, size_t len, const struct rs_group_edit *e,
			struct rs_rewrite *out)
{
	struct scan s;
	bool present = false;
	char add[600];
	size_t at, addn;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	if (!valid_name(e->group) || !valid_name(e->user))
		return refuse(out, "invalid group or user name");
	int r = scan_file(buf, len, e->group, &s, out);
	if (r < 0)
		return r;
	if (s.found) {
		r = parse_target(buf + s.off, s.n, e, s.lineno, &present, &out->gid, out);
		if (r < 0)
			return r;
		out->line = s.lineno;
		at = s.off + s.n;
		bool empty = buf[at - 1] == ':';
		addn = (size_t)snprintf(add, sizeof(add), "%s%s", empty ? "" : ",", e->user);
	} else {
		gid_t g = e->gid;
		for (unsigned v = SYS_GID_MAX; !e->gshadow && g == (gid_t)-1 && v >= SYS_GID_MIN;
		     v--)
			if (!s.used[v])
				g = v;
		if (!e->gshadow && g == (gid_t)-1) {
			snprintf(out->msg, sizeof(out->msg),
				 "no free system gid (%u-%u) for group '%s'", (unsigned)SYS_GID_MIN,
				 (unsigned)SYS_GID_MAX, e->group);
			return -ENOSPC;
		}
		out->gid = g;
		out->line = s.nlines + 1;
		out->added_line = true;
		at = len;
		const char *sep = len && buf[len - 1] != '\n' ? "\n" : "";
		if (e->gshadow)
			addn = (size_t)snprintf(add, sizeof(add), "%s%s:!::%s\n", sep, e->group,
						e->user);
		else
			addn = (size_t)snprintf(add, sizeof(add), "%s%s:x:%u:%s\n", sep, e->group,
						(unsigned)g, e->user);
	}
	if (present)
		addn = 0;
	out->text = rs_xmalloc(len + addn + 1);
	memcpy(out->text, buf, at);
	memcpy(out->text + at, add, addn);
	memcpy(out->text + at + addn, buf + at, len - at);
	out->len = len + addn;
	out->text[out->len] = '\0';
	out->changed = addn > 0;
	return 0;
}

void rs_rewrite_clear(struct rs_rewrite *r)
{
	free(r->text);
	r->text = NULL;
}

/* Reads rel and computes its new text. Return: 1 planned (r filled), 0 no
 * such file, <0 refused (recorded). */
static int plan_edit(struct rs_fix_ctx *f, const char *rule, const char *rel,
		     const struct rs_group_edit *ge, struct rs_rewrite *r)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct rs_error *e = NULL;

	memset(r, 0, sizeof(*r));
	if (rs_safe_read(f->ctx->host, rel, 16u << 20, &buf, &len, &e) < 0) {
		rs_fix_action(f, rule, "note", NULL, "%s", e->msg)->failed = true;
		rs_error_free(e);
		return -EIO;
	}
	if (!buf && !rs_host_exists(f->ctx->host, rel))
		return 0;
	int x = rs_group_add_member(buf ? buf : "", len, ge, r);
	if (x < 0) {
		rs_fix_action(f, rule, "note", NULL,
			      "refusing to rewrite '/%s': %s; nothing changed", rel, r->msg)
			->failed = true;
		return x;
	}
	return 1;
}

/* Under --root: both files planned first, so a refusal of either leaves
 * both as they were. */
static int edit_files(struct rs_fix_ctx *f, const char *rule, const char *group)
{
	struct rs_group_edit ge = {.group = group, .user = f->ctx->user.name, .gid = (gid_t)-1};
	struct rs_rewrite g = {0}, s = {0};
	_cleanup_free_ char *detail = NULL;
	int r, rs_ = 0;

	r = plan_edit(f, rule, "etc/group", &ge, &g);
	if (r == 0)
		rs_fix_action(f, rule, "note", "/etc/group", "no such file")->failed = true;
	if (r <= 0)
		return -EIO;
	ge.gshadow = true;
	rs_ = plan_edit(f, rule, "etc/gshadow", &ge, &s);
	if (rs_ < 0) {
		rs_rewrite_clear(&g);
		return -EIO;
	}
	detail = rs_xasprintf("'%s' in group '%s' (line %zu%s)", ge.user, group, g.line,
			      g.added_line ? ", new" : "");
	r = rs_fix_write(f, rule, "etc/group", g.text, 0644, detail);
	if (r >= 0 && rs_ > 0)
		r = rs_fix_write(f, rule, "etc/gshadow", s.text, 0640, detail);
	rs_rewrite_clear(&g);
	rs_rewrite_clear(&s);
	return r < 0 ? -EIO : 0;
}

int rs_fix_group_member(struct rs_fix_ctx *f, const char *rule, const char *group)
{
	struct rs_ctx *ctx = f->ctx;
	gid_t gid;
	bool exists = rs_group_gid(ctx->host, group, &gid) == 0;
	const char *why;

	if (exists && rs_user_in_group(&ctx->user, gid)) {
		rs_fix_action(f, rule, "note", NULL, "'%s' is in group '%s'", ctx->user.name,
			      group);
		return 0;
	}
	if (ctx->host->live && rs_fix_live(f, &why)) {
		if (!exists) {
			char *const ga[] = {"/usr/sbin/groupadd", "--system", (char *)group, NULL};
			if (rs_fix_exec(f, rule, ga) < 0)
				return -EIO;
		}
		char *const um[] = {"/usr/sbin/usermod", "-aG", (char *)group, ctx->user.name,
				    NULL};
		if (rs_fix_exec(f, rule, um) < 0)
			return -EIO;
	} else if (edit_files(f, rule, group) < 0) {
		return -EIO;
	}
	rs_fix_action(f, rule, "note", NULL, "'%s' must log in again for the group to apply",
		      ctx->user.name);
	return 0;
}
