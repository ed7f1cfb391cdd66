/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * diagnose: from an error text to the rule that explains it on this host.
 * The text is matched against the catalogue (core/errcat.h); the rules the
 * matches implicate are run live for the user (core/check.h), and the first
 * of them that warns or fails now is the cause here. The verb reads the text
 * (arguments, standard input, a log, the unit's journal as the user) and
 * prints; install uses the matching alone on a unit that did not come up.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "core/check.h"
#include "core/errcat.h"

/* What diagnose reads at most: the last RS_DIAG_INPUT_MAX bytes of up to
 * RS_DIAG_READ_MAX read (the error is mostly at the end of a log). */
#define RS_DIAG_INPUT_MAX (1u << 20)
#define RS_DIAG_READ_MAX  (64u << 20)
/* A line longer than this is matched on its first RS_DIAG_LINE_MAX bytes. */
#define RS_DIAG_LINE_MAX (64u << 10)
/* The excerpt of a matched line shown: at most this many bytes. */
#define RS_DIAG_EXCERPT_MAX 240

struct rs_diag_match {
	const struct rs_errcat_entry *entry;
	size_t line;	    /* first line matched, from 1 */
	size_t hits;	    /* lines matched */
	size_t specificity; /* literal characters of its best pattern that matched */
	char *excerpt;	    /* that first line, trimmed and bounded (raw bytes) */
};

struct rs_diag_scan {
	struct rs_diag_match *m; /* best first */
	size_t n;
	size_t lines; /* lines read */
};

/* Matches text against the catalogue; engines (a mask, 0 for all) leaves
 * out entries of no engine in it. Return: 0 or <0 with *err (the catalogue
 * is invalid). */
int rs_diag_scan(const char *text, size_t len, unsigned engines, struct rs_diag_scan **out,
		 struct rs_error **err);
void rs_diag_scan_free(struct rs_diag_scan *s);

enum rs_diag_verdict {
	RS_DIAG_UNRECOGNISED, /* nothing matched (exit 4) */
	RS_DIAG_FAILS_NOW,    /* an implicated rule warns or fails now (exit 1) */
	RS_DIAG_NOT_HERE,     /* every implicated rule passes: not this cause here */
	RS_DIAG_INCOMPLETE,   /* none fails, but some could not be checked (skip) */
	RS_DIAG_BY_HAND,      /* the best match has no rule: its fix says what to do */
};

struct rs_diagnosis {
	struct rs_diag_scan *scan;
	struct rs_strv rules;	  /* implicated rules of this build, best match's first */
	struct rs_strv missing;	  /* implicated rule ids this build does not have */
	struct rs_strv unchecked; /* implicated rules that skipped (no user, no engine) */
	struct rs_report *report; /* the live check; NULL when no rule is implicated */
	enum rs_diag_verdict verdict;
	const struct rs_result *culprit;	   /* FAILS_NOW: the rule */
	const struct rs_diag_match *culprit_match; /* the match that implicated it */
};

/* Scans text, runs the implicated rules with o (engines inferred from the
 * matches when o names none) and judges. Return: 0, or <0 with *err as
 * rs_check_run (a user or distro that does not exist: input). */
int rs_diagnose(const struct rs_check_opts *o, const char *text, size_t len,
		struct rs_diagnosis **out, struct rs_error **err);
/* The verdict of d->scan against the results in ctx (NULL: nothing was
 * checked): fills d's rules, unchecked, culprit and verdict. install uses
 * it on its own check; rs_diag_judge_clear then frees what it filled. */
void rs_diag_judge(struct rs_diagnosis *d, const struct rs_ctx *ctx);
void rs_diag_judge_clear(struct rs_diagnosis *d);
void rs_diagnosis_free(struct rs_diagnosis *d);

/* Where the text came from, for the JSON document. */
struct rs_diag_input {
	const char *source; /* "arguments", "stdin", "file", "unit" */
	const char *name;   /* the file or unit, or NULL */
	size_t bytes;	    /* bytes matched */
	bool truncated;	    /* the beginning was left out (RS_DIAG_INPUT_MAX) */
};
/* The rootless-setup/diagnosis/v1 document (rootless-setup(8)); caller
 * decrefs. */
json_t *rs_diagnosis_json(const struct rs_diagnosis *d, const struct rs_diag_input *in);

/* The text of a log file, or of the engine's unit journal (journalctl
 * --user -u rootless-setup-ENGINE.service), read by a process with the
 * target user's credentials (o's user, as check resolves it), bounded in
 * size and time. The file is read only when it is a regular file. Return: 0
 * (*truncated when the beginning was left out), or <0 with *err. */
int rs_diag_read_log(const struct rs_check_opts *o, const char *path, char **text, size_t *len,
		     bool *truncated, struct rs_error **err);
int rs_diag_read_unit(const struct rs_check_opts *o, enum rs_engine e, char **text, size_t *len,
		      bool *truncated, struct rs_error **err);
/* "rootless-setup-ENGINE.service" (caller frees). */
char *rs_diag_unit_name(enum rs_engine e);
