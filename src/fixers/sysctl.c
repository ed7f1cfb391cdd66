/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

/* sysctl.d(5): the same name in an earlier directory hides a later one;
 * all names are applied in lexical order; /etc/sysctl.conf comes last
 * (procps `sysctl --system`). */
static const char *const sysctl_dirs[] = {"etc/sysctl.d",	    "run/sysctl.d",
					  "usr/local/lib/sysctl.d", "usr/lib/sysctl.d",
					  "lib/sysctl.d",	    NULL};

struct knob {
	const char *rule, *key, *proc, *file, *force_file;
	bool (*restrictive)(const char *value);
};

static bool is_zero(const char *v)
{
	return v && strcmp(v, "0") == 0;
}

/* The last file that sets key, in the order systemd-sysctl applies them,
 * and its value. Caller frees both. */
static int cmp_base(const void *a, const void *b)
{
	return strcmp(strrchr(*(char *const *)a, '/'), strrchr(*(char *const *)b, '/'));
}

static char *last_setter(const struct rs_host *h, const char *key, char **value)
{
	_cleanup_strv_ struct rs_strv files = {0}, seen = {0};
	char *who = NULL;

	*value = NULL;
	for (const char *const *d = sysctl_dirs; *d; d++) {
		_cleanup_strv_ struct rs_strv n = {0};
		if (rs_host_listdir(h, *d, &n, NULL) == 0)
			for (size_t i = 0; i < n.n; i++) {
				size_t l = strlen(n.v[i]);
				if (l < 6 || strcmp(n.v[i] + l - 5, ".conf") ||
				    rs_strv_contains(&seen, n.v[i]))
					continue;
				rs_strv_push(&seen, n.v[i]);
				rs_strv_take(&files, rs_xasprintf("%s/%s", *d, n.v[i]));
			}
	}
	if (files.n)
		qsort(files.v, files.n, sizeof(char *), cmp_base);
	rs_strv_push(&files, "etc/sysctl.conf");
	for (size_t i = 0; i < files.n; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (rs_host_read(h, files.v[i], 1u << 20, &buf, &len, NULL) < 0)
			continue;
		char *v = rs_sysctl_conf_get(buf, len, key);
		if (!v)
			continue;
		free(*value);
		free(who);
		*value = v;
		who = rs_xasprintf("/%s", files.v[i]);
	}
	return who;
}

/* /proc/sys through a verified procfs: runc's 2025 CVEs redirected such
 * writes with racing mounts. */
static int write_proc_sys(const char *proc, const char *value)
{
	struct statfs sf;
	int fd = open(proc, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
		close(fd);
		return -EXDEV;
	}
	ssize_t n = write(fd, value, strlen(value));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -(n < 0 ? e : EIO);
}

static int fix_knob(struct rs_fix_ctx *f, const struct knob *k, const char *want)
{
	struct rs_ctx *ctx = f->ctx;
	const char *persist = rs_distro_str(&ctx->distro, "sysctl_persist");
	_cleanup_free_ char *old = NULL, *who = last_setter(ctx->host, k->key, &old);
	const char *file = k->file;

	if (!rs_streq(persist, "sysctl.d") ||
	    !rs_distro_bool(&ctx->distro, "etc_persistent", true)) {
		rs_fix_action(f, k->rule, "note", NULL,
			      "%s = %s cannot be persisted in /etc here: %s", k->key, want,
			      rs_ctx_hint(ctx, k->rule, "use the distro's mechanism"))
			->failed = true;
		return 0;
	}
	/* a later file (or /etc/sysctl.conf) with the restrictive value wins at
	 * boot: an admin's decision, overridden only with --force, by a file
	 * that sorts after it ("zz-" follows every numbered name) */
	bool later = who && k->restrictive(old) && strcmp(strrchr(who, '/') + 1, file) > 0;
	if (later && rs_streq(who, "/etc/sysctl.conf")) {
		rs_fix_action(f, k->rule, "note", who,
			      "'%s' sets %s = %s and is applied last; "
			      "change it there",
			      who, k->key, old)
			->failed = true;
		return 0;
	}
	if (later && !f->o->force) {
		rs_fix_action(f, k->rule, "note", who,
			      "'%s' sets %s = %s after ours; nothing changed "
			      "(rerun with --force to override it)",
			      who, k->key, old)
			->failed = true;
		return 0;
	}
	/* once forced, our later file is the one to keep (a second run is a no-op) */
	if (later || (who && rs_streq(strrchr(who, '/') + 1, k->force_file)))
		file = k->force_file;
	_cleanup_free_ char *rel = rs_xasprintf("etc/sysctl.d/%s", file);
	_cleanup_free_ char *text = rs_xasprintf("# rootless-setup fix --rule %s\n%s = %s\n",
						 k->rule, k->key, want);
	_cleanup_free_ char *detail = rs_xasprintf("%s = %s", k->key, want);
	if (rs_fix_write(f, k->rule, rel, text, 0644, detail) < 0)
		return 0;
	const char *why = NULL;
	int r;
	if (!rs_fix_live(f, &why)) {
		rs_fix_action(f, k->rule, "note", NULL, "%s", why);
		return 0;
	}
	_cleanup_free_ char *proc = rs_xasprintf("/%s", k->proc);
	struct rs_action *a = rs_fix_action(f, k->rule, "sysctl", proc, "%s = %s", k->key, want);
	a->changed = true;
	if (!f->o->dry_run && (r = write_proc_sys(proc, want)) < 0) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xasprintf("cannot write '%s': %s", proc, strerror(-r));
	}
	return 0;
}

static const struct knob clone_knob = {"userns.clone",
				       "kernel.unprivileged_userns_clone",
				       "proc/sys/kernel/unprivileged_userns_clone",
				       "50-rootless-setup-userns-clone.conf",
				       "zz-rootless-setup-userns-clone.conf",
				       is_zero};
static const struct knob max_knob = {"userns.max",
				     "user.max_user_namespaces",
				     "proc/sys/user/max_user_namespaces",
				     "51-rootless-setup-userns-max.conf",
				     "zz-rootless-setup-userns-max.conf",
				     is_zero};

static int fix_clone(struct rs_fix_ctx *f, const struct rs_result *res _unused_)
{
	return fix_knob(f, &clone_knob, "1");
}

static int fix_max(struct rs_fix_ctx *f, const struct rs_result *res _unused_)
{
	char want[32];
	snprintf(want, sizeof(want), "%lld",
		 rs_distro_int(&f->ctx->distro, "max_user_namespaces_recommended", 28633));
	return fix_knob(f, &max_knob, want);
}

static bool is_one(const char *v)
{
	return v && strcmp(v, "1") == 0;
}

static const struct knob apparmor_knob = {"userns.apparmor",
					  "kernel.apparmor_restrict_unprivileged_userns",
					  "proc/sys/kernel/apparmor_restrict_unprivileged_userns",
					  "zz-rootless-setup-apparmor-userns.conf",
					  "zz-rootless-setup-apparmor-userns.conf",
					  is_one};

int rs_fix_apparmor_knob(struct rs_fix_ctx *f)
{
	return fix_knob(f, &apparmor_knob, "0");
}

const struct rs_fixer rs_fixer_userns_clone = {.order = 10, .run = fix_clone};
const struct rs_fixer rs_fixer_userns_max = {.order = 20, .run = fix_max};
