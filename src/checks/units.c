/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A systemd unit as the manager loads it (systemd.unit(5), "Unit File Load
 * Path" and drop-ins): the unit file of the highest-priority directory,
 * then every drop-in of NAME.d, the template's TEMPLATE.d, the dash
 * prefixes' PREFIX-.TYPE.d and the type's TYPE.d, by file name, the
 * higher directory winning a name. The user's own directories are read
 * with the user's credentials, without following links.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "checks/internal.h"
#include "host/userfs.h"

#define UNIT_MAX (1u << 20)

/* The search path, highest priority first; '~' marks the user's home. */
static const char *const system_dirs[] = {"/etc/systemd/system",
					  "/run/systemd/system",
					  "/usr/local/lib/systemd/system",
					  "/usr/lib/systemd/system",
					  "/lib/systemd/system",
					  NULL};
static const char *const user_dirs[] = {"~/.config/systemd/user",
					"/etc/systemd/user",
					"/run/systemd/user",
					"~/.local/share/systemd/user",
					"/usr/local/lib/systemd/user",
					"/usr/lib/systemd/user",
					"/lib/systemd/user",
					NULL};

struct list_arg {
	const struct rs_host *host;
	const char *base, *rel;
};

static int list_fn(void *arg, char **data, size_t *len, char *msg _unused_, size_t msglen _unused_)
{
	const struct list_arg *a = arg;
	_cleanup_close_ int base = rs_host_openat(a->host, rs_host_rel(a->base),
						  O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
	struct rs_sbuf sb = {0};
	struct dirent *de;

	if (base < 0)
		return base;
	int fd = rs_beneath_open(base, a->rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && sb.n < (64u << 10)) {
			rs_sbuf_add(&sb, de->d_name, strlen(de->d_name));
			rs_sbuf_add(&sb, "\n", 1);
		}
	closedir(d);
	*data = sb.s ? sb.s : rs_xstrdup("");
	*len = sb.n;
	return 0;
}

/* The names in a system directory of the load path, or in one of its
 * drop-in directories, listed once per host handle: a check asks for a
 * unit and its drop-ins for every engine, and a fleet for every user,
 * and nearly every name asked is absent (user@UID.service.d). */
struct dir_memo {
	struct rs_strv names; /* sorted */
	bool ok;	      /* listed, or absent: else open each name */
};

static void dir_memo_free(void *p)
{
	struct dir_memo *m = p;
	rs_strv_clear(&m->names);
	free(m);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static const struct dir_memo *sys_dir(const struct rs_ctx *ctx, const char *rel)
{
	_cleanup_free_ char *key = rs_xasprintf("unitdir:%s", rel);
	struct dir_memo *m = rs_host_memo(ctx->host, key);

	if (!m) {
		m = rs_xcalloc(1, sizeof(*m));
		int r = rs_host_listdir(ctx->host, rel, &m->names, NULL);
		m->ok = r == 0 || r == -ENOENT || r == -ENOTDIR;
		if (r < 0)
			rs_strv_clear(&m->names);
		rs_host_memo_keep(ctx->host, key, m, dir_memo_free);
	}
	return m;
}

/* Whether system directory dir may hold name: false only when its
 * listing says it does not. */
static bool sys_may_have(const struct rs_ctx *ctx, const char *dir, const char *name)
{
	const struct dir_memo *m = sys_dir(ctx, rs_host_rel(dir));
	return !m->ok ||
	       (m->names.n && bsearch(name, m->names.v, m->names.n, sizeof(char *), cmp_name));
}

/* Whether rel below the user's home exists, looked at as root through an
 * O_PATH walk that follows no link (nothing is read): most homes have no
 * such directory, and then no process acting as the user is started. */
static bool in_home(const struct rs_ctx *ctx, const char *rel)
{
	if (!ctx->has_user || ctx->user.home[0] != '/' || !strcmp(ctx->user.home, "/"))
		return false;
	_cleanup_close_ int home = rs_host_openat(ctx->host, rs_host_rel(ctx->user.home),
						  O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
	if (home < 0)
		return false;
	int fd = rs_beneath_open(home, rel, O_PATH, 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0 || fd == -ELOOP || fd == -EACCES; /* as the user, it will say */
}

/* The names in directory dir/sub ("~/..." below the home, as the user).
 * Return: 0, -ENOENT or -errno. */
static int list_dir(struct rs_ctx *ctx, const char *dir, const char *sub, struct rs_strv *out)
{
	if (dir[0] != '~') {
		if (!sys_may_have(ctx, dir, sub))
			return -ENOENT;
		_cleanup_free_ char *rel = rs_xasprintf("%s/%s", rs_host_rel(dir), sub);
		const struct dir_memo *m = sys_dir(ctx, rel);
		if (!m->ok)
			return rs_host_listdir(ctx->host, rel, out, NULL);
		for (size_t i = 0; i < m->names.n; i++)
			rs_strv_push(out, m->names.v[i]);
		return 0;
	}
	_cleanup_free_ char *rel = rs_xasprintf("%s/%s", dir + 2, sub), *data = NULL;
	if (!in_home(ctx, rel))
		return -ENOENT;
	struct list_arg a = {.host = ctx->host, .base = ctx->user.home, .rel = rel};
	size_t len;
	char msg[256];
	int r = rs_as_user_data(&ctx->user, list_fn, &a, 64u << 10, &data, &len, msg, sizeof(msg),
				5000);
	if (r < 0)
		return r;
	for (char *s = data, *nl; s && (nl = strchr(s, '\n')); s = nl + 1) {
		*nl = '\0';
		rs_strv_push(out, s);
	}
	return 0;
}

/* dir/name as an absolute in-host path ('~' the user's home). */
static char *expand(const struct rs_ctx *ctx, const char *dir, const char *name)
{
	if (dir[0] == '~')
		return rs_xasprintf("%s%s/%s", ctx->user.home, dir + 1, name);
	return rs_xasprintf("%s/%s", dir, name);
}

/* Reads abs (below the home as the user; a system unit once per handle).
 * Return: 0, -ENOENT, -errno. */
static int read_unit(struct rs_ctx *ctx, bool mine, const char *abs, char **text)
{
	const char *buf;
	size_t len;
	if (mine)
		return rs_user_read(ctx, abs, UNIT_MAX, text, &len);
	int r = rs_host_read_cached(ctx->host, rs_host_rel(abs), UNIT_MAX, &buf, &len, NULL);
	if (r == 0)
		*text = rs_xstrndup(buf, len);
	return r;
}

/* Whether directory dir of the load path may hold anything: a system
 * directory is listed once per handle; the user's own two ("~/...") are
 * looked at once per user (ctx->home_units), as root without following a
 * link (in_home), and most homes have neither. */
static bool dir_present(struct rs_ctx *ctx, const char *dir)
{
	if (dir[0] != '~') {
		const struct dir_memo *m = sys_dir(ctx, rs_host_rel(dir));
		return !m->ok || m->names.n;
	}
	unsigned bit = strcmp(dir, user_dirs[0]) == 0 ? 1u : 2u;
	if (!(ctx->home_units_known & bit)) {
		ctx->home_units_known |= bit;
		if (in_home(ctx, dir + 2))
			ctx->home_units |= bit;
	}
	return ctx->home_units & bit;
}

static void add_file(struct rs_unit_files *u, char *path, char *text)
{
	if (u->n == RS_UNIT_FILES_MAX) {
		free(path);
		free(text);
		return;
	}
	u->path[u->n] = path;
	u->text[u->n++] = text;
}

/* The drop-in directory names of name, most specific first:
 * "a-b-c@1.service" gives a-b-c@1.service.d, a-b-c@.service.d,
 * a-b-.service.d, a-.service.d, service.d. */
static void dropin_names(const char *name, struct rs_strv *out)
{
	const char *dot = strrchr(name, '.');
	const char *at = strchr(name, '@');
	size_t stem = dot ? (size_t)(dot - name) : strlen(name);
	const char *type = dot ? dot + 1 : "";

	rs_strv_take(out, rs_xasprintf("%s.d", name));
	if (at && at + 1 != dot)
		rs_strv_take(out, rs_xasprintf("%.*s@.%s.d", (int)(at - name), name, type));
	for (size_t i = stem - 1; i > 0; i--)
		if (name[i - 1] == '-')
			rs_strv_take(out, rs_xasprintf("%.*s.%s.d", (int)i, name, type));
	rs_strv_take(out, rs_xasprintf("%s.d", type));
}

struct dropin {
	char *file; /* the file name: the sort key */
	char *abs;
	bool mine;
};

static int by_file(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->file, ((const struct dropin *)b)->file);
}

/* Every drop-in of name in dirs, the first directory winning a file name. */
static int find_dropins(struct rs_ctx *ctx, const char *name, const char *const *dirs,
			struct dropin **out, size_t *n)
{
	_cleanup_strv_ struct rs_strv dnames = {0};
	int ret = 0;

	*out = NULL;
	*n = 0;
	dropin_names(name, &dnames);
	for (const char *const *d = dirs; *d; d++)
		for (size_t i = 0; i < dnames.n && dir_present(ctx, *d); i++) {
			struct rs_strv names = {0};
			int r = list_dir(ctx, *d, dnames.v[i], &names);
			if (r < 0 && r != -ENOENT && r != -ENOTDIR)
				ret = r;
			for (size_t k = 0; k < names.n; k++) {
				const char *f = names.v[k];
				size_t fl = strlen(f), j;
				if (fl < 6 || strcmp(f + fl - 5, ".conf"))
					continue;
				for (j = 0; j < *n && strcmp((*out)[j].file, f); j++)
					;
				if (j < *n || *n == RS_UNIT_FILES_MAX)
					continue;
				_cleanup_free_ char *dd = expand(ctx, *d, dnames.v[i]);
				*out = rs_xrealloc(*out, (*n + 1) * sizeof(**out));
				(*out)[(*n)++] = (struct dropin){.file = rs_xstrdup(f),
								 .abs = rs_xasprintf("%s/%s", dd,
										     f),
								 .mine = (*d)[0] == '~'};
			}
			rs_strv_clear(&names);
		}
	if (*n)
		qsort(*out, *n, sizeof(**out), by_file);
	return ret;
}

/* The unit file itself: the first directory holding name, else (an
 * instance) the template. */
static int find_unit(struct rs_ctx *ctx, const char *name, const char *const *dirs,
		     struct rs_unit_files *u)
{
	const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
	_cleanup_free_ char *tmpl = at && dot && at + 1 != dot
					    ? rs_xasprintf("%.*s@%s", (int)(at - name), name, dot)
					    : NULL;
	const char *cands[] = {name, tmpl, NULL};

	for (const char *const *c = cands; *c; c++)
		for (const char *const *d = dirs; *d; d++) {
			if (!dir_present(ctx, *d) || ((*d)[0] != '~' && !sys_may_have(ctx, *d, *c)))
				continue;
			char *abs = expand(ctx, *d, *c), *text = NULL;
			int r = read_unit(ctx, (*d)[0] == '~', abs, &text);
			if (r == 0) {
				add_file(u, abs, text);
				return 0;
			}
			free(abs);
			free(text);
			if (r != -ENOENT && r != -ENOTDIR)
				return r;
		}
	return 0;
}

int rs_unit_load(struct rs_ctx *ctx, const char *name, bool user_manager, struct rs_unit_files *u)
{
	const char *const *dirs = user_manager ? user_dirs : system_dirs;
	struct dropin *di = NULL;
	size_t n = 0;

	memset(u, 0, sizeof(*u));
	int r = find_unit(ctx, name, dirs, u);
	int r2 = find_dropins(ctx, name, dirs, &di, &n);
	for (size_t i = 0; i < n; i++) {
		char *text = NULL;
		if (read_unit(ctx, di[i].mine, di[i].abs, &text) == 0) {
			add_file(u, di[i].abs, text);
			di[i].abs = NULL;
		} else {
			free(text);
		}
		free(di[i].abs);
		free(di[i].file);
	}
	free(di);
	return r < 0 ? r : r2;
}

void rs_unit_files_clear(struct rs_unit_files *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->path[i]);
		free(u->text[i]);
	}
	memset(u, 0, sizeof(*u));
}
