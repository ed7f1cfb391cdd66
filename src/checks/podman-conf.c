/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The OCI runtime Podman's configuration files name: what install's drop-in
 * (or the admin, or the user) set, so a verdict does not ask for what is
 * already configured. */
#include <dirent.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "checks/internal.h"
#include "host/parse.h"
#include "host/userfs.h"
#include "lib/strutil.h"

/* containers.conf(5): a few KiB in practice; more is not Podman's file */
#define CONF_MAX	 (1u << 20)
#define CONF_DROPINS_MAX 64u
#define CONF_TIMEOUT_MS	 5000u

static bool ends_conf(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* [engine] runtime of one file's text, or NULL */
static char *conf_runtime(const char *buf, size_t len)
{
	return rs_toml_get(buf, len, "engine", "runtime");
}

/* Last wins, as Podman merges them: *val and *from replaced. */
static void take(char **val, char **from, char *v, const char *path)
{
	if (!v)
		return;
	free(*val);
	free(*from);
	*val = v;
	*from = rs_xstrdup(path);
}

/* The system's files: /usr/share, /etc, then /etc's drop-ins in name order. */
static void system_runtime(struct rs_ctx *ctx, char **val, char **from)
{
	static const char *const files[] = {"usr/share/containers/containers.conf",
					    "etc/containers/containers.conf", NULL};
	static const char *const dir = "etc/containers/containers.conf.d";
	_cleanup_strv_ struct rs_strv names = {0};

	for (const char *const *f = files; *f; f++) {
		_cleanup_free_ char *buf = NULL, *abs = rs_xasprintf("/%s", *f);
		size_t len;
		if (rs_host_read(ctx->host, *f, CONF_MAX, &buf, &len, NULL) == 0)
			take(val, from, conf_runtime(buf, len), abs);
	}
	if (rs_host_listdir(ctx->host, dir, &names, NULL) < 0)
		return;
	for (size_t i = 0; i < names.n && i < CONF_DROPINS_MAX; i++) {
		if (!ends_conf(names.v[i]))
			continue;
		_cleanup_free_ char *rel = rs_xasprintf("%s/%s", dir, names.v[i]);
		_cleanup_free_ char *buf = NULL, *abs = rs_xasprintf("/%s", rel);
		size_t len;
		if (rs_host_read(ctx->host, rel, CONF_MAX, &buf, &len, NULL) == 0)
			take(val, from, conf_runtime(buf, len), abs);
	}
}

struct user_conf {
	const struct rs_host *host;
	const char *home; /* in-host absolute, from passwd */
	const char *cfg;  /* below the home: ".config/containers" */
};

/* In the child, as the user: the user's plain file rel below dirfd (no
 * symlink on the way, no FIFO waited for), or NULL. */
static char *user_file(int dirfd, const char *rel, uid_t uid)
{
	_cleanup_close_ int fd = rs_beneath_open(dirfd, rel, O_RDONLY | O_NONBLOCK, 0);
	struct stat st;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid ||
	    (size_t)st.st_size > CONF_MAX)
		return NULL;
	buf = rs_xmalloc((size_t)st.st_size + 1);
	for (ssize_t r; len < (size_t)st.st_size; len += (size_t)r)
		if ((r = read(fd, buf + len, (size_t)st.st_size - len)) <= 0) {
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			break;
		}
	buf[len] = '\0';
	return conf_runtime(buf, len);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes "VALUE\nFILE" of the last file naming a runtime into *data. */
static int user_runtime_fn(void *arg, char **data, size_t *dlen, char *msg _unused_,
			   size_t msglen _unused_)
{
	const struct user_conf *uc = arg;
	_cleanup_close_ int home = rs_host_openat(uc->host, rs_host_rel(uc->home),
						  O_PATH | O_DIRECTORY, NULL);
	_cleanup_free_ char *val = NULL, *from = NULL;
	_cleanup_free_ char *main_rel = rs_xasprintf("%s/containers.conf", uc->cfg);
	_cleanup_free_ char *dir_rel = rs_xasprintf("%s/containers.conf.d", uc->cfg);

	if (home < 0)
		return 0;
	take(&val, &from, user_file(home, main_rel, getuid()), main_rel);
	int dfd = rs_beneath_open(home, dir_rel, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	_cleanup_strv_ struct rs_strv names = {0};
	for (struct dirent *de; d && (de = readdir(d)) && names.n < CONF_DROPINS_MAX;)
		if (ends_conf(de->d_name))
			rs_strv_push(&names, de->d_name);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *rel = rs_xasprintf("%s/%s", dir_rel, names.v[i]);
		take(&val, &from, user_file(home, rel, getuid()), rel);
	}
	if (d)
		closedir(d);
	else if (dfd >= 0)
		close(dfd);
	if (!val)
		return 0;
	*data = rs_xasprintf("%s\n%s/%s", val, uc->home, from);
	*dlen = strlen(*data);
	return 1;
}

/* The user's own files, read by a child with the user's credentials: they
 * are the user's to write, so root never opens them itself. */
static void user_runtime(struct rs_ctx *ctx, char **val, char **from)
{
	struct user_conf uc = {.host = ctx->host,
			       .home = ctx->user.home,
			       .cfg = ".config/containers"};
	_cleanup_free_ char *data = NULL;
	char msg[256];
	size_t len;

	if (!ctx->has_user || !uc.home || uc.home[0] != '/' || !strcmp(uc.home, "/"))
		return;
	if (rs_as_user_data(&ctx->user, user_runtime_fn, &uc, 4096, &data, &len, msg, sizeof(msg),
			    CONF_TIMEOUT_MS) <= 0 ||
	    !data)
		return;
	char *nl = strchr(data, '\n');
	if (!nl)
		return;
	*nl = '\0';
	take(val, from, rs_xstrdup(data), nl + 1);
}

char *rs_podman_conf_runtime(struct rs_ctx *ctx, char **from)
{
	char *val = NULL;

	*from = NULL;
	system_runtime(ctx, &val, from);
	user_runtime(ctx, &val, from);
	return val;
}
