/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/pattern.h"
#include "lib/xalloc.h"

enum tok_kind { TOK_LIT, TOK_BLANK, TOK_NUM, TOK_WORD, TOK_PATH, TOK_ANY };

struct tok {
	uint8_t kind;
	uint8_t hole; /* capture number 1.., 0 for none */
	char c;	      /* TOK_LIT: the byte, lower-cased when ASCII */
};

struct rs_pattern {
	struct tok *t;
	size_t n;
	unsigned holes;
	size_t literals;
	char *anchor;
	size_t anchor_len;
};

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool in_class(enum tok_kind k, char c)
{
	switch (k) {
	case TOK_NUM:
		return c >= '0' && c <= '9';
	case TOK_WORD:
		return is_alnum(c) || c == '_' || c == '.' || c == '-';
	case TOK_PATH:
		return is_alnum(c) || (c && strchr("_.-/+@%~", c));
	case TOK_BLANK:
		return is_blank(c);
	case TOK_LIT:
	case TOK_ANY:
		break;
	}
	return false;
}

/* One token at s[i]: the end of what it takes, or SIZE_MAX when it does
 * not match there. Class tokens take the longest run (one at least). */
static size_t step(const struct tok *t, const char *s, size_t len, size_t i)
{
	if (i >= len)
		return SIZE_MAX;
	if (t->kind == TOK_LIT)
		return fold(s[i]) == t->c ? i + 1 : SIZE_MAX;
	if (!in_class(t->kind, s[i]))
		return SIZE_MAX;
	while (i < len && in_class(t->kind, s[i]))
		i++;
	return i;
}

static bool typed(enum tok_kind k)
{
	return k == TOK_NUM || k == TOK_WORD || k == TOK_PATH;
}

/* "{n}" at src: its kind, or -1. *used is the bytes it spans. */
static int placeholder(const char *src, size_t len, size_t *used)
{
	static const struct {
		char name;
		enum tok_kind kind;
	} names[] = {{'n', TOK_NUM}, {'w', TOK_WORD}, {'p', TOK_PATH}, {'*', TOK_ANY}};

	if (len < 3 || src[2] != '}')
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (src[1] == names[i].name) {
			*used = 3;
			return (int)names[i].kind;
		}
	return -1;
}

static void push(struct rs_pattern *p, enum tok_kind kind, char c)
{
	p->t = rs_xrealloc(p->t, (p->n + 1) * sizeof(*p->t));
	p->t[p->n++] = (struct tok){.kind = (uint8_t)kind, .c = c};
}

/* What a token sequence may not hold: two class tokens side by side (the
 * first would take what the second needs), {*} next to {*} or at either
 * end (implied there), blanks at either end (invisible in the data). */
static const char *check_layout(const struct rs_pattern *p)
{
	for (size_t i = 0; i < p->n; i++) {
		enum tok_kind k = p->t[i].kind;
		enum tok_kind next = i + 1 < p->n ? p->t[i + 1].kind : TOK_LIT;
		if (k == TOK_ANY && (i == 0 || i + 1 == p->n))
			return "'{*}' at either end is implied";
		if (k == TOK_ANY && next == TOK_ANY)
			return "'{*}{*}' is one '{*}'";
		if (typed(k) && i + 1 < p->n && (typed(next) || next == TOK_ANY))
			return "a placeholder needs text after it before the next one";
		if (k == TOK_BLANK && (i == 0 || i + 1 == p->n))
			return "blanks at either end of a pattern";
	}
	return NULL;
}

static void find_anchor(struct rs_pattern *p)
{
	size_t best = 0, best_at = 0;

	for (size_t i = 0; i < p->n;) {
		size_t j = i;
		while (j < p->n && p->t[j].kind == TOK_LIT)
			j++;
		if (j - i > best)
			best = j - i, best_at = i;
		i = j > i ? j : i + 1;
	}
	p->anchor = rs_xmalloc(best + 1);
	for (size_t k = 0; k < best; k++)
		p->anchor[k] = p->t[best_at + k].c;
	p->anchor[best] = '\0';
	p->anchor_len = best;
}

/* One source byte (or placeholder) at src[i] into p; returns the bytes
 * used, 0 with *why on an error. */
static size_t parse_one(struct rs_pattern *p, const char *src, size_t len, size_t i,
			const char **why)
{
	unsigned char c = (unsigned char)src[i];
	size_t used = 1;

	if (c < 0x20 ? c != '\t' : c == 0x7f) {
		*why = "a control character in a pattern";
		return 0;
	}
	if (is_blank((char)c)) {
		while (i + used < len && is_blank(src[i + used]))
			used++;
		push(p, TOK_BLANK, 0);
		return used;
	}
	if (c != '{') {
		push(p, TOK_LIT, fold((char)c));
		p->literals++;
		return 1;
	}
	if (i + 1 < len && src[i + 1] == '{') {
		push(p, TOK_LIT, '{');
		p->literals++;
		return 2;
	}
	int k = placeholder(src + i, len - i, &used);
	if (k < 0) {
		*why = "'{' starts no placeholder ({n} {w} {p} {*}; '{{' for a '{')";
		return 0;
	}
	push(p, (enum tok_kind)k, 0);
	if (typed((enum tok_kind)k)) {
		if (p->holes == RS_PATTERN_MAX_HOLES) {
			*why = "more than 9 placeholders";
			return 0;
		}
		p->t[p->n - 1].hole = (uint8_t)++p->holes;
	}
	return used;
}

int rs_pattern_compile(const char *src, size_t len, struct rs_pattern **out, const char **why)
{
	struct rs_pattern *p;
	const char *bad = NULL;

	*out = NULL;
	if (len == 0 || len > RS_PATTERN_MAX_LEN) {
		*why = len ? "a pattern longer than 512 bytes" : "an empty pattern";
		return -EINVAL;
	}
	p = rs_xcalloc(1, sizeof(*p));
	for (size_t i = 0; i < len && !bad;) {
		size_t used = parse_one(p, src, len, i, &bad);
		i += used;
	}
	if (!bad)
		bad = check_layout(p);
	if (!bad && p->literals == 0)
		bad = "a pattern without literal text";
	if (bad) {
		*why = bad;
		rs_pattern_free(p);
		return -EINVAL;
	}
	find_anchor(p);
	*out = p;
	return 0;
}

void rs_pattern_free(struct rs_pattern *p)
{
	if (!p)
		return;
	free(p->t);
	free(p->anchor);
	free(p);
}

bool rs_pattern_match(const struct rs_pattern *p, const char *s, size_t len,
		      struct rs_pattern_cap *caps)
{
	/* the implied leading {*}: a failure restarts the pattern one byte on */
	size_t ti = 0, si = 0, star_ti = 0, star_si = 0;

	while (ti < p->n) {
		const struct tok *t = &p->t[ti];
		if (t->kind == TOK_ANY) {
			star_ti = ti + 1;
			star_si = si;
			ti++;
			continue;
		}
		size_t e = step(t, s, len, si);
		if (e != SIZE_MAX) {
			if (t->hole && caps)
				caps[t->hole - 1] = (struct rs_pattern_cap){si, e - si};
			si = e;
			ti++;
			continue;
		}
		/* only the last {*} moves: everything before it matched at
		 * its leftmost place, which leaves the most line for the rest */
		if (star_si >= len)
			return false;
		si = ++star_si;
		ti = star_ti;
	}
	return true; /* the implied trailing {*} */
}

const char *rs_pattern_anchor(const struct rs_pattern *p, size_t *len)
{
	*len = p->anchor_len;
	return p->anchor;
}

size_t rs_pattern_literals(const struct rs_pattern *p)
{
	return p->literals;
}

unsigned rs_pattern_holes(const struct rs_pattern *p)
{
	return p->holes;
}
