/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dpkg's status, indexed by package (host/parse.h): one pass over the
 * file, then a hash lookup per package asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

#define DPKG_PACKAGE "Package: "

struct rs_dpkg_index {
	const char *buf;
	size_t len;
	uint32_t *start; /* offsets of "Package: " lines, the first per name */
	size_t n, cap;
	struct rs_hidx h;
};

struct dpkg_key {
	const struct rs_dpkg_index *x;
	const char *name;
	size_t len;
};

/* The name on the "Package: " line at off, and its length. */
static const char *dpkg_name_at(const struct rs_dpkg_index *x, uint32_t off, size_t *len)
{
	const char *name = x->buf + off + strlen(DPKG_PACKAGE);
	const char *nl = memchr(name, '\n', (size_t)(x->buf + x->len - name));
	*len = nl ? (size_t)(nl - name) : (size_t)(x->buf + x->len - name);
	return name;
}

static bool dpkg_eq(const void *ctx, uint32_t pos)
{
	const struct dpkg_key *k = ctx;
	size_t len;
	const char *name = dpkg_name_at(k->x, k->x->start[pos], &len);
	return len == k->len && memcmp(name, k->name, len) == 0;
}

static void dpkg_index_add(struct rs_dpkg_index *x, uint32_t off)
{
	struct dpkg_key k = {.x = x};
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 1024;
		x->start = rs_xrealloc(x->start, x->cap * sizeof(*x->start));
	}
	x->start[x->n] = off;
	k.name = dpkg_name_at(x, off, &k.len);
	uint32_t hash = rs_hash_bytes(k.name, k.len);
	if (rs_hidx_find(&x->h, hash, dpkg_eq, &k) < 0)
		rs_hidx_add(&x->h, hash, (uint32_t)x->n++);
}

struct rs_dpkg_index *rs_dpkg_index_new(const char *buf, size_t len)
{
	struct rs_dpkg_index *x = rs_xcalloc(1, sizeof(*x));
	size_t kl = strlen(DPKG_PACKAGE);

	x->buf = buf;
	x->len = len;
	for (const char *p = buf; p && len < UINT32_MAX && p < buf + len;) {
		if ((size_t)(buf + len - p) >= kl && !memcmp(p, DPKG_PACKAGE, kl))
			dpkg_index_add(x, (uint32_t)(p - buf));
		p = memchr(p, '\n', (size_t)(buf + len - p));
		p = p ? p + 1 : NULL;
	}
	return x;
}

void rs_dpkg_index_free(struct rs_dpkg_index *x)
{
	rs_hidx_clear(&x->h);
	free(x->start);
	free(x);
}

/* Whether the stanza at p is pkg's: its "Package: " line names pkg. */
static bool dpkg_stanza_of(const struct rs_dpkg_index *x, const char *p, const char *pkg,
			   size_t plen)
{
	size_t kl = strlen(DPKG_PACKAGE), left = (size_t)(x->buf + x->len - p);
	return left >= kl + plen && !memcmp(p, DPKG_PACKAGE, kl) && !memcmp(p + kl, pkg, plen) &&
	       (left == kl + plen || p[kl + plen] == '\n');
}

char *rs_dpkg_stanzas(const struct rs_dpkg_index *x, const char *pkg)
{
	struct dpkg_key k = {.x = x, .name = pkg, .len = strlen(pkg)};
	const char *end = x->buf + x->len;

	int64_t pos = rs_hidx_find(&x->h, rs_hash_bytes(pkg, k.len), dpkg_eq, &k);
	if (pos < 0)
		return NULL;
	const char *first = x->buf + x->start[pos], *stop = first;
	/* the stanzas that follow for the same package (other architectures) */
	for (;;) {
		const char *blank = memmem(stop, (size_t)(end - stop), "\n\n", 2);
		if (!blank) {
			stop = end;
			break;
		}
		stop = blank + 2;
		if (!dpkg_stanza_of(x, stop, pkg, k.len)) {
			stop = blank + 1;
			break;
		}
	}
	return rs_xstrndup(first, (size_t)(stop - first));
}
