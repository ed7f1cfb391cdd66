/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "core/diagnose.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

/* The text split in lines once: every pattern's anchor is looked for in a
 * lower-cased copy of all of it (memmem), and only the lines that hold it
 * are matched, so a pattern costs a pass over the text, not one per line. */
struct lines {
	const char *text;
	char *low;
	size_t len;
	size_t *start; /* offset of each line */
	size_t n;
};

static void lines_init(struct lines *l, const char *text, size_t len)
{
	size_t cap = 64;

	l->text = text;
	l->len = len;
	l->low = rs_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		l->low[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a')
							     : text[i];
	l->low[len] = '\0';
	l->start = rs_xmalloc(cap * sizeof(size_t));
	l->n = 0;
	for (size_t i = 0; i < len || l->n == 0;) {
		if (l->n == cap)
			l->start = rs_xrealloc(l->start, (cap *= 2) * sizeof(size_t));
		l->start[l->n++] = i;
		const char *nl = memchr(text + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - text) + 1;
		if (i == len)
			break;
	}
}

static void lines_clear(struct lines *l)
{
	free(l->low);
	free(l->start);
}

/* The line holding offset off. */
static size_t line_of(const struct lines *l, size_t off)
{
	size_t lo = 0, hi = l->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->start[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Line i without its newline (and a carriage return before it), capped. */
static size_t line_len(const struct lines *l, size_t i)
{
	size_t end = i + 1 < l->n ? l->start[i + 1] - 1 : l->len;
	if (end > l->start[i] && l->text[end - 1] == '\n')
		end--; /* the last line's newline */
	size_t n = end - l->start[i];
	if (n && l->text[l->start[i] + n - 1] == '\r')
		n--;
	return n > RS_DIAG_LINE_MAX ? RS_DIAG_LINE_MAX : n;
}

static char *excerpt(const struct lines *l, size_t i)
{
	const char *s = l->text + l->start[i];
	size_t n = line_len(l, i);

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (n <= RS_DIAG_EXCERPT_MAX)
		return rs_xstrndup(s, n);
	_cleanup_free_ char *cut = rs_xstrndup(s, RS_DIAG_EXCERPT_MAX);
	return rs_xasprintf("%s...", cut);
}

/* Every line pattern p matches: calls hit(line) for each, in order. */
static void scan_pattern(const struct lines *l, const struct rs_pattern *p,
			 void (*hit)(void *, size_t), void *arg)
{
	size_t alen, off = 0;
	const char *a = rs_pattern_anchor(p, &alen);

	while (off < l->len) {
		const char *at = memmem(l->low + off, l->len - off, a, alen);
		if (!at)
			return;
		size_t i = line_of(l, (size_t)(at - l->low));
		if (rs_pattern_match(p, l->text + l->start[i], line_len(l, i), NULL))
			hit(arg, i);
		off = i + 1 < l->n ? l->start[i + 1] : l->len;
	}
}

struct hit_state {
	size_t *lines; /* every line a pattern of the entry matched */
	size_t n, cap;
	size_t literals, best;
};

static void on_hit(void *arg, size_t line)
{
	struct hit_state *h = arg;
	if (h->n == h->cap)
		h->lines = rs_xrealloc(h->lines,
				       (h->cap = h->cap ? 2 * h->cap : 8) * sizeof(size_t));
	h->lines[h->n++] = line;
	if (h->literals > h->best)
		h->best = h->literals;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static bool match_entry(const struct lines *l, const struct rs_errcat_entry *e,
			struct rs_diag_match *out)
{
	struct hit_state h = {0};

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < e->npat; k++) {
		h.literals = rs_pattern_literals(e->pat[k].p);
		scan_pattern(l, e->pat[k].p, on_hit, &h);
	}
	if (!h.n) {
		free(h.lines);
		return false;
	}
	/* a line two patterns of the entry match counts once */
	qsort(h.lines, h.n, sizeof(size_t), cmp_size);
	for (size_t i = 0; i < h.n; i++)
		out->hits += i == 0 || h.lines[i] != h.lines[i - 1];
	out->entry = e;
	out->line = h.lines[0] + 1;
	out->specificity = h.best;
	out->excerpt = excerpt(l, h.lines[0]);
	free(h.lines);
	return true;
}

/* Best first: a specific entry before a fallback, then the one whose
 * pattern says more, then the one seen first, then the catalogue's order. */
static int rank(const void *pa, const void *pb)
{
	const struct rs_diag_match *a = pa, *b = pb;
	if (a->entry->generic != b->entry->generic)
		return a->entry->generic ? 1 : -1;
	if (a->specificity != b->specificity)
		return a->specificity > b->specificity ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int rs_diag_scan(const char *text, size_t len, unsigned engines, struct rs_diag_scan **out,
		 struct rs_error **err)
{
	const struct rs_errcat *cat = NULL;
	struct lines l;
	int r = rs_errcat_get(&cat, err);

	*out = NULL;
	if (r < 0)
		return r;
	struct rs_diag_scan *s = rs_xcalloc(1, sizeof(*s));
	lines_init(&l, text, len);
	s->lines = len ? l.n : 0;
	s->m = rs_xcalloc(cat->n ? cat->n : 1, sizeof(*s->m));
	for (size_t i = 0; i < cat->n; i++) {
		if (engines && !(cat->e[i].engines & engines))
			continue;
		if (match_entry(&l, &cat->e[i], &s->m[s->n]))
			s->n++;
	}
	lines_clear(&l);
	qsort(s->m, s->n, sizeof(*s->m), rank);
	*out = s;
	return 0;
}

void rs_diag_scan_free(struct rs_diag_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].excerpt);
	free(s->m);
	free(s);
}

/* The rules the matches implicate, best match's first, each once. */
static void implicated(struct rs_diagnosis *d, const struct rs_ruleset *set)
{
	for (size_t i = 0; i < d->scan->n; i++) {
		const struct rs_errcat_entry *e = d->scan->m[i].entry;
		for (size_t k = 0; k < e->nrules; k++) {
			struct rs_strv *to = rs_rule_find(set, e->rules[k]) ? &d->rules
									    : &d->missing;
			if (!rs_strv_contains(to, e->rules[k]))
				rs_strv_push(to, e->rules[k]);
		}
	}
}

static const struct rs_diag_match *match_naming(const struct rs_diag_scan *s, const char *rule)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->m[i].entry->nrules; k++)
			if (strcmp(s->m[i].entry->rules[k], rule) == 0)
				return &s->m[i];
	return NULL;
}

void rs_diag_judge(struct rs_diagnosis *d, const struct rs_ctx *ctx)
{
	d->verdict = RS_DIAG_UNRECOGNISED;
	if (!d->scan || !d->scan->n)
		return;
	if (!d->rules.n && !d->missing.n && ctx)
		implicated(d, ctx->rules);
	for (size_t i = 0; ctx && i < d->rules.n; i++) {
		const struct rs_result *r = rs_ctx_result(ctx, d->rules.v[i]);
		if (!r)
			continue;
		if (r->f.status == RS_STATUS_SKIP && !rs_strv_contains(&d->unchecked, r->rule->id))
			rs_strv_push(&d->unchecked, r->rule->id);
		if (!d->culprit && r->f.status >= RS_STATUS_WARN) {
			d->culprit = r;
			d->culprit_match = match_naming(d->scan, r->rule->id);
		}
	}
	if (d->culprit)
		d->verdict = RS_DIAG_FAILS_NOW;
	else if (d->scan->m[0].entry->nrules == 0)
		d->verdict = RS_DIAG_BY_HAND;
	else if (d->unchecked.n)
		d->verdict = RS_DIAG_INCOMPLETE;
	else
		d->verdict = RS_DIAG_NOT_HERE;
}

/* Engines named by the matches (an entry of every engine names none). */
static unsigned match_engines(const struct rs_diag_scan *s)
{
	unsigned m = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].entry->engines != RS_ENGINES_ALL)
			m |= s->m[i].entry->engines;
	return m;
}

int rs_diagnose(const struct rs_check_opts *o, const char *text, size_t len,
		struct rs_diagnosis **out, struct rs_error **err)
{
	struct rs_diagnosis *d = rs_xcalloc(1, sizeof(*d));
	struct rs_check_opts co = *o;
	int r = rs_diag_scan(text, len, o->engines_given ? o->engines : 0, &d->scan, err);

	*out = NULL;
	if (r < 0) {
		rs_diagnosis_free(d);
		return r;
	}
	implicated(d, o->rules);
	if (d->rules.n) {
		unsigned m = match_engines(d->scan);
		if (!co.engines_given && m) {
			co.engines = m;
			co.engines_given = true;
		}
		co.only = (const char *const *)d->rules.v;
		r = rs_check_run(&co, &d->report, err);
		if (r < 0) {
			rs_diagnosis_free(d);
			return r;
		}
	}
	rs_diag_judge(d, d->report ? &d->report->ctx : NULL);
	*out = d;
	return 0;
}

void rs_diag_judge_clear(struct rs_diagnosis *d)
{
	rs_strv_clear(&d->rules);
	rs_strv_clear(&d->missing);
	rs_strv_clear(&d->unchecked);
}

void rs_diagnosis_free(struct rs_diagnosis *d)
{
	if (!d)
		return;
	rs_diag_scan_free(d->scan);
	rs_report_free(d->report);
	rs_diag_judge_clear(d);
	free(d);
}

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, rs_json_str(v[i]));
	return a;
}

static json_t *engines_json(unsigned mask)
{
	json_t *a = json_array();
	if (mask == RS_ENGINES_ALL)
		json_array_append_new(a, json_string("*"));
	for (unsigned e = 0; mask != RS_ENGINES_ALL && e < RS_ENGINE_COUNT; e++)
		if (mask & RS_ENGINE_BIT(e))
			json_array_append_new(a, json_string(rs_engine_name(e)));
	return a;
}

static json_t *match_json(const struct rs_diag_match *m)
{
	const struct rs_errcat_entry *e = m->entry;
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o}", "id", e->id,
			 "rules", str_array(e->rules, e->nrules), "cause", e->cause, "fix",
			 rs_json_str(e->fix), "next", rs_json_str(e->next), "docs",
			 rs_json_str(e->docs), "sources", str_array(e->sources, e->nsources),
			 "engines", engines_json(e->engines), "line", (json_int_t)m->line, "lines",
			 (json_int_t)m->hits, "excerpt", rs_json_str(m->excerpt));
}

static const char *verdict_name(enum rs_diag_verdict v)
{
	switch (v) {
	case RS_DIAG_FAILS_NOW:
		return "fails-now";
	case RS_DIAG_NOT_HERE:
		return "does-not-apply";
	case RS_DIAG_BY_HAND:
		return "by-hand";
	case RS_DIAG_INCOMPLETE:
		return "not-checked";
	case RS_DIAG_UNRECOGNISED:
		break;
	}
	return "unrecognised";
}

static json_t *verdict_json(const struct rs_diagnosis *d)
{
	const struct rs_diag_match *top = d->scan && d->scan->n ? &d->scan->m[0] : NULL;
	const struct rs_diag_match *m = d->culprit ? d->culprit_match : top;
	_cleanup_free_ char *fix = d->culprit ? rs_result_fix_cmd(d->culprit) : NULL;
	const char *text = NULL;

	if (top && d->verdict == RS_DIAG_BY_HAND)
		text = top->entry->fix;
	else if (top && (d->verdict == RS_DIAG_NOT_HERE || d->verdict == RS_DIAG_INCOMPLETE))
		text = top->entry->next;

	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "status", verdict_name(d->verdict),
			 "match", rs_json_str(m ? m->entry->id : NULL), "rule",
			 rs_json_str(d->culprit ? d->culprit->rule->id : NULL), "fix",
			 rs_json_str(fix), "text", rs_json_str(text), "unchecked",
			 str_array((const char *const *)d->unchecked.v, d->unchecked.n));
}

json_t *rs_diagnosis_json(const struct rs_diagnosis *d, const struct rs_diag_input *in)
{
	json_t *matches = json_array();
	for (size_t i = 0; d->scan && i < d->scan->n; i++)
		json_array_append_new(matches, match_json(&d->scan->m[i]));
	json_t *input = json_pack("{s:s, s:o, s:I, s:I, s:b}", "source", in->source, "name",
				  rs_json_str(in->name), "bytes", (json_int_t)in->bytes, "lines",
				  (json_int_t)(d->scan ? d->scan->lines : 0), "truncated",
				  in->truncated);
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
			 "rootless-setup/diagnosis/v1", "version", RS_VERSION, "input", input,
			 "host", d->report ? rs_report_host_json(d->report) : json_null(),
			 "engines", d->report ? rs_report_engines_json(d->report) : json_array(),
			 "matches", matches, "results",
			 d->report ? rs_report_results_json(d->report) : json_array(),
			 "missing_rules",
			 str_array((const char *const *)d->missing.v, d->missing.n), "verdict",
			 verdict_json(d));
}
