/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An index for lookups by key into an array the caller owns (the lines of
 * etc/passwd, the owners of etc/subuid): open addressing, linear probing,
 * slots holding a key's hash and the element's position. A fleet of
 * 10,000 users asks each question once per user, so a scan of the file
 * per question is quadratic; this makes it constant.
 */
struct rs_hidx {
	struct rs_hslot {
		uint32_t hash;
		uint32_t pos1; /* position + 1; 0: empty */
	} * slot;
	size_t cap; /* a power of two */
	size_t n;
};

/* FNV-1a over n bytes. */
uint32_t rs_hash_bytes(const void *p, size_t n);
static inline uint32_t rs_hash_u32(uint32_t v)
{
	return rs_hash_bytes(&v, sizeof(v));
}

/* The element at pos is the one sought (compares the key). */
typedef bool (*rs_hidx_eq)(const void *ctx, uint32_t pos);

/* An element added with this hash for which eq holds, or -1. Keys are
 * unique: a caller keeps the first of equal keys by finding before adding. */
int64_t rs_hidx_find(const struct rs_hidx *t, uint32_t hash, rs_hidx_eq eq, const void *ctx);
/* Adds pos under hash (no duplicate check). */
void rs_hidx_add(struct rs_hidx *t, uint32_t hash, uint32_t pos);
void rs_hidx_clear(struct rs_hidx *t);
