/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/actions.h"
#include "core/check.h"
#include "host/user.h"
#include "lib/spawn.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

struct rs_action *rs_action_add(struct rs_actions *l, const char *rule, const char *kind,
				const char *path, const char *fmt, ...)
{
	va_list ap;
	l->a = rs_xrealloc(l->a, (l->n + 1) * sizeof(*l->a));
	struct rs_action *a = &l->a[l->n++];
	memset(a, 0, sizeof(*a));
	a->rule = rule;
	a->kind = rs_xstrdup(kind);
	a->path = path ? rs_xstrdup(path) : NULL;
	va_start(ap, fmt);
	a->detail = rs_xvasprintf(fmt, ap);
	va_end(ap);
	return a;
}

void rs_action_next(struct rs_actions *l, const char *step, const char *command, bool done)
{
	l->next = rs_xrealloc(l->next, (l->n_next + 1) * sizeof(*l->next));
	l->next[l->n_next++] = (struct rs_next){step, rs_xstrdup(command), done};
}

void rs_action_detail(struct rs_action *a, const char *fmt, ...)
{
	va_list ap;
	free(a->detail);
	va_start(ap, fmt);
	a->detail = rs_xvasprintf(fmt, ap);
	va_end(ap);
}

bool rs_actions_last_failed(const struct rs_actions *l)
{
	return l->n && l->a[l->n - 1].failed;
}

void rs_actions_clear(struct rs_actions *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->a[i].kind);
		free(l->a[i].path);
		free(l->a[i].detail);
	}
	free(l->a);
	l->a = NULL;
	l->n = 0;
	for (size_t i = 0; i < l->n_next; i++)
		free(l->next[i].command);
	free(l->next);
	l->next = NULL;
	l->n_next = 0;
}

int rs_action_exec(struct rs_actions *l, const char *rule, char *const argv[])
{
	return rs_action_exec_env(l, rule, argv, NULL, NULL);
}

/* The last line of a helper's stderr (its reason, usually), at most 200
 * bytes: for the action's detail, which the verbs escape when they print
 * it. Caller frees; NULL when there is none. */
static char *last_line(const struct rs_spawn_result *res)
{
	const char *t = res->err;
	size_t n = res->err_len;

	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		n--;
	if (!t || !n)
		return NULL;
	const char *nl = memrchr(t, '\n', n);
	const char *s = nl ? nl + 1 : t;
	size_t len = (size_t)(t + n - s);
	return rs_xstrndup(s, len > 200 ? 200 : len);
}

/* The helper's environment: a clean one for root's helpers; for a user,
 * the allow-list of rs_user_env, so nothing of root's reaches the user's
 * process. Then the caller's "NAME=value" entries. */
static void exec_env(const struct rs_user *as, const char *const *env, struct rs_strv *out)
{
	if (as)
		rs_user_env(as, NULL, NULL, out);
	else
		rs_strv_push(out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	rs_strv_push(out, "LC_ALL=C");
	for (size_t i = 0; env && env[i]; i++)
		rs_strv_push(out, env[i]);
}

/* Runs argv through lib/spawn: a new session, no terminal, output read
 * by us, a deadline; as u (its groups, no capability, no_new_privs, cwd
 * "/") when u is given. Return: 0 or -errno, with a's detail set. */
static int exec_run(struct rs_action *a, const char *line, char *const argv[],
		    const char *const *env, const struct rs_user *as)
{
	_cleanup_strv_ struct rs_strv envp = {0};
	_cleanup_error_ struct rs_error *e = NULL;
	struct rs_spawn_result res;

	exec_env(as, env, &envp);
	struct rs_spawn o = {.path = argv[0],
			     .argv = argv,
			     .envp = envp.v,
			     .flags = RS_SPAWN_STDOUT | RS_SPAWN_STDERR,
			     .setup = as ? rs_user_spawn_drop : NULL,
			     .arg = (void *)as,
			     .steps = rs_user_steps,
			     .err_max = 4096,
			     .timeout_ms = RS_ACTION_EXEC_TIMEOUT_S * 1000};
	int r = rs_spawn_run(&o, &res, &e);
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "%s: %s", line, e->msg);
	} else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status)) {
		_cleanup_free_ char *why = last_line(&res);
		a->failed = true;
		rs_action_detail(a, "%s: failed (status %d)%s%s", line,
				 rs_spawn_exit_code(res.status), why ? ": " : "", why ? why : "");
		r = -EIO;
	}
	rs_spawn_result_clear(&res);
	return r;
}

int rs_action_exec_env(struct rs_actions *l, const char *rule, char *const argv[],
		       const char *const *env, const struct rs_user *as)
{
	_cleanup_free_ char *line = rs_xstrdup(argv[0]);
	struct stat st;

	for (char *const *w = argv + 1; *w; w++) {
		char *n = rs_xasprintf("%s %s", line, *w);
		free(line);
		line = n;
	}
	if (as && as->uid != geteuid()) {
		char *n = rs_xasprintf("%s (as %s)", line, as->name);
		free(line);
		line = n;
	}
	struct rs_action *a = rs_action_add(l, rule, "exec", argv[0], "%s", line);
	a->changed = true;
	if (l->dry_run)
		return 0;
	/* never a helper a user could have replaced (CVE-2019-5736 lesson) */
	if (stat(argv[0], &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		a->failed = true;
		rs_action_detail(a, "'%s' is missing or not a root-owned, root-writable file",
				 argv[0]);
		return -EPERM;
	}
	/* root acting for a user talks to the user's things (its manager)
	 * with the user's credentials only */
	return exec_run(a, line, argv, env, as && geteuid() == 0 && as->uid != 0 ? as : NULL);
}

struct rs_action_report *rs_action_report_new(struct rs_report *check, struct rs_actions *l)
{
	struct rs_action_report *r = rs_xcalloc(1, sizeof(*r));
	r->check = check;
	r->acts = *l;
	for (size_t i = 0; i < l->n; i++) {
		r->changed += l->a[i].changed;
		r->failed += l->a[i].failed;
	}
	*l = (struct rs_actions){.dry_run = l->dry_run};
	return r;
}

void rs_action_report_free(struct rs_action_report *r)
{
	if (!r)
		return;
	rs_actions_clear(&r->acts);
	rs_report_free(r->check);
	free(r);
}

json_t *rs_action_report_json(const struct rs_action_report *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->acts.n; i++) {
		const struct rs_action *a = &r->acts.a[i];
		json_array_append_new(arr,
				      json_pack("{s:o, s:o, s:o, s:b, s:b, s:o}", "rule",
						rs_json_str(a->rule), "kind", rs_json_str(a->kind),
						"path", rs_json_str(a->path), "changed", a->changed,
						"failed", a->failed, "detail",
						rs_json_str(a->detail)));
	}
	json_t *next = json_array();
	for (size_t i = 0; i < r->acts.n_next; i++) {
		const struct rs_next *x = &r->acts.next[i];
		json_array_append_new(next, json_pack("{s:s, s:o, s:b}", "step", x->step, "command",
						      rs_json_str(x->command), "done", x->done));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:{s:I, s:I}}", "schema",
			 "rootless-setup/actions/v1", "version", RS_VERSION, "actions", arr, "next",
			 next, "summary", "changed", (json_int_t)r->changed, "failed",
			 (json_int_t)r->failed);
}
