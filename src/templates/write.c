/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing generated files for the user: merged or left alone, never
 * silently replaced; owned by the user; through the safe-write module. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "host/safewrite.h"
#include "lib/xalloc.h"
#include "templates/templates.h"

uint64_t rs_gen_hash(const char *s)
{
	/* FNV-1a: change detection for the manifest, not security */
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

int rs_gen_write(struct rs_gen_ctx *f, const struct rs_host *h, const char *rel, const char *shown,
		 const struct rs_gen_file *gf, bool force, uid_t uid, gid_t gid)
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
	if (old && strcmp(old, text) && gf->json && !force) {
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
	} else if (old && strcmp(old, text) && gf->toml_keys && !force) {
		/* no drop-in directory: the user's own file decides */
		rs_action_add(&f->acts, "generate", "note", shown,
			      "yours: kept, its settings decide "
			      "(--force writes ours)");
		return -EEXIST;
	} else if (old && strcmp(old, text) && !force) {
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
	a = rs_action_add(&f->acts, "generate", "write", shown, "%s", old ? "updated" : "created");
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
