/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "lib/xalloc.h"

/* Calls fn for each line of buf (without "\n"; a NUL ends a line early:
 * such a line cannot be valid in any of these formats). */
static void for_each_line(const char *buf, size_t len,
			  void (*fn)(char *line, bool nul, unsigned no, void *ud), void *ud)
{
	size_t pos = 0;
	unsigned no = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		_cleanup_free_ char *line = rs_xstrndup(buf + pos, n);
		fn(line, memchr(buf + pos, '\0', n) != NULL, ++no, ud);
		pos += n + 1;
	}
}

/* ---- os-release(5) ---- */

static char *osr_value(const char *v)
{
	size_t n = strlen(v);
	char *out = rs_xmalloc(n + 1), *o = out;
	char q = (*v == '"' || *v == '\'') ? *v++ : 0;

	for (; *v; v++) {
		if (q && *v == q)
			break;
		if (!q && isspace((unsigned char)*v))
			break;
		if (*v == '\\' && q != '\'' && v[1] && strchr("$\"'\\`", v[1]))
			v++;
		*o++ = *v;
	}
	*o = '\0';
	return out;
}

static void osr_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct rs_osrelease *o = ud;
	char *s = rs_strstrip(line), *eq = strchr(s, '=');
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"ID", offsetof(struct rs_osrelease, id)},
		{"ID_LIKE", offsetof(struct rs_osrelease, id_like)},
		{"VERSION_ID", offsetof(struct rs_osrelease, version_id)},
		{"NAME", offsetof(struct rs_osrelease, name)},
		{"PRETTY_NAME", offsetof(struct rs_osrelease, pretty_name)},
		{"VARIANT_ID", offsetof(struct rs_osrelease, variant_id)},
	};

	if (nul || *s == '#' || !eq)
		return;
	*eq = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(s, keys[i].key) != 0)
			continue;
		char **slot = (char **)((char *)o + keys[i].off);
		free(*slot);
		*slot = osr_value(eq + 1);
	}
}

int rs_osrelease_parse(const char *buf, size_t len, struct rs_osrelease *out)
{
	memset(out, 0, sizeof(*out));
	for_each_line(buf, len, osr_line, out);
	return 0;
}

void rs_osrelease_clear(struct rs_osrelease *o)
{
	free(o->id);
	free(o->id_like);
	free(o->version_id);
	free(o->name);
	free(o->pretty_name);
	free(o->variant_id);
	memset(o, 0, sizeof(*o));
}

/* ---- subuid(5) / subgid(5) ---- */

/* shadow's subordinate_parse: "owner:start:count", lines < 1024 bytes,
 * start <= 2^32-1, start+count must not pass 2^32. Anything else, trailing
 * white space and CRLF included, is a line newuidmap cannot use. */
static int subid_line_parse(const char *s, struct rs_subid_range *r)
{
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	uint64_t start, count;

	if (strlen(s) >= 1024 || !c1 || !c2 || strchr(c2 + 1, ':') || c1 == s)
		return -EINVAL;
	if (rs_parse_u64n(c1 + 1, (size_t)(c2 - c1 - 1), UINT32_MAX, &start) < 0)
		return -EINVAL;
	if (rs_parse_u64(c2 + 1, UINT32_MAX, &count) < 0 || count == 0)
		return -EINVAL;
	if (start + count > (uint64_t)UINT32_MAX + 1)
		return -ERANGE;
	r->owner = rs_xstrndup(s, (size_t)(c1 - s));
	r->start = start;
	r->count = count;
	return 0;
}

static void subid_line(char *line, bool nul, unsigned no, void *ud)
{
	struct rs_subid_file *f = ud;
	struct rs_subid_range r = {0};
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!nul && (*p == '\0' || *p == '#'))
		return;
	/* capacities double: a file of 50,000 lines is one pass, not 50,000
	 * copies of a growing array (quadratic under ASan, whose realloc
	 * always copies) */
	if (nul || subid_line_parse(line, &r) < 0) {
		if (f->nbad == f->bad_cap) {
			f->bad_cap = f->bad_cap ? f->bad_cap * 2 : 16;
			f->bad_lines = rs_xrealloc(f->bad_lines, f->bad_cap * sizeof(unsigned));
		}
		f->bad_lines[f->nbad++] = no;
		return;
	}
	r.line = no;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->r = rs_xrealloc(f->r, f->cap * sizeof(r));
	}
	f->r[f->n++] = r;
}

int rs_subid_parse(const char *buf, size_t len, struct rs_subid_file *out)
{
	memset(out, 0, sizeof(*out));
	for_each_line(buf, len, subid_line, out);
	return 0;
}

void rs_subid_clear(struct rs_subid_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->r[i].owner);
	free(f->r);
	free(f->bad_lines);
	memset(f, 0, sizeof(*f));
}

/* ---- passwd(5), group(5) ---- */

/* The next ':'-separated field of [*p, end); the last one runs to end. */
static struct rs_span field(const char **p, const char *end, bool *more)
{
	const char *c = memchr(*p, ':', (size_t)(end - *p));
	struct rs_span f = {*p, (size_t)((c ? c : end) - *p)};

	*more = c != NULL;
	*p = c ? c + 1 : end;
	return f;
}

static bool span_id(struct rs_span f, uint32_t *out)
{
	uint64_t v = 0;

	if (f.n == 0 || f.n > 10)
		return false;
	for (size_t i = 0; i < f.n; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(f.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The line without its leading blanks; false for a blank, comment or NUL line. */
static bool entry_line(const char **line, size_t *len)
{
	const char *p = *line, *end = p + *len;

	if (memchr(p, '\0', *len))
		return false;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f'))
		p++;
	if (p == end || *p == '#')
		return false;
	*len = (size_t)(end - p);
	*line = p;
	return true;
}

int rs_passwd_line(const char *line, size_t len, struct rs_pwline *out)
{
	struct rs_span f[7];
	bool more = true;
	size_t n = 0;

	if (!entry_line(&line, &len))
		return -EINVAL;
	const char *p = line, *end = line + len;
	while (more && n < ARRAY_SIZE(f))
		f[n++] = field(&p, end, &more);
	/* glibc takes a missing gecos, home or shell as empty */
	if (n < 4 || f[0].n == 0 || !span_id(f[2], &out->uid) || !span_id(f[3], &out->gid))
		return -EINVAL;
	out->name = f[0];
	out->home = n > 5 ? f[5] : (struct rs_span){p, 0};
	return 0;
}

int rs_group_line(const char *line, size_t len, struct rs_grline *out)
{
	struct rs_span f[4];
	bool more = true;
	size_t n = 0;

	if (!entry_line(&line, &len))
		return -EINVAL;
	const char *p = line, *end = line + len;
	while (more && n < ARRAY_SIZE(f) - 1)
		f[n++] = field(&p, end, &more);
	if (more) /* the member list runs to the end of the line */
		f[n++] = (struct rs_span){p, (size_t)(end - p)};
	if (n < 3 || f[0].n == 0 || !span_id(f[2], &out->gid))
		return -EINVAL;
	out->name = f[0];
	out->members = n > 3 ? f[3] : (struct rs_span){p, 0};
	return 0;
}

bool rs_group_member_next(struct rs_span *list, struct rs_span *member)
{
	while (list->n) {
		while (list->n && (*list->p == ' ' || *list->p == '\t')) {
			list->p++;
			list->n--;
		}
		const char *c = memchr(list->p, ',', list->n);
		size_t k = c ? (size_t)(c - list->p) : list->n;
		*member = (struct rs_span){list->p, k};
		list->p += k + (c != NULL);
		list->n -= k + (c != NULL);
		if (k)
			return true;
	}
	return false;
}

/* ---- login.defs(5) ---- */

static void ldefs_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct rs_logindefs *d = ud;
	char *s = rs_strstrip(line), *v;
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"UID_MIN", offsetof(struct rs_logindefs, uid_min)},
		{"UID_MAX", offsetof(struct rs_logindefs, uid_max)},
		{"SUB_UID_MIN", offsetof(struct rs_logindefs, sub_uid_min)},
		{"SUB_UID_MAX", offsetof(struct rs_logindefs, sub_uid_max)},
		{"SUB_UID_COUNT", offsetof(struct rs_logindefs, sub_uid_count)},
		{"SUB_GID_MIN", offsetof(struct rs_logindefs, sub_gid_min)},
		{"SUB_GID_MAX", offsetof(struct rs_logindefs, sub_gid_max)},
		{"SUB_GID_COUNT", offsetof(struct rs_logindefs, sub_gid_count)},
	};

	if (nul || *s == '#' || *s == '\0')
		return;
	v = s + strcspn(s, " \t");
	if (*v)
		*v++ = '\0';
	v = rs_strstrip(v);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(s, keys[i].key) != 0)
			continue;
		uint64_t n;
		/* shadow reads these with strtoul base 0 (hex and octal too); we
		 * flag such values instead of guessing the same way */
		if (rs_parse_u64(v, UINT32_MAX, &n) < 0) {
			d->invalid = true;
			return;
		}
		*(uint64_t *)((char *)d + keys[i].off) = n;
	}
}

int rs_logindefs_parse(const char *buf, size_t len, struct rs_logindefs *out)
{
	*out = (struct rs_logindefs){
		.uid_min = 1000,
		.uid_max = 60000,
		.sub_uid_min = 100000,
		.sub_uid_max = 600100000,
		.sub_uid_count = 65536,
		.sub_gid_min = 100000,
		.sub_gid_max = 600100000,
		.sub_gid_count = 65536,
	};
	if (buf)
		for_each_line(buf, len, ldefs_line, out);
	if (out->sub_uid_min > out->sub_uid_max || out->sub_gid_min > out->sub_gid_max ||
	    out->uid_min > out->uid_max)
		out->invalid = true;
	return 0;
}

/* ---- /proc/sys values ---- */

int rs_sysctl_parse_u64(const char *buf, size_t len, uint64_t *out)
{
	size_t a = 0, b = len;

	if (memchr(buf, '\0', len))
		return -EINVAL;
	while (a < b && isspace((unsigned char)buf[a]))
		a++;
	while (b > a && isspace((unsigned char)buf[b - 1]))
		b--;
	return rs_parse_u64n(buf + a, b - a, UINT64_MAX, out);
}

/* ---- TOML key scan ---- */

struct toml_scan {
	const char *section, *key;
	char *cur; /* current table name */
	char *value;
};

static char *toml_value(const char *v)
{
	if (*v == '"' || *v == '\'') {
		char q = *v++;
		size_t n = strlen(v);
		char *out = rs_xmalloc(n + 1), *o = out;
		for (; *v && *v != q; v++) {
			if (q == '"' && *v == '\\' && v[1])
				v++;
			*o++ = *v;
		}
		*o = '\0';
		if (*v != q) {
			free(out);
			return NULL;
		}
		return out;
	}
	size_t n = strcspn(v, " \t#");
	return n ? rs_xstrndup(v, n) : NULL;
}

static void toml_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct toml_scan *t = ud;
	char *s = rs_strstrip(line);

	if (nul || t->value || *s == '#' || *s == '\0')
		return;
	if (*s == '[') {
		char *end = strchr(s, ']');
		if (!end)
			return;
		if (s[1] == '[') {
			/* an array of tables: no [section] key lives there */
			free(t->cur);
			t->cur = rs_xstrdup("[[");
			return;
		}
		*end = '\0';
		free(t->cur);
		t->cur = rs_xstrdup(rs_strstrip(s + 1));
		return;
	}
	char *eq = strchr(s, '=');
	if (!eq || !rs_streq(t->cur, t->section))
		return;
	*eq = '\0';
	char *k = rs_strstrip(s);
	size_t kl = strlen(k);
	if (kl >= 2 && k[0] == '"' && k[kl - 1] == '"') {
		k[kl - 1] = '\0';
		k++;
	}
	if (strcmp(k, t->key) == 0)
		t->value = toml_value(rs_strstrip(eq + 1));
}

char *rs_toml_get(const char *buf, size_t len, const char *section, const char *key)
{
	struct toml_scan t = {.section = section, .key = key, .cur = rs_xstrdup("")};
	for_each_line(buf, len, toml_line, &t);
	free(t.cur);
	return t.value;
}

/* ---- dpkg status (deb822 stanzas) ---- */

struct dpkg_scan {
	const char *pkg;
	bool in_pkg, installed;
	char *version;
	bool done;
};

static void dpkg_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct dpkg_scan *d = ud;

	if (d->done || nul)
		return;
	if (*line == '\0') {
		/* end of a stanza */
		if (d->in_pkg)
			d->done = true;
		return;
	}
	if (rs_startswith(line, "Package: ")) {
		d->in_pkg = strcmp(rs_strstrip(line + 9), d->pkg) == 0;
		return;
	}
	if (!d->in_pkg)
		return;
	if (rs_startswith(line, "Status: "))
		d->installed = strcmp(rs_strstrip(line + 8), "install ok installed") == 0;
	else if (rs_startswith(line, "Version: ") && !d->version) {
		char *v = rs_strstrip(line + 9), *colon = strchr(v, ':');
		if (colon)
			v = colon + 1;
		d->version = rs_xstrndup(v, strcspn(v, "+-~ "));
	}
}

char *rs_dpkg_version(const char *buf, size_t len, const char *pkg)
{
	struct dpkg_scan d = {.pkg = pkg};
	for_each_line(buf, len, dpkg_line, &d);
	if (!d.installed || !d.version || !*d.version) {
		free(d.version);
		return NULL;
	}
	return d.version;
}

/* ---- sysctl.d(5) ---- */

struct sysctl_scan {
	const char *key;
	char *value;
};

static void sysctl_line(char *line, bool nul, unsigned no _unused_, void *ud)
{
	struct sysctl_scan *s = ud;
	char *l = rs_strstrip(line), *eq;

	if (nul || *l == '#' || *l == ';' || *l == '\0' || !(eq = strchr(l, '=')))
		return;
	*eq = '\0';
	char *k = rs_strstrip(l + (*l == '-')); /* "-key": errors ignored, same key */
	for (char *c = k; *c; c++)
		if (*c == '/')
			*c = '.';
	if (strcmp(k, s->key) != 0)
		return;
	free(s->value);
	s->value = rs_xstrdup(rs_strstrip(eq + 1));
}

char *rs_sysctl_conf_get(const char *buf, size_t len, const char *key)
{
	struct sysctl_scan s = {.key = key};
	for_each_line(buf, len, sysctl_line, &s);
	return s.value;
}
