/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/sig.h"
#include "lib/xalloc.h"

/* qsort order of the results to fix: by fixer order, then report order. */
static int by_fixer_order(const void *a, const void *b)
{
	const struct rs_result *x = *(const struct rs_result *const *)a;
	const struct rs_result *y = *(const struct rs_result *const *)b;
	if (x->rule->fixer->order != y->rule->fixer->order)
		return x->rule->fixer->order < y->rule->fixer->order ? -1 : 1;
	return x < y ? -1 : x > y;
}

struct rs_action *rs_fix_action(struct rs_fix_ctx *f, const char *rule, const char *kind,
				const char *path, const char *fmt, ...)
{
	va_list ap;
	f->a = rs_xrealloc(f->a, (f->n + 1) * sizeof(*f->a));
	struct rs_action *a = &f->a[f->n++];
	memset(a, 0, sizeof(*a));
	a->rule = rule;
	a->kind = rs_xstrdup(kind);
	a->path = path ? rs_xstrdup(path) : NULL;
	va_start(ap, fmt);
	a->detail = rs_xvasprintf(fmt, ap);
	va_end(ap);
	return a;
}

int rs_fix_run(const struct rs_fix_opts *o, struct rs_fix_report **out, struct rs_error **err)
{
	struct rs_check_opts co = o->check;
	struct rs_report *rep = NULL;

	co.no_probe = true;
	int r = rs_check_run(&co, &rep, err);
	if (r < 0)
		return r;
	struct rs_fix_ctx f = {.o = o, .ctx = &rep->ctx};
	/* the selected rules that warn or fail and have a fixer, in fixer
	 * order, which puts what others need first */
	_cleanup_free_ const struct rs_result **todo = rs_xcalloc(rs_rules_count, sizeof(*todo));
	size_t n = 0;
	for (size_t i = 0; i < rs_rules_count; i++) {
		const struct rs_result *res = &rep->ctx.results[i];
		if (res->selected && res->rule->fixer && res->f.status >= RS_STATUS_WARN)
			todo[n++] = res;
	}
	qsort(todo, n, sizeof(*todo), by_fixer_order);
	for (size_t i = 0; i < n; i++)
		if (todo[i]->rule->fixer->run(&f, todo[i]) < 0)
			rs_fix_action(&f, todo[i]->rule->id, "note", NULL, "could not plan a fix")
				->failed = true;
	struct rs_fix_report *fr = rs_xcalloc(1, sizeof(*fr));
	fr->check = rep;
	fr->a = f.a;
	fr->n = f.n;
	for (size_t i = 0; i < f.n; i++) {
		fr->changed += f.a[i].changed;
		fr->failed += f.a[i].failed;
	}
	*out = fr;
	return 0;
}

void rs_fix_report_free(struct rs_fix_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->a[i].kind);
		free(r->a[i].path);
		free(r->a[i].detail);
	}
	free(r->a);
	rs_report_free(r->check);
	free(r);
}

json_t *rs_fix_report_json(const struct rs_fix_report *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const struct rs_action *a = &r->a[i];
		json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:b, s:b, s:o}", "rule",
						     rs_json_str(a->rule), "kind", rs_json_str(a->kind),
						     "path", rs_json_str(a->path), "changed", a->changed,
						     "failed", a->failed, "detail",
						     rs_json_str(a->detail)));
	}
	return json_pack("{s:s, s:s, s:o, s:{s:I, s:I}}", "schema", "rootless-setup/actions/v1",
			 "version", RS_VERSION, "actions", arr, "summary", "changed",
			 (json_int_t)r->changed, "failed", (json_int_t)r->failed);
}

int rs_fix_write(struct rs_fix_ctx *f, const char *rule, const char *rel, const char *text,
		 mode_t mode, const char *detail)
{
	struct rs_write_opts wo = {.mode = mode, .uid = 0, .gid = 0, .dry_run = f->o->dry_run};
	struct rs_error *e = NULL;
	_cleanup_free_ char *dir = rs_xstrdup(rel), *abs = rs_xasprintf("/%s", rs_host_rel(rel));
	char *slash = strrchr(dir, '/');
	int r = 0;

	/* Container-Optimized OS and Bottlerocket rebuild /etc at boot: a write
	 * there would claim a fix that is gone tomorrow (§G.14) */
	if (rs_startswith(rs_host_rel(rel), "etc/") &&
	    !rs_distro_bool(&f->ctx->distro, "etc_persistent", true)) {
		const char *hint = rs_ctx_hint(f->ctx, rule, NULL);
		rs_fix_action(f, rule, "note", abs, "/etc does not persist on this system%s%s",
			      hint ? ": " : "; use its provisioning (cloud-init, settings API)",
			      hint ? hint : "")->failed = true;
		return -EROFS;
	}
	if (slash) {
		*slash = '\0';
		r = rs_safe_mkdirs(f->ctx->host, dir, 0755, 0, 0, f->o->dry_run, &e);
	}
	/* in a dry run a missing directory means the file is new too */
	if (r >= 0 && !(r == 1 && f->o->dry_run))
		r = rs_safe_write(f->ctx->host, rel, text, strlen(text), &wo, &e);
	struct rs_action *a = rs_fix_action(f, rule, "write", abs, "%s", detail);
	a->changed = r > 0;
	if (r < 0) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xstrdup(e ? e->msg : strerror(-r));
	}
	rs_error_free(e);
	return r;
}

bool rs_fix_live(struct rs_fix_ctx *f, const char **why)
{
	const struct rs_result *env = rs_ctx_result(f->ctx, "env.container");
	if (!f->ctx->host->live)
		*why = "not applied to the running system under --root";
	else if (env && env->f.status == RS_STATUS_WARN)
		*why = "not applied to the running system: inside a container";
	else
		return true;
	return false;
}

int rs_fix_exec(struct rs_fix_ctx *f, const char *rule, char *const argv[])
{
	_cleanup_free_ char *line = rs_xstrdup(argv[0]);
	struct stat st;
	pid_t pid;
	int status = 0;

	for (char *const *a = argv + 1; *a; a++) {
		char *n = rs_xasprintf("%s %s", line, *a);
		free(line);
		line = n;
	}
	struct rs_action *a = rs_fix_action(f, rule, "exec", argv[0], "%s", line);
	a->changed = true;
	if (f->o->dry_run)
		return 0;
	/* never a helper a user could have replaced (CVE-2019-5736 lesson) */
	if (stat(argv[0], &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xasprintf("'%s' is missing or not a root-owned, root-writable file",
					 argv[0]);
		return -EPERM;
	}
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	/* default signal dispositions: main() ignores SIGPIPE */
	posix_spawnattr_t attr;
	int r = rs_spawnattr_init_clean(&attr);
	if (r == 0) {
		r = posix_spawn(&pid, argv[0], NULL, &attr, argv, envp);
		posix_spawnattr_destroy(&attr);
	}
	if (r != 0) {
		a->failed = true;
		return -r; /* posix_spawn returns the error, errno is not set */
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xasprintf("%s: failed (status %d)", line, WEXITSTATUS(status));
		return -EIO;
	}
	return 0;
}
