/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diagnose's matcher (src/lib/pattern.c) and scan (src/core/diagnose.c).
 * The first byte picks: even, a pattern (up to the first newline) and the
 * lines after it, matched by rs_pattern_match and by a plain recursive
 * matcher written here from the grammar in pattern.h, which must agree;
 * odd, the rest as an engine's log scanned against the real catalogue. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/diagnose.h"
#include "lib/pattern.h"

#define FUZZ_MAX  (1u << 20)
#define REF_TEXT  64 /* the reference is exponential in {*}: small inputs only */
#define REF_STARS 2

enum { LIT, BLANK, NUM, WORD, PATH, ANY };
struct rtok {
	int kind;
	char c;
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool cls(int k, char c)
{
	bool an = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	switch (k) {
	case NUM:
		return c >= '0' && c <= '9';
	case WORD:
		return an || c == '_' || c == '.' || c == '-';
	case PATH:
		return an || (c && strchr("_.-/+@%~", c));
	case BLANK:
		return c == ' ' || c == '\t';
	default:
		return false;
	}
}

/* Tokens of a pattern rs_pattern_compile accepted (so it is well formed). */
static size_t rparse(const char *p, size_t n, struct rtok *t)
{
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		if (p[i] == ' ' || p[i] == '\t') {
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
			t[k++] = (struct rtok){BLANK, 0};
		} else if (p[i] == '{' && p[i + 1] == '{') {
			t[k++] = (struct rtok){LIT, '{'};
			i += 2;
		} else if (p[i] == '{') {
			char c = p[i + 1];
			t[k++] = (struct rtok){c == 'n'	  ? NUM
					       : c == 'w' ? WORD
					       : c == 'p' ? PATH
							  : ANY,
					       0};
			i += 3;
		} else {
			t[k++] = (struct rtok){LIT, lower(p[i++])};
		}
	}
	return k;
}

static bool ref_at(const struct rtok *t, size_t nt, const char *s, size_t n, size_t i)
{
	if (nt == 0)
		return true; /* the implied trailing {*} */
	if (t->kind == ANY) {
		for (size_t j = i; j <= n; j++)
			if (ref_at(t + 1, nt - 1, s, n, j))
				return true;
		return false;
	}
	if (i >= n)
		return false;
	if (t->kind == LIT)
		return lower(s[i]) == t->c && ref_at(t + 1, nt - 1, s, n, i + 1);
	if (!cls(t->kind, s[i]))
		return false;
	while (i < n && cls(t->kind, s[i]))
		i++;
	return ref_at(t + 1, nt - 1, s, n, i);
}

static bool ref_match(const struct rtok *t, size_t nt, const char *s, size_t n)
{
	for (size_t i = 0; i <= n; i++)
		if (ref_at(t, nt, s, n, i))
			return true;
	return false;
}

static void one_line(const struct rs_pattern *p, const struct rtok *t, size_t nt, size_t stars,
		     const char *s, size_t n)
{
	struct rs_pattern_cap caps[RS_PATTERN_MAX_HOLES];
	bool got = rs_pattern_match(p, s, n, caps);
	if (got)
		for (unsigned h = 0; h < rs_pattern_holes(p); h++)
			if (caps[h].len == 0 || caps[h].off + caps[h].len > n)
				abort();
	if (stars <= REF_STARS && n <= REF_TEXT && got != ref_match(t, nt, s, n))
		abort();
	size_t alen;
	const char *a = rs_pattern_anchor(p, &alen);
	if (got && alen) { /* every matched line holds the anchor, case folded */
		bool found = false;
		for (size_t i = 0; !found && i + alen <= n; i++) {
			size_t k = 0;
			while (k < alen && lower(s[i + k]) == a[k])
				k++;
			found = k == alen;
		}
		if (!found)
			abort();
	}
}

static void pattern_mode(const char *in, size_t len)
{
	const char *nl = memchr(in, '\n', len);
	size_t plen = nl ? (size_t)(nl - in) : len;
	struct rs_pattern *p = NULL;
	const char *why = NULL;
	struct rtok t[RS_PATTERN_MAX_LEN];

	if (rs_pattern_compile(in, plen, &p, &why) < 0) {
		if (p || !why || !*why)
			abort();
		return;
	}
	size_t nt = rparse(in, plen, t), stars = 0;
	for (size_t i = 0; i < nt; i++)
		stars += t[i].kind == ANY;
	for (size_t i = plen + 1; nl && i <= len;) {
		const char *e = memchr(in + i, '\n', len - i);
		size_t n = e ? (size_t)(e - in) - i : len - i;
		one_line(p, t, nt, stars, in + i, n);
		i += n + 1;
	}
	rs_pattern_free(p);
}

static void scan_mode(const char *in, size_t len)
{
	struct rs_diag_scan *s = NULL;
	struct rs_error *err = NULL;

	if (rs_diag_scan(in, len, 0, &s, &err) < 0)
		abort(); /* the embedded catalogue is valid */
	for (size_t i = 0; i < s->n; i++) {
		const struct rs_diag_match *m = &s->m[i];
		if (!m->hits || m->line < 1 || m->line > s->lines || !m->excerpt ||
		    strlen(m->excerpt) > RS_DIAG_EXCERPT_MAX + 3 || strchr(m->excerpt, '\n'))
			abort();
		if (i && !m->entry->generic && s->m[i - 1].entry->generic)
			abort(); /* specific entries rank first */
	}
	rs_diag_scan_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX)
		return 0;
	char *in = malloc(size);
	if (!in)
		return 0;
	memcpy(in, data + 1, size - 1);
	if (data[0] & 1)
		scan_mode(in, size - 1);
	else
		pattern_mode(in, size - 1);
	free(in);
	return 0;
}
