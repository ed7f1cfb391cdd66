/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The catalogue of known errors `diagnose` recognises: data, not code. Each
 * file of data/errors/NAME.json (rootless-setup/errors/v1) is compiled in by
 * scripts/embed-data.sh and validated when first loaded; an entry names the
 * patterns (lib/pattern.h) that recognise an error, the engines it is seen
 * with, the rules that can see its cause on a host, the cause in one line,
 * a fix where no rule has one, and the public threads where users met it.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/error.h"
#include "lib/pattern.h"

struct rs_ruleset; /* core/rule.h */

struct rs_errcat_blob {
	const char *id; /* "subid" for data/errors/subid.json */
	const char *json;
	size_t len;
};
extern const struct rs_errcat_blob rs_errcat_blobs[];

struct rs_errcat_pattern {
	struct rs_pattern *p;
	const char *src;
};

struct rs_errcat_entry {
	const char *id;	  /* stable, [a-z0-9-], unique over every file */
	const char *file; /* the blob it came from */
	struct rs_errcat_pattern *pat;
	size_t npat;
	unsigned engines; /* RS_ENGINES_ALL for "*" */
	const char **rules;
	size_t nrules;
	const char *cause; /* one line */
	const char *fix;   /* by hand, where no rule says; NULL when the rules do */
	const char *next;  /* what to look at when every rule passes, or NULL */
	const char *docs;  /* upstream documentation, or NULL */
	const char **sources;
	size_t nsources;
	bool generic; /* a fallback: ranks below every specific entry */
};

struct rs_errcat {
	struct rs_errcat_entry *e;
	size_t n;
	json_t *docs; /* an array of the parsed files the entries' strings point into */
};

/* The embedded catalogue, parsed, validated and compiled on first use and
 * kept for the process. Return: 0, or -EINVAL with *err naming the file,
 * entry and key at fault (a bug of the build, exit 3). */
int rs_errcat_get(const struct rs_errcat **out, struct rs_error **err);
/* Parses and validates one document (name for messages) and appends its
 * entries to cat (cat owns doc from then on, also on failure). Ids must be
 * unique over cat. Return: 0 or -EINVAL with *err. */
int rs_errcat_add(struct rs_errcat *cat, json_t *doc, const char *name, struct rs_error **err);
void rs_errcat_clear(struct rs_errcat *cat);
/* A rule id an entry may name: one of set (checks/registry.h's rs_rules),
 * or one of rs_errcat_pending_rules (rules another change adds; listed
 * once, here). Loading checks an id's shape only: the core sees no rule
 * table; check-unit holds the embedded catalogue to this. */
bool rs_errcat_rule_known(const struct rs_ruleset *set, const char *id);
extern const char *const rs_errcat_pending_rules[];
