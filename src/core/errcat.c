/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "core/engine.h"
#include "core/errcat.h"
#include "core/rule.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

/*
 * Rule ids the catalogue may name before the rule table has them: the
 * rules of issue 21 that another change adds. An entry naming one still
 * matches; diagnose reports the rule as "not in this build" instead of
 * running it. Once the table has them this list is empty and the check
 * is strict again.
 */
const char *const rs_errcat_pending_rules[] = {
	"subid.keys",	   "storage.fuse",	 "userns.nnp",
	"userns.nested",   "podman.migrate",	 "cgroup.dbus",
	"engine.conflict", "kvm.virtualization", NULL,
};

#define MIN_ANCHOR 6   /* a pattern's longest literal run: shorter ones match too much */
#define MAX_TEXT   400 /* cause, fix, next: one line a person reads */
#define MAX_ID	   48

bool rs_errcat_rule_known(const struct rs_ruleset *set, const char *id)
{
	if (!id)
		return false;
	if (rs_rule_find(set, id))
		return true;
	for (const char *const *p = rs_errcat_pending_rules; *p; p++)
		if (strcmp(*p, id) == 0)
			return true;
	return false;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > MAX_ID || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

/* Text shown to people: one line, no control characters, printable as it is. */
static bool plain_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && rs_is_clean(s) && !strpbrk(s, "\t\n\r");
}

static bool valid_url(const char *s)
{
	return rs_startswith(s, "https://") && strlen(s) > 12 && plain_text(s, 300) &&
	       !strpbrk(s, " \"'<>\\");
}

struct where {
	const char *file, *id;
};

static int bad(struct rs_error **err, const struct where *w, const char *key, const char *what)
{
	return rs_error_setx(err, EINVAL, "errors '%s': entry '%s': %s: %s", w->file,
			     w->id ? w->id : "?", key, what);
}

static const char *const entry_keys[] = {"id",	 "patterns", "engines", "rules",   "cause", "fix",
					 "next", "docs",     "sources", "generic", NULL};

static int check_keys(const json_t *e, const struct where *w, struct rs_error **err)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)e, key, v) {
		const char *const *k = entry_keys;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return bad(err, w, key, "unknown key");
	}
	return 0;
}

/* An array of strings (min entries at least) as a NULL-terminated vector
 * into the document; each checked by ok() when given. */
static int strings(const json_t *a, size_t min, bool (*ok)(const char *), const char ***out,
		   size_t *n, const struct where *w, const char *key, struct rs_error **err)
{
	size_t i;
	json_t *x;

	if (!json_is_array(a) || json_array_size(a) < min)
		return bad(err, w, key,
			   min ? "wants a non-empty array of strings"
			       : "wants an array of strings");
	*out = rs_xcalloc(json_array_size(a) + 1, sizeof(char *));
	*n = json_array_size(a);
	json_array_foreach (a, i, x) {
		const char *s = json_string_value(x);
		if (!s || (ok && !ok(s)))
			return bad(err, w, key, s ? s : "not a string");
		for (size_t j = 0; j < i; j++)
			if (strcmp((*out)[j], s) == 0)
				return bad(err, w, key, "named twice");
		(*out)[i] = s;
	}
	return 0;
}

static int compile_patterns(struct rs_errcat_entry *e, const json_t *a, const struct where *w,
			    struct rs_error **err)
{
	const char **src = NULL;
	int r = strings(a, 1, NULL, &src, &e->npat, w, "patterns", err);

	e->pat = rs_xcalloc(e->npat + 1, sizeof(struct rs_errcat_pattern));
	for (size_t i = 0; src && i < e->npat; i++)
		e->pat[i].src = src[i];
	free(src);
	if (r < 0)
		return r;
	for (size_t i = 0; i < e->npat; i++) {
		const char *why = NULL;
		size_t alen;
		if (rs_pattern_compile(e->pat[i].src, strlen(e->pat[i].src), &e->pat[i].p, &why) <
		    0)
			return rs_error_setx(err, EINVAL,
					     "errors '%s': entry '%s': pattern '%s': %s", w->file,
					     w->id, e->pat[i].src, why);
		rs_pattern_anchor(e->pat[i].p, &alen);
		if (alen < MIN_ANCHOR)
			return rs_error_setx(err, EINVAL,
					     "errors '%s': entry '%s': pattern '%s': its longest "
					     "literal text is under %d bytes",
					     w->file, w->id, e->pat[i].src, MIN_ANCHOR);
	}
	return 0;
}

static int engines_of(struct rs_errcat_entry *e, const json_t *a, const struct where *w,
		      struct rs_error **err)
{
	size_t i;
	json_t *x;
	unsigned m;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return bad(err, w, "engines", "wants a non-empty array");
	json_array_foreach (a, i, x) {
		const char *s = json_string_value(x);
		if (s && strcmp(s, "*") == 0 && json_array_size(a) == 1)
			m = RS_ENGINES_ALL;
		else if (!s || strcmp(s, "all") == 0 || rs_engine_parse(s, &m) < 0)
			return bad(err, w, "engines", s ? s : "not a string");
		e->engines |= m;
	}
	return 0;
}

/* The shape of a rule id ("subid.ranges", "userns.nnp"): the catalogue
 * names rules by id, the table that knows them is the checks layer's
 * (rs_errcat_rule_known; check-unit holds the embedded catalogue to it)
 * and a diagnosis reports an id it does not know as missing. */
static bool rule_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	if (!dot || dot == s || !dot[1] || strlen(s) > MAX_ID)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '.'))
			return false;
	return true;
}

static bool url_ok(const char *s)
{
	return valid_url(s);
}

static int text_field(const json_t *obj, const char *key, bool need, const char **out,
		      const struct where *w, struct rs_error **err)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return need ? bad(err, w, key, "missing") : 0;
	if (!json_is_string(v) || !plain_text(json_string_value(v), MAX_TEXT))
		return bad(err, w, key, "wants one line of printable text");
	*out = json_string_value(v);
	return 0;
}

static int entry_fields(struct rs_errcat_entry *e, const json_t *o, const struct where *w,
			struct rs_error **err)
{
	const json_t *g = json_object_get(o, "generic");
	int r;

	if ((r = check_keys(o, w, err)) < 0 ||
	    (r = compile_patterns(e, json_object_get(o, "patterns"), w, err)) < 0 ||
	    (r = engines_of(e, json_object_get(o, "engines"), w, err)) < 0 ||
	    (r = strings(json_object_get(o, "rules"), 0, rule_ok, &e->rules, &e->nrules, w, "rules",
			 err)) < 0 ||
	    (r = strings(json_object_get(o, "sources"), 1, url_ok, &e->sources, &e->nsources, w,
			 "sources", err)) < 0 ||
	    (r = text_field(o, "cause", true, &e->cause, w, err)) < 0 ||
	    (r = text_field(o, "fix", e->nrules == 0, &e->fix, w, err)) < 0 ||
	    (r = text_field(o, "next", false, &e->next, w, err)) < 0 ||
	    (r = text_field(o, "docs", false, &e->docs, w, err)) < 0)
		return r;
	if (e->docs && !valid_url(e->docs))
		return bad(err, w, "docs", "wants an https URL");
	if (g && !json_is_boolean(g))
		return bad(err, w, "generic", "wants true or false");
	e->generic = json_is_true(g);
	return 0;
}

static void entry_clear(struct rs_errcat_entry *e)
{
	for (size_t i = 0; e->pat && i < e->npat; i++)
		rs_pattern_free(e->pat[i].p);
	free(e->pat);
	free(e->rules);
	free(e->sources);
	memset(e, 0, sizeof(*e));
}

static int add_entry(struct rs_errcat *cat, const json_t *o, const char *name,
		     struct rs_error **err)
{
	struct where w = {.file = name};
	const char *id = json_string_value(json_object_get(o, "id"));

	if (!json_is_object(o) || !id || !valid_id(id))
		return rs_error_setx(err, EINVAL,
				     "errors '%s': an entry without a valid 'id' ([a-z0-9-])",
				     name);
	w.id = id;
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->e[i].id, id) == 0)
			return bad(err, &w, "id", "used twice");
	struct rs_errcat_entry e = {.id = id, .file = name};
	int r = entry_fields(&e, o, &w, err);
	if (r < 0) {
		entry_clear(&e);
		return r;
	}
	cat->e = rs_xrealloc(cat->e, (cat->n + 1) * sizeof(*cat->e));
	cat->e[cat->n++] = e;
	return 0;
}

int rs_errcat_add(struct rs_errcat *cat, json_t *doc, const char *name, struct rs_error **err)
{
	const char *key;
	json_t *v, *errors;
	size_t i;

	if (!cat->docs)
		cat->docs = json_array();
	json_array_append_new(cat->docs, doc);
	if (!json_is_object(doc) || !rs_streq(json_string_value(json_object_get(doc, "schema")),
					      "rootless-setup/errors/v1"))
		return rs_error_setx(err, EINVAL,
				     "errors '%s': not a rootless-setup/errors/v1 document", name);
	json_object_foreach (doc, key, v) {
		if (strcmp(key, "schema") && strcmp(key, "errors"))
			return rs_error_setx(err, EINVAL, "errors '%s': unknown key '%s'", name,
					     key);
	}
	errors = json_object_get(doc, "errors");
	if (!json_is_array(errors) || json_array_size(errors) == 0)
		return rs_error_setx(err, EINVAL, "errors '%s': 'errors' wants a non-empty array",
				     name);
	json_array_foreach (errors, i, v) {
		int r = add_entry(cat, v, name, err);
		if (r < 0)
			return r;
	}
	return 0;
}

void rs_errcat_clear(struct rs_errcat *cat)
{
	for (size_t i = 0; i < cat->n; i++)
		entry_clear(&cat->e[i]);
	free(cat->e);
	json_decref(cat->docs);
	memset(cat, 0, sizeof(*cat));
}

static struct rs_errcat cached;
static bool loaded;

static void cache_free(void)
{
	rs_errcat_clear(&cached);
}

int rs_errcat_get(const struct rs_errcat **out, struct rs_error **err)
{
	if (!loaded) {
		for (const struct rs_errcat_blob *b = rs_errcat_blobs; b->id; b++) {
			json_error_t jerr;
			json_t *doc = json_loadb(b->json, b->len, JSON_REJECT_DUPLICATES, &jerr);
			int r = doc ? rs_errcat_add(&cached, doc, b->id, err)
				    : rs_error_setx(err, EINVAL, "errors '%s': line %d: %s", b->id,
						    jerr.line, jerr.text);
			if (r < 0) {
				rs_errcat_clear(&cached);
				return r;
			}
		}
		loaded = true;
		atexit(cache_free);
	}
	*out = &cached;
	return 0;
}
