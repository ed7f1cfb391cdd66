/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "checks/internal.h"
#include "host/subids.h"

struct subid_view {
	const char *file;	   /* "subuid" */
	const struct rs_subids *s; /* the file, indexed (host/subids.h) */
	uint64_t total;
	size_t mine;
	char *overlap; /* first overlap with another owner, for the message */
	char *self;    /* a range that contains the user's own id */
	char *dup;     /* two of the user's own ranges overlap (kernel: EINVAL) */
};

static bool owner_is(const struct rs_ctx *ctx, const char *owner)
{
	uint64_t n;
	if (strcmp(owner, ctx->user.name) == 0)
		return true;
	/* newuidmap matches the numeric uid too (shadow a113b87c); compare
	 * numbers, not strings (CVE-2021-3995) */
	return rs_parse_u64(owner, UINT32_MAX, &n) == 0 && n == ctx->user.uid;
}

/* The user's ranges in file order, and for each the ranges it overlaps in
 * file order: what a pass over every pair of lines would find first, from
 * the index (a fleet asks this of every user). */
static void subid_scan(const struct rs_ctx *ctx, struct subid_view *v, uint64_t own_id)
{
	const struct rs_subid_file *f = &v->s->f;
	_cleanup_free_ uint32_t *mine = NULL;
	size_t n = rs_subids_of(v->s, ctx->user.name, (uint32_t)ctx->user.uid, &mine);

	for (size_t k = 0; k < n; k++) {
		size_t i = mine[k];
		const struct rs_subid_range *a = &f->r[i];
		v->mine++;
		v->total += a->count;
		if (!v->self && own_id >= a->start && own_id < a->start + a->count)
			v->self = rs_xasprintf("line %u (%llu-%llu) contains %s's own id %llu",
					       a->line, (unsigned long long)a->start,
					       (unsigned long long)(a->start + a->count - 1),
					       ctx->user.name, (unsigned long long)own_id);
		_cleanup_free_ uint32_t *ov = NULL;
		size_t nov = rs_subids_overlapping(v->s, i, &ov);
		for (size_t m = 0; m < nov; m++) {
			size_t j = ov[m];
			const struct rs_subid_range *b = &f->r[j];
			if (!owner_is(ctx, b->owner) && !v->overlap)
				v->overlap = rs_xasprintf("%s:%llu:%llu (line %u) overlaps '%s' at "
							  "line %u",
							  a->owner, (unsigned long long)a->start,
							  (unsigned long long)a->count, a->line,
							  b->owner, b->line);
			else if (owner_is(ctx, b->owner) && j > i && !v->dup)
				v->dup = rs_xasprintf("lines %u and %u of %s's own ranges overlap",
						      a->line, b->line, ctx->user.name);
		}
	}
}

static void subid_view_clear(struct subid_view *v)
{
	free(v->overlap);
	free(v->self);
	free(v->dup);
}

/* Return: 0, 1 when out was set (the file is absent, or no regular file,
 * which newuidmap cannot use either), or <0 with *err when it could not be
 * read (EACCES, EIO): then nothing is known about the ranges. */
static int subid_load(struct rs_ctx *ctx, struct subid_view *v, struct rs_finding *out,
		      struct rs_error **err)
{
	_cleanup_free_ char *rel = rs_xasprintf("etc/%s", v->file);
	_cleanup_error_ struct rs_error *e = NULL;
	int r = rs_subids_get(ctx->host, rel, &v->s, &e);

	if (r == -ENOENT) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' does not exist: '%s' has no subordinate ids", rel,
			       ctx->user.name);
		return 1;
	}
	if (r == -EINVAL || r == -EISDIR || r == -EFBIG) {
		rs_finding_set(out, RS_STATUS_FAIL, "%s", e->msg);
		return 1;
	}
	if (r < 0) {
		*err = TAKE_PTR(e);
		return r;
	}
	subid_scan(ctx, v, strcmp(v->file, "subuid") == 0 ? ctx->user.uid : ctx->user.gid);
	return 0;
}

static void subid_hint(struct rs_ctx *ctx, struct rs_finding *out)
{
	const char *b = NULL;
	size_t len = 0;
	struct rs_logindefs d;
	bool have = rs_host_read_cached(ctx->host, "etc/login.defs", 1u << 20, &b, &len, NULL) == 0;

	rs_logindefs_parse(have ? b : NULL, len, &d);
	const char *def = "allocate a free range: rootless-setup fix --rule subid.ranges";
	if (ctx->user.uid < d.uid_min)
		rs_finding_hint(out,
				"'%s' is a system user (uid below UID_MIN %llu): useradd gives "
				"it no subordinate ids; %s",
				ctx->user.name, (unsigned long long)d.uid_min,
				rs_ctx_hint(ctx, "subid.ranges", def));
	else if (d.sub_uid_count == 0)
		rs_finding_hint(out,
				"SUB_UID_COUNT is 0 in /etc/login.defs, so useradd allocates "
				"nothing; %s",
				rs_ctx_hint(ctx, "subid.ranges", def));
	else
		rs_finding_hint(out, "%s", rs_ctx_hint(ctx, "subid.ranges", def));
}

static int subid_ranges(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err)
{
	struct subid_view v[2] = {{.file = "subuid"}, {.file = "subgid"}};
	uint64_t min = (uint64_t)rs_distro_int(&ctx->distro, "subid_min_count", 65536);
	_cleanup_free_ char *nss = NULL;
	int ret = 0;

	for (int i = 0; i < 2; i++) {
		ret = subid_load(ctx, &v[i], out, err);
		if (ret > 0)
			subid_hint(ctx, out);
		if (ret) {
			ret = ret > 0 ? 0 : ret;
			goto out;
		}
	}
	nss = rs_nss_subid_source(ctx->host);
	for (int i = 0; i < 2; i++) {
		/* SSSD/FreeIPA serve ranges through libsubid: an empty /etc/subuid
		 * proves nothing then (rootlesskit docs/subid.md) */
		if ((v[i].mine == 0 || v[i].total < min) && nss) {
			rs_finding_set(out, RS_STATUS_WARN,
				       "subordinate ids come from NSS ('subid: %s'): "
				       "/etc/%s has %llu for '%s'; 'getsubids %s' tells",
				       nss, v[i].file, (unsigned long long)v[i].total,
				       ctx->user.name, ctx->user.name);
			rs_finding_hint(
				out, "newuidmap asks that service; the launcher reads /etc/subuid "
				     "and would fall back to a single-id map");
			goto out;
		}
		if (v[i].mine == 0 || v[i].total < min) {
			rs_finding_set(out, RS_STATUS_FAIL,
				       "'%s' has %llu ids in /etc/%s (%zu ranges), "
				       "needs at least %llu",
				       ctx->user.name, (unsigned long long)v[i].total, v[i].file,
				       v[i].mine, (unsigned long long)min);
			subid_hint(ctx, out);
			goto out;
		}
	}
	for (int i = 0; i < 2; i++) {
		const char *issue = v[i].overlap ? v[i].overlap : v[i].dup ? v[i].dup : v[i].self;
		if (issue) {
			rs_finding_set(out, RS_STATUS_WARN, "/etc/%s: %s", v[i].file, issue);
			rs_finding_hint(out,
					"ranges must be unique per user (podman: overlapping users "
					"can corrupt each other's containers); an admin must "
					"reassign one of them");
			goto out;
		}
		if (v[i].s->f.nbad) {
			rs_finding_set(out, RS_STATUS_WARN,
				       "/etc/%s: line %u is malformed; newuidmap "
				       "and useradd ignore it, so its ids may be handed out twice",
				       v[i].file, v[i].s->f.bad_lines[0]);
			rs_finding_hint(out, "fix or remove the line (format: owner:start:count)");
			goto out;
		}
	}
	rs_finding_set(out, RS_STATUS_PASS, "'%s' has %llu subordinate uids and %llu gids",
		       ctx->user.name, (unsigned long long)v[0].total,
		       (unsigned long long)v[1].total);
out:
	subid_view_clear(&v[0]);
	subid_view_clear(&v[1]);
	return ret;
}

extern const struct rs_fixer rs_fixer_subid_ranges;
const struct rs_rule rs_rule_subid_ranges = {
	.fixer = &rs_fixer_subid_ranges,
	.id = "subid.ranges",
	.summary = "the user has 65536 subordinate uids and gids, not shared with anyone",
	.explain = "newuidmap/newgidmap map the ranges of /etc/subuid and /etc/subgid (owner by "
		   "name or uid) into the user namespace; image layers need 65536 ids (fewer "
		   "shows up as 'lchown: invalid argument'). Lines shadow cannot parse (CRLF, "
		   "spaces, hex) are ignored by newuidmap. Overlapping ranges of two users let one "
		   "enter the other's containers; they are reported, never repaired automatically.",
	.engines = RS_ENGINES_ALL,
	.needs_user = true,
	.run = subid_ranges,
};

/*
 * subid.keys: who reads which key. /etc/subuid's owner is a name or a uid
 * (subuid(5)); the programs that read it do not all accept both:
 *  - shadow's newuidmap/newgidmap: the name, and from 4.3 (a113b87c, 2014)
 *    the uid or another name of the same uid (find_range's second pass);
 *  - rootless-setup's launcher, RootlessKit (from 0.9.5, rootlesskit#141)
 *    and Docker's dockerd-rootless-setuptool.sh: the name or the uid;
 *  - Podman (containers/storage): the name or the uid when it parses the
 *    file itself (storage#376, 1.12.13); built with libsubid (as Fedora, RHEL
 *    and Debian build it) the name only in Podman 4.0 and 4.1, the uid only
 *    as a second try when the name finds nothing from 4.2 (storage#1264,
 *    #1265); libsubid itself adds the uid's lines to a name's from shadow
 *    4.12 (3ec32f99, RHBZ#2093311).
 */
enum key_kind { KEY_NAME, KEY_UID, KEY_ALIAS, KEY_KINDS };
#define K(x) (1u << (x))

struct keys {
	uint64_t ids[2][KEY_KINDS]; /* [subuid, subgid][kind] */
	unsigned line[2][KEY_KINDS];
	char *alias;
	uint64_t min;
};

static int keys_scan(struct rs_ctx *ctx, struct keys *k, struct rs_error **err)
{
	_cleanup_strv_ struct rs_strv names = {0};
	static const char *const files[] = {"etc/subuid", "etc/subgid"};

	rs_strv_push(&names, ctx->user.name);
	rs_passwd_names_of(ctx->host, ctx->user.uid, &names);
	for (int f = 0; f < 2; f++) {
		const struct rs_subids *s;
		_cleanup_free_ uint32_t *pos = NULL;
		int r = rs_subids_get(ctx->host, files[f], &s, err);
		if (r == -ENOENT || r == -EINVAL || r == -EISDIR) {
			rs_error_free(*err);
			*err = NULL;
			continue;
		}
		if (r < 0) {
			rs_strv_clear(&names);
			return r;
		}
		/* the lines of the user's names and uid, from the index, in
		 * file order (a fleet asks for every user and engine) */
		size_t n = rs_subids_of_any(s, &names, (uint32_t)ctx->user.uid, &pos);
		for (size_t i = 0; i < n; i++) {
			const struct rs_subid_range *a = &s->f.r[pos[i]];
			uint64_t id;
			int kind = rs_streq(a->owner, ctx->user.name) ? KEY_NAME
				   : rs_parse_u64(a->owner, UINT32_MAX, &id) == 0
					   ? (id == ctx->user.uid ? KEY_UID : -1)
				   : rs_strv_contains(&names, a->owner) ? KEY_ALIAS
									: -1;
			if (kind < 0)
				continue;
			if (!k->ids[f][kind])
				k->line[f][kind] = a->line;
			k->ids[f][kind] += a->count;
			if (kind == KEY_ALIAS && !k->alias)
				k->alias = rs_xstrdup(a->owner);
		}
	}
	return 0;
}

/* One reader of the files: what it reads surely, what it may miss (its
 * version unknown), and why. */
struct reader {
	char *what;
	unsigned reads, maybe;
	const char *why;
};

static char *dpkg_ver(struct rs_ctx *ctx, const char *pkg, const char *rel)
{
	const char *const pkgs[] = {pkg, NULL};
	return rs_ctx_dpkg_version(ctx, pkgs, rel);
}

static bool ver_below(const char *v, const char *min)
{
	struct rs_kver a, b;
	return v && rs_kver_parse(v, &a) == 0 && rs_kver_parse(min, &b) == 0 &&
	       rs_kver_cmp(&a, &b) < 0;
}

static void reader_newuidmap(struct rs_ctx *ctx, struct reader *r)
{
	_cleanup_free_ char *v = dpkg_ver(ctx, "uidmap", "usr/bin/newuidmap");
	r->what = rs_xasprintf("newuidmap%s%s", v ? " of shadow " : "", v ? v : "");
	r->reads = K(KEY_NAME) | K(KEY_UID) | K(KEY_ALIAS);
	if (ver_below(v, "4.3")) {
		r->reads = K(KEY_NAME);
		r->why = "shadow before 4.3 matches owners by name only (uids from 4.3, a113b87c)";
	}
}

/* libsubid, which Podman may be linked with: the shared object is there */
static bool have_libsubid(const struct rs_ctx *ctx)
{
	static const char *const libs[] = {"usr/lib64/libsubid.so.3",
					   "usr/lib64/libsubid.so.4",
					   "usr/lib/x86_64-linux-gnu/libsubid.so.4",
					   "usr/lib/aarch64-linux-gnu/libsubid.so.4",
					   "usr/lib/libsubid.so.4",
					   "lib/libsubid.so.4",
					   NULL};
	return rs_first_existing(ctx, libs);
}

static void reader_podman(struct rs_ctx *ctx, const struct keys *k, int f, struct reader *r)
{
	_cleanup_free_ char *v = dpkg_ver(ctx, "podman", "usr/bin/podman");
	_cleanup_free_ char *sh = dpkg_ver(ctx, "uidmap", "usr/bin/newuidmap");
	bool lib = have_libsubid(ctx);

	r->what = rs_xasprintf("podman%s%s%s", v ? " " : "", v ? v : "",
			       lib ? " (with libsubid)" : "");
	r->reads = K(KEY_NAME) | K(KEY_UID);
	if (!lib)
		return;
	if (!v) {
		r->reads = K(KEY_NAME);
		r->maybe = K(KEY_UID);
		r->why = "its version is unknown, and Podman 4.0 and 4.1 built with libsubid look "
			 "names up only (containers/storage#1264)";
	} else if (!ver_below(v, "4.0") && ver_below(v, "4.2")) {
		r->reads = K(KEY_NAME);
		r->why = "Podman 4.0 and 4.1 built with libsubid look names up only "
			 "(containers/storage#1264, fixed in 4.2)";
	} else if (!ver_below(v, "4.2") && ver_below(sh, "4.12") && k->ids[f][KEY_NAME]) {
		r->reads = K(KEY_NAME);
		r->why = "it asks libsubid by uid only when the name finds nothing, and libsubid "
			 "before shadow 4.12 does not add the uid's lines to the name's (3ec32f99)";
	}
}

/* The reader of engine e's maps, number i (0 newuidmap, 1 the engine's
 * own); false past the last. */
static bool reader_at(struct rs_ctx *ctx, enum rs_engine e, const struct keys *k, int f, int i,
		      struct reader *r)
{
	memset(r, 0, sizeof(*r));
	if (i == 0) {
		reader_newuidmap(ctx, r);
		return true;
	}
	if (i != 1)
		return false;
	if (e == RS_ENGINE_PODMAN || e == RS_ENGINE_KATA) {
		reader_podman(ctx, k, f, r);
	} else {
		r->what = rs_xstrdup("rootless-setup's launcher");
		r->reads = K(KEY_NAME) | K(KEY_UID);
		r->why = "it matches the user's name or uid, not another name of the uid";
	}
	return true;
}

static uint64_t ids_of(const struct keys *k, int f, unsigned mask)
{
	uint64_t n = 0;
	for (int i = 0; i < KEY_KINDS; i++)
		if (mask & K(i))
			n += k->ids[f][i];
	return n;
}

/* "line 2 of /etc/subuid is keyed by uid 1000" for the first line the
 * reader misses. */
static char *missed_line(const struct rs_ctx *ctx, const struct keys *k, int f, unsigned mask)
{
	static const char *const file[] = {"subuid", "subgid"};
	for (int i = 0; i < KEY_KINDS; i++) {
		if (mask & K(i) || !k->ids[f][i])
			continue;
		if (i == KEY_UID)
			return rs_xasprintf("line %u of /etc/%s is keyed by uid %u, not '%s'",
					    k->line[f][i], file[f], (unsigned)ctx->user.uid,
					    ctx->user.name);
		return rs_xasprintf("line %u of /etc/%s is keyed by '%s', another name of uid %u",
				    k->line[f][i], file[f], k->alias ? k->alias : "?",
				    (unsigned)ctx->user.uid);
	}
	return rs_xstrdup("");
}

/* Judges one reader of one file. Return: true when out was set. */
static bool keys_judge(struct rs_ctx *ctx, const struct keys *k, int f, const struct reader *r,
		       struct rs_finding *out)
{
	static const char *const what[] = {"uids", "gids"};
	uint64_t total = ids_of(k, f, K(KEY_NAME) | K(KEY_UID) | K(KEY_ALIAS));
	uint64_t seen = ids_of(k, f, r->reads);

	if (seen == total)
		return false;
	_cleanup_free_ char *line = missed_line(ctx, k, f, r->reads);
	bool maybe = ids_of(k, f, r->reads | r->maybe) == total;
	rs_finding_set(out, maybe || seen >= k->min ? RS_STATUS_WARN : RS_STATUS_FAIL,
		       "%s: %s %s %llu of the %llu subordinate %s of '%s': %s", line, r->what,
		       maybe ? "may find only" : "finds", (unsigned long long)seen,
		       (unsigned long long)total, what[f], ctx->user.name, r->why ? r->why : "");
	rs_finding_hint(out,
			"key the user's lines by name, as useradd writes them: '%s:START:COUNT' "
			"in /etc/subuid and /etc/subgid (then 'podman system migrate' for Podman)",
			ctx->user.name);
	return true;
}

static int subid_keys(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		      struct rs_error **err)
{
	struct keys k = {.min = (uint64_t)rs_distro_int(&ctx->distro, "subid_min_count", 65536)};
	int r = keys_scan(ctx, &k, err);

	if (r < 0)
		return r;
	if (!ids_of(&k, 0, ~0u) && !ids_of(&k, 1, ~0u)) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "'%s' has no lines in /etc/subuid or /etc/subgid "
			       "(see subid.ranges)",
			       ctx->user.name);
		goto out;
	}
	for (int f = 0; f < 2; f++) {
		struct reader rd;
		for (int i = 0; reader_at(ctx, e, &k, f, i, &rd); i++) {
			bool hit = keys_judge(ctx, &k, f, &rd, out);
			free(rd.what);
			if (hit)
				goto out;
		}
	}
	if (ids_of(&k, 0, K(KEY_UID) | K(KEY_ALIAS)) || ids_of(&k, 1, K(KEY_UID) | K(KEY_ALIAS)))
		rs_finding_set(out, RS_STATUS_PASS,
			       "the lines of '%s' are keyed by name and uid; newuidmap and %s "
			       "read both",
			       ctx->user.name,
			       e == RS_ENGINE_PODMAN || e == RS_ENGINE_KATA ? "this Podman"
									    : "the launcher");
	else
		rs_finding_set(out, RS_STATUS_PASS,
			       "the lines of '%s' are keyed by name, which every reader finds",
			       ctx->user.name);
out:
	free(k.alias);
	return 0;
}

const struct rs_rule rs_rule_subid_keys = {
	.id = "subid.keys",
	.summary = "the user's /etc/subuid and /etc/subgid lines are keyed as the readers look "
		   "them up",
	.explain = "A line's owner may be the user's name or uid (subuid(5)), but not every "
		   "program accepts both. shadow's newuidmap matches the name and, from 4.3 "
		   "(commit a113b87c), the uid or another name with the same uid. rootless-setup's "
		   "launcher, RootlessKit (from 0.9.5: "
		   "https://github.com/rootless-containers/rootlesskit/issues/141) and Docker's "
		   "dockerd-rootless-setuptool.sh (which greps for a line starting 'NAME:' or "
		   "'UID:') take the name or the uid. Podman's containers/storage takes both when "
		   "it parses the file, but built "
		   "with libsubid Podman 4.0 and 4.1 look names up only "
		   "(https://github.com/containers/storage/issues/1264), and from 4.2 try the uid "
		   "only when the name finds nothing; libsubid adds the uid's lines itself from "
		   "shadow 4.12 (https://bugzilla.redhat.com/show_bug.cgi?id=2093311). A reader "
		   "that misses the lines maps a single id: 'potentially insufficient UIDs or GIDs "
		   "available in user namespace'. The rule fails when the engine's readers, at the "
		   "versions dpkg records, miss the lines (warns when they miss a part that still "
		   "holds 65536 ids, or when Podman's version is unknown where libsubid is "
		   "installed). Lines keyed by uid for a user /etc/passwd does not list (LDAP, AD) "
		   "are also missed by static Podman builds, which look names up in /etc/passwd "
		   "only (https://github.com/mgoltzsche/podman-static/issues/95); how a binary was "
		   "built is not something the rule can see. No fixer: re-keying the lines "
		   "is an edit of the admin's files (subid.ranges' fixer writes names).",
	.engines = RS_ENGINES_ALL & ~ENG(OCI),
	.per_engine = true,
	.needs_user = true,
	.run = subid_keys,
};

/* linux/capability.h */
#define CAP_SETGID_BIT 6
#define CAP_SETUID_BIT 7

/* One helper's file capabilities instead of setuid (Fedora's and RHEL's
 * shadow-utils: cap_setuid=ep newuidmap, cap_setgid=ep newgidmap). Since
 * shadow 4.7 (1ecca843) each helper capsets its effective and permitted
 * sets to exactly its own capability (CAP_SETFCAP besides when it maps the
 * parent's root, 4.9): a permitted set without it fails "Could not set
 * caps". Return: 1 when out was set. */
static int caps_check(const char *rel, const char *name, int fd, struct rs_finding *out)
{
	char self[64], raw[64];
	struct rs_fcaps c;
	bool uid = strcmp(name, "newuidmap") == 0;
	const char *want = uid ? "cap_setuid" : "cap_setgid";
	uint64_t bit = 1ull << (uid ? CAP_SETUID_BIT : CAP_SETGID_BIT);

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ssize_t n = getxattr(self, "security.capability", raw, sizeof(raw));
	if (n <= 0) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' is neither setuid root nor has file capabilities", rel);
		rs_finding_hint(out, "chmod u+s /%s (or setcap %s=ep /%s)", rel, want, rel);
		return 1;
	}
	if (rs_fcaps_parse(raw, (size_t)n, &c) < 0) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' has a security.capability the kernel does not accept", rel);
		rs_finding_hint(out, "setcap %s=ep /%s", want, rel);
		return 1;
	}
	if (c.rootid) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' has file capabilities for the user namespace whose root is "
			       "uid %u only: they do not apply on the host",
			       rel, (unsigned)c.rootid);
		rs_finding_hint(out, "setcap %s=ep /%s (as root on the host)", want, rel);
		return 1;
	}
	if (!(c.permitted & bit)) {
		bool other = c.permitted & (1ull << (uid ? CAP_SETGID_BIT : CAP_SETUID_BIT));
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' has file capabilities without %s%s: %s fails, 'Could not set "
			       "caps' where shadow is built with libcap (Fedora), 'write to %s "
			       "failed: Operation not permitted' where not (Debian)",
			       rel, want,
			       other ? (uid ? " (it has cap_setgid, newgidmap's)"
					    : " (it has cap_setuid, newuidmap's)")
				     : "",
			       name, uid ? "uid_map" : "gid_map");
		rs_finding_hint(out, "setcap %s=ep /%s", want, rel);
		return 1;
	}
	if (!c.effective) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' has %s permitted but not effective (no +e): only a shadow "
			       "4.7 or later built with libcap raises it itself; Debian's, built "
			       "without, fails 'write to %s failed: Operation not permitted'",
			       rel, want, uid ? "uid_map" : "gid_map");
		rs_finding_hint(out, "setcap %s=ep /%s, as distributions ship it", want, rel);
		return 1;
	}
	return 0;
}

static int helper_check(struct rs_ctx *ctx, const char *rel, struct rs_finding *out)
{
	struct stat st;
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "newuidmap");
	/* one O_PATH fd through the root handle for the mode and the xattr: a
	 * path string would be resolved by the kernel from / (a --root tree's
	 * "usr/bin -> /elsewhere" leaves the tree) and could change in between */
	_cleanup_close_ int fd = rs_host_openat(ctx->host, rel, O_PATH, NULL);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rs_finding_set(out, RS_STATUS_FAIL, "'/%s' is missing", rel);
		if (install)
			rs_finding_hint(out, "install it: %s", install);
		return 1;
	}
	if (st.st_uid != 0 || (st.st_mode & 0022)) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' is not owned by root or is writable by "
			       "others: it must not be trusted",
			       rel);
		return 1;
	}
	if (st.st_mode & S_ISUID)
		return 0;
	return caps_check(rel, strrchr(rel, '/') + 1, fd, out);
}

static int subid_helpers(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	if (helper_check(ctx, "usr/bin/newuidmap", out) ||
	    helper_check(ctx, "usr/bin/newgidmap", out))
		return 0;
	rs_finding_set(out, RS_STATUS_PASS, "newuidmap and newgidmap are installed and privileged");
	return 0;
}

const struct rs_rule rs_rule_subid_helpers = {
	.id = "subid.helpers",
	.summary = "newuidmap and newgidmap are installed setuid root (or with the right file "
		   "caps)",
	.explain = "Only root may write a multi-id uid_map; the setuid helpers from shadow "
		   "(Debian: uidmap, Fedora/RHEL: shadow-utils) do it for the ranges in "
		   "/etc/subuid. Without them, only a single-id map is possible. Instead of "
		   "setuid, shadow 4.7 and later work with file capabilities (Fedora's "
		   "shadow-utils ships cap_setuid=ep on newuidmap and cap_setgid=ep on "
		   "newgidmap): each helper then capsets its effective and permitted sets to "
		   "exactly its own capability (shadow commit 1ecca843), so newuidmap without "
		   "cap_setuid, or newgidmap without cap_setgid, fails 'Could not set caps' "
		   "(https://github.com/shadow-maint/shadow/blob/master/lib/idmapping.c); a "
		   "shadow built without libcap (Debian's) does not capset and fails 'write to "
		   "uid_map failed: Operation not permitted' instead, as it does with the "
		   "capability permitted but not effective (no +e), which only a libcap build "
		   "raises itself. Namespaced capabilities (revision 3 with a root uid) do not "
		   "apply on the host. no_new_privs voids both setuid and file capabilities: see "
		   "userns.nnp.",
	.engines = RS_ENGINES_ALL,
	.run = subid_helpers,
};
