/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <jansson.h>
#include "host/parse.h"
#include "lib/error.h"

/*
 * Per-distro knowledge is data (the JSON files of distro/), embedded at build time and
 * loaded with jansson. generic.json holds every key; a distro file overrides
 * some, and its "versions" entries override again for a VERSION_ID prefix.
 * The verdicts come from probing the host; this data only picks thresholds,
 * hint texts, package names and fix recipes.
 */
struct rs_distro_blob {
	const char *id;
	const char *json;
	size_t len;
};
extern const struct rs_distro_blob rs_distro_blobs[];

struct rs_distro {
	char *id;     /* the profile: "debian", "generic", ... */
	json_t *data; /* merged generic + profile + version overrides */
};

/* Validates one document against the schema (known keys, types).
 * Return: 0 or -EINVAL with *err naming the offending key. */
int rs_distro_validate(const json_t *doc, const char *name, struct rs_error **err);
/* Loads and validates every embedded profile; picks the one for os (by ID,
 * case-insensitive, then each ID_LIKE entry) or force_id when non-NULL.
 * Return: 0, -ENOENT for an unknown force_id, -EINVAL for invalid data. */
int rs_distro_load(const struct rs_osrelease *os, const char *force_id, struct rs_distro *out,
		   struct rs_error **err);
void rs_distro_clear(struct rs_distro *d);
/* Dotted-path lookups ("thresholds.overlay_userns"); NULL / def when absent. */
const char *rs_distro_str(const struct rs_distro *d, const char *path);
long long rs_distro_int(const struct rs_distro *d, const char *path, long long def);
bool rs_distro_bool(const struct rs_distro *d, const char *path, bool def);
/* The hint of a rule for this distro, or NULL. */
const char *rs_distro_hint(const struct rs_distro *d, const char *rule_id);
/* The upstream documentation of a rule for this distro (an https URL), or NULL. */
const char *rs_distro_docs(const struct rs_distro *d, const char *rule_id);
/* Every embedded profile id (for --distro validation and `rules`). */
bool rs_distro_known(const char *id);
