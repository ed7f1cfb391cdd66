/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Our keys into the user's TOML file and out again (toml-merge.h). Each key
 * is one edit of the text, which is read again before the next: a key
 * added to a new table is where the next key of that table goes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "templates/toml-doc.h"
#include "templates/toml-merge.h"

struct text {
	char *s;
	size_t len;
};

/* len bytes (a NUL among them is the reader's to refuse) */
static char *dup_bytes(const char *b, size_t len)
{
	char *s = rs_xmalloc(len + 1);
	memcpy(s, b, len);
	s[len] = '\0';
	return s;
}

static void list_add(char **list, const char *sep_path)
{
	_cleanup_free_ char *d = rs_xstrdup(sep_path);
	for (char *c = d; *c; c++)
		if (*c == RS_TOML_SEP)
			*c = '.';
	rs_list_add(list, ", ", d);
}

/* "a.b" (bare names) with RS_TOML_SEP for the dots. */
static char *sep_of(const char *dotted)
{
	char *s = rs_xstrdup(dotted);
	for (char *c = s; *c; c++)
		if (*c == '.')
			*c = RS_TOML_SEP;
	return s;
}

static char *full_of(const char *table, const char *key)
{
	return rs_xasprintf("%s%c%s", table, RS_TOML_SEP, key);
}

/* A string without escapes compares by its content: 'overlay' is "overlay". */
static void norm(const char *s, size_t n, const char **o, size_t *on)
{
	bool multi = n >= 6 && s[1] == s[0] && s[2] == s[0];
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0] && !multi &&
	    !memchr(s, '\\', n)) {
		*o = s + 1;
		*on = n - 2;
		return;
	}
	*o = s;
	*on = n;
}

static bool same_value(const char *a, size_t an, const char *b)
{
	const char *x, *y;
	size_t xn, yn;
	norm(a, an, &x, &xn);
	norm(b, strlen(b), &y, &yn);
	return xn == yn && !memcmp(x, y, xn);
}

static void splice(struct text *t, size_t at, size_t cut, const char *ins)
{
	size_t n = strlen(ins);
	char *s = rs_xmalloc(t->len - cut + n + 1);
	memcpy(s, t->s, at);
	memcpy(s + at, ins, n);
	memcpy(s + at + n, t->s + at + cut, t->len - at - cut);
	t->len = t->len - cut + n;
	s[t->len] = '\0';
	free(t->s);
	t->s = s;
}

/* The end of the last key/value line of the section whose header is item
 * hdr (RS_TOML_ROOT: before the first header); the header's end if none. */
static size_t section_end(const struct rs_toml_doc *d, size_t hdr)
{
	size_t pos = hdr == RS_TOML_ROOT ? 0 : d->it[hdr].end;
	for (size_t j = hdr == RS_TOML_ROOT ? 0 : hdr + 1; j < d->n && d->it[j].kind == RS_TI_KV;
	     j++)
		pos = d->it[j].end;
	return pos;
}

/* Whether the user's file already decides full (set, or made impossible:
 * an ancestor is a value or an array of tables, or full is a table). */
static bool decided(const struct rs_toml_doc *d, const char *text, const char *full,
		    const char *value, char **conflicts)
{
	for (size_t k = 0; k < d->n; k++) {
		const struct rs_toml_item *it = &d->it[k];
		enum rs_toml_rel r = rs_toml_relation(d, k, full);
		if (r == RS_REL_EQUAL && it->kind == RS_TI_KV &&
		    same_value(text + it->vstart, it->vend - it->vstart, value))
			return true;
		if (r == RS_REL_EQUAL || r == RS_REL_BELOW ||
		    (r == RS_REL_ABOVE && it->kind != RS_TI_TABLE)) {
			list_add(conflicts, full);
			return true;
		}
	}
	return false;
}

/* Where a key of table tsep goes: its header's section, else the section
 * whose dotted keys define the table (then *prefix: the table's part
 * below that section, dotted); SIZE_MAX: nowhere (a new table). */
static size_t insert_at(const struct rs_toml_doc *d, const char *tsep, const char *table,
			const char **prefix)
{
	*prefix = NULL;
	for (size_t k = 0; k < d->n; k++)
		if (d->it[k].kind == RS_TI_TABLE && rs_toml_relation(d, k, tsep) == RS_REL_EQUAL)
			return section_end(d, k);
	for (size_t k = 0; k < d->n; k++) {
		const struct rs_toml_item *it = &d->it[k];
		if (it->kind != RS_TI_KV || rs_toml_relation(d, k, tsep) != RS_REL_BELOW)
			continue;
		if (it->section == RS_TOML_ROOT) {
			*prefix = table;
			return section_end(d, it->section);
		}
		if (rs_toml_relation(d, it->section, tsep) == RS_REL_ABOVE) {
			*prefix = table + d->it[it->section].plen + 1;
			return section_end(d, it->section);
		}
	}
	return SIZE_MAX;
}

static int merge_one(struct text *t, const struct rs_toml_key *k, struct rs_toml_merge *m)
{
	struct rs_toml_doc d;
	_cleanup_free_ char *tsep = sep_of(k->table), *full = full_of(tsep, k->key);
	const char *eol = NULL, *prefix;
	int r = rs_toml_doc_parse(t->s, t->len, &d);

	if (r < 0) {
		snprintf(m->msg, sizeof(m->msg), "%s", d.msg);
		rs_toml_doc_free(&d);
		return r;
	}
	bool crlf = d.crlf;
	eol = crlf ? "\r\n" : "\n";
	if (decided(&d, t->s, full, k->value, &m->conflicts)) {
		rs_toml_doc_free(&d);
		return 0;
	}
	size_t pos = insert_at(&d, tsep, k->table, &prefix);
	rs_toml_doc_free(&d);
	bool open = t->len && t->s[t->len - 1] != '\n';
	if (pos == SIZE_MAX) {
		const char *before = !t->len ? "" : open ? (crlf ? "\r\n\r\n" : "\n\n") : eol;
		_cleanup_free_ char *add = rs_xasprintf("%s[%s]%s%s = %s%s", before, k->table, eol,
							k->key, k->value, eol);
		splice(t, t->len, 0, add);
		rs_toml_keys_push(&m->added, k->table, k->key, k->value, true, before);
		return 0;
	}
	_cleanup_free_ char *line = rs_xasprintf("%s%s%s = %s", prefix ? prefix : "",
						 prefix ? "." : "", k->key, k->value);
	/* the last line had no line break: it gets one, ours goes without */
	_cleanup_free_ char *add = pos == t->len && open ? rs_xasprintf("%s%s", eol, line)
							 : rs_xasprintf("%s%s", line, eol);
	splice(t, pos, 0, add);
	rs_toml_keys_push(&m->added, k->table, k->key, k->value, false, NULL);
	return 0;
}

/* Our document's keys: table (dotted), key, value. */
static int our_keys(const char *ours, struct rs_toml_keys *out, char *msg, size_t msglen)
{
	struct rs_toml_doc d;
	int r = rs_toml_doc_parse(ours, strlen(ours), &d);

	for (size_t k = 0; r == 0 && k < d.n; k++) {
		const struct rs_toml_item *it = &d.it[k];
		if (it->kind != RS_TI_KV)
			continue;
		_cleanup_free_ char *full = it->section == RS_TOML_ROOT
						    ? rs_xstrdup(it->path)
						    : full_of(d.it[it->section].path, it->path);
		char *last = strrchr(full, RS_TOML_SEP);
		_cleanup_free_ char *value = rs_xstrndup(ours + it->vstart, it->vend - it->vstart);
		if (!last) /* a key outside any table: none of ours */
			continue;
		*last = '\0';
		for (char *c = full; *c; c++)
			if (*c == RS_TOML_SEP)
				*c = '.';
		rs_toml_keys_push(out, full, last + 1, value, false, NULL);
	}
	if (r < 0)
		snprintf(msg, msglen, "our own file: %.120s", d.msg);
	rs_toml_doc_free(&d);
	return r;
}

int rs_toml_merge(const char *old, size_t len, const char *ours, struct rs_toml_merge *out)
{
	struct rs_toml_keys keys = {0};
	struct text t = {.s = dup_bytes(old, len), .len = len};
	int r;

	memset(out, 0, sizeof(*out));
	r = our_keys(ours, &keys, out->msg, sizeof(out->msg));
	for (size_t i = 0; r == 0 && i < keys.n; i++)
		r = merge_one(&t, &keys.v[i], out);
	rs_toml_keys_free(&keys);
	if (r < 0) {
		free(t.s);
		rs_toml_keys_free(&out->added);
		free(out->conflicts);
		out->conflicts = NULL;
		return r;
	}
	out->text = t.s;
	out->len = t.len;
	if (!out->conflicts)
		out->conflicts = rs_xstrdup("");
	return 0;
}

/* Takes [start, end) out; a last line without a line break takes the one
 * before it along (what an addition at such an end put there). */
static void cut(struct text *t, size_t start, size_t end, bool eol)
{
	if (!eol && end == t->len && start > 0) {
		start -= start >= 2 && t->s[start - 2] == '\r' && t->s[start - 1] == '\n' ? 2 : 1;
	}
	splice(t, start, end - start, "");
}

/* The header of table tsep, added by us, goes when its section holds
 * nothing but blank lines: with the line breaks we put before it. */
static void drop_header(struct text *t, const struct rs_toml_doc *d, const char *tsep,
			const char *before)
{
	for (size_t k = 0; k < d->n; k++) {
		const struct rs_toml_item *h = &d->it[k];
		if (h->kind != RS_TI_TABLE || rs_toml_relation(d, k, tsep) != RS_REL_EQUAL)
			continue;
		size_t next = k + 1 < d->n ? d->it[k + 1].start : t->len;
		if (k + 1 < d->n && d->it[k + 1].kind == RS_TI_KV)
			return;
		for (size_t i = h->end; i < next; i++)
			if (!strchr(" \t\r\n", t->s[i]))
				return;
		size_t start = h->start, bl = before ? strlen(before) : 0;
		if (bl && start >= bl && !memcmp(t->s + start - bl, before, bl))
			start -= bl;
		cut(t, start, h->end, h->eol);
		return;
	}
}

static int unmerge_one(struct text *t, const struct rs_toml_key *k, struct rs_toml_unmerge *u)
{
	struct rs_toml_doc d;
	_cleanup_free_ char *tsep = sep_of(k->table), *full = full_of(tsep, k->key);
	int r = rs_toml_doc_parse(t->s, t->len, &d);
	size_t k2;

	for (k2 = 0; r == 0 && k2 < d.n; k2++)
		if (d.it[k2].kind == RS_TI_KV && rs_toml_relation(&d, k2, full) == RS_REL_EQUAL)
			break;
	if (r < 0 || k2 == d.n) { /* refused, or the user took it out */
		if (r < 0)
			snprintf(u->msg, sizeof(u->msg), "%s", d.msg);
		rs_toml_doc_free(&d);
		return r;
	}
	const struct rs_toml_item *it = &d.it[k2];
	if (!same_value(t->s + it->vstart, it->vend - it->vstart, k->value)) {
		list_add(&u->kept, full);
		rs_toml_doc_free(&d);
		return 0;
	}
	cut(t, it->start, it->end, it->eol);
	list_add(&u->removed, full);
	u->changed = true;
	rs_toml_doc_free(&d);
	if (!k->header)
		return 0;
	if (rs_toml_doc_parse(t->s, t->len, &d) == 0)
		drop_header(t, &d, tsep, k->before);
	rs_toml_doc_free(&d);
	return 0;
}

int rs_toml_unmerge(const char *cur, size_t len, const struct rs_toml_keys *keys,
		    struct rs_toml_unmerge *out)
{
	struct text t = {.s = dup_bytes(cur, len), .len = len};
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = keys->n; r == 0 && i-- > 0;)
		r = unmerge_one(&t, &keys->v[i], out);
	out->text = t.s;
	out->len = t.len;
	if (!out->removed)
		out->removed = rs_xstrdup("");
	if (!out->kept)
		out->kept = rs_xstrdup("");
	if (r < 0) {
		rs_toml_unmerge_clear(out);
		out->changed = false;
	}
	return r;
}

bool rs_toml_bare_path(const char *s)
{
	bool part = false;
	for (; *s; s++) {
		if (*s == '.' && !part)
			return false;
		part = *s != '.';
		if (part &&
		    (*s < 0 || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789_-",
				       *s)))
			return false;
	}
	return part;
}

void rs_toml_keys_push(struct rs_toml_keys *k, const char *table, const char *key,
		       const char *value, bool header, const char *before)
{
	k->v = rs_xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = (struct rs_toml_key){.table = rs_xstrdup(table),
					    .key = rs_xstrdup(key),
					    .value = rs_xstrdup(value),
					    .header = header,
					    .before = header ? rs_xstrdup(before ? before : "")
							     : NULL};
}

void rs_toml_keys_free(struct rs_toml_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].table);
		free(k->v[i].key);
		free(k->v[i].value);
		free(k->v[i].before);
	}
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

void rs_toml_merge_clear(struct rs_toml_merge *m)
{
	free(m->text);
	free(m->conflicts);
	rs_toml_keys_free(&m->added);
	m->text = m->conflicts = NULL;
}

void rs_toml_unmerge_clear(struct rs_toml_unmerge *u)
{
	free(u->text);
	free(u->removed);
	free(u->kept);
	u->text = u->removed = u->kept = NULL;
}
