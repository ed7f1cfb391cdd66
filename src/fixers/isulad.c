/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <dirent.h>
#include <linux/magic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>
#include <limits.h>
#include "checks/isulad.h"
#include "fixers/fixer.h"
#include "host/access.h"
#include "host/parse.h"
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/io.h"
#include "lib/xalloc.h"

#define MAX_COPIES 128

struct copy_job {
	const char *rel; /* root-relative system path: etc/isulad/daemon.json */
	char *data;	 /* root's bytes, read by root (root's file: trusted) */
	size_t len;
};

struct copy_arg {
	int home; /* O_PATH fd of the user's home */
	struct copy_job *j;
	size_t n;
};

/* In the child acting as the user: the directories of rel below the home,
 * each made 0700 when missing and opened without following a symlink.
 * Return: directory fd, or -errno with msg naming the component. */
static int user_mkdirs(int home, const char *rel, char *msg, size_t msglen)
{
	_cleanup_free_ char *copy = rs_xstrdup(rel);
	int cur = fcntl(home, F_DUPFD_CLOEXEC, 3);
	char *save = NULL, path[PATH_MAX] = "~";

	for (char *c = strtok_r(copy, "/", &save); cur >= 0 && c; c = strtok_r(NULL, "/", &save)) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", c);
		if (mkdirat(cur, c, 0700) < 0 && errno != EEXIST) {
			int e = errno;
			snprintf(msg, msglen, "cannot create '%s': %s", path, strerror(e));
			close(cur);
			return -e;
		}
		int next = rs_beneath_open(cur, c, O_RDONLY | O_DIRECTORY, 0);
		close(cur);
		if (next < 0) {
			snprintf(msg, msglen, "'%s' %s: refused", path,
				 next == -ELOOP	    ? "is a symlink"
				 : next == -ENOTDIR ? "is not a directory"
						    : strerror(-next));
			return next;
		}
		cur = next;
	}
	return cur < 0 ? -errno : cur;
}

static bool same_file(int dfd, const char *name, const struct copy_job *j)
{
	_cleanup_close_ int fd = rs_beneath_open(dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 ||
	    (size_t)st.st_size != j->len)
		return false;
	_cleanup_free_ char *b = rs_xmalloc(j->len + 1);
	/* a file that grew since the fstat is -EFBIG: not the same */
	ssize_t n = rs_read_all(fd, b, j->len, -1);
	return n == (ssize_t)j->len && memcmp(b, j->data, j->len) == 0;
}

/* One copy: a temporary file in the directory fd, 0600 whatever the umask,
 * synced, then renamed over the name (atomic; a symlink there is replaced,
 * never followed). Return: 1 written, 0 already identical, -errno. */
static int user_write(int dfd, const char *name, const struct copy_job *j, char *msg, size_t msglen)
{
	char tmp[NAME_MAX + 1];
	int fd = -1, e = 0;

	if (same_file(dfd, name, j))
		return 0;
	for (unsigned i = 0; fd < 0 && i < 100; i++) {
		snprintf(tmp, sizeof(tmp), ".%.200s.rs-%d-%u", name, (int)getpid(), i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		e = errno;
		snprintf(msg, msglen, "cannot create a temporary file for '%s': %s", name,
			 strerror(e));
		return -e;
	}
	int w = rs_write_full(fd, j->data, j->len);
	if (w < 0)
		e = -w;
	if (!e && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		e = errno;
	close(fd);
	if (!e && renameat(dfd, tmp, dfd, name) < 0)
		e = errno;
	if (e) {
		unlinkat(dfd, tmp, 0);
		snprintf(msg, msglen, "cannot write '%s': %s", name, strerror(e));
		return -e;
	}
	fsync(dfd);
	return 1;
}

/* rs_as_user's function: every copy, as the user. msg gets one '0' or '1'
 * per copy (unchanged, written) on success. */
static int write_copies(void *arg, char *msg, size_t msglen)
{
	const struct copy_arg *a = arg;
	char done[MAX_COPIES + 1] = "";

	for (size_t i = 0; i < a->n; i++) {
		_cleanup_free_ char *rel = rs_xasprintf("%s/%s", RS_ISULAD_COPY_DIR, a->j[i].rel);
		char *slash = strrchr(rel, '/');
		*slash = '\0';
		_cleanup_close_ int dfd = user_mkdirs(a->home, rel, msg, msglen);
		if (dfd < 0)
			return dfd;
		int r = user_write(dfd, slash + 1, &a->j[i], msg, msglen);
		if (r < 0)
			return r;
		done[i] = r ? '1' : '0';
	}
	snprintf(msg, msglen, "%s", done);
	return 0;
}

struct collect_arg {
	struct rs_fix_ctx *f;
	const char *rule;
	struct copy_job *j;
	size_t n;
	struct rs_strv *keep; /* owns each job's rel */
};

/* rs_engine_each_copied's function: root's bytes of a file the user
 * cannot read. Return: 0, or -1 (recorded) on a file root cannot read. */
static int collect_one(const char *rel, const struct stat *st _unused_, void *arg)
{
	struct collect_arg *c = arg;
	struct rs_ctx *ctx = c->f->ctx;
	struct copy_job *j = &c->j[c->n];
	struct rs_error *e = NULL;

	if (rs_access_user(ctx->host, &ctx->user, rel, R_OK) == 1)
		return 0;
	if (c->n == MAX_COPIES ||
	    rs_safe_read(ctx->host, rel, 4u << 20, &j->data, &j->len, &e) < 0) {
		rs_fix_action(c->f, c->rule, "note", NULL, "%s", e ? e->msg : "too many files")
			->failed = true;
		rs_error_free(e);
		return -1;
	}
	if (!j->data)
		j->data = rs_xstrdup("");
	rs_strv_push(c->keep, rel);
	j->rel = c->keep->v[c->keep->n - 1];
	c->n++;
	return 0;
}

/* The files of iSulad's directories that the user cannot read, with root's
 * bytes. Return: the number, or -1 (recorded) on a file root cannot read. */
static ssize_t collect(struct rs_fix_ctx *f, const char *rule, struct copy_job *j,
		       struct rs_strv *keep)
{
	struct collect_arg c = {.f = f, .rule = rule, .j = j, .keep = keep};

	if (rs_engine_each_copied(f->ctx->host, RS_ENGINE_ISULAD, false, collect_one, &c) < 0) {
		for (size_t i = 0; i < c.n; i++)
			free(j[i].data);
		return -1;
	}
	return (ssize_t)c.n;
}

/* Root's files stay root's: no group isula (the group of the root daemon's
 * socket, so membership is root-equivalent, like docker's), no chgrp, no
 * chmod. The user gets a copy of each file it cannot read, written by a
 * child with the user's credentials below its own home, so a symlinked
 * ~/.config cannot aim the write at root's files. */
static int fix_permissions(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *rule = res->rule->id;
	struct copy_job j[MAX_COPIES] = {{0}};
	_cleanup_strv_ struct rs_strv keep = {0};
	_cleanup_close_ int home = -1;
	char msg[512] = {0};
	int r = 0;

	ssize_t n = collect(f, rule, j, &keep);
	if (n > 0 && (!ctx->user.home || ctx->user.home[0] != '/' || !strcmp(ctx->user.home, "/") ||
		      (home = rs_host_openat(ctx->host, rs_host_rel(ctx->user.home),
					     O_PATH | O_DIRECTORY, NULL)) < 0)) {
		rs_fix_action(f, rule, "note", NULL,
			      "'%s' has no home directory to hold its copy "
			      "of iSulad's files",
			      ctx->user.name)
			->failed = true;
		n = -1;
	}
	if (n > 0 && !f->o->dry_run) {
		struct copy_arg a = {.home = home, .j = j, .n = (size_t)n};
		r = rs_as_user(&ctx->user, write_copies, &a, msg, sizeof(msg), 10000);
		if (r < 0)
			rs_fix_action(f, rule, "note", NULL,
				      "cannot copy iSulad's files as '%s': %s; "
				      "nothing of root's changed",
				      ctx->user.name, msg)
				->failed = true;
	}
	for (ssize_t i = 0; r >= 0 && i < n; i++) {
		struct rs_action *a = rs_fix_action(f, rule, "write", NULL,
						    "copy of '/%s' for '%s', "
						    "made as '%s' (0600)",
						    j[i].rel, ctx->user.name, ctx->user.name);
		a->path = rs_xasprintf("%s/%s/%s", ctx->user.home, RS_ISULAD_COPY_DIR, j[i].rel);
		a->changed = f->o->dry_run || msg[i] == '1';
	}
	for (ssize_t i = 0; i < n; i++)
		free(j[i].data);
	return 0;
}

const struct rs_fixer rs_fixer_isulad_permissions = {.order = 90, .run = fix_permissions};

/* Is a root iSulad still running? Its pid file names a live isulad, or
 * its socket accepts. Under --root nothing can be asked: a pid file there
 * means "maybe". */
static bool isulad_running(struct rs_ctx *ctx, char **why)
{
	_cleanup_free_ char *pid = NULL;
	size_t len;
	uint64_t n;

	if (rs_host_read(ctx->host, "var/run/isulad.pid", 64, &pid, &len, NULL) == 0 &&
	    rs_parse_u64(rs_strstrip(pid), INT32_MAX, &n) == 0) {
		if (!ctx->host->live) {
			*why = rs_xasprintf("'/var/run/isulad.pid' names pid %llu (not checkable "
					    "under --root)",
					    (unsigned long long)n);
			return true;
		}
		if (kill((pid_t)n, 0) == 0 || errno == EPERM) {
			*why = rs_xasprintf("iSulad runs as pid %llu", (unsigned long long)n);
			return true;
		}
	}
	if (ctx->host->live) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/var/run/isulad.sock"};
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool up = s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (s >= 0)
			close(s);
		if (up) {
			*why = rs_xstrdup("'/var/run/isulad.sock' accepts connections");
			return true;
		}
	}
	return false;
}

/* LXC's tools or its Debian package: /var/run/lxc is then LXC's as well
 * (lxc-start keeps its locks there), whoever made it. Return: what says so
 * (caller frees), or NULL. */
static char *lxc_installed(const struct rs_host *h)
{
	static const char *const bins[] = {"usr/bin/lxc-start", "usr/sbin/lxc-start",
					   "usr/local/bin/lxc-start", "usr/bin/lxc-info", NULL};
	_cleanup_fclose_ FILE *fp = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	bool lxc = false;

	for (const char *const *b = bins; *b; b++)
		if (rs_host_exists(h, *b))
			return rs_xasprintf("'/%s' is there", *b);
	int fd = rs_host_openat(h, "var/lib/dpkg/status", O_RDONLY | O_NONBLOCK, NULL);
	if (fd < 0 || !(fp = fdopen(fd, "r"))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (getline(&line, &cap, fp) > 0) {
		if (line[0] == '\n')
			lxc = false;
		else if (!strncmp(line, "Package: ", 9))
			lxc = !strcmp(line + 9, "lxc\n");
		else if (lxc && !strncmp(line, "Status: ", 8) && strstr(line, " installed"))
			return rs_xstrdup("the Debian package 'lxc' is installed");
	}
	return NULL;
}

static bool under(const char *target, const char *const *paths)
{
	for (; *paths; paths++) {
		size_t n = strlen(*paths);
		if (!strncmp(target, *paths, n) &&
		    (target[n] == '\0' || target[n] == '/' || target[n] == ' '))
			return true;
	}
	return false;
}

static bool link_under(int dfd, const char *name, const char *const *paths)
{
	char buf[PATH_MAX];
	ssize_t k = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	if (k < 0)
		return false;
	buf[k] = '\0';
	return under(buf, paths);
}

/* Whether process directory pfd has its cwd, root, an open file or a
 * mapped file below one of paths. */
static bool holds(int pfd, const char *const *paths)
{
	if (link_under(pfd, "cwd", paths) || link_under(pfd, "root", paths))
		return true;
	int fdd = openat(pfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdd >= 0 ? fdopendir(fdd) : NULL;
	struct dirent *de;
	bool hit = false;
	if (!d && fdd >= 0)
		close(fdd);
	while (d && !hit && (de = readdir(d)))
		hit = de->d_name[0] != '.' && link_under(dirfd(d), de->d_name, paths);
	if (d)
		closedir(d);
	int mfd = hit ? -1 : openat(pfd, "maps", O_RDONLY | O_CLOEXEC);
	FILE *fp = mfd >= 0 ? fdopen(mfd, "r") : NULL;
	char *line = NULL, *slash;
	size_t cap = 0;
	if (!fp && mfd >= 0)
		close(mfd);
	while (fp && !hit && getline(&line, &cap, fp) > 0)
		hit = (slash = strchr(line, '/')) &&
		      (slash[strcspn(slash, "\n")] = '\0', under(slash, paths));
	free(line);
	if (fp)
		fclose(fp);
	return hit;
}

/* The processes using a directory (paths: the ways it may be named), as
 * "pid 12 (sleep), ..." in *who. Return: how many, or -ENOTSUP when no
 * live /proc can tell (a fixture under --root). */
static int holders(const struct rs_host *h, const char *const *paths, char **who)
{
	_cleanup_close_ int proc = rs_host_openat(h, "proc", O_RDONLY | O_DIRECTORY, NULL);
	struct statfs sf;
	struct dirent *de;
	int n = 0;

	*who = rs_xstrdup("");
	if (proc < 0 || fstatfs(proc, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return -ENOTSUP;
	int dup = fcntl(proc, F_DUPFD_CLOEXEC, 3);
	_cleanup_closedir_ DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return -ENOTSUP;
	}
	while ((de = readdir(d))) {
		uint64_t pid;
		if (rs_parse_u64(de->d_name, INT32_MAX, &pid) < 0 || (pid_t)pid == getpid())
			continue;
		_cleanup_close_ int pfd = openat(proc, de->d_name,
						 O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || !holds(pfd, paths))
			continue;
		_cleanup_free_ char *comm = NULL;
		int cfd = openat(pfd, "comm", O_RDONLY | O_CLOEXEC);
		char c[32] = "?";
		ssize_t k = cfd >= 0 ? read(cfd, c, sizeof(c) - 1) : -1;
		if (cfd >= 0)
			close(cfd);
		if (k > 0)
			c[k - (c[k - 1] == '\n')] = '\0';
		if (n++ < 4) {
			char *x = rs_xasprintf("%s%spid %s (%s)", *who, **who ? ", " : "",
					       de->d_name, c);
			free(*who);
			*who = x;
		}
	}
	return n;
}

/* Why dir (var/run/NAME, open as dirfd/name) must stay, or NULL. */
static char *must_stay(struct rs_ctx *ctx, int dfd, const char *name)
{
	_cleanup_free_ char *rel = rs_xasprintf("var/run/%s", name), *canon = NULL, *who = NULL;
	_cleanup_free_ char *lxc = NULL;
	_cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char proc[64], real[PATH_MAX] = "";

	if (!strcmp(name, "lxc") && (lxc = lxc_installed(ctx->host)))
		return rs_xasprintf("LXC may use it (%s)", lxc);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t k = fd >= 0 ? readlink(proc, real, sizeof(real) - 1) : -1;
	real[k > 0 ? k : 0] = '\0';
	if (rs_host_canonical(ctx->host, rel, &canon) < 0)
		canon = rs_xasprintf("/%s", rel);
	/* as this process sees it, and as the host names it (under --root a
	 * process of that host may show either) */
	const char *paths[] = {canon, real[0] == '/' ? real : canon, NULL};
	int n = holders(ctx->host, paths, &who);
	if (n < 0)
		return rs_xstrdup("cannot tell whether a process uses it (no live /proc)");
	if (n > 0)
		return rs_xasprintf("in use by %s%s", who, n > 4 ? ", ..." : "");
	return NULL;
}

static int fix_stale(struct rs_fix_ctx *f, const struct rs_result *res)
{
	static const char *const names[] = {"isula", "isulad", "lxc", NULL};
	struct rs_ctx *ctx = f->ctx;
	char *why = NULL;

	/* never the state of a live daemon */
	if (isulad_running(ctx, &why) && !f->o->force) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "%s: stop it first (systemctl stop "
			      "isulad), nothing removed",
			      why)
			->failed = true;
		free(why);
		return 0;
	}
	free(why);
	int dfd = rs_host_openat(ctx->host, "var/run", O_RDONLY | O_DIRECTORY, NULL);
	if (dfd < 0) {
		rs_fix_action(f, res->rule->id, "note", NULL, "cannot open /var/run")->failed = true;
		return 0;
	}
	for (const char *const *n = names; *n; n++) {
		struct stat st;
		if (fstatat(dfd, *n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* a process or LXC may still use it: never removed then, even
		 * with --force (a live container's state would go) */
		_cleanup_free_ char *stay = must_stay(ctx, dfd, *n);
		if (stay) {
			struct rs_action *a = rs_fix_action(f, res->rule->id, "note", NULL,
							    "left in place: %s", stay);
			a->path = rs_xasprintf("/var/run/%s", *n);
			a->failed = true;
			continue;
		}
		struct rs_action *a = rs_fix_action(f, res->rule->id, "remove", NULL,
						    "left by a root iSulad, used by no process");
		a->path = rs_xasprintf("/var/run/%s", *n);
		a->changed = true;
		if (!f->o->dry_run && rs_remove_tree(dfd, *n, 16) < 0)
			a->failed = true;
	}
	close(dfd);
	return 0;
}

const struct rs_fixer rs_fixer_isulad_stale_state = {.order = 100, .run = fix_stale};

/* ---- isulad.locale ---- */
#define LOCALE_ENTRY "en_US.UTF-8 UTF-8"
#define LOCALE_GEN   "usr/sbin/locale-gen"

/* Where locales are compiled from locale.gen (Debian): the entry enabled
 * there, byte-exact otherwise, then locale-gen. A file system change, not
 * kernel state: made inside a container too (its own /usr/lib/locale),
 * never run under --root (locale-gen would compile this machine's). */
static int fix_locale(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	const char *rule = res->rule->id, *gen = rs_distro_str(&ctx->distro, "locale_gen");
	_cleanup_free_ char *buf = NULL, *text = NULL, *install = NULL;
	size_t len = 0;

	if (!gen) {
		rs_fix_action(f, rule, "note", NULL, "%s",
			      rs_ctx_hint(ctx, rule,
					  "this distribution compiles no locale.gen: install "
					  "the en_US.UTF-8 locale with its package"))
			->failed = true;
		return 0;
	}
	if (!rs_host_exists(ctx->host, LOCALE_GEN) ||
	    rs_host_read(ctx->host, gen, 1u << 20, &buf, &len, NULL) < 0) {
		install = rs_ctx_install_cmd(ctx, "locales");
		rs_fix_action(f, rule, "note", NULL,
			      "no /" LOCALE_GEN " and /%s: install the locales package%s%s%s", gen,
			      install ? " (" : "", install ? install : "", install ? ")" : "")
			->failed = true;
		return 0;
	}
	if (memchr(buf, '\0', len)) {
		rs_fix_action(f, rule, "note", NULL, "'/%s' holds a NUL byte: left alone", gen)
			->failed = true;
		return 0;
	}
	text = rs_locale_gen_enable(buf, len, LOCALE_ENTRY);
	if (text && rs_fix_write(f, rule, gen, text, 0644, "'" LOCALE_ENTRY "' enabled") < 0)
		return 0;
	if (!ctx->host->live) {
		rs_fix_action(f, rule, "note", NULL,
			      "locale-gen not run under --root: run it in that system");
		return 0;
	}
	char *const argv[] = {"/" LOCALE_GEN, NULL};
	rs_fix_exec(f, rule, argv);
	return 0;
}

const struct rs_fixer rs_fixer_isulad_locale = {.order = 90, .run = fix_locale};

/* ---- isulad.cgroups ---- */

/* cpuset.cpus and cpuset.mems of a new cpuset group are empty, and runc
 * cannot fill them in a group the user does not own: copied from the
 * parent (root's, the hierarchy's top). */
static int copy_cpuset(int parent, int dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems", NULL};

	for (const char *const *n = files; *n; n++) {
		char have[4096], want[4096];
		int in = openat(parent, *n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t k = in >= 0 ? read(in, want, sizeof(want) - 1) : -1;
		if (in >= 0)
			close(in);
		int cur = openat(dir, *n, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		ssize_t h = cur >= 0 ? read(cur, have, sizeof(have) - 1) : -1;
		if (k < 0 || h < 0) {
			if (cur >= 0)
				close(cur);
			return -EIO;
		}
		have[h] = '\0';
		bool empty = !*rs_strstrip(have);
		if (empty && write(cur, want, (size_t)k) != k) {
			int e = errno;
			close(cur);
			return -e;
		}
		close(cur);
	}
	return 0;
}

/* Whether group name below dfd has CPUs and memory nodes. */
static bool cpuset_filled(int dfd, const char *name)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (const char *n = "cpuset.cpus"; fd >= 0 && n;
	     n = strcmp(n, "cpuset.cpus") ? NULL : "cpuset.mems") {
		char b[4096];
		int in = openat(fd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t k = in >= 0 ? read(in, b, sizeof(b) - 1) : -1;
		if (in >= 0)
			close(in);
		if (k <= 0)
			return false;
		b[k] = '\0';
		if (!*rs_strstrip(b))
			return false;
	}
	return fd >= 0;
}

/* One hierarchy's group for the user: made (0755), given to the user and
 * its group, cpuset filled. Root's own tree (cgroupfs, checked): the user
 * owns only the group made, in which no symlink can exist. */
static void make_group(struct rs_fix_ctx *f, const char *rule, const char *hier)
{
	struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *rel = rs_xasprintf("sys/fs/cgroup/%s", hier);
	_cleanup_free_ char *name = rs_xasprintf(RS_ISULAD_CGROUP_FMT, (unsigned)ctx->user.uid);
	_cleanup_close_ int dfd = rs_host_openat(ctx->host, rel, O_RDONLY | O_DIRECTORY, NULL);
	_cleanup_close_ int fd = -1;
	struct statfs sf;
	struct stat st;
	bool cpuset = dfd >= 0 && faccessat(dfd, "cpuset.cpus", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/%s/%s", rel, name);
	if (dfd < 0 || fstatfs(dfd, &sf) < 0 || sf.f_type != CGROUP_SUPER_MAGIC) {
		struct rs_action *a = rs_fix_action(f, rule, "note", NULL,
						    "'/%s' is not a cgroup v1 hierarchy", rel);
		a->failed = true;
		return;
	}
	bool exists = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	if (exists && st.st_uid == ctx->user.uid && (!cpuset || cpuset_filled(dfd, name)))
		return;
	struct rs_action *a = rs_fix_action(f, rule, exists ? "chown" : "mkdir", path,
					    "the group of '%s' (%u:%u)%s", ctx->user.name,
					    (unsigned)ctx->user.uid, (unsigned)ctx->user.gid,
					    cpuset ? ", CPUs and memory nodes of its parent" : "");
	a->changed = true;
	if (f->o->dry_run)
		return;
	int r = 0;
	if (!exists && mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
		r = -errno;
	if (r == 0 && (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && fchown(fd, ctx->user.uid, ctx->user.gid) < 0)
		r = -errno;
	if (r == 0 && cpuset)
		r = copy_cpuset(dfd, fd);
	if (r < 0) {
		a->failed = true;
		rs_action_detail(a, "cannot make the group of '%s': %s", ctx->user.name,
				 strerror(-r));
	}
}

/* Kernel state of the cgroup file system: on a running system only (in a
 * container, its own cgroup tree, where its iSulad runs). */
static int fix_cgroups(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	_cleanup_strv_ struct rs_strv hier = {0};

	if (ctx->cgroup_mode != RS_CGROUP_V1 && ctx->cgroup_mode != RS_CGROUP_HYBRID) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "cgroup v2: the user's groups come from systemd's delegation "
			      "(cgroup.delegation), not from fix")
			->failed = true;
		return 0;
	}
	if (!ctx->host->live) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "cgroups are not made under --root: run fix on that system")
			->failed = true;
		return 0;
	}
	rs_isulad_v1_hierarchies(ctx, &hier);
	for (size_t i = 0; i < hier.n; i++)
		make_group(f, res->rule->id, hier.v[i]);
	return 0;
}

const struct rs_fixer rs_fixer_isulad_cgroups = {.order = 90, .run = fix_cgroups};
