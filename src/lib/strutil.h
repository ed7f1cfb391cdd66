/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/macro.h"

/* Strict decimal parse of a whole string: no sign, no spaces, no hex or octal
 * prefixes, no overflow past max (CVE-2016-6252 is what lax id parsing costs).
 * Return: 0, or -EINVAL / -ERANGE; *out is written only on success. */
int rs_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Same as rs_parse_u64 for the first n bytes of s. */
int rs_parse_u64n(const char *s, size_t n, uint64_t max, uint64_t *out);

/* Strips leading and trailing ASCII white space in place; returns s. */
char *rs_strstrip(char *s);
bool rs_streq(const char *a, const char *b);
bool rs_strcaseeq(const char *a, const char *b);
bool rs_startswith(const char *s, const char *prefix);

/* The one escaper for host-derived text shown to a person or put where a
 * string must be valid UTF-8: a file name or record line can carry terminal
 * escapes (ESC ] 0; title BEL, ESC [ 2J) or bytes that are not UTF-8.
 * Returns a new string where every C0 control (0x00-0x1f), DEL, C1 control
 * (U+0080-U+009F), bidirectional override (U+202A-U+202E, U+2066-U+2069)
 * and every byte of an invalid UTF-8 sequence (overlong, surrogate, past
 * U+10FFFF, truncated) is written \xNN, and a backslash \\; valid printable
 * UTF-8 is kept. NULL gives NULL. */
char *rs_escape(const char *s);
/* true when s is valid UTF-8 that rs_escape() leaves as it is */
bool rs_is_clean(const char *s);

/* Every JSON string built from host-derived text goes through this: jansson
 * refuses invalid UTF-8 (json_string() returns NULL and json_object_set_new
 * or a json_pack "o" then drops the entry), so such a string is stored in
 * its rs_escape() form; valid UTF-8 is stored as it is (JSON escapes the
 * controls itself). NULL gives JSON null. Never returns NULL. */
struct json_t *rs_json_str(const char *s);

/* A kernel release reduced to numbers: "5.10.0-60.18.0.50.oe2203" -> 5.10.0. */
struct rs_kver {
	unsigned major, minor, patch;
};
/* Parses "X.Y[.Z]..." from a release string or a threshold ("5.11").
 * Return: 0 or -EINVAL. */
int rs_kver_parse(const char *s, struct rs_kver *out);
/* <0, 0, >0 like strcmp. */
int rs_kver_cmp(const struct rs_kver *a, const struct rs_kver *b);

/* Growable NULL-terminated string vector. */
struct rs_strv {
	char **v;
	size_t n, cap;
};
void rs_strv_push(struct rs_strv *sv, const char *s);
void rs_strv_take(struct rs_strv *sv, char *s);
bool rs_strv_contains(const struct rs_strv *sv, const char *s);
/* Frees the strings and the array, leaving sv empty (and reusable). */
void rs_strv_clear(struct rs_strv *sv);
static inline void rs_strv_clearp(struct rs_strv *sv)
{
	rs_strv_clear(sv);
}
#define _cleanup_strv_ _cleanup_(rs_strv_clearp)
/* The relative path's components are plain names: no "", "." or ".." (a
 * lexical check cannot know where ".." leads once a symlink is involved). */
bool rs_path_plain(const char *rel);
/* s (NULL allowed) is 1 to max bytes of ASCII letters, digits and the
 * characters of extra: a value root passes on into a user's environment
 * (LANG, TERM) names a thing and carries no space, escape or path. */
bool rs_str_plain(const char *s, size_t max, const char *extra);
/* *list (NULL or a heap string, freed) + sep + item; sep only between
 * items. For the short lists messages name. */
void rs_list_add(char **list, const char *sep, const char *item);

/* Growable byte buffer, always NUL-terminated after the first add: text
 * built once, in order (re-copying it per line made a 200,000-line rewrite
 * quadratic). */
struct rs_sbuf {
	char *s;
	size_t n, cap;
};
void rs_sbuf_add(struct rs_sbuf *sb, const char *p, size_t n);
