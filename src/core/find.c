/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/find.h"
#include "host/userfs.h"
#include "lib/macro.h"
#include "lib/xalloc.h"

void rs_found_clear(struct rs_found *f)
{
	free(f->path);
	free(f->refused);
	memset(f, 0, sizeof(*f));
}

struct search {
	const struct rs_host *h;
	const struct rs_user *u;
	const char *name;
	int home; /* O_PATH fd of the user's home, or -1 */
	struct rs_strv seen;
	struct rs_found *out;
};

static void refuse(struct search *s, const char *dir, const char *why)
{
	if (!s->out->refused)
		s->out->refused = rs_xasprintf("'%s/%s' is not used: %s", dir, s->name, why);
}

/* A directory not searched at all: nothing is looked up through it, so
 * the message cannot tell whether the program is there. */
static void refuse_dir(struct search *s, const char *dir, const char *why)
{
	if (!s->out->refused)
		s->out->refused = rs_xasprintf("'%s' is not searched: %s", dir, why);
}

/* Owned by the user or root, and nobody else may write it (the user's own
 * primary group may: private groups with umask 002, as Fedora makes). */
static const char *untrusted(const struct search *s, const struct stat *st)
{
	if (st->st_uid != s->u->uid && st->st_uid != 0)
		return "owned by another user";
	if ((st->st_mode & 0002) || ((st->st_mode & 0020) && st->st_gid != s->u->gid))
		return "writable by other users";
	return NULL;
}

/* dir: absolute, below the home at sub (relative to it). */
static bool in_home(struct search *s, const char *dir, const char *sub)
{
	struct stat st;
	const char *why;
	_cleanup_close_ int dfd = rs_beneath_open(s->home, sub, O_PATH | O_DIRECTORY, 0);
	if (dfd == -ELOOP) {
		refuse_dir(s, dir,
			   "a symbolic link on the way (never followed in the user's home)");
		return false;
	}
	_cleanup_close_ int fd = dfd < 0 ? -1
					 : openat(dfd, s->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	if (S_ISLNK(st.st_mode)) {
		refuse(s, dir, "a symbolic link (never followed in the user's home)");
		return false;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return false;
	if ((why = untrusted(s, &st)) || (fstat(dfd, &st) == 0 && (why = untrusted(s, &st)))) {
		refuse(s, dir, why);
		return false;
	}
	s->out->path = rs_xasprintf("%s/%s", dir, s->name);
	return true;
}

static bool host_exec(const struct rs_host *h, const char *rel)
{
	struct stat st;
	return rs_host_stat(h, rel, &st, false) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* dir: root-relative, resolved by the host handle as any host file. */
static bool on_host(struct search *s, const char *dir)
{
	_cleanup_free_ char *rel = rs_xasprintf("%s/%s", dir, s->name);

	if (!host_exec(s->h, rel))
		return false;
	s->out->path = rs_xasprintf("/%s", rel);
	return true;
}

/* The unit's PATH (the system directories, in their order) runs path when
 * given the bare name. */
static bool unit_runs(const struct search *s, const char *path)
{
	for (const char *const *d = rs_engine_system_dirs; *d; d++) {
		_cleanup_free_ char *rel = rs_xasprintf("%s/%s", *d, s->name);
		if (host_exec(s->h, rel))
			return !strcmp(path + 1, rel);
	}
	return false;
}

/* One directory: below the home by the fd walk, anywhere else on the host. */
static bool look(struct search *s, const char *dir)
{
	const char *home = s->u && s->u->home ? s->u->home : NULL;
	size_t hl = home ? strlen(home) : 0;

	if (*dir != '/' || rs_strv_contains(&s->seen, dir))
		return false;
	rs_strv_push(&s->seen, dir);
	if (s->home >= 0 && hl > 1 && !strncmp(dir, home, hl) && dir[hl] == '/' && dir[hl + 1])
		return in_home(s, dir, dir + hl + 1);
	if (home && hl > 1 && !strncmp(dir, home, hl) && (!dir[hl] || dir[hl] == '/'))
		return false; /* the home itself, or no home to walk from */
	return on_host(s, rs_host_rel(dir));
}

static bool search_all(struct search *s, const char *path_env, const char *opt_dir)
{
	if (path_env) {
		_cleanup_free_ char *copy = rs_xstrdup(path_env);
		char *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
			if (look(s, d))
				return true;
	}
	for (const char *const *d = rs_engine_home_dirs; s->home >= 0 && *d; d++) {
		_cleanup_free_ char *abs = rs_xasprintf("%s/%s", s->u->home, *d);
		if (look(s, abs))
			return true;
	}
	for (const char *const *d = rs_engine_system_dirs; *d; d++) {
		_cleanup_free_ char *abs = rs_xasprintf("/%s", *d);
		if (look(s, abs))
			return true;
	}
	if (opt_dir) {
		_cleanup_free_ char *abs = rs_xasprintf("/%s", opt_dir);
		return look(s, abs);
	}
	return false;
}

int rs_find_program(const struct rs_host *h, const struct rs_user *u, const char *path_env,
		    const char *opt_dir, const char *name, struct rs_found *out)
{
	struct search s = {.h = h, .u = u, .name = name, .home = -1, .out = out};

	memset(out, 0, sizeof(*out));
	if (!*name || strchr(name, '/'))
		return 0;
	/* the home itself comes from passwd; below it the user decides */
	if (u && u->home && u->home[0] == '/' && strcmp(u->home, "/"))
		s.home = rs_host_openat(h, rs_host_rel(u->home), O_PATH | O_DIRECTORY, NULL);
	bool found = search_all(&s, path_env, opt_dir);
	if (found)
		out->on_unit_path = unit_runs(&s, out->path);
	if (s.home >= 0)
		close(s.home);
	rs_strv_clear(&s.seen);
	return found ? 1 : 0;
}
