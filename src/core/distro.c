/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include "core/distro.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

enum vtype {
	V_KVERMAP,
	V_STR,
	V_INT,
	V_BOOL,
	V_STRMAP,
	V_STRLIST,
	V_OBJ,
	V_KVER,
	V_VERSIONS,
	V_PROGRAMS,
	V_URLMAP
};

struct key_schema {
	const char *key;
	enum vtype type;
	const char *const *enums; /* allowed values of a V_STR, or NULL */
};

#define ENUMS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct key_schema top_keys[] = {
	{"id", V_STR, NULL},
	{"name", V_STR, NULL},
	{"match", V_OBJ, NULL},
	{"thresholds", V_OBJ, NULL},
	{"overlay_userns_patch", V_STR, ENUMS("none", "ubuntu", "debian-param")},
	{"subid_min_count", V_INT, NULL},
	{"max_user_namespaces_recommended", V_INT, NULL},
	{"packages", V_STRMAP, NULL},
	{"install_cmd", V_STR, NULL},
	{"sysctl_persist", V_STR, ENUMS("sysctl.d", "settings-api", "cloud-init", "none")},
	{"etc_persistent", V_BOOL, NULL},
	{"init", V_STR, ENUMS("systemd", "openrc", "none")},
	{"mac", V_STR, ENUMS("apparmor", "selinux", "none")},
	{"eol", V_BOOL, NULL},
	{"selinux_overlay_warn", V_BOOL, NULL},
	{"selinux_container_pipe_warn", V_BOOL, NULL},
	{"hints", V_STRMAP, NULL},
	/* locale.gen(5), whose entries locale-gen compiles (isulad.locale's fixer) */
	{"locale_gen", V_STR, NULL},
	{"docs", V_URLMAP, NULL}, /* rule id -> its upstream documentation */
	{"versions", V_VERSIONS, NULL},
	{"programs", V_PROGRAMS, NULL},
	{NULL, V_STR, NULL},
};

/* programs.NAME: what engine.programs knows of a program (src/checks/programs.c) */
static const struct key_schema program_keys[] = {
	{"min", V_KVER, NULL},	       /* the oldest version upstream documents as working */
	{"source", V_STR, NULL},       /* where that minimum is documented */
	{"packages", V_STRLIST, NULL}, /* dpkg packages that may own it (for its version) */
	{NULL, V_STR, NULL},
};

static const struct key_schema match_keys[] = {
	{"ids", V_STRLIST, NULL},
	{"id_like", V_STRLIST, NULL},
	{NULL, V_STR, NULL},
};

static const struct key_schema threshold_keys[] = {
	{"kernel_min", V_KVERMAP, NULL},
	{"overlay_userns", V_KVER, NULL},
	{"fuse_overlayfs", V_KVER, NULL},
	{"selinux_overlay", V_KVER, NULL},
	{NULL, V_STR, NULL},
};

static int check_object(const json_t *obj, const struct key_schema *schema, const char *where,
			bool in_version, struct rs_error **err);

static int wrong_type(const struct key_schema *k, const char *where, struct rs_error **err)
{
	return rs_error_setx(err, EINVAL, "%s.%s: wrong type", where, k->key);
}

/* An object of strings, https URLs or kernel versions, by key. */
static int check_map(const json_t *v, const struct key_schema *k, const char *where,
		     struct rs_error **err)
{
	const char *key;
	json_t *x;
	struct rs_kver kv;

	if (!json_is_object(v))
		return wrong_type(k, where, err);
	json_object_foreach ((json_t *)v, key, x) {
		const char *s = json_string_value(x);
		if (k->type == V_STRMAP && !s && !json_is_null(x))
			return rs_error_setx(err, EINVAL, "%s.%s.%s: not a string", where, k->key,
					     key);
		if (k->type == V_URLMAP &&
		    (!s || !rs_startswith(s, "https://") || strpbrk(s, " \t\n\"'<>\\")))
			return rs_error_setx(err, EINVAL, "%s.%s.%s: not an https URL", where,
					     k->key, key);
		if (k->type == V_KVERMAP && (!s || rs_kver_parse(s, &kv) < 0))
			return rs_error_setx(err, EINVAL, "%s.%s.%s: not a kernel version", where,
					     k->key, key);
	}
	return 0;
}

/* programs: an object of program entries; versions: a list of overrides. */
static int check_nested(const json_t *v, const struct key_schema *k, const char *where,
			struct rs_error **err)
{
	const char *key;
	json_t *x;
	size_t i;
	int r;

	if (k->type == V_PROGRAMS) {
		if (!json_is_object(v))
			return wrong_type(k, where, err);
		json_object_foreach ((json_t *)v, key, x) {
			if (!json_is_object(x))
				return rs_error_setx(err, EINVAL, "%s.programs.%s: not an object",
						     where, key);
			if (json_object_get(x, "min") && !json_object_get(x, "source"))
				return rs_error_setx(err, EINVAL,
						     "%s.programs.%s: a 'min' needs its 'source'",
						     where, key);
			if ((r = check_object(x, program_keys, where, false, err)) < 0)
				return r;
		}
		return 0;
	}
	if (!json_is_array(v))
		return wrong_type(k, where, err);
	json_array_foreach (v, i, x) {
		if (!json_is_object(x) || !json_is_string(json_object_get(x, "version_id")))
			return rs_error_setx(err, EINVAL,
					     "%s.versions[%zu]: needs a string 'version_id'", where,
					     i);
		if ((r = check_object(x, top_keys, where, true, err)) < 0)
			return r;
	}
	return 0;
}

static int check_value(const json_t *v, const struct key_schema *k, const char *where,
		       struct rs_error **err)
{
	json_t *x;
	size_t i;
	struct rs_kver kv;

	switch (k->type) {
	case V_STR:
		if (!json_is_string(v))
			break;
		if (!k->enums)
			return 0;
		for (const char *const *e = k->enums; *e; e++)
			if (strcmp(*e, json_string_value(v)) == 0)
				return 0;
		return rs_error_setx(err, EINVAL, "%s.%s: unknown value '%s'", where, k->key,
				     json_string_value(v));
	case V_INT:
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			return 0;
		break;
	case V_BOOL:
		if (json_is_boolean(v))
			return 0;
		break;
	case V_KVER:
		if (json_is_string(v) && rs_kver_parse(json_string_value(v), &kv) == 0)
			return 0;
		break;
	case V_STRMAP:
	case V_URLMAP:
	case V_KVERMAP:
		return check_map(v, k, where, err);
	case V_STRLIST:
		if (!json_is_array(v))
			break;
		json_array_foreach (v, i, x) {
			if (!json_is_string(x))
				return rs_error_setx(err, EINVAL, "%s.%s[%zu]: not a string", where,
						     k->key, i);
		}
		return 0;
	case V_OBJ:
		if (!json_is_object(v))
			break;
		if (strcmp(k->key, "match") == 0)
			return check_object(v, match_keys, where, false, err);
		return check_object(v, threshold_keys, where, false, err);
	case V_PROGRAMS:
	case V_VERSIONS:
		return check_nested(v, k, where, err);
	}
	return wrong_type(k, where, err);
}

static int check_object(const json_t *obj, const struct key_schema *schema, const char *where,
			bool in_version, struct rs_error **err)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)obj, key, v) {
		const struct key_schema *k = schema;
		if (in_version && strcmp(key, "version_id") == 0)
			continue;
		while (k->key && strcmp(k->key, key) != 0)
			k++;
		if (!k->key || (in_version && (k->type == V_VERSIONS || !strcmp(key, "id") ||
					       !strcmp(key, "match"))))
			return rs_error_setx(err, EINVAL, "%s: unknown key '%s'", where, key);
		int r = check_value(v, k, where, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int rs_distro_validate(const json_t *doc, const char *name, struct rs_error **err)
{
	if (!json_is_object(doc))
		return rs_error_setx(err, EINVAL, "distro '%s': not a JSON object", name);
	if (!json_is_string(json_object_get(doc, "id")))
		return rs_error_setx(err, EINVAL, "distro '%s': missing 'id'", name);
	return check_object(doc, top_keys, name, false, err);
}

static json_t *blob_load(const struct rs_distro_blob *b, struct rs_error **err)
{
	json_error_t jerr;
	_cleanup_json_ json_t *doc = json_loadb(b->json, b->len, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc) {
		rs_error_setx(err, EINVAL, "distro '%s': line %d: %s", b->id, jerr.line, jerr.text);
		return NULL;
	}
	if (rs_distro_validate(doc, b->id, err) < 0)
		return NULL;
	return TAKE_PTR(doc);
}

static bool list_has(const json_t *list, const char *id)
{
	size_t i;
	json_t *x;
	json_array_foreach (list, i, x) {
		if (rs_strcaseeq(json_string_value(x), id))
			return true;
	}
	return false;
}

/* "7" matches VERSION_ID "7" and "7.9", not "70". */
static bool version_matches(const char *want, const char *have)
{
	size_t n = strlen(want);
	return have && strncmp(want, have, n) == 0 && (have[n] == '\0' || have[n] == '.');
}

static const json_t *pick(json_t *const *docs, size_t n, const struct rs_osrelease *os,
			  const char *force_id)
{
	if (force_id) {
		for (size_t i = 0; i < n; i++)
			if (rs_strcaseeq(json_string_value(json_object_get(docs[i], "id")),
					 force_id))
				return docs[i];
		return NULL;
	}
	if (!os) /* no os-release at all: the generic profile */
		return NULL;
	/* ID first (openEuler ships ID="openEuler"), then ID_LIKE, closest first */
	for (size_t i = 0; os->id && i < n; i++)
		if (list_has(json_object_get(json_object_get(docs[i], "match"), "ids"), os->id))
			return docs[i];
	_cleanup_free_ char *like = rs_xstrdup(os->id_like ? os->id_like : "");
	char *save = NULL;
	for (char *w = strtok_r(like, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		for (size_t i = 0; i < n; i++)
			if (list_has(json_object_get(json_object_get(docs[i], "match"), "id_like"),
				     w))
				return docs[i];
	return NULL;
}

static void overlay(json_t *data, const json_t *src, const char *version_id)
{
	_cleanup_json_ json_t *copy = json_deep_copy(src);
	size_t i;
	json_t *v;

	_cleanup_json_ json_t *versions = json_incref(json_object_get(copy, "versions"));
	json_object_del(copy, "versions");
	json_object_del(copy, "match");
	json_object_update_recursive(data, copy);
	json_array_foreach (versions, i, v) {
		if (!version_matches(json_string_value(json_object_get(v, "version_id")),
				     version_id))
			continue;
		_cleanup_json_ json_t *vc = json_deep_copy(v);
		json_object_del(vc, "version_id");
		json_object_update_recursive(data, vc);
	}
}

int rs_distro_load(const struct rs_osrelease *os, const char *force_id, struct rs_distro *out,
		   struct rs_error **err)
{
	json_t *docs[64];
	size_t n = 0;
	int r = 0;
	const json_t *generic = NULL, *chosen;

	memset(out, 0, sizeof(*out));
	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id && n < ARRAY_SIZE(docs); b++) {
		docs[n] = blob_load(b, err);
		if (!docs[n]) {
			r = -EINVAL;
			goto out;
		}
		if (strcmp(b->id, "generic") == 0)
			generic = docs[n];
		n++;
	}
	if (!generic) {
		r = rs_error_setx(err, EINVAL, "distro data has no 'generic' profile");
		goto out;
	}
	chosen = pick(docs, n, os, force_id);
	if (!chosen && force_id) {
		r = rs_error_setx(err, ENOENT, "unknown distro '%s'", force_id);
		goto out;
	}
	if (!chosen)
		chosen = generic;
	out->data = json_deep_copy(generic);
	json_object_del(out->data, "versions");
	overlay(out->data, chosen, os ? os->version_id : NULL);
	out->id = rs_xstrdup(json_string_value(json_object_get(chosen, "id")));
out:
	for (size_t i = 0; i < n; i++)
		json_decref(docs[i]);
	return r;
}

void rs_distro_clear(struct rs_distro *d)
{
	free(d->id);
	json_decref(d->data);
	memset(d, 0, sizeof(*d));
}

static const json_t *lookup(const struct rs_distro *d, const char *path)
{
	_cleanup_free_ char *p = rs_xstrdup(path);
	const json_t *cur = d ? d->data : NULL;
	char *save = NULL;

	for (char *k = strtok_r(p, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, k);
	return cur;
}

const char *rs_distro_str(const struct rs_distro *d, const char *path)
{
	return json_string_value(lookup(d, path));
}

long long rs_distro_int(const struct rs_distro *d, const char *path, long long def)
{
	const json_t *v = lookup(d, path);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

bool rs_distro_bool(const struct rs_distro *d, const char *path, bool def)
{
	const json_t *v = lookup(d, path);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

const char *rs_distro_hint(const struct rs_distro *d, const char *rule_id)
{
	/* rule ids contain dots, so no dotted-path lookup here */
	return json_string_value(json_object_get(json_object_get(d->data, "hints"), rule_id));
}

const char *rs_distro_docs(const struct rs_distro *d, const char *rule_id)
{
	return json_string_value(json_object_get(json_object_get(d->data, "docs"), rule_id));
}

bool rs_distro_known(const char *id)
{
	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id; b++)
		if (rs_strcaseeq(b->id, id))
			return true;
	return false;
}
