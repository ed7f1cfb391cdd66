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
#include "install/toml-doc.h"
#include "install/toml-merge.h"

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

/* In place: a file of 16 MiB is not copied once per key. */
static void splice(struct text *t, size_t at, size_t cut, const char *ins)
{
	size_t n = strlen(ins), len = t->len - cut + n;

	if (n > cut)
		t->s = rs_xrealloc(t->s, len + 1);
	memmove(t->s + at + n, t->s + at + cut, t->len - at - cut);
	memcpy(t->s + at, ins, n);
	t->len = len;
	t->s[len] = '\0';
}

/* ---- does the user's file already decide a key? ---- */

struct decide {
	const char *text, *full, *value;
	bool done;
	bool conflict;
};

static void decide_item(void *arg, const struct rs_toml_item *it)
{
	struct decide *x = arg;
	if (x->done)
		return;
	enum rs_toml_rel r = rs_toml_relation(it, x->full);
	if (r == RS_REL_EQUAL && it->kind == RS_TI_KV &&
	    same_value(x->text + it->vstart, it->vend - it->vstart, x->value))
		x->done = true;
	else if (r == RS_REL_EQUAL || r == RS_REL_BELOW ||
		 (r == RS_REL_ABOVE && it->kind != RS_TI_TABLE))
		x->done = x->conflict = true;
}

/* ---- where a key of a table goes ---- */

/* The end of the last key/value line of a section (its header's end when
 * it has none; 0 for the keys before any header) is where a key goes:
 * into table tsep's own section, else the section whose dotted keys
 * define the table (then prefix: the table's part below that section). */
struct place {
	const char *tsep;
	size_t cur_end;	 /* the current section's end so far */
	bool in_header;	 /* the current section is table tsep's */
	bool found;	 /* table tsep's header was met */
	size_t hdr_pos;	 /* its section's end, once that is known */
	int cand;	 /* 0 none; 1 in the candidate's section; 2 its end known */
	size_t cand_pos; /* the candidate section's end */
	size_t prefix;	 /* offset into the dotted table name of the candidate's prefix */
};

static void place_section_end(struct place *x)
{
	if (x->in_header)
		x->hdr_pos = x->cur_end;
	if (x->cand == 1) {
		x->cand_pos = x->cur_end;
		x->cand = 2;
	}
	x->in_header = false;
}

static void place_item(void *arg, const struct rs_toml_item *it)
{
	struct place *x = arg;

	if (it->kind != RS_TI_KV) {
		place_section_end(x);
		x->cur_end = it->end;
		if (!x->found && it->kind == RS_TI_TABLE &&
		    rs_toml_relation(it, x->tsep) == RS_REL_EQUAL)
			x->found = x->in_header = true;
		return;
	}
	x->cur_end = it->end;
	if (x->cand || rs_toml_relation(it, x->tsep) != RS_REL_BELOW)
		return;
	if (!it->sect) {
		x->cand = 1;
		x->prefix = 0;
	} else if (rs_toml_path_relation(it->sect, it->slen, x->tsep) == RS_REL_ABOVE) {
		x->cand = 1;
		x->prefix = it->slen + 1;
	}
}

/* Whether the user's file decides the key (set, or made impossible: an
 * ancestor is a value or an array of tables, or the key is a table), and
 * else where it goes (SIZE_MAX: a new table; *prefix as struct place).
 * Return: 0, or -EINVAL with *err. */
static int survey(const struct text *t, const char *tsep, const char *full,
		  const struct rs_toml_key *k, bool *decided, size_t *pos, const char **prefix,
		  bool *crlf, struct rs_toml_merge *m, struct rs_error **err)
{
	struct rs_toml_scan sc;
	struct decide dx = {.text = t->s, .full = full, .value = k->value};
	struct place px = {.tsep = tsep};

	if (rs_toml_scan(t->s, t->len, decide_item, &dx, &sc) < 0) {
		rs_error_setx(err, EINVAL, "%s", sc.msg);
		return -EINVAL; /* a literal: the compiler sees the outputs unset only then */
	}
	*crlf = sc.crlf;
	*decided = dx.done;
	if (dx.conflict)
		list_add(&m->conflicts, full);
	*prefix = NULL;
	*pos = SIZE_MAX;
	if (dx.done)
		return 0;
	rs_toml_scan(t->s, t->len, place_item, &px, &sc);
	place_section_end(&px);
	if (px.found) {
		*pos = px.hdr_pos;
	} else if (px.cand == 2) {
		*pos = px.cand_pos;
		*prefix = k->table + px.prefix;
	}
	return 0;
}

static int merge_one(struct text *t, const struct rs_toml_key *k, struct rs_toml_merge *m,
		     struct rs_error **err)
{
	_cleanup_free_ char *tsep = sep_of(k->table), *full = full_of(tsep, k->key);
	const char *prefix;
	bool decided, crlf;
	size_t pos;
	int r = survey(t, tsep, full, k, &decided, &pos, &prefix, &crlf, m, err);

	if (r < 0 || decided)
		return r;
	const char *eol = crlf ? "\r\n" : "\n";
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
struct ours {
	const char *text;
	struct rs_toml_keys *out;
};

static void our_key(void *arg, const struct rs_toml_item *it)
{
	const struct ours *x = arg;
	if (it->kind != RS_TI_KV)
		return;
	_cleanup_free_ char *full = it->sect ? rs_xasprintf("%s%c%s", it->sect, RS_TOML_SEP,
							    it->path)
					     : rs_xstrdup(it->path);
	char *last = strrchr(full, RS_TOML_SEP);
	if (!last) /* a key outside any table: none of ours */
		return;
	_cleanup_free_ char *value = rs_xstrndup(x->text + it->vstart, it->vend - it->vstart);
	*last = '\0';
	for (char *c = full; *c; c++)
		if (*c == RS_TOML_SEP)
			*c = '.';
	rs_toml_keys_push(x->out, full, last + 1, value, false, NULL);
}

static int our_keys(const char *ours, struct rs_toml_keys *out, struct rs_error **err)
{
	struct rs_toml_scan sc;
	struct ours x = {.text = ours, .out = out};
	int r = rs_toml_scan(ours, strlen(ours), our_key, &x, &sc);

	return r < 0 ? rs_error_setx(err, -r, "our own file: %.120s", sc.msg) : r;
}

int rs_toml_merge(const char *old, size_t len, const char *ours, struct rs_toml_merge *out,
		  struct rs_error **err)
{
	struct rs_toml_keys keys = {0};
	struct text t = {.s = dup_bytes(old, len), .len = len};
	int r;

	memset(out, 0, sizeof(*out));
	r = our_keys(ours, &keys, err);
	for (size_t i = 0; r == 0 && i < keys.n; i++)
		r = merge_one(&t, &keys.v[i], out, err);
	rs_toml_keys_clear(&keys);
	if (r < 0) {
		free(t.s);
		rs_toml_keys_clear(&out->added);
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
struct header {
	const char *tsep;
	int state; /* 0 looking; 1 found, waiting for the next item; 2 done */
	size_t start, end, next;
	bool eol, keep;
};

static void header_item(void *arg, const struct rs_toml_item *it)
{
	struct header *x = arg;

	if (x->state == 1) {
		x->state = 2;
		x->keep = it->kind == RS_TI_KV;
		x->next = it->start;
	} else if (!x->state && it->kind == RS_TI_TABLE &&
		   rs_toml_relation(it, x->tsep) == RS_REL_EQUAL) {
		*x = (struct header){.tsep = x->tsep,
				     .state = 1,
				     .start = it->start,
				     .end = it->end,
				     .eol = it->eol};
	}
}

static void drop_header(struct text *t, const char *tsep, const char *before)
{
	struct header x = {.tsep = tsep};
	struct rs_toml_scan sc;

	if (rs_toml_scan(t->s, t->len, header_item, &x, &sc) < 0 || !x.state || x.keep)
		return;
	size_t next = x.state == 1 ? t->len : x.next;
	for (size_t i = x.end; i < next; i++)
		if (!strchr(" \t\r\n", t->s[i]))
			return;
	size_t start = x.start, bl = before ? strlen(before) : 0;
	if (bl && start >= bl && !memcmp(t->s + start - bl, before, bl))
		start -= bl;
	cut(t, start, x.end, x.eol);
}

/* The first key/value line of full. */
struct kv {
	const char *full;
	bool found, eol;
	size_t start, end, vstart, vend;
};

static void kv_item(void *arg, const struct rs_toml_item *it)
{
	struct kv *x = arg;
	if (x->found || it->kind != RS_TI_KV || rs_toml_relation(it, x->full) != RS_REL_EQUAL)
		return;
	x->found = true;
	x->start = it->start;
	x->end = it->end;
	x->vstart = it->vstart;
	x->vend = it->vend;
	x->eol = it->eol;
}

static int unmerge_one(struct text *t, const struct rs_toml_key *k, struct rs_toml_unmerge *u)
{
	_cleanup_free_ char *tsep = sep_of(k->table), *full = full_of(tsep, k->key);
	struct kv x = {.full = full};
	struct rs_toml_scan sc;

	if (rs_toml_scan(t->s, t->len, kv_item, &x, &sc) < 0) {
		snprintf(u->msg, sizeof(u->msg), "%s", sc.msg);
		return -EINVAL;
	}
	if (!x.found) /* the user took it out */
		return 0;
	if (!same_value(t->s + x.vstart, x.vend - x.vstart, k->value)) {
		list_add(&u->kept, full);
		return 0;
	}
	cut(t, x.start, x.end, x.eol);
	list_add(&u->removed, full);
	u->changed = true;
	if (k->header)
		drop_header(t, tsep, k->before);
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

void rs_toml_keys_clear(struct rs_toml_keys *k)
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
	rs_toml_keys_clear(&m->added);
	m->text = m->conflicts = NULL;
}

void rs_toml_unmerge_clear(struct rs_toml_unmerge *u)
{
	free(u->text);
	free(u->removed);
	free(u->kept);
	u->text = u->removed = u->kept = NULL;
}
