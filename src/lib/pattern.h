/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The matching language of the error catalogue (data/errors/NAME.json), made
 * to be read by people who paste an error and fast enough to run every
 * pattern over a megabyte of journal:
 *
 *   text       matches itself, ASCII case-insensitively ("Operation not
 *              permitted" also matches "operation not permitted")
 *   blanks     a run of spaces or tabs matches one or more spaces or tabs
 *   {n}        a number: one or more digits
 *   {w}        a word: one or more of A-Z a-z 0-9 _ . -
 *   {p}        a path: one or more of A-Z a-z 0-9 _ . - / + @ % ~
 *   {*}        anything on the line, possibly nothing
 *   {{         a literal '{'
 *
 * A pattern matches a line when it matches anywhere in it (as if it began
 * and ended with {*}); it never spans lines. {n}, {w} and {p} take the
 * longest run of their class there (no backtracking into them) and are
 * numbered 1, 2, ... in order: the text each took is its capture. {*} is
 * the only backtracking point, so a match costs at most the line's length
 * times the pattern's (the classic glob walk, exact here because a
 * longest-run token started further on never ends earlier).
 */
#include <stdbool.h>
#include <stddef.h>

#define RS_PATTERN_MAX_LEN   512 /* bytes of pattern source */
#define RS_PATTERN_MAX_HOLES 9	 /* {n} {w} {p} per pattern */

struct rs_pattern;

struct rs_pattern_cap {
	size_t off, len; /* in the line matched */
};

/* Compiles src (len bytes; no NUL, newline or control character in it).
 * Return: 0 with *out, or -EINVAL with *why a static one-line reason. */
int rs_pattern_compile(const char *src, size_t len, struct rs_pattern **out, const char **why);
void rs_pattern_free(struct rs_pattern *p);
/* Does p match the line s (len bytes, newline excluded)? caps, when not
 * NULL, has RS_PATTERN_MAX_HOLES entries; the first rs_pattern_holes(p)
 * are filled on a match. */
bool rs_pattern_match(const struct rs_pattern *p, const char *s, size_t len,
		      struct rs_pattern_cap *caps);
/* The longest run of literal text in p without a blank (a blank matches
 * any run of them), lower-cased (ASCII): every line p matches contains it,
 * so it can be looked for first. */
const char *rs_pattern_anchor(const struct rs_pattern *p, size_t *len);
/* How many literal characters p has: the more, the more specific. */
size_t rs_pattern_literals(const struct rs_pattern *p);
unsigned rs_pattern_holes(const struct rs_pattern *p);
