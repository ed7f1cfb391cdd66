/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TOML subset reader (toml-doc.h): one pass, bounded nesting, memory
 * bounded by the longest name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/strutil.h"
#include "lib/xalloc.h"
#include "install/toml-doc.h"

/* arrays and inline tables nested deeper are refused (the recursion's bound) */
#define MAX_DEPTH 64

struct pstate {
	const char *b;
	size_t len, i;
	unsigned line;
	struct rs_toml_scan *out;
	rs_toml_item_fn fn;
	void *arg;
	struct rs_sbuf sect; /* the current section's name; n == 0 with !has_sect */
	bool has_sect;
	struct rs_sbuf key; /* reused for every key */
};

static int fail(struct pstate *p, const char *what)
{
	snprintf(p->out->msg, sizeof(p->out->msg), "line %u: %s", p->line, what);
	return -EINVAL;
}

static bool more(const struct pstate *p)
{
	return p->i < p->len;
}

static char cur(const struct pstate *p)
{
	return p->i < p->len ? p->b[p->i] : '\0';
}

static bool at(const struct pstate *p, const char *s)
{
	size_t n = strlen(s);
	return p->len - p->i >= n && !memcmp(p->b + p->i, s, n);
}

static void skip_ws(struct pstate *p)
{
	while (more(p) && (cur(p) == ' ' || cur(p) == '\t'))
		p->i++;
}

/* A line break at i: its length (1 or 2), else 0. */
static size_t eol_len(const struct pstate *p)
{
	if (cur(p) == '\n')
		return 1;
	return at(p, "\r\n") ? 2 : 0;
}

static void take_eol(struct pstate *p)
{
	p->i += eol_len(p);
	p->line++;
}

static void skip_comment(struct pstate *p)
{
	while (more(p) && !eol_len(p))
		p->i++;
}

/* After a header or value: blanks, a comment, then a line break or EOF. */
static int end_line(struct pstate *p, bool *eol)
{
	skip_ws(p);
	if (cur(p) == '#')
		skip_comment(p);
	*eol = false;
	if (!more(p))
		return 0;
	if (!eol_len(p))
		return fail(p, "more after the value");
	take_eol(p);
	*eol = true;
	return 0;
}

static bool bare_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int key_part(struct pstate *p, struct rs_sbuf *sb)
{
	char q = cur(p);
	size_t s = p->i;

	if (q != '"' && q != '\'') {
		while (more(p) && bare_char(cur(p)))
			p->i++;
		if (p->i == s)
			return fail(p, "a key expected");
		rs_sbuf_add(sb, p->b + s, p->i - s);
		return 0;
	}
	s = ++p->i;
	while (more(p) && cur(p) != q) {
		unsigned char c = (unsigned char)cur(p);
		if (c == '\\' && q == '"')
			return fail(p, "a quoted key with an escape");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, "a control character in a key");
		p->i++;
	}
	if (!more(p))
		return fail(p, "an unterminated quoted key");
	rs_sbuf_add(sb, p->b + s, p->i - s);
	p->i++;
	return 0;
}

/* A dotted key, appended to sb with RS_TOML_SEP between the parts. */
static int parse_key(struct pstate *p, struct rs_sbuf *sb)
{
	for (;;) {
		skip_ws(p);
		int r = key_part(p, sb);
		if (r < 0)
			return r;
		skip_ws(p);
		if (cur(p) != '.')
			return 0;
		p->i++;
		rs_sbuf_add(sb, (const char[]){RS_TOML_SEP}, 1);
	}
}

/* A string of any kind, i at its first quote. */
static int scan_string(struct pstate *p)
{
	char q = cur(p);
	bool multi = at(p, q == '"' ? "\"\"\"" : "'''");

	p->i += multi ? 3 : 1;
	while (more(p)) {
		char c = cur(p);
		if (c == '\\' && q == '"') {
			if (p->len - p->i < 2)
				break;
			p->i += 2;
			continue;
		}
		if (multi && eol_len(p)) {
			take_eol(p);
			continue;
		}
		if (!multi && (c == '\n' || c == '\r'))
			return fail(p, "a line break in a string");
		if (c == q && (!multi || at(p, q == '"' ? "\"\"\"" : "'''"))) {
			p->i += multi ? 3 : 1;
			/* """a""""": up to two quotes end the content */
			for (int k = 0; multi && k < 2 && cur(p) == q; k++)
				p->i++;
			return 0;
		}
		p->i++;
	}
	return fail(p, "an unterminated string");
}

/* Inside brackets: blanks, line breaks and comments. */
static void skip_gap(struct pstate *p)
{
	for (;;) {
		skip_ws(p);
		if (cur(p) == '#')
			skip_comment(p);
		if (!eol_len(p))
			return;
		take_eol(p);
	}
}

static int scan_value(struct pstate *p, unsigned depth);

/* [ v, v, ] or { k = v, k = v }, i at the bracket. */
static int scan_nested(struct pstate *p, unsigned depth)
{
	bool table = cur(p) == '{';
	char close = table ? '}' : ']';

	if (depth >= MAX_DEPTH)
		return fail(p, "values nested too deep");
	p->i++;
	for (;;) {
		skip_gap(p);
		if (cur(p) == close) {
			p->i++;
			return 0;
		}
		if (table) {
			struct rs_sbuf sb = {0};
			int r = parse_key(p, &sb);
			free(sb.s);
			if (r < 0)
				return r;
			skip_ws(p);
			if (cur(p) != '=')
				return fail(p, "'=' expected in an inline table");
			p->i++;
			skip_ws(p);
		}
		int r = scan_value(p, depth + 1);
		if (r < 0)
			return r;
		skip_gap(p);
		if (cur(p) == ',')
			p->i++;
		else if (cur(p) != close)
			return fail(p, table ? "an unterminated inline table"
					     : "an unterminated array");
	}
}

/* A value: string, array, inline table, or a plain word (number, boolean,
 * date: "1979-05-27 07:32:00" holds a blank, between digits). */
static int scan_value(struct pstate *p, unsigned depth)
{
	char c = cur(p);
	size_t s = p->i;

	if (c == '"' || c == '\'')
		return scan_string(p);
	if (c == '[' || c == '{')
		return scan_nested(p, depth);
	while (more(p)) {
		char x = cur(p);
		bool digits = p->i > s && p->b[p->i - 1] >= '0' && p->b[p->i - 1] <= '9' &&
			      p->len - p->i > 1 && p->b[p->i + 1] >= '0' && p->b[p->i + 1] <= '9';
		if (!bare_char(x) && x != '+' && x != '.' && x != ':' && !(x == ' ' && digits))
			break;
		p->i++;
	}
	return p->i > s ? 0 : fail(p, "a value expected");
}

static int parse_header(struct pstate *p, size_t start)
{
	bool array = at(p, "[[");
	struct rs_toml_item it = {.kind = array ? RS_TI_ARRAY : RS_TI_TABLE, .start = start};

	p->i += array ? 2 : 1;
	p->sect.n = 0;
	p->has_sect = true;
	rs_sbuf_add(&p->sect, "", 0);
	int r = parse_key(p, &p->sect);
	if (r >= 0 && !at(p, array ? "]]" : "]"))
		r = fail(p, "an unterminated table header");
	if (r < 0)
		return r;
	p->i += array ? 2 : 1;
	r = end_line(p, &it.eol);
	if (r < 0)
		return r;
	it.end = p->i;
	it.path = p->sect.s;
	it.plen = p->sect.n;
	p->fn(p->arg, &it);
	return 0;
}

static int parse_kv(struct pstate *p, size_t start)
{
	struct rs_toml_item it = {.kind = RS_TI_KV, .start = start};

	p->key.n = 0;
	rs_sbuf_add(&p->key, "", 0);
	int r = parse_key(p, &p->key);
	if (r >= 0 && cur(p) != '=')
		r = fail(p, "'=' expected after a key");
	if (r < 0)
		return r;
	p->i++;
	skip_ws(p);
	it.vstart = p->i;
	r = scan_value(p, 0);
	it.vend = p->i;
	if (r >= 0)
		r = end_line(p, &it.eol);
	if (r < 0)
		return r;
	it.end = p->i;
	it.path = p->key.s;
	it.plen = p->key.n;
	it.sect = p->has_sect ? p->sect.s : NULL;
	it.slen = p->has_sect ? p->sect.n : 0;
	p->fn(p->arg, &it);
	return 0;
}

static int scan(struct pstate *p)
{
	const char *nl = memchr(p->b, '\n', p->len);

	p->out->crlf = nl && nl > p->b && nl[-1] == '\r';
	if (memchr(p->b, '\0', p->len))
		return fail(p, "a NUL byte");
	while (more(p)) {
		size_t start = p->i;
		int r = 0;
		skip_ws(p);
		if (cur(p) == '#')
			skip_comment(p);
		if (!more(p))
			break;
		if (eol_len(p))
			take_eol(p);
		else if (cur(p) == '[')
			r = parse_header(p, start);
		else
			r = parse_kv(p, start);
		if (r < 0)
			return r;
	}
	return 0;
}

int rs_toml_scan(const char *b, size_t len, rs_toml_item_fn fn, void *arg, struct rs_toml_scan *out)
{
	struct pstate p = {.b = b, .len = len, .line = 1, .out = out, .fn = fn, .arg = arg};

	memset(out, 0, sizeof(*out));
	int r = scan(&p);
	free(p.sect.s);
	free(p.key.s);
	return r;
}

/* Compares s[0..n) (a path) with the start of *t: equal up to n and then
 * t ends (EQUAL), goes on below it (ABOVE), or s goes on further (BELOW). */
static enum rs_toml_rel piece(const char *s, size_t n, const char *t)
{
	size_t tl = strnlen(t, n + 1);

	if (tl <= n) /* t is at most as long */
		return !memcmp(s, t, tl) && (tl == n || s[tl] == RS_TOML_SEP)
			       ? tl == n ? RS_REL_EQUAL : RS_REL_BELOW
			       : RS_REL_NONE;
	if (memcmp(s, t, n))
		return RS_REL_NONE;
	return t[n] == RS_TOML_SEP ? RS_REL_ABOVE : RS_REL_NONE;
}

enum rs_toml_rel rs_toml_path_relation(const char *s, size_t n, const char *t)
{
	return piece(s, n, t);
}

enum rs_toml_rel rs_toml_relation(const struct rs_toml_item *it, const char *t)
{
	if (it->kind == RS_TI_KV && it->sect) {
		enum rs_toml_rel r = piece(it->sect, it->slen, t);
		if (r == RS_REL_NONE)
			return r;
		if (r != RS_REL_ABOVE) /* t ends within the section's name */
			return RS_REL_BELOW;
		t += it->slen + 1;
	}
	return piece(it->path, it->plen, t);
}
