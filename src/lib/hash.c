/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include "lib/hash.h"
#include "lib/xalloc.h"

uint32_t rs_hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

int64_t rs_hidx_find(const struct rs_hidx *t, uint32_t hash, rs_hidx_eq eq, const void *ctx)
{
	if (!t->cap)
		return -1;
	for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		const struct rs_hslot *s = &t->slot[i];
		if (!s->pos1)
			return -1;
		if (s->hash == hash && eq(ctx, s->pos1 - 1))
			return s->pos1 - 1;
	}
}

static void put(struct rs_hslot *slot, size_t cap, struct rs_hslot v)
{
	size_t i = v.hash & (cap - 1);
	while (slot[i].pos1)
		i = (i + 1) & (cap - 1);
	slot[i] = v;
}

void rs_hidx_add(struct rs_hidx *t, uint32_t hash, uint32_t pos)
{
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct rs_hslot *s = rs_xcalloc(cap, sizeof(*s));
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].pos1)
				put(s, cap, t->slot[i]);
		free(t->slot);
		t->slot = s;
		t->cap = cap;
	}
	put(t->slot, t->cap, (struct rs_hslot){.hash = hash, .pos1 = pos + 1});
	t->n++;
}

void rs_hidx_clear(struct rs_hidx *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
