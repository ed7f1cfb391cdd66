/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "host/host.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

/*
 * The host's shared files (etc/passwd, etc/group, etc/subuid, dpkg's
 * status...) read once per handle, and what was built from them (the
 * account index): a check asked etc/group eight times, and a fleet run of
 * 10,000 users 80,000 times. A handle is one look at the host; what we
 * write through it (safewrite.c) drops the cache, so a fixer's next read
 * sees its own change.
 */

struct derived {
	const char *kind;
	void *obj;
	void (*drop)(void *);
};

struct cached {
	char *rel;
	char *buf; /* NULL when the read failed */
	size_t len;
	size_t max; /* the cap it was read with */
	int err;    /* 0 or -errno */
	char *msg;  /* the error's text */
	struct derived d[4];
	size_t nd;
};

struct memo {
	char *key;
	void *obj;
	void (*drop)(void *);
};

struct rs_host_cache {
	struct cached *e;
	size_t n, cap;
	struct rs_hidx e_idx; /* by rel: a fleet's keys grow with its users */
	struct memo *m;	      /* answers about host paths (rs_host_memo) */
	size_t nm, mcap;
	struct rs_hidx m_idx; /* by key */
};

struct find_key {
	const struct rs_host_cache *k;
	const char *s;
};

static bool eq_entry(const void *c, uint32_t pos)
{
	const struct find_key *f = c;
	return strcmp(f->k->e[pos].rel, f->s) == 0;
}

static bool eq_memo(const void *c, uint32_t pos)
{
	const struct find_key *f = c;
	return strcmp(f->k->m[pos].key, f->s) == 0;
}

static uint32_t hash_str(const char *s)
{
	return rs_hash_bytes(s, strlen(s));
}

static void memo_clear(struct rs_host_cache *k)
{
	for (size_t i = 0; i < k->nm; i++) {
		if (k->m[i].drop)
			k->m[i].drop(k->m[i].obj);
		free(k->m[i].key);
	}
	k->nm = 0;
	rs_hidx_clear(&k->m_idx);
}

static void entry_clear(struct cached *c)
{
	for (size_t i = 0; i < c->nd; i++)
		if (c->d[i].drop)
			c->d[i].drop(c->d[i].obj);
	free(c->rel);
	free(c->buf);
	free(c->msg);
	memset(c, 0, sizeof(*c));
}

void rs_host_forget(const struct rs_host *h)
{
	struct rs_host_cache *k = h ? h->cache : NULL;

	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		entry_clear(&k->e[i]);
	k->n = 0;
	rs_hidx_clear(&k->e_idx);
	memo_clear(k);
}

void rs_host_cache_free(struct rs_host_cache *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		entry_clear(&k->e[i]);
	rs_hidx_clear(&k->e_idx);
	memo_clear(k);
	free(k->e);
	free(k->m);
	free(k);
}

static struct cached *entry_find(const struct rs_host *h, const char *rel)
{
	struct rs_host_cache *k = h->cache;
	struct find_key f = {k, rel};

	if (!k)
		return NULL;
	int64_t i = rs_hidx_find(&k->e_idx, hash_str(rel), eq_entry, &f);
	return i < 0 ? NULL : &k->e[i];
}

/* (Re)reads rel into its entry, made when absent. */
static struct cached *entry_load(const struct rs_host *h, struct cached *c, const char *rel,
				 size_t max)
{
	struct rs_error *e = NULL;

	if (!c) {
		/* the handle is const for its readers: the cache is not the host */
		struct rs_host *mh = (struct rs_host *)h;
		if (!mh->cache)
			mh->cache = rs_xcalloc(1, sizeof(*mh->cache));
		struct rs_host_cache *k = mh->cache;
		if (k->n == k->cap || !k->e) {
			k->cap = k->cap ? 2 * k->cap : 16;
			k->e = rs_xrealloc(k->e, k->cap * sizeof(*k->e));
		}
		k->e[k->n] = (struct cached){.rel = rs_xstrdup(rel)};
		rs_hidx_add(&k->e_idx, hash_str(rel), (uint32_t)k->n);
		c = &k->e[k->n++];
	}
	free(c->buf);
	free(c->msg);
	c->buf = c->msg = NULL;
	c->max = max;
	c->err = rs_host_read(h, rel, max, &c->buf, &c->len, &e);
	if (c->err < 0)
		c->msg = rs_xstrdup(e ? e->msg : strerror(-c->err));
	rs_error_free(e);
	return c;
}

int rs_host_read_cached(const struct rs_host *h, const char *rel, size_t max, const char **buf,
			size_t *len, struct rs_error **err)
{
	rel = rs_host_rel(rel);
	struct cached *c = entry_find(h, rel);

	/* a file too large for a smaller cap may fit a larger one */
	if (!c || (c->err == -EFBIG && max > c->max))
		c = entry_load(h, c, rel, max);
	if (c->err < 0)
		return rs_error_setx(err, -c->err, "%s", c->msg);
	if (c->len > max)
		return rs_error_setx(err, EFBIG, "cannot read '/%s': larger than %zu bytes", rel,
				     max);
	*buf = c->buf;
	*len = c->len;
	return 0;
}

void *rs_host_cached_obj(const struct rs_host *h, const char *rel, const char *kind)
{
	struct cached *c = entry_find(h, rs_host_rel(rel));

	for (size_t i = 0; c && i < c->nd; i++)
		if (strcmp(c->d[i].kind, kind) == 0)
			return c->d[i].obj;
	return NULL;
}

void rs_host_cached_keep(const struct rs_host *h, const char *rel, const char *kind, void *obj,
			 void (*drop)(void *))
{
	struct cached *c = entry_find(h, rs_host_rel(rel));

	if (!c || c->nd == ARRAY_SIZE(c->d)) {
		if (drop)
			drop(obj);
		return;
	}
	c->d[c->nd++] = (struct derived){.kind = kind, .obj = obj, .drop = drop};
}

struct stat_memo {
	int r;
	struct stat st;
};

int rs_host_stat_host(const struct rs_host *h, const char *rel, struct stat *st, bool nofollow)
{
	_cleanup_free_ char *key = rs_xasprintf("stat%s:%s", nofollow ? "-l" : "",
						rs_host_rel(rel));
	struct stat_memo *m = rs_host_memo(h, key);

	if (!m) {
		m = rs_xcalloc(1, sizeof(*m));
		m->r = rs_host_stat(h, rel, &m->st, nofollow);
		rs_host_memo_keep(h, key, m, free);
	}
	if (m->r == 0)
		*st = m->st;
	return m->r;
}

bool rs_host_exists_host(const struct rs_host *h, const char *rel)
{
	struct stat st;
	return rs_host_stat_host(h, rel, &st, true) == 0;
}

void *rs_host_memo(const struct rs_host *h, const char *key)
{
	struct rs_host_cache *k = h->cache;
	struct find_key f = {k, key};

	if (!k)
		return NULL;
	int64_t i = rs_hidx_find(&k->m_idx, hash_str(key), eq_memo, &f);
	return i < 0 ? NULL : k->m[i].obj;
}

void rs_host_memo_keep(const struct rs_host *h, const char *key, void *obj, void (*drop)(void *))
{
	struct rs_host *mh = (struct rs_host *)h;

	if (!mh->cache)
		mh->cache = rs_xcalloc(1, sizeof(*mh->cache));
	struct rs_host_cache *k = mh->cache;
	if (k->nm == k->mcap) {
		k->mcap = k->mcap ? 2 * k->mcap : 16;
		k->m = rs_xrealloc(k->m, k->mcap * sizeof(*k->m));
	}
	k->m[k->nm] = (struct memo){.key = rs_xstrdup(key), .obj = obj, .drop = drop};
	rs_hidx_add(&k->m_idx, hash_str(key), (uint32_t)k->nm++);
}
