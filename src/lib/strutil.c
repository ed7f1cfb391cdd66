/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "lib/strutil.h"
#include "lib/xalloc.h"

int rs_parse_u64n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || n == 0)
		return -EINVAL;
	/* "0x10000" and "010" are rejected: shadow's own parser reads decimal. */
	if (n > 1 && s[0] == '0')
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int rs_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!s)
		return -EINVAL;
	return rs_parse_u64n(s, strlen(s), max, out);
}

char *rs_strstrip(char *s)
{
	size_t lead = 0, n;

	while (s[lead] && isspace((unsigned char)s[lead]))
		lead++;
	if (lead)
		memmove(s, s + lead, strlen(s + lead) + 1);
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool rs_streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool rs_strcaseeq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

bool rs_startswith(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int kver_num(const char **p, unsigned *out)
{
	uint64_t v = 0;
	const char *s = *p;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n > 6)
		return -EINVAL;
	/* leading zeros are fine in a release ("5.04"), so parse by hand */
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*out = (unsigned)v;
	*p = s + n;
	return 0;
}

int rs_kver_parse(const char *s, struct rs_kver *out)
{
	struct rs_kver k = {0, 0, 0};

	if (!s || kver_num(&s, &k.major) < 0 || *s++ != '.' || kver_num(&s, &k.minor) < 0)
		return -EINVAL;
	if (*s == '.') {
		const char *t = s + 1;
		if (kver_num(&t, &k.patch) < 0)
			k.patch = 0;
	}
	*out = k;
	return 0;
}

int rs_kver_cmp(const struct rs_kver *a, const struct rs_kver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

void rs_strv_take(struct rs_strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = rs_xrealloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void rs_strv_push(struct rs_strv *sv, const char *s)
{
	rs_strv_take(sv, rs_xstrdup(s));
}

bool rs_strv_contains(const struct rs_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void rs_strv_clear(struct rs_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is invalid
 * (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF). */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Code points a terminal acts on instead of showing (C0, DEL, C1) and the
 * bidi overrides that make shown text read differently (CVE-2021-42574). */
static bool cp_hostile(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

bool rs_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (*p) {
		size_t n = utf8_len(p, &cp);
		if (n == 0 || cp_hostile(cp) || cp == '\\')
			return false;
		p += n;
	}
	return true;
}

char *rs_escape(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	if (!s)
		return NULL;
	/* worst case: every byte becomes four */
	char *out = rs_xmalloc(strlen(s) * 4 + 1), *o = out;
	while (*p) {
		size_t n = utf8_len(p, &cp);
		if (n && cp == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (n && !cp_hostile(cp)) {
			memcpy(o, p, n);
			o += n;
		} else {
			if (!n)
				n = 1; /* one bad byte at a time: resync on the next */
			for (size_t i = 0; i < n; i++) {
				*o++ = '\\';
				*o++ = 'x';
				*o++ = hex[p[i] >> 4];
				*o++ = hex[p[i] & 15];
			}
		}
		p += n;
	}
	*o = '\0';
	return out;
}

json_t *rs_json_str(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	_cleanup_free_ char *e = rs_escape(s);
	j = json_string(e);
	/* rs_escape() output is ASCII plus valid UTF-8: only allocation fails */
	if (!j)
		abort();
	return j;
}

void rs_sbuf_add(struct rs_sbuf *sb, const char *p, size_t n)
{
	if (sb->n + n + 1 > sb->cap) {
		sb->cap = (sb->n + n + 1) * 2;
		sb->s = rs_xrealloc(sb->s, sb->cap);
	}
	if (n)
		memcpy(sb->s + sb->n, p, n);
	sb->n += n;
	sb->s[sb->n] = '\0';
}

void rs_list_add(char **list, const char *sep, const char *item)
{
	char *n = rs_xasprintf("%s%s%s", *list ? *list : "", *list && **list ? sep : "", item);
	free(*list);
	*list = n;
}

bool rs_str_plain(const char *s, size_t max, const char *extra)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

bool rs_path_plain(const char *rel)
{
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/' && !*++p)
			return false;
	}
	return true;
}
