/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <selinux/selinux.h>
#include <stdlib.h>
#include "checks/internal.h"
#include "checks/registry.h"

#define RS_RULE(name) extern const struct rs_rule rs_rule_##name;
#include "checks/rules.def"
#undef RS_RULE

/* The one list of rules: checks/rules.def, in its order. */
static const struct rs_rule *const rules[] = {
#define RS_RULE(name) &rs_rule_##name,
#include "checks/rules.def"
#undef RS_RULE
	NULL,
};
const struct rs_ruleset rs_rules = {rules, ARRAY_SIZE(rules) - 1};

enum rs_selinux rs_selinux_mode(struct rs_ctx *ctx)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	uint64_t v;

	if (ctx->host->live) {
		int en = is_selinux_enabled(); /* -1: libselinux cannot load */
		if (en <= 0)
			return en == 0 ? RS_SELINUX_DISABLED : RS_SELINUX_UNKNOWN;
		int e = security_getenforce();
		return e < 0 ? RS_SELINUX_UNKNOWN
		       : e   ? RS_SELINUX_ENFORCING
			     : RS_SELINUX_PERMISSIVE;
	}
	int r = rs_host_read(ctx->host, "sys/fs/selinux/enforce", 64, &buf, &len, NULL);
	if (r == -ENOENT)
		return RS_SELINUX_DISABLED;
	if (r < 0 || rs_sysctl_parse_u64(buf, len, &v) < 0)
		return RS_SELINUX_UNKNOWN;
	return v ? RS_SELINUX_ENFORCING : RS_SELINUX_PERMISSIVE;
}

bool rs_offline_skip(const struct rs_ctx *ctx, struct rs_finding *out, bool proc, bool sys,
		     const char *what)
{
	const char *dir = proc && ctx->no_proc ? "/proc" : sys && ctx->no_sys ? "/sys" : NULL;

	if (!dir)
		return false;
	rs_finding_set(out, RS_STATUS_SKIP,
		       "no %s in the tree (not a running system): cannot "
		       "tell %s",
		       dir, what);
	return true;
}

const char *rs_threshold_str(const struct rs_ctx *ctx, const char *key)
{
	_cleanup_free_ char *path = rs_xasprintf("thresholds.%s", key);
	return rs_distro_str(&ctx->distro, path);
}

bool rs_threshold(const struct rs_ctx *ctx, const char *key, struct rs_kver *out)
{
	const char *s = rs_threshold_str(ctx, key);
	return s && rs_kver_parse(s, out) == 0;
}

const char *rs_first_existing(const struct rs_ctx *ctx, const char *const *paths)
{
	for (; *paths; paths++)
		if (rs_host_exists_host(ctx->host, *paths))
			return *paths;
	return NULL;
}

struct libmnt_fs *rs_mount_for(struct libmnt_table *tb, const char *path)
{
	/* mnt_table_find_mountpoint() stat()s the path on this machine, which
	 * is wrong under --root: walk up the string instead */
	_cleanup_free_ char *p = rs_xstrdup(path);
	for (;;) {
		struct libmnt_fs *fs = mnt_table_find_target(tb, *p ? p : "/", MNT_ITER_BACKWARD);
		if (fs)
			return fs;
		char *slash = strrchr(p, '/');
		if (!slash || !*p)
			return NULL;
		if (slash == p && p[1] == '\0')
			return NULL;
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
}
