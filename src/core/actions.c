/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/actions.h"
#include "core/check.h"
#include "host/user.h"
#include "lib/sig.h"
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
}

int rs_action_exec(struct rs_actions *l, const char *rule, char *const argv[])
{
	return rs_action_exec_env(l, rule, argv, NULL, NULL);
}

/* The child of an exec as user u, between fork and execve: only
 * async-signal-safe calls. The user gets no capability and cannot gain one
 * (no_new_privs); the cwd is "/" (root's may be closed to the user). An
 * error goes back as -errno on fd. */
static _noreturn_ void exec_as_child(const struct rs_user *u, char *const argv[],
				     char *const envp[], int fd)
{
	int e = 0;
	rs_signals_reset();
	if ((e = rs_user_drop(u)) == 0 && chdir("/") < 0)
		e = -errno;
	if (e == 0) {
		execve(argv[0], argv, envp);
		e = -errno;
	}
	(void)!write(fd, &e, sizeof(e));
	_exit(127);
}

/* fork + exec_as_child. Return: 0 with *pid, or an errno value (as
 * posix_spawn: the child's failure to become u or to exec is returned). */
static int spawn_as(const struct rs_user *u, char *const argv[], char *const envp[], pid_t *pid)
{
	int fds[2], e = 0, status;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	*pid = fork();
	if (*pid < 0) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		return e;
	}
	if (*pid == 0)
		exec_as_child(u, argv, envp, fds[1]);
	close(fds[1]);
	ssize_t n;
	while ((n = read(fds[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (n != (ssize_t)sizeof(e) || e >= 0)
		return 0;
	while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
		;
	return -e;
}

int rs_action_exec_env(struct rs_actions *l, const char *rule, char *const argv[],
		       const char *const *env, const struct rs_user *as)
{
	_cleanup_free_ char *line = rs_xstrdup(argv[0]);
	struct stat st;
	pid_t pid;
	int status = 0;

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
	char *envp[8] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	for (size_t i = 0, n = 2; env && env[i] && n + 1 < ARRAY_SIZE(envp); i++)
		envp[n++] = (char *)env[i];
	int r;
	if (as && geteuid() == 0 && as->uid != 0) {
		r = spawn_as(as, argv, envp, &pid);
	} else {
		/* default signal dispositions: main() ignores SIGPIPE */
		posix_spawnattr_t attr;
		r = rs_spawnattr_init_clean(&attr);
		if (r == 0) {
			r = posix_spawn(&pid, argv[0], NULL, &attr, argv, envp);
			posix_spawnattr_destroy(&attr);
		}
	}
	if (r != 0) {
		a->failed = true;
		rs_action_detail(a, "%s: cannot run: %s", line, strerror(r));
		return -r; /* posix_spawn returns the error, errno is not set */
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		a->failed = true;
		rs_action_detail(a, "%s: failed (status %d)", line, WEXITSTATUS(status));
		return -EIO;
	}
	return 0;
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
	return json_pack("{s:s, s:s, s:o, s:{s:I, s:I}}", "schema", "rootless-setup/actions/v1",
			 "version", RS_VERSION, "actions", arr, "summary", "changed",
			 (json_int_t)r->changed, "failed", (json_int_t)r->failed);
}
