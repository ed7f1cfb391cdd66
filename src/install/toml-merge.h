/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Our keys in a TOML file of the user's that has no drop-in directory
 * (Podman's storage.conf). A subset reader knows the file's tables and
 * keys well enough to say which of our keys are absent: headers, dotted
 * keys, every string form, arrays and inline tables (also across lines),
 * comments, CRLF. Only absent keys are added: into their table where it
 * exists, else as a new table at the end; every other byte is kept. What
 * was added is what uninstall takes out again, each key only while it
 * holds our value. A file this reader cannot follow is refused, never
 * rewritten. Pure functions: no I/O, fuzzed (tests/fuzz/fuzz-tomlmerge.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include "lib/error.h"

/* One key we added. */
struct rs_toml_key {
	char *table;  /* dotted bare names: "storage.options.overlay" */
	char *key;    /* bare name: "mount_program" */
	char *value;  /* TOML value text: "\"overlay\"" */
	bool header;  /* the table's header line was added too */
	char *before; /* with header: the line breaks added before it */
};

struct rs_toml_keys {
	struct rs_toml_key *v;
	size_t n;
};

struct rs_toml_merge {
	char *text; /* the new file (NUL-terminated) */
	size_t len;
	struct rs_toml_keys added; /* in the order added */
	char *conflicts;	   /* "storage.driver, ...": the user's value kept; "" */
};

/* old[len] with every key of ours (a TOML document of our own: tables and
 * simple keys) that old lacks. Return: 0, or -EINVAL (refused: *err says
 * why on one line, out->text NULL). */
int rs_toml_merge(const char *old, size_t len, const char *ours, struct rs_toml_merge *out,
		  struct rs_error **err);

struct rs_toml_unmerge {
	char *text; /* the new file */
	size_t len;
	bool changed;
	char *removed; /* "storage.driver, ..." or "" */
	char *kept;    /* keys changed since: kept */
	/* refused: why (one line); a buffer, not an rs_error, because
	 * uninstall unmerges in a child acting as the user (rs_as_user) */
	char msg[160];
};

/* cur[len] without the keys of keys that still hold their value (a header
 * added with them goes too when its table is then empty, with the line
 * breaks put before it). Return: 0 or -EINVAL (refused: out->msg). */
int rs_toml_unmerge(const char *cur, size_t len, const struct rs_toml_keys *keys,
		    struct rs_toml_unmerge *out);

/* Whether s is a dotted run of bare TOML names (what a record may name). */
bool rs_toml_bare_path(const char *s);

void rs_toml_keys_push(struct rs_toml_keys *k, const char *table, const char *key,
		       const char *value, bool header, const char *before);
void rs_toml_keys_clear(struct rs_toml_keys *k);
void rs_toml_merge_clear(struct rs_toml_merge *m);
void rs_toml_unmerge_clear(struct rs_toml_unmerge *u);
