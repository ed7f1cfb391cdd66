/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "host/accounts.h"
#include "lib/hash.h"
#include "lib/xalloc.h"

struct member {
	struct rs_span name;
	uint32_t gid;
	uint32_t next; /* index + 1 of the same name's next membership; 0: none */
	uint32_t last; /* on a name's first membership: index + 1 of its last */
};

struct rs_accounts {
	struct rs_pwline *pw;
	uint32_t *pw_next; /* index + 1 of the next line of the same uid; 0: none */
	uint32_t *pw_last; /* on a uid's first line: index + 1 of its last */
	size_t npw, pwcap;
	struct rs_hidx pw_name, pw_uid;
	struct rs_grline *gr;
	size_t ngr, grcap;
	struct rs_hidx gr_name, gr_gid;
	struct member *mem;
	size_t nmem, memcap;
	struct rs_hidx mem_name; /* a name's first membership */
};

struct key {
	const struct rs_accounts *a;
	const char *s;
	size_t n;
	uint32_t id;
};

static bool span_is(struct rs_span sp, const char *s, size_t n)
{
	return sp.n == n && memcmp(sp.p, s, n) == 0;
}

static bool eq_pw_name(const void *c, uint32_t i)
{
	const struct key *k = c;
	return span_is(k->a->pw[i].name, k->s, k->n);
}

static bool eq_pw_uid(const void *c, uint32_t i)
{
	const struct key *k = c;
	return k->a->pw[i].uid == k->id;
}

static bool eq_gr_name(const void *c, uint32_t i)
{
	const struct key *k = c;
	return span_is(k->a->gr[i].name, k->s, k->n);
}

static bool eq_gr_gid(const void *c, uint32_t i)
{
	const struct key *k = c;
	return k->a->gr[i].gid == k->id;
}

static bool eq_mem(const void *c, uint32_t i)
{
	const struct key *k = c;
	return span_is(k->a->mem[i].name, k->s, k->n);
}

static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 64;
	return rs_xrealloc(v, *cap * size);
}

/* Adds pos to idx under the key in k unless an earlier line has it. */
static void index_first(struct rs_hidx *idx, uint32_t h, rs_hidx_eq eq, const struct key *k,
			uint32_t pos)
{
	if (rs_hidx_find(idx, h, eq, k) < 0)
		rs_hidx_add(idx, h, pos);
}

static void add_user(struct rs_accounts *a, const struct rs_pwline *e)
{
	uint32_t pos = (uint32_t)a->npw, h = rs_hash_u32(e->uid);
	size_t cap = a->pwcap;

	a->pw = grow(a->pw, a->npw, &a->pwcap, sizeof(*a->pw));
	if (a->pwcap != cap) {
		a->pw_next = rs_xrealloc(a->pw_next, a->pwcap * sizeof(uint32_t));
		a->pw_last = rs_xrealloc(a->pw_last, a->pwcap * sizeof(uint32_t));
	}
	a->pw[a->npw++] = *e;
	a->pw_next[pos] = 0;
	a->pw_last[pos] = pos + 1;
	struct key k = {a, e->name.p, e->name.n, e->uid};
	index_first(&a->pw_name, rs_hash_bytes(e->name.p, e->name.n), eq_pw_name, &k, pos);
	/* the uid's lines chained in file order: its other names (aliases) */
	int64_t first = rs_hidx_find(&a->pw_uid, h, eq_pw_uid, &k);
	if (first < 0) {
		rs_hidx_add(&a->pw_uid, h, pos);
		return;
	}
	a->pw_next[a->pw_last[first] - 1] = pos + 1;
	a->pw_last[first] = pos + 1;
}

static void add_member(struct rs_accounts *a, struct rs_span name, uint32_t gid)
{
	uint32_t pos = (uint32_t)a->nmem, h = rs_hash_bytes(name.p, name.n);
	struct key k = {a, name.p, name.n, 0};

	a->mem = grow(a->mem, a->nmem, &a->memcap, sizeof(*a->mem));
	a->mem[a->nmem++] = (struct member){.name = name, .gid = gid};
	int64_t first = rs_hidx_find(&a->mem_name, h, eq_mem, &k);
	if (first < 0) {
		rs_hidx_add(&a->mem_name, h, pos);
		a->mem[pos].last = pos + 1;
		return;
	}
	a->mem[a->mem[first].last - 1].next = pos + 1;
	a->mem[first].last = pos + 1;
}

static void add_group(struct rs_accounts *a, const struct rs_grline *e)
{
	uint32_t pos = (uint32_t)a->ngr;
	struct rs_span list = e->members, m;

	a->gr = grow(a->gr, a->ngr, &a->grcap, sizeof(*a->gr));
	a->gr[a->ngr++] = *e;
	struct key k = {a, e->name.p, e->name.n, e->gid};
	index_first(&a->gr_name, rs_hash_bytes(e->name.p, e->name.n), eq_gr_name, &k, pos);
	index_first(&a->gr_gid, rs_hash_u32(e->gid), eq_gr_gid, &k, pos);
	while (rs_group_member_next(&list, &m))
		add_member(a, m, e->gid);
}

/* Each line of buf to fn; lines need not end in a newline. */
static void each_line(struct rs_accounts *a, const char *buf, size_t len, bool group)
{
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct rs_pwline pw;
		struct rs_grline gr;
		if (!group && rs_passwd_line(buf + pos, n, &pw) == 0)
			add_user(a, &pw);
		else if (group && rs_group_line(buf + pos, n, &gr) == 0)
			add_group(a, &gr);
		pos += n + 1;
	}
}

static void accounts_free(void *p)
{
	struct rs_accounts *a = p;
	if (!a)
		return;
	rs_hidx_clear(&a->pw_name);
	rs_hidx_clear(&a->pw_uid);
	rs_hidx_clear(&a->gr_name);
	rs_hidx_clear(&a->gr_gid);
	rs_hidx_clear(&a->mem_name);
	free(a->pw);
	free(a->pw_next);
	free(a->pw_last);
	free(a->gr);
	free(a->mem);
	free(a);
}

int rs_accounts_get(const struct rs_host *h, const struct rs_accounts **out, struct rs_error **err)
{
	const char *pw, *gr;
	size_t pwlen, grlen;
	/* the file first: the index lives with its cache entry */
	int r = rs_host_read_cached(h, "etc/passwd", RS_ACCOUNTS_MAX, &pw, &pwlen, err);

	if (r < 0)
		return r;
	struct rs_accounts *a = rs_host_cached_obj(h, "etc/passwd", "accounts");
	if (a) {
		*out = a;
		return 0;
	}
	a = rs_xcalloc(1, sizeof(*a));
	each_line(a, pw, pwlen, false);
	if (rs_host_read_cached(h, "etc/group", RS_ACCOUNTS_MAX, &gr, &grlen, NULL) == 0)
		each_line(a, gr, grlen, true);
	rs_host_cached_keep(h, "etc/passwd", "accounts", a, accounts_free);
	*out = a;
	return 0;
}

const struct rs_pwline *rs_accounts_user(const struct rs_accounts *a, const char *name)
{
	struct key k = {a, name, strlen(name), 0};
	int64_t i = rs_hidx_find(&a->pw_name, rs_hash_bytes(name, k.n), eq_pw_name, &k);
	return i < 0 ? NULL : &a->pw[i];
}

const struct rs_pwline *rs_accounts_uid(const struct rs_accounts *a, uint32_t uid)
{
	struct key k = {a, NULL, 0, uid};
	int64_t i = rs_hidx_find(&a->pw_uid, rs_hash_u32(uid), eq_pw_uid, &k);
	return i < 0 ? NULL : &a->pw[i];
}

bool rs_accounts_group(const struct rs_accounts *a, const char *name, uint32_t *gid)
{
	struct key k = {a, name, strlen(name), 0};
	int64_t i = rs_hidx_find(&a->gr_name, rs_hash_bytes(name, k.n), eq_gr_name, &k);
	if (i >= 0)
		*gid = a->gr[i].gid;
	return i >= 0;
}

const struct rs_grline *rs_accounts_gid(const struct rs_accounts *a, uint32_t gid)
{
	struct key k = {a, NULL, 0, gid};
	int64_t i = rs_hidx_find(&a->gr_gid, rs_hash_u32(gid), eq_gr_gid, &k);
	return i < 0 ? NULL : &a->gr[i];
}

bool rs_accounts_member_of(const struct rs_accounts *a, const char *name, size_t *it, uint32_t *gid)
{
	if (*it == SIZE_MAX)
		return false;
	if (*it == 0) {
		struct key k = {a, name, strlen(name), 0};
		int64_t i = rs_hidx_find(&a->mem_name, rs_hash_bytes(name, k.n), eq_mem, &k);
		if (i < 0)
			return false;
		*it = (size_t)i + 1;
	} else {
		*it = a->mem[*it - 1].next;
		if (*it == 0) {
			*it = SIZE_MAX;
			return false;
		}
	}
	*gid = a->mem[*it - 1].gid;
	return true;
}

const struct rs_pwline *rs_accounts_uid_next(const struct rs_accounts *a, const struct rs_pwline *e)
{
	size_t i = (size_t)(e - a->pw);
	return i < a->npw && a->pw_next[i] ? &a->pw[a->pw_next[i] - 1] : NULL;
}

size_t rs_accounts_count(const struct rs_accounts *a)
{
	return a->npw;
}

const struct rs_pwline *rs_accounts_at(const struct rs_accounts *a, size_t i)
{
	return i < a->npw ? &a->pw[i] : NULL;
}
