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

static int helper_check(struct rs_ctx *ctx, const char *rel, struct rs_finding *out)
{
	struct stat st;
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "newuidmap");
	/* one O_PATH fd through the root handle for the mode and the xattr: a
	 * path string would be resolved by the kernel from / (a --root tree's
	 * "usr/bin -> /elsewhere" leaves the tree) and could change in between */
	_cleanup_close_ int fd = rs_host_openat(ctx->host, rel, O_PATH, NULL);
	char self[64];

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
	/* file capabilities instead of setuid: shadow >= 4.7 build option */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	bool caps = getxattr(self, "security.capability", NULL, 0) > 0;
	if (!(st.st_mode & S_ISUID) && !caps) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/%s' is neither setuid root nor has file "
			       "capabilities",
			       rel);
		rs_finding_hint(out, "chmod u+s /%s (or setcap cap_setuid+ep)", rel);
		return 1;
	}
	return 0;
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
	.summary = "newuidmap and newgidmap are installed setuid root (or with file caps)",
	.explain = "Only root may write a multi-id uid_map; the setuid helpers from shadow "
		   "(Debian: uidmap, Fedora/RHEL: shadow-utils) do it for the ranges in "
		   "/etc/subuid. Without them, only a single-id map is possible.",
	.engines = RS_ENGINES_ALL,
	.run = subid_helpers,
};
