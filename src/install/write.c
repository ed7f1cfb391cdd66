/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing generated files for the user: merged or left alone, never
 * silently replaced; owned by the user; through the safe-write module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "host/safewrite.h"
#include "lib/xalloc.h"
#include "install/record.h"
#include "install/templates.h"

uint64_t rs_gen_hash(const char *s)
{
	/* FNV-1a: change detection for the manifest, not security */
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Our keys into the user's own TOML file: those of the last install taken
 * out first (a decision may have changed since), then every missing one
 * added. Return: 0 with *out the text, or <0 (noted: left alone). */
static int merge_toml(struct rs_gen_ctx *f, const char *shown, const char *old, size_t len,
		      const char *ours, struct rs_gen_merged *mg, char **out)
{
	struct rs_toml_unmerge u = {0};
	struct rs_toml_merge m;
	bool prior = mg && mg->prior && mg->prior->n;

	if (prior && rs_toml_unmerge(old, len, mg->prior, &u) == 0) {
		old = u.text;
		len = u.len;
	}
	_cleanup_error_ struct rs_error *e = NULL;
	int r = rs_toml_merge(old, len, ours, &m, &e);
	rs_toml_unmerge_clear(&u);
	if (r < 0) {
		rs_action_add(&f->acts, "generate", "note", shown,
			      "not TOML this tool can follow (%s): left alone "
			      "(--force replaces it)",
			      e->msg)
			->failed = true;
		return r;
	}
	if (*m.conflicts)
		rs_action_add(&f->acts, "generate", "note", shown,
			      "your values kept for: %s (--force writes ours)", m.conflicts);
	if (mg) {
		mg->merged = true;
		mg->added = m.added;
		m.added = (struct rs_toml_keys){0};
	}
	*out = TAKE_PTR(m.text);
	rs_toml_merge_clear(&m);
	return 0;
}

/* The write's action: what it is to the user's file. */
static struct rs_action *write_action(struct rs_gen_ctx *f, const char *shown, bool existed,
				      const struct rs_gen_merged *mg)
{
	if (!mg || !mg->merged)
		return rs_action_add(&f->acts, "generate", "write", shown, "%s",
				     existed ? "updated" : "created");
	_cleanup_free_ char *keys = NULL;
	for (size_t i = 0; i < mg->added.n; i++) {
		_cleanup_free_ char *k = rs_xasprintf("%s.%s", mg->added.v[i].table,
						      mg->added.v[i].key);
		rs_list_add(&keys, ", ", k);
	}
	return rs_action_add(&f->acts, "generate", "write", shown, "yours, with our keys: %s",
			     keys ? keys : "none needed");
}

int rs_gen_write(struct rs_gen_ctx *f, const struct rs_host *h, const char *rel, const char *shown,
		 const struct rs_gen_file *gf, bool force, uid_t uid, gid_t gid,
		 struct rs_gen_merged *mg)
{
	_cleanup_free_ char *old = NULL, *merged = NULL, *conflicts = NULL, *dir = rs_xstrdup(rel);
	struct rs_error *e = NULL;
	size_t len;
	const char *text = gf->text;
	char *slash = strrchr(dir, '/');
	struct rs_action *a;

	if (rs_safe_read(h, rel, 16u << 20, &old, &len, &e) < 0) {
		a = rs_action_add(&f->acts, "generate", "note", shown, "%s", e->msg);
		a->failed = true;
		rs_error_free(e);
		return -EINVAL;
	}
	/* a file install wrote whole and nobody changed since is ours to replace */
	bool ours = old && gf->toml_keys && mg && mg->prior_hash &&
		    !strcmp(rs_record_hash(old), mg->prior_hash);
	bool differs = old && strcmp(old, text) && !force && !ours;
	if (differs && gf->json) {
		merged = rs_gen_merge_json(old, text, &conflicts);
		if (!merged) {
			rs_action_add(&f->acts, "generate", "note", shown,
				      "not a JSON object: left alone "
				      "(--force replaces it)")
				->failed = true;
			return -EINVAL;
		}
		if (*conflicts)
			rs_action_add(&f->acts, "generate", "note", shown,
				      "your values kept for: %s "
				      "(--force writes ours)",
				      conflicts);
		text = merged;
	} else if (differs && gf->toml_keys) {
		/* no drop-in directory: our missing keys into the user's file */
		if (merge_toml(f, shown, old, len, text, mg, &merged) < 0)
			return -EINVAL;
		text = merged;
	} else if (differs) {
		rs_action_add(&f->acts, "generate", "note", shown,
			      "exists and differs: left alone "
			      "(--force replaces it)")
			->failed = true;
		return -EEXIST;
	}
	int r = 0;
	if (slash) {
		*slash = '\0';
		r = rs_safe_mkdirs(h, dir, 0700, uid, gid, f->acts.dry_run, &e);
	}
	struct rs_write_opts wo = {.mode = 0644, .uid = uid, .gid = gid, .dry_run = f->acts.dry_run};
	if (r >= 0 && !(r == 1 && f->acts.dry_run))
		r = rs_safe_write(h, rel, text, strlen(text), &wo, &e);
	a = write_action(f, shown, old != NULL, mg);
	a->changed = r > 0;
	if (r == 0) {
		rs_action_detail(a, "up to date");
	}
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "%s", e ? e->msg : strerror(-r));
	}
	rs_error_free(e);
	return r;
}
