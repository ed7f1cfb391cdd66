/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The TOML subset reader behind toml-merge.c: the file as a stream of table
 * headers and key/value lines with their byte ranges, nothing decoded but
 * names, and nothing kept but the current section's name (a 16 MiB file of
 * short lines cost ~450 MiB as a list of items). Values are only delimited (strings of all four kinds, arrays and
 * inline tables, also across lines, comments inside arrays); whatever else
 * stands on a line is a refusal. Names are kept with their parts joined by
 * RS_TOML_SEP (a quoted name may hold a '.'); a quoted name with an escape
 * is refused (its meaning would need decoding).
 */
#include <stdbool.h>
#include <stddef.h>

#define RS_TOML_SEP '\x1f'

enum rs_toml_kind { RS_TI_TABLE, RS_TI_ARRAY, RS_TI_KV };

/* One item, valid during the callback only (nothing is kept per item: the
 * memory of a scan does not grow with the file). */
struct rs_toml_item {
	enum rs_toml_kind kind;
	size_t start, end;   /* from the line's start to after its line break (or EOF) */
	const char *path;    /* header: its name; KV: the key, relative to its section */
	size_t plen;	     /* strlen(path) */
	const char *sect;    /* KV: its section's header name; NULL before any header */
	size_t slen;	     /* strlen(sect) */
	size_t vstart, vend; /* KV: the value's text */
	bool eol;	     /* the item's last line ends with a line break */
};

typedef void (*rs_toml_item_fn)(void *arg, const struct rs_toml_item *it);

struct rs_toml_scan {
	bool crlf; /* the first line break is CRLF */
	char msg[160];
};

/* Reads b[0..len) once, calling fn for each header and key/value line in
 * file order. The whole text is read even when fn has what it wanted, so
 * a file the reader cannot follow is always refused. Return: 0, or -EINVAL
 * with out->msg ("line N: what"): fn's findings are then void. */
int rs_toml_scan(const char *b, size_t len, rs_toml_item_fn fn, void *arg,
		 struct rs_toml_scan *out);

enum rs_toml_rel { RS_REL_NONE, RS_REL_EQUAL, RS_REL_ABOVE, RS_REL_BELOW };
/* How the full path of item it relates to path t: equal, a proper prefix of
 * it (above: t lies inside the item), or below it. */
enum rs_toml_rel rs_toml_relation(const struct rs_toml_item *it, const char *t);
/* The same for a bare path s[0..n) (a section's name). */
enum rs_toml_rel rs_toml_path_relation(const char *s, size_t n, const char *t);
