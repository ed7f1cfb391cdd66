/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The TOML subset reader behind toml-merge.c: the file as a list of table
 * headers and key/value lines with their byte ranges, nothing decoded but
 * names. Values are only delimited (strings of all four kinds, arrays and
 * inline tables, also across lines, comments inside arrays); whatever else
 * stands on a line is a refusal. Names are kept with their parts joined by
 * RS_TOML_SEP (a quoted name may hold a '.'); a quoted name with an escape
 * is refused (its meaning would need decoding).
 */
#include <stdbool.h>
#include <stddef.h>

#define RS_TOML_SEP  '\x1f'
#define RS_TOML_ROOT ((size_t)-1)

enum rs_toml_kind { RS_TI_TABLE, RS_TI_ARRAY, RS_TI_KV };

struct rs_toml_item {
	enum rs_toml_kind kind;
	size_t start, end;   /* from the line's start to after its line break (or EOF) */
	char *path;	     /* header: its name; KV: the key, relative to its section */
	size_t plen;	     /* strlen(path) */
	size_t section;	     /* KV: the index of its header, or RS_TOML_ROOT */
	size_t vstart, vend; /* KV: the value's text */
	bool eol;	     /* the item's last line ends with a line break */
};

struct rs_toml_doc {
	struct rs_toml_item *it;
	size_t n, cap;
	bool crlf; /* the first line break is CRLF */
	char msg[160];
};

/* Return: 0, or -EINVAL with d->msg ("line N: what"). d is filled either
 * way; free it with rs_toml_doc_free. */
int rs_toml_doc_parse(const char *b, size_t len, struct rs_toml_doc *d);
void rs_toml_doc_free(struct rs_toml_doc *d);

enum rs_toml_rel { RS_REL_NONE, RS_REL_EQUAL, RS_REL_ABOVE, RS_REL_BELOW };
/* How the full path of item k relates to path t: equal, a proper prefix of
 * it (above: t lies inside the item), or below it. */
enum rs_toml_rel rs_toml_relation(const struct rs_toml_doc *d, size_t k, const char *t);
