/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "host/subids.h"
#include "lib/hash.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

struct index {
	struct rs_hidx by_owner; /* an owner string's first range */
	struct rs_hidx by_id;	 /* a numeric owner's first range */
	uint32_t *next_owner;	 /* position + 1 of the same string's next range */
	uint32_t *next_id;	 /* position + 1 of the same number's next range */
	uint64_t *id;		 /* each owner as a number, or UINT64_MAX */
	uint32_t *order;	 /* positions sorted by start */
	uint64_t *maxend;	 /* the largest start + count of order[0..k] */
};

struct key {
	const struct rs_subids *s;
	const char *name;
	uint64_t id;
};

static struct index *ix(const struct rs_subids *s)
{
	return s->idx;
}

static bool eq_owner(const void *c, uint32_t i)
{
	const struct key *k = c;
	return strcmp(k->s->f.r[i].owner, k->name) == 0;
}

static bool eq_id(const void *c, uint32_t i)
{
	const struct key *k = c;
	return ix(k->s)->id[i] == k->id;
}

static const struct rs_subids *sort_ctx;

static int by_start(const void *a, const void *b)
{
	const struct rs_subid_range *x = &sort_ctx->f.r[*(const uint32_t *)a];
	const struct rs_subid_range *y = &sort_ctx->f.r[*(const uint32_t *)b];
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void build(struct rs_subids *s)
{
	size_t n = s->f.n;
	struct index *x = rs_xcalloc(1, sizeof(*x));
	/* the last range of each chain, so appending is constant */
	uint32_t *tail_owner = rs_xcalloc(n ? n : 1, sizeof(uint32_t));
	uint32_t *tail_id = rs_xcalloc(n ? n : 1, sizeof(uint32_t));

	s->idx = x;
	x->next_owner = rs_xcalloc(n ? n : 1, sizeof(uint32_t));
	x->next_id = rs_xcalloc(n ? n : 1, sizeof(uint32_t));
	x->id = rs_xmalloc((n ? n : 1) * sizeof(uint64_t));
	x->order = rs_xmalloc((n ? n : 1) * sizeof(uint32_t));
	x->maxend = rs_xmalloc((n ? n : 1) * sizeof(uint64_t));
	for (uint32_t i = 0; i < n; i++) {
		const char *o = s->f.r[i].owner;
		struct key k = {s, o, 0};
		uint32_t h = rs_hash_bytes(o, strlen(o));
		int64_t head = rs_hidx_find(&x->by_owner, h, eq_owner, &k);
		if (head < 0) {
			rs_hidx_add(&x->by_owner, h, i);
			tail_owner[i] = i;
		} else {
			x->next_owner[tail_owner[head]] = i + 1;
			tail_owner[head] = i;
		}
		if (rs_parse_u64(o, UINT32_MAX, &x->id[i]) < 0)
			x->id[i] = UINT64_MAX;
		if (x->id[i] != UINT64_MAX) {
			k.id = x->id[i];
			h = rs_hash_bytes(&k.id, sizeof(k.id));
			head = rs_hidx_find(&x->by_id, h, eq_id, &k);
			if (head < 0) {
				rs_hidx_add(&x->by_id, h, i);
				tail_id[i] = i;
			} else {
				x->next_id[tail_id[head]] = i + 1;
				tail_id[head] = i;
			}
		}
		x->order[i] = i;
	}
	free(tail_owner);
	free(tail_id);
	sort_ctx = s;
	qsort(x->order, n, sizeof(uint32_t), by_start);
	sort_ctx = NULL;
	for (size_t k = 0; k < n; k++) {
		const struct rs_subid_range *r = &s->f.r[x->order[k]];
		uint64_t end = r->start + r->count;
		x->maxend[k] = k && x->maxend[k - 1] > end ? x->maxend[k - 1] : end;
	}
}

static void subids_free(void *p)
{
	struct rs_subids *s = p;
	struct index *x = s ? s->idx : NULL;

	if (!s)
		return;
	if (x) {
		rs_hidx_clear(&x->by_owner);
		rs_hidx_clear(&x->by_id);
		free(x->next_owner);
		free(x->next_id);
		free(x->id);
		free(x->order);
		free(x->maxend);
		free(x);
	}
	rs_subid_clear(&s->f);
	free(s);
}

int rs_subids_get(const struct rs_host *h, const char *rel, const struct rs_subids **out,
		  struct rs_error **err)
{
	const char *buf;
	size_t len;
	int r = rs_host_read_cached(h, rel, RS_SUBIDS_MAX, &buf, &len, err);

	if (r < 0)
		return r;
	struct rs_subids *s = rs_host_cached_obj(h, rel, "subids");
	if (!s) {
		s = rs_xcalloc(1, sizeof(*s));
		rs_subid_parse(buf, len, &s->f);
		build(s);
		rs_host_cached_keep(h, rel, "subids", s, subids_free);
	}
	*out = s;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and drops repeats. Return: the new count. */
static size_t sort_unique(uint32_t *v, size_t n)
{
	size_t k = 0;
	qsort(v, n, sizeof(uint32_t), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

size_t rs_subids_of(const struct rs_subids *s, const char *name, uint32_t id, uint32_t **pos)
{
	const struct index *x = ix(s);
	struct key k = {s, name, id};
	size_t n = 0, cap = 8;
	uint32_t *v = rs_xmalloc(cap * sizeof(uint32_t));
	int64_t at = rs_hidx_find(&x->by_owner, rs_hash_bytes(name, strlen(name)), eq_owner, &k);

	for (; at >= 0; at = (int64_t)x->next_owner[at] - 1) {
		if (n == cap)
			v = rs_xrealloc(v, (cap *= 2) * sizeof(uint32_t));
		v[n++] = (uint32_t)at;
	}
	uint64_t id64 = id;
	at = rs_hidx_find(&x->by_id, rs_hash_bytes(&id64, sizeof(id64)), eq_id,
			  &(struct key){s, NULL, id64});
	for (; at >= 0; at = (int64_t)x->next_id[at] - 1) {
		if (n == cap)
			v = rs_xrealloc(v, (cap *= 2) * sizeof(uint32_t));
		v[n++] = (uint32_t)at;
	}
	*pos = v;
	return sort_unique(v, n);
}

size_t rs_subids_of_any(const struct rs_subids *s, const struct rs_strv *names, uint32_t id,
			uint32_t **pos)
{
	uint32_t *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < names->n; i++) {
		_cleanup_free_ uint32_t *p = NULL;
		size_t m = rs_subids_of(s, names->v[i], id, &p);
		v = rs_xrealloc(v, (n + m + 1) * sizeof(uint32_t));
		memcpy(v + n, p, m * sizeof(uint32_t));
		n += m;
	}
	if (!v)
		v = rs_xmalloc(sizeof(uint32_t));
	*pos = v;
	return sort_unique(v, n);
}

size_t rs_subids_overlapping(const struct rs_subids *s, size_t i, uint32_t **pos)
{
	const struct index *x = ix(s);
	const struct rs_subid_range *a = &s->f.r[i];
	uint64_t end = a->start + a->count;
	size_t lo = 0, hi = s->f.n, n = 0, cap = 4;
	uint32_t *v = rs_xmalloc(cap * sizeof(uint32_t));

	/* the ranges starting before a ends: order[0..lo) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->f.r[x->order[mid]].start < end)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* of those, the ones ending after a starts; none before the point
	 * where the largest end so far is at or below a's start */
	for (size_t k = lo; k-- > 0 && x->maxend[k] > a->start;) {
		const struct rs_subid_range *b = &s->f.r[x->order[k]];
		if (x->order[k] == i || b->start + b->count <= a->start)
			continue;
		if (n == cap)
			v = rs_xrealloc(v, (cap *= 2) * sizeof(uint32_t));
		v[n++] = x->order[k];
	}
	*pos = v;
	return sort_unique(v, n);
}

size_t rs_subids_owners(const struct rs_subids *s, uint32_t **pos)
{
	const struct index *x = ix(s);
	size_t n = 0;
	uint32_t *v = rs_xmalloc((s->f.n ? s->f.n : 1) * sizeof(uint32_t));

	for (uint32_t i = 0; i < s->f.n; i++) {
		const char *o = s->f.r[i].owner;
		struct key k = {s, o, 0};
		if (rs_hidx_find(&x->by_owner, rs_hash_bytes(o, strlen(o)), eq_owner, &k) == i)
			v[n++] = i;
	}
	*pos = v;
	return n;
}
