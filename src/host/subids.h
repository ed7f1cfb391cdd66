/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include "host/host.h"
#include "host/parse.h"

/*
 * etc/subuid or etc/subgid of a host, parsed once and indexed by owner and
 * by start, kept with the handle's cache (host/cache.c): the ranges of one
 * user and the ranges that overlap one range, without a pass over the file
 * for each user of a fleet.
 */
struct rs_subids {
	struct rs_subid_file f; /* in file order */
	void *idx;		/* subids.c */
};

/* The index of rel ("etc/subuid"). Return: 0, or -errno with *err as
 * rs_host_read says it (-ENOENT when absent). */
int rs_subids_get(const struct rs_host *h, const char *rel, const struct rs_subids **out,
		  struct rs_error **err);
/* The positions (in f.r) of the ranges whose owner is name, or the decimal
 * uid id (newuidmap matches both, as numbers: CVE-2021-3995), ascending.
 * Return: the count; *pos is the caller's to free. */
size_t rs_subids_of(const struct rs_subids *s, const char *name, uint32_t id, uint32_t **pos);
/* The same for several names (a uid's names in etc/passwd) and id, each
 * range once. */
size_t rs_subids_of_any(const struct rs_subids *s, const struct rs_strv *names, uint32_t id,
			uint32_t **pos);
/* The positions of the ranges overlapping f.r[i] (i itself left out),
 * ascending. Return: the count; *pos is the caller's to free. */
size_t rs_subids_overlapping(const struct rs_subids *s, size_t i, uint32_t **pos);
/* Every owner in file order, each name once. Return: the count; *pos are
 * positions of each owner's first range, the caller's to free. */
size_t rs_subids_owners(const struct rs_subids *s, uint32_t **pos);

/* Larger files are refused (64 MiB: a million ranges). */
#define RS_SUBIDS_MAX (64u << 20)
