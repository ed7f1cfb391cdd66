/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core/rule.h"
#include "lib/xalloc.h"

void rs_finding_set(struct rs_finding *f, enum rs_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(f->message);
	f->message = rs_xvasprintf(fmt, ap);
	va_end(ap);
	f->status = st;
}

void rs_finding_hint(struct rs_finding *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(f->hint);
	f->hint = rs_xvasprintf(fmt, ap);
	va_end(ap);
}

void rs_finding_clear(struct rs_finding *f)
{
	free(f->message);
	free(f->hint);
	memset(f, 0, sizeof(*f));
}

char *rs_result_fix_cmd(const struct rs_result *res)
{
	if (res->f.status < RS_STATUS_WARN || !res->rule->fixer || res->f.no_fix)
		return NULL;
	return rs_xasprintf("rootless-setup fix --rule %s", res->rule->id);
}

const char *rs_status_name(enum rs_status st)
{
	switch (st) {
	case RS_STATUS_PASS:
		return "pass";
	case RS_STATUS_WARN:
		return "warn";
	case RS_STATUS_FAIL:
		return "fail";
	case RS_STATUS_SKIP:
		break;
	}
	return "skip";
}

const struct rs_rule *rs_rule_find(const struct rs_ruleset *set, const char *id)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i]->id, id) == 0)
			return set->v[i];
	return NULL;
}

const struct rs_result *rs_ctx_result(const struct rs_ctx *ctx, const char *id)
{
	for (size_t i = 0; ctx->results && i < ctx->rules->n; i++)
		if (ctx->results[i].rule && strcmp(ctx->rules->v[i]->id, id) == 0)
			return &ctx->results[i];
	return NULL;
}

/* Which mountinfo says how the host is mounted. Live, our own. Under
 * --root, the tree's init's: a node's / at /host is read by a pod, whose
 * proc/self is the pod's own mount namespace ("overlay" on /, cgroup v1 by
 * the look of it), while proc/1 (hostPID) is the node's. A fixture or a
 * chroot without proc/1/mountinfo falls back to proc/self/mountinfo, and
 * the report says so. */
static const char *const mountinfo_live[] = {"proc/self/mountinfo", NULL};
static const char *const mountinfo_root[] = {"proc/1/mountinfo", "proc/self/mountinfo", NULL};

/* The file is read through the root handle (RESOLVE_IN_ROOT) and handed
 * to libmount as a stream: given a path, libmount would open it itself and
 * follow "proc/self/mountinfo -> /elsewhere" out of a --root tree. */
struct libmnt_table *rs_ctx_mounts(struct rs_ctx *ctx)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	const char *const *src = ctx->host->live ? mountinfo_live : mountinfo_root;

	if (ctx->mounts_loaded)
		return ctx->mounts;
	ctx->mounts_loaded = true;
	for (; *src; src++) {
		free(buf);
		buf = NULL;
		if (rs_host_read(ctx->host, *src, RS_HOST_READ_MAX, &buf, &len, NULL) == 0 && len)
			break;
	}
	if (!*src)
		return NULL;
	ctx->mounts_source = *src;
	FILE *f = fmemopen(buf, len, "r");
	if (!f)
		return NULL;
	struct libmnt_table *tb = mnt_new_table();
	ctx->mounts_nolib = !tb && errno == ENOSYS;
	if (!tb || mnt_table_parse_stream(tb, f, *src) < 0 || mnt_table_get_nents(tb) == 0) {
		fclose(f);
		mnt_unref_table(tb);
		return NULL;
	}
	fclose(f);
	ctx->mounts = tb;
	return tb;
}

void rs_cgroup_detect(struct rs_ctx *ctx)
{
	struct libmnt_table *tb;
	struct libmnt_fs *fs;

	if (ctx->cgroup_mode != RS_CGROUP_UNKNOWN)
		return;
	ctx->systemd_init = rs_host_exists(ctx->host, "run/systemd/system");
	tb = rs_ctx_mounts(ctx);
	if (!tb && (ctx->no_sys || ctx->mounts_nolib))
		return; /* stays unknown: an offline tree shows no layout, and
			 * without libmount the file below would be a guess */
	if (!tb) {
		/* no mountinfo: fall back to the unified hierarchy's marker files
		 * (systemd's hybrid layout mounts it at .../unified) */
		ctx->cgroup_mode = rs_host_exists(ctx->host, "sys/fs/cgroup/cgroup.controllers")
					   ? RS_CGROUP_V2
				   : rs_host_exists(ctx->host,
						    "sys/fs/cgroup/unified/cgroup.controllers")
					   ? RS_CGROUP_HYBRID
					   : RS_CGROUP_V1;
		return;
	}
	fs = mnt_table_find_target(tb, "/sys/fs/cgroup", MNT_ITER_BACKWARD);
	if (fs && rs_streq(mnt_fs_get_fstype(fs), "cgroup2")) {
		ctx->cgroup_mode = RS_CGROUP_V2;
		return;
	}
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	bool v1 = false, v2 = false;
	while (it && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
		if (!t || !rs_startswith(t, "/sys/fs/cgroup/"))
			continue;
		v1 |= rs_streq(type, "cgroup");
		v2 |= rs_streq(type, "cgroup2");
	}
	mnt_free_iter(it);
	ctx->cgroup_mode = v1 && v2 ? RS_CGROUP_HYBRID
			   : v1	    ? RS_CGROUP_V1
			   : v2	    ? RS_CGROUP_HYBRID
				    : RS_CGROUP_V1;
}

static bool result_passes(const struct rs_ctx *ctx, const char *id)
{
	const struct rs_result *r = rs_ctx_result(ctx, id);
	return r && r->f.status == RS_STATUS_PASS;
}

const char *rs_ctx_snapshotter(const struct rs_ctx *ctx)
{
	const struct rs_result *fuse = rs_ctx_result(ctx, "storage.fuse");

	if (ctx->probe.overlay_tried ? ctx->probe.overlay_ok
				     : result_passes(ctx, "kernel.overlay-userns"))
		return "overlayfs";
	/* storage.fuse opened /dev/fuse for real: when that fails, the
	 * kernel's permission for FUSE in a user namespace helps nobody */
	if (result_passes(ctx, "kernel.fuse-overlayfs") &&
	    !(fuse && fuse->f.status >= RS_STATUS_WARN))
		return "fuse-overlayfs";
	return "native";
}

char *rs_ctx_data_dir(const struct rs_ctx *ctx, enum rs_engine e)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	const char *sub = ei && ei->data_dir ? ei->data_dir : ".local/share";

	/* XDG_DATA_HOME only for the caller's own run: as root for another user
	 * the environment belongs to root (SPEC --user) */
	if (ctx->user_is_caller && ctx->xdg_data_home && ctx->xdg_data_home[0] == '/' &&
	    rs_startswith(sub, ".local/share"))
		return rs_xasprintf("%s%s", ctx->xdg_data_home, sub + strlen(".local/share"));
	return rs_xasprintf("%s/%s", strcmp(ctx->user.home, "/") ? ctx->user.home : "", sub);
}

char *rs_ctx_runtime_dir(const struct rs_ctx *ctx)
{
	if (ctx->user_is_caller && ctx->xdg_runtime_dir && ctx->xdg_runtime_dir[0] == '/')
		return rs_xstrdup(ctx->xdg_runtime_dir);
	return rs_xasprintf("/run/user/%u", (unsigned)ctx->user.uid);
}

int rs_ctx_sysctl(struct rs_ctx *ctx, const char *rel, uint64_t *out)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = rs_host_read(ctx->host, rel, 4096, &buf, &len, NULL);
	if (r < 0)
		return r;
	return rs_sysctl_parse_u64(buf, len, out);
}

const char *rs_ctx_docs(const struct rs_ctx *ctx, const char *rule_id)
{
	return rs_distro_docs(&ctx->distro, rule_id);
}

const char *rs_ctx_hint(const struct rs_ctx *ctx, const char *rule_id, const char *def)
{
	const char *h = rs_distro_hint(&ctx->distro, rule_id);
	return h ? h : def;
}

const char *rs_ctx_find_program(const struct rs_ctx *ctx, const char *name)
{
	static const char *const dirs[] = {"usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin",
					   "bin",     "sbin",	  "opt/kata/bin",  NULL};
	static __thread char found[256];

	for (const char *const *d = dirs; *d; d++) {
		if (snprintf(found, sizeof(found), "%s/%s", *d, name) >= (int)sizeof(found))
			return NULL;
		if (rs_host_exists(ctx->host, found))
			return found;
	}
	return NULL;
}

int rs_ctx_find_engine(const struct rs_ctx *ctx, enum rs_engine e, const char *name,
		       struct rs_found *out)
{
	const struct rs_engine_info *ei = rs_engine_info(e);
	return rs_find_program(ctx->host, ctx->has_user ? &ctx->user : NULL,
			       ctx->user_is_caller ? ctx->path_env : NULL, ei ? ei->opt_dir : NULL,
			       name, out);
}

/* "usr/lib/x86_64-linux-gnu" and the like under dir: multiarch directories */
static bool in_multiarch(const struct rs_ctx *ctx, const char *dir, const char *soname, char *found,
			 size_t n)
{
	_cleanup_strv_ struct rs_strv ents = {0};
	bool hit = false;
	if (rs_host_listdir(ctx->host, dir, &ents, NULL) < 0)
		return false;
	for (size_t i = 0; i < ents.n && !hit; i++)
		hit = strstr(ents.v[i], "-linux-") &&
		      snprintf(found, n, "%s/%s/%s", dir, ents.v[i], soname) < (int)n &&
		      rs_host_exists(ctx->host, found);
	return hit;
}

const char *rs_ctx_find_library(const struct rs_ctx *ctx, const char *soname)
{
	static const char *const dirs[] = {"usr/lib64", "lib64",	 "usr/lib",
					   "lib",	"usr/local/lib", NULL};
	static __thread char found[512];

	if (in_multiarch(ctx, "usr/lib", soname, found, sizeof(found)) ||
	    in_multiarch(ctx, "lib", soname, found, sizeof(found)))
		return found;
	for (const char *const *d = dirs; *d; d++)
		if (snprintf(found, sizeof(found), "%s/%s", *d, soname) < (int)sizeof(found) &&
		    rs_host_exists(ctx->host, found))
			return found;
	return NULL;
}

static void dpkg_index_drop(void *x)
{
	rs_dpkg_index_free(x);
}

/* The list file of pkg names rel (dpkg owns it): read up to the match. */
static bool dpkg_owns(const struct rs_host *h, const char *pkg, const char *rel)
{
	_cleanup_free_ char *lrel = rs_xasprintf("var/lib/dpkg/info/%s.list", pkg);
	_cleanup_free_ char *want = rs_xasprintf("/%s", rel);
	const char *list;
	size_t len, wl = strlen(want);

	if (strchr(pkg, '/') || rs_host_read_cached(h, lrel, 8u << 20, &list, &len, NULL) < 0)
		return false;
	for (const char *p = list; p < list + len;) {
		const char *nl = memchr(p, '\n', (size_t)(list + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(list + len - p);
		if (n == wl && memcmp(p, want, wl) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

/* dpkg's status, read and indexed once per host handle (host/cache.c);
 * *own when the cache had no room for the index. NULL: no status. */
static const struct rs_dpkg_index *dpkg_index(struct rs_ctx *ctx, struct rs_dpkg_index **own)
{
	const char *status;
	size_t len;

	if (rs_host_read_cached(ctx->host, "var/lib/dpkg/status", 64u << 20, &status, &len, NULL) <
	    0)
		return NULL;
	struct rs_dpkg_index *x = rs_host_cached_obj(ctx->host, "var/lib/dpkg/status",
						     "dpkg-index");
	if (!x) {
		rs_host_cached_keep(ctx->host, "var/lib/dpkg/status", "dpkg-index",
				    rs_dpkg_index_new(status, len), dpkg_index_drop);
		x = rs_host_cached_obj(ctx->host, "var/lib/dpkg/status", "dpkg-index");
	}
	if (!x)
		x = *own = rs_dpkg_index_new(status, len);
	return x;
}

char *rs_ctx_dpkg_version(struct rs_ctx *ctx, const char *const *pkgs, const char *rel)
{
	_cleanup_(rs_dpkg_index_freep) struct rs_dpkg_index *own = NULL;
	const struct rs_dpkg_index *x = NULL;

	for (; *pkgs; pkgs++) {
		/* the version is trusted only when dpkg owns this very file;
		 * its list (KiBs) is asked before the status (a MB) is read */
		if (!dpkg_owns(ctx->host, *pkgs, rel))
			continue;
		if (!x && !(x = dpkg_index(ctx, &own)))
			return NULL;
		_cleanup_free_ char *part = rs_dpkg_stanzas(x, *pkgs);
		char *v = part ? rs_dpkg_version(part, strlen(part), *pkgs) : NULL;
		if (v)
			return v;
	}
	return NULL;
}

/* A few keys per user (the devices of network.tun and storage.fuse):
 * a list. */
struct rs_user_memo {
	char *key;
	void *obj;
	struct rs_user_memo *next;
};

void *rs_ctx_user_memo(const struct rs_ctx *ctx, const char *key)
{
	for (const struct rs_user_memo *m = ctx->user_memo; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m->obj;
	return NULL;
}

void rs_ctx_user_memo_keep(struct rs_ctx *ctx, const char *key, void *obj)
{
	struct rs_user_memo *m = rs_xmalloc(sizeof(*m));
	*m = (struct rs_user_memo){.key = rs_xstrdup(key), .obj = obj, .next = ctx->user_memo};
	ctx->user_memo = m;
}

void rs_ctx_user_memo_free(struct rs_ctx *ctx)
{
	while (ctx->user_memo) {
		struct rs_user_memo *m = ctx->user_memo;
		ctx->user_memo = m->next;
		free(m->key);
		free(m->obj);
		free(m);
	}
}

void rs_ctx_started_keep(struct rs_ctx *ctx, const struct rs_rule *rule, void *obj,
			 void (*drop)(void *obj))
{
	for (size_t i = 0; i < RS_STARTED_MAX; i++)
		if (!ctx->started[i].rule) {
			ctx->started[i] = (struct rs_started){.rule = rule,
							      .obj = obj,
							      .drop = drop};
			return;
		}
	drop(obj); /* no room: the run does the work itself */
}

void *rs_ctx_started_take(struct rs_ctx *ctx, const struct rs_rule *rule)
{
	for (size_t i = 0; i < RS_STARTED_MAX; i++)
		if (ctx->started[i].rule == rule) {
			void *obj = ctx->started[i].obj;
			ctx->started[i] = (struct rs_started){0};
			return obj;
		}
	return NULL;
}

void rs_ctx_started_drop(struct rs_ctx *ctx)
{
	for (size_t i = 0; i < RS_STARTED_MAX; i++)
		if (ctx->started[i].rule) {
			ctx->started[i].drop(ctx->started[i].obj);
			ctx->started[i] = (struct rs_started){0};
		}
}

char *rs_ctx_install_cmd(const struct rs_ctx *ctx, const char *pkg_key)
{
	_cleanup_free_ char *key = rs_xasprintf("packages.%s", pkg_key);
	const char *pkg = rs_distro_str(&ctx->distro, key);
	const char *cmd = rs_distro_str(&ctx->distro, "install_cmd");
	if (!pkg || !cmd)
		return NULL;
	return rs_xasprintf("%s %s", cmd, pkg);
}
