/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The two wire formats between root and the probe child: the id maps root
 * passes in argv, and the result the child (the user) writes back. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "checks/probe.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

#define ERRNO_MAX 4095 /* the kernel's errno range */

static bool printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* The child's own texts (helper messages) may hold anything: only
 * printable ASCII goes on the wire. */
static void put_clean(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = printable(src[i]) ? src[i] : '?';
	dst[i] = '\0';
}

size_t rs_probe_result_format(const struct rs_probe_result *r, char *buf)
{
	char scratch[sizeof(r->scratch)], detail[sizeof(r->detail)];

	put_clean(scratch, sizeof(scratch), r->overlay_tried ? r->scratch : "");
	put_clean(detail, sizeof(detail), r->detail);
	int n = snprintf(buf, RS_PROBE_RESULT_MAX,
			 "rs-probe 1\nstage %d\nerr %d\ntmpfs %d\noverlay %d\ntried %d\n"
			 "scratch %s\ndetail %s\nend\n",
			 (int)r->stage, r->err, r->tmpfs_err, r->overlay_err,
			 r->overlay_tried ? 1 : 0, scratch, detail);
	/* too long cannot happen with the sizes above; the parser refuses it */
	return n < 0 ? 0 : (size_t)n < RS_PROBE_RESULT_MAX ? (size_t)n : RS_PROBE_RESULT_MAX - 1;
}

struct cursor {
	const char *p, *end;
};

/* The next line "KEY VALUE\n"; the value has printable bytes only. */
static int take(struct cursor *c, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

	if (!nl || (size_t)(nl - c->p) < klen + 1 || memcmp(c->p, key, klen) != 0 ||
	    c->p[klen] != ' ')
		return -EBADMSG;
	*val = c->p + klen + 1;
	*vlen = (size_t)(nl - *val);
	for (size_t i = 0; i < *vlen; i++)
		if (!printable((*val)[i]))
			return -EBADMSG;
	c->p = nl + 1;
	return 0;
}

static int take_num(struct cursor *c, const char *key, uint64_t max, int *out)
{
	const char *v;
	size_t n;
	uint64_t x;

	if (take(c, key, &v, &n) < 0 || rs_parse_u64n(v, n, max, &x) < 0)
		return -EBADMSG;
	*out = (int)x;
	return 0;
}

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* An absolute path of plain components (no "", "." or ".."). */
static bool abs_plain(const char *v, size_t n)
{
	if (n == 0 || v[0] != '/')
		return false;
	for (size_t i = 0; i < n;) {
		size_t k = i + 1, len;
		while (k < n && v[k] != '/')
			k++;
		len = k - i - 1;
		if (len == 0 || (len == 1 && v[i + 1] == '.') ||
		    (len == 2 && v[i + 1] == '.' && v[i + 2] == '.'))
			return false;
		i = k;
	}
	return true;
}

/* base + "/" RS_PROBE_SCRATCH_PREFIX + six of mkdtemp's letters, or "";
 * base NULL: any absolute plain directory (the child resolved it) */
static int take_scratch(struct cursor *c, const char *base, bool tried, char *out, size_t cap)
{
	static const char pre[] = "/" RS_PROBE_SCRATCH_PREFIX;
	const char *v;
	size_t n, pl = strlen(pre);

	if (take(c, "scratch", &v, &n) < 0)
		return -EBADMSG;
	if (!tried) {
		out[0] = '\0';
		return n == 0 ? 0 : -EBADMSG;
	}
	size_t bl = base ? strlen(base) : n >= pl + 6 ? n - pl - 6 : 0;
	if (n != bl + pl + 6 || n >= cap || (base && memcmp(v, base, bl) != 0) ||
	    (!base && bl > 1 && !abs_plain(v, bl)) || (!base && bl == 1) ||
	    memcmp(v + bl, pre, pl) != 0)
		return -EBADMSG;
	for (size_t i = n - 6; i < n; i++)
		if (!alnum(v[i]))
			return -EBADMSG;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int rs_probe_result_parse(const char *buf, size_t len, const char *base,
			  struct rs_probe_result *out)
{
	struct cursor c = {buf, buf + len};
	struct rs_probe_result r = {0};
	const char *v;
	size_t n;
	int stage, tried;

	if (len == 0 || len > RS_PROBE_RESULT_MAX || memchr(buf, '\0', len))
		return -EBADMSG;
	if (take(&c, "rs-probe", &v, &n) < 0 || n != 1 || *v != '1' ||
	    take_num(&c, "stage", RS_PROBE_STAGE_COUNT - 1, &stage) < 0 ||
	    take_num(&c, "err", ERRNO_MAX, &r.err) < 0 ||
	    take_num(&c, "tmpfs", ERRNO_MAX, &r.tmpfs_err) < 0 ||
	    take_num(&c, "overlay", ERRNO_MAX, &r.overlay_err) < 0 ||
	    take_num(&c, "tried", 1, &tried) < 0 ||
	    take_scratch(&c, base, tried, r.scratch, sizeof(r.scratch)) < 0 ||
	    take(&c, "detail", &v, &n) < 0 || n >= sizeof(r.detail))
		return -EBADMSG;
	memcpy(r.detail, v, n);
	r.detail[n] = '\0';
	if ((size_t)(c.end - c.p) != 4 || memcmp(c.p, "end\n", 4) != 0)
		return -EBADMSG;
	r.stage = (enum rs_probe_stage)stage;
	r.overlay_tried = tried;
	*out = r;
	return 0;
}

char *rs_probe_map_format(const struct rs_idmap *m)
{
	size_t cap = m->n * 64 + 1, k = 0;
	char *s = rs_xmalloc(cap);

	s[0] = '\0';
	for (size_t i = 0; i < m->n; i++)
		k += (size_t)snprintf(s + k, cap - k, "%s%llu:%llu:%llu", i ? "," : "",
				      (unsigned long long)m->e[i].inside,
				      (unsigned long long)m->e[i].outside,
				      (unsigned long long)m->e[i].count);
	return s;
}
