/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uninstall: follows the install record. Everything it removes lies in the
 * target user's tree, so root never removes it itself: a child with the
 * user's credentials (rs_as_user) walks there by fd, refusing every
 * symlink, compares the content and unlinks. A record naming /etc/pam.d/su,
 * `~/.config -> /etc` or `~/.local/share -> /var/lib` gains the user
 * nothing it could not do itself (docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/xalloc.h"
#include "install/install.h"
#include "install/record.h"
#include "install/stop.h"

#define FILE_TIMEOUT_MS 30000u
/* a file of ours read back (to hash it, or to take our keys out) */
#define FILE_READ_MAX (16u << 20)
#define PURGE_DEPTH   256u
#define OUTSIDE	      "refused: outside the user's directories"

/* The user's own directories: the home's .config and .local, the runtime
 * dir, and on the user's own run its XDG_CONFIG_HOME / XDG_DATA_HOME. */
struct tree {
	struct rs_user_tree t;
	char *run;
};

static const char *const home_firsts[] = {".config", ".local", NULL};

static void tree_init(struct tree *tr, const struct rs_ctx *ctx)
{
	struct rs_user_tree *t = &tr->t;
	*tr = (struct tree){.t.host = ctx->host, .run = rs_ctx_runtime_dir(ctx)};
	t->base[t->n++] = (struct rs_user_base){.path = ctx->user.home, .firsts = home_firsts};
	t->base[t->n++] = (struct rs_user_base){.path = tr->run};
	if (!ctx->user_is_caller)
		return;
	if (ctx->xdg_config_home && ctx->xdg_config_home[0] == '/')
		t->base[t->n++] = (struct rs_user_base){.path = ctx->xdg_config_home};
	if (ctx->xdg_data_home && ctx->xdg_data_home[0] == '/')
		t->base[t->n++] = (struct rs_user_base){.path = ctx->xdg_data_home};
}

enum op_kind { OP_FILE, OP_DIR, OP_PURGE, OP_READ, OP_STOP, OP_UNMERGE, OP_PAUSE };

/* One piece of work done as the user. */
struct user_op {
	const struct rs_user_tree *t;
	size_t base;
	const char *rel;		 /* below the base */
	const char *hash;		 /* OP_FILE: remove only while the content hashes to it */
	const char *stale;		 /* OP_FILE: what is said when it does not */
	const struct rs_toml_keys *keys; /* OP_UNMERGE: our keys in the user's file */
	enum op_kind kind;
	bool dry_run;
};

static const char *base_of(const struct user_op *op)
{
	const char *b = op->t->base[op->base].path;
	return strcmp(b, "/") ? b : "";
}

/* The directory of op->rel, opened beneath the base; a symlink on the way
 * is refused and named. Return: fd, or -errno with msg set (not for ENOENT). */
static int open_parent(const struct user_op *op, char **name, char *msg, size_t len)
{
	_cleanup_close_ int bfd = rs_user_tree_open(op->t, op->base);
	if (bfd < 0) {
		snprintf(msg, len, "cannot open '%s': %s", op->t->base[op->base].path,
			 strerror(-bfd));
		return bfd;
	}
	int fd = rs_beneath_parent(bfd, op->rel, name);
	if (fd == -ELOOP) {
		_cleanup_free_ char *link = NULL;
		if (rs_beneath_symlink(bfd, op->rel, &link) > 0)
			snprintf(msg, len, "refused: '%s/%s' is a symbolic link", base_of(op),
				 link);
		else
			snprintf(msg, len, "refused: a symbolic link on the way to '%s/%s'",
				 base_of(op), op->rel);
	} else if (fd < 0 && fd != -ENOENT) {
		snprintf(msg, len, "cannot open the directory of '%s/%s': %s", base_of(op), op->rel,
			 strerror(-fd));
	}
	return fd;
}

/* The plain regular file name of dirfd, read whole (at most max bytes). */
static int read_plain(int dirfd, const char *name, const struct stat *st, size_t max, char **buf)
{
	struct stat fst;
	_cleanup_close_ int fd = openat(dirfd, name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &fst) < 0)
		return -errno;
	if (fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
		return -ESTALE;
	if ((size_t)fst.st_size > max)
		return -EFBIG;
	char *b = rs_xmalloc((size_t)fst.st_size + 1);
	size_t n = 0;
	ssize_t r;
	while (n < (size_t)fst.st_size && (r = read(fd, b + n, (size_t)fst.st_size - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return -errno;
		}
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	return (int)n;
}

/* A file install wrote is the user's own, regular, single-linked and plain:
 * anything else is not what the record describes (a hard link to root's
 * file placed there, fs.protected_hardlinks=0) and is kept. */
static bool own_plain(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() && st->st_nlink == 1 &&
	       !(st->st_mode & (S_ISUID | S_ISGID | S_ISVTX));
}

static int op_file(const struct user_op *op, int pfd, const char *name, const struct stat *st,
		   char *msg, size_t len)
{
	if (!own_plain(st)) {
		snprintf(msg, len,
			 "not a plain file of the user's own (type, owner or links): kept");
		return -EPERM;
	}
	if (op->hash) {
		_cleanup_free_ char *now = NULL;
		int r = read_plain(pfd, name, st, FILE_READ_MAX, &now);
		if (r < 0) {
			snprintf(msg, len, "cannot read: %s", strerror(-r));
			return r;
		}
		if (strcmp(rs_record_hash(now), op->hash)) {
			snprintf(msg, len, "%s",
				 op->stale ? op->stale : "changed since install: kept");
			return -ESTALE;
		}
	}
	if (op->dry_run)
		return 1;
	if (unlinkat(pfd, name, 0) < 0) {
		int e = errno;
		snprintf(msg, len, "cannot remove: %s", strerror(e));
		return -e;
	}
	return 1;
}

/* Our keys out of the user's own file (install merged them in), each only
 * while it holds our value; the rest of the file stays byte for byte. */
static int op_unmerge(const struct user_op *op, int pfd, const char *name, const struct stat *st,
		      char *msg, size_t len)
{
	_cleanup_free_ char *now = NULL;
	struct rs_toml_unmerge u;
	struct rs_error *e = NULL;

	if (!own_plain(st)) {
		snprintf(msg, len,
			 "not a plain file of the user's own (type, owner or links): kept");
		return -EPERM;
	}
	int r = read_plain(pfd, name, st, FILE_READ_MAX, &now);
	if (r < 0) {
		snprintf(msg, len, "cannot read: %s", strerror(-r));
		return r;
	}
	if (rs_toml_unmerge(now, (size_t)r, op->keys, &u) < 0) {
		snprintf(msg, len, "not TOML this tool can follow (%s): left alone", u.msg);
		return -EINVAL;
	}
	if (u.changed && !op->dry_run) {
		struct rs_write_opts wo = {.mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1};
		r = rs_safe_write_at(pfd, name, name, u.text, u.len, &wo, &e);
		if (r < 0) {
			snprintf(msg, len, "%s", e ? e->msg : strerror(-r));
			rs_error_free(e);
			rs_toml_unmerge_clear(&u);
			return r;
		}
	}
	if (u.changed && *u.kept)
		snprintf(msg, len, "our keys taken out: %s; changed since install, kept: %s",
			 u.removed, u.kept);
	else if (u.changed)
		snprintf(msg, len, "our keys taken out: %s", u.removed);
	else if (*u.kept)
		snprintf(msg, len, "changed since install, kept: %s", u.kept);
	else
		snprintf(msg, len, "none of our keys left in it");
	r = u.changed ? 1 : -ESTALE;
	rs_toml_unmerge_clear(&u);
	return r;
}

static int op_purge(const struct user_op *op, int pfd, const char *name, char *msg, size_t len)
{
	_cleanup_free_ char *where = NULL;
	if (op->dry_run)
		return 1;
	int r = rs_remove_beneath(pfd, name, PURGE_DEPTH, &where);
	if (r >= 0)
		return 1;
	int dl = (int)(strlen(op->rel) - strlen(name));
	bool perm = r == -EPERM || r == -EACCES;
	snprintf(msg, len, "cannot remove '%s/%.*s%s': %s%s", base_of(op), dl, op->rel,
		 where ? where : name, strerror(-r),
		 perm ? " (files of the user's subordinate ids are removed from inside its user "
			"namespace, e.g. as the user: podman unshare rm -rf DIR)"
		      : "");
	return r;
}

/* The launch in state dir name of pfd is stopped; then the log install's
 * detached start left there goes, and the state dir and its parent
 * (run/rootless-setup) when that leaves them empty. */
static int op_stop(const struct user_op *op, int pfd, const char *name, const struct stat *st,
		   char *msg, size_t len)
{
	struct stat l;
	_cleanup_close_ int sdfd = S_ISDIR(st->st_mode)
					   ? openat(pfd, name,
						    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
					   : -1;
	if (sdfd < 0 || op->dry_run)
		return 0;
	int r = rs_stop_launch_at(sdfd, msg, len);
	if (r < 0)
		return r;
	if (fstatat(sdfd, "launch.log", &l, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(l.st_mode))
		unlinkat(sdfd, "launch.log", 0);
	/* what a detached start that joined another launch kept there (a
	 * launcher removes its own), once no process holds the lock */
	_cleanup_close_ int lock = openat(sdfd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0) {
		unlinkat(sdfd, "child_pid", 0);
		unlinkat(sdfd, "child_start", 0);
		unlinkat(sdfd, "lock", 0);
	}
	if (unlinkat(pfd, name, AT_REMOVEDIR) == 0) {
		_cleanup_close_ int bfd = rs_user_tree_open(op->t, op->base);
		const char *slash = strchr(op->rel, '/');
		_cleanup_free_ char *up = slash ? rs_xstrndup(op->rel, (size_t)(slash - op->rel))
						: NULL;
		if (bfd >= 0 && up && !strchr(slash + 1, '/'))
			unlinkat(bfd, up, AT_REMOVEDIR);
	}
	return r;
}

/* op's target: *pfd its directory, *name its name there, st its lstat.
 * Return: 1, 0 when it (or a directory on the way) is absent, or -errno
 * with msg set. */
static int open_target(const struct user_op *op, int *pfd, char **name, struct stat *st, char *msg,
		       size_t len)
{
	*pfd = open_parent(op, name, msg, len);
	if (*pfd < 0)
		return *pfd == -ENOENT ? 0 : *pfd;
	if (fstatat(*pfd, *name, st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	int e = errno;
	if (e != ENOENT)
		snprintf(msg, len, "cannot stat '%s/%s': %s", base_of(op), op->rel, strerror(e));
	return e == ENOENT ? 0 : -e;
}

/* Runs as the user: one op. Return: 1 done (or would be), 0 absent, -errno. */
static int user_op_fn(void *arg, char *msg, size_t len)
{
	const struct user_op *op = arg;
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int pfd = -1;
	struct stat st;

	int r = open_target(op, &pfd, &name, &st, msg, len);
	if (r <= 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		snprintf(msg, len, "refused: '%s/%s' is a symbolic link", base_of(op), op->rel);
		return -ELOOP;
	}
	if (op->kind == OP_STOP)
		return op_stop(op, pfd, name, &st, msg, len);
	if (op->kind == OP_PAUSE)
		return S_ISREG(st.st_mode) && !op->dry_run ? rs_stop_pause_at(pfd, name, msg, len)
							   : 0;
	if (op->kind == OP_FILE)
		return op_file(op, pfd, name, &st, msg, len);
	if (op->kind == OP_UNMERGE)
		return op_unmerge(op, pfd, name, &st, msg, len);
	if (op->kind == OP_PURGE)
		return op_purge(op, pfd, name, msg, len);
	/* OP_DIR: only while empty; anything in it now is the user's */
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (op->dry_run)
		return 1;
	return unlinkat(pfd, name, AT_REMOVEDIR) == 0 ? 1 : 0;
}

/* Runs as the user: reads the record the user keeps. */
static int read_record_fn(void *arg, char **data, size_t *dlen, char *msg, size_t len)
{
	const struct user_op *op = arg;
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int pfd = -1;
	struct stat st;

	int r = open_target(op, &pfd, &name, &st, msg, len);
	if (r <= 0)
		return r;
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, len, "refused: '%s/%s' is not a regular file", base_of(op), op->rel);
		return -EINVAL;
	}
	r = read_plain(pfd, name, &st, RS_RECORD_MAX, data);
	if (r < 0) {
		snprintf(msg, len, "cannot read '%s/%s': %s", base_of(op), op->rel, strerror(-r));
		return r;
	}
	*dlen = (size_t)r;
	return 1;
}

/* Runs op on path as the user, recording the outcome. what: the action's
 * detail on success; quiet: say nothing when it is absent or kept empty. */
static int as_user(struct rs_gen_ctx *f, const struct tree *tr, struct user_op *op,
		   const char *path, const char *what)
{
	char msg[512];
	op->t = &tr->t;
	op->dry_run = f->acts.dry_run;
	if (rs_user_tree_locate(&tr->t, path, &op->base, &op->rel) < 0) {
		/* lexical: says nothing about whether path exists */
		rs_action_add(&f->acts, "uninstall", "note", path, OUTSIDE)->failed = true;
		return -EXDEV;
	}
	int r = rs_as_user(&f->ctx->user, user_op_fn, op, msg, sizeof(msg),
			   op->kind == OP_PURGE ? RS_PURGE_TIMEOUT_MS : FILE_TIMEOUT_MS);
	if (r > 0) {
		/* a file edited, not removed, says what it took out */
		rs_action_add(&f->acts, "uninstall", op->kind == OP_UNMERGE ? "write" : "remove",
			      path, "%s", *msg ? msg : what)
			->changed = true;
	} else if (r == -ESTALE) {
		rs_action_add(&f->acts, "uninstall", "note", path, "%s", msg);
	} else if (r < 0) {
		rs_action_add(&f->acts, "uninstall", "note", path, "%s", *msg ? msg : strerror(-r))
			->failed = true;
	}
	return r;
}

/* A user's own file install only added keys to: those keys come out. */
static void unmerge_recorded(struct rs_gen_ctx *f, const struct tree *tr, const char *path,
			     json_t *merged)
{
	struct rs_toml_keys keys = {0};
	struct user_op op = {.kind = OP_UNMERGE, .keys = &keys};

	rs_record_keys(merged, &keys);
	if (keys.n)
		as_user(f, tr, &op, path, "our keys taken out");
	rs_toml_keys_clear(&keys);
}

static void remove_recorded(struct rs_gen_ctx *f, const struct tree *tr, json_t *files)
{
	size_t i;
	json_t *x;

	json_array_foreach (files, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		struct user_op op = {.kind = OP_FILE,
				     .hash = json_string_value(json_object_get(x, "hash"))};
		if (!path)
			continue;
		if (json_is_array(json_object_get(x, "merged"))) {
			unmerge_recorded(f, tr, path, json_object_get(x, "merged"));
			continue;
		}
		if (!op.hash) { /* no hash, no proof it is ours */
			rs_action_add(&f->acts, "uninstall", "note", path,
				      "no hash recorded: kept");
			continue;
		}
		as_user(f, tr, &op, path, "installed by rootless-setup");
	}
}

static void remove_dirs(struct rs_gen_ctx *f, const struct tree *tr, json_t *dirs)
{
	size_t i;
	json_t *x;

	json_array_foreach (dirs, i, x) {
		struct user_op op = {.kind = OP_DIR};
		if (json_is_string(x))
			as_user(f, tr, &op, json_string_value(x),
				f->acts.dry_run ? "created by install, removed if empty"
						: "created by install, empty");
	}
}

static int deeper_first(const void *a, const void *b)
{
	size_t da = 0, db = 0;
	for (const char *p = *(char *const *)a; *p; p++)
		da += *p == '/';
	for (const char *p = *(char *const *)b; *p; p++)
		db += *p == '/';
	return da > db ? -1 : da < db;
}

/* One copy fix made of root's file rel (fixers/isulad.c): removed while
 * byte-identical to root's file. Return: 1 removed, 0 none, <0 kept. */
static int remove_copy(struct rs_gen_ctx *f, const struct tree *tr, const char *top,
		       const char *rel)
{
	_cleanup_free_ char *data = NULL, *path = rs_xasprintf("%s/%s", top, rel);
	_cleanup_free_ char *stale = NULL;
	struct rs_error *e = NULL;
	size_t len;
	/* a digest no content has: the copy is compared by root alone; a
	 * copy of rs_record_hash's static buffer, which op_file reuses */
	_cleanup_free_ char *hash = rs_xstrdup("-");

	if (rs_safe_read(f->ctx->host, rel, 4u << 20, &data, &len, &e) == 0) {
		free(hash);
		hash = rs_xstrdup(rs_record_hash(data ? data : ""));
	}
	if (e)
		stale = rs_xasprintf("a copy of '/%s', which %s: kept%s", rel,
				     e->code == EACCES ? "only root can read to compare"
						       : "cannot be read to compare",
				     e->code == EACCES ? " (uninstall as root removes it)" : "");
	else
		stale = rs_xasprintf("differs from '/%s' (changed since fix copied it): kept", rel);
	rs_error_free(e);
	struct user_op op = {.kind = OP_FILE, .hash = hash, .stale = stale};
	_cleanup_free_ char *what = rs_xasprintf("the copy fix made of '/%s', unchanged", rel);
	return as_user(f, tr, &op, path, what);
}

struct copies_arg {
	struct rs_gen_ctx *f;
	const struct tree *tr;
	const char *top;
	bool any; /* a copy was there (removed or kept) */
};

static int remove_one(const char *rel, const struct stat *st _unused_, void *arg)
{
	struct copies_arg *c = arg;

	c->any |= remove_copy(c->f, c->tr, c->top, rel) != 0;
	return 0;
}

/* The parents of the copies dir below its first component: fix made
 * ~/.config/isulad for ~/.config/isulad/system where it was absent (it
 * keeps no record of that); each goes while empty, as the user, so an
 * empty engine directory is not left behind. ~/.config itself stays. */
static void remove_copies_parents(struct rs_gen_ctx *f, const struct tree *tr, const char *home,
				  const char *copies_dir)
{
	_cleanup_free_ char *p = rs_xstrdup(copies_dir);
	for (char *s = strrchr(p, '/'); s && s != p; s = strrchr(p, '/')) {
		*s = '\0';
		if (!strchr(p, '/'))
			break;
		_cleanup_free_ char *full = rs_xasprintf("%s/%s", home, p);
		struct user_op op = {.kind = OP_DIR};
		as_user(f, tr, &op, full, "made by fix for the copies, empty");
	}
}

/* The copies of root's files fix made for the user (the engine table's
 * copied_dirs): each goes while it is root's file byte for byte; then
 * their directories, while empty. A copy the user changed, or whose
 * original root changed since, stays and is named. */
static void remove_copies(struct rs_gen_ctx *f, const struct rs_install_opts *o,
			  const struct tree *tr)
{
	const struct rs_engine_info *ei = rs_engine_info(o->engine);
	const char *home = f->ctx->user.home;

	if (!ei->copied_dirs || !home || home[0] != '/' || !strcmp(home, "/"))
		return;
	_cleanup_free_ char *top = rs_xasprintf("%s/%s", home, ei->copies_dir);
	struct copies_arg c = {.f = f, .tr = tr, .top = top};
	rs_engine_each_copied(f->ctx->host, o->engine, false, remove_one, &c);
	/* their directories, deepest first: each copied dir and its parents */
	_cleanup_strv_ struct rs_strv dirs = {0};
	for (const char *const *d = ei->copied_dirs; *d; d++) {
		_cleanup_free_ char *p = rs_xstrdup(*d);
		for (char *s = p + strlen(p); s; s = strrchr(p, '/')) {
			*s = '\0';
			_cleanup_free_ char *full = rs_xasprintf("%s/%s", top, p);
			if (!rs_strv_contains(&dirs, full))
				rs_strv_take(&dirs, TAKE_PTR(full));
		}
	}
	if (dirs.n)
		qsort(dirs.v, dirs.n, sizeof(*dirs.v), deeper_first);
	for (size_t i = 0; i < dirs.n; i++) {
		struct user_op op = {.kind = OP_DIR};
		as_user(f, tr, &op, dirs.v[i], "made by fix for the copies, empty");
	}
	struct user_op op = {.kind = OP_DIR};
	if (!as_user(f, tr, &op, top, "made by fix for the copies, empty") && c.any)
		rs_action_add(&f->acts, "uninstall", "note", top, "kept: it holds more");
	remove_copies_parents(f, tr, home, ei->copies_dir);
}

/* Files of the user's subordinate ids (podman's layers) are removed from
 * inside a user namespace with the user's id map: our own launcher, run
 * as the user, in the parent directory it entered by fd. */
static void purge_userns(struct rs_gen_ctx *f, const struct rs_install_opts *o,
			 const struct tree *tr, const char *path)
{
	struct rs_action *last = &f->acts.a[f->acts.n - 1];
	size_t base;
	const char *rel;
	char msg[512] = "";

	if (!o->self || rs_user_tree_locate(&tr->t, path, &base, &rel) < 0)
		return;
	int r = rs_purge_in_userns(&f->ctx->user, &tr->t, base, rel, o->self, tr->run, msg,
				   sizeof(msg));
	if (r > 0) {
		/* the first attempt's refusal is answered */
		last->failed = false;
		rs_action_detail(last, "files of the user's subordinate ids: retried inside its "
				       "user namespace");
		rs_action_add(&f->acts, "uninstall", "remove", path,
			      "the engine's data (files of "
			      "the user's subordinate ids: removed inside its user namespace)")
			->changed = true;
	} else {
		_cleanup_free_ char *was = last->detail ? rs_xstrdup(last->detail) : NULL;
		rs_action_detail(last, "%s; inside the user's namespace: %s", was ? was : "", msg);
	}
}

static void purge_one(struct rs_gen_ctx *f, const struct rs_install_opts *o, const struct tree *tr,
		      const char *path)
{
	struct user_op op = {.kind = OP_PURGE};
	int r = as_user(f, tr, &op, path, "the engine's data");
	if (r == 0)
		rs_action_add(&f->acts, "uninstall", "note", path, "no data to remove");
	else if ((r == -EPERM || r == -EACCES) && !f->acts.dry_run)
		purge_userns(f, o, tr, path);
}

static void purge(struct rs_gen_ctx *f, const struct rs_install_opts *o, const struct tree *tr)
{
	const struct rs_engine_info *ei = rs_engine_info(o->engine);
	if (!o->purge)
		return;
	_cleanup_free_ char *data = rs_ctx_data_dir(f->ctx, o->engine);
	purge_one(f, o, tr, data);
	for (const char *const *m = ei->more_data; m && *m; m++) {
		_cleanup_free_ char *p =
			rs_xasprintf("%s/%s",
				     strcmp(f->ctx->user.home, "/") ? f->ctx->user.home : "", *m);
		struct user_op op = {.kind = OP_PURGE};
		as_user(f, tr, &op, p, "the engine's data");
	}
}

/* The record root keeps for the user, when there is one (root only). */

/* A record's text as a JSON object, or NULL (absent text; anything else is
 * left alone and said so). */
static json_t *parse_record(struct rs_gen_ctx *f, const char *path, const char *text)
{
	json_t *m = text ? json_loads(text, 0, NULL) : NULL;
	if (text && !json_is_object(m)) {
		rs_action_add(&f->acts, "uninstall", "note", path,
			      "not a rootless-setup record: left alone")
			->failed = true;
		json_decref(m);
		return NULL;
	}
	return m;
}
static json_t *root_record(struct rs_gen_ctx *f, const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct rs_error *e = NULL;
	size_t len;

	if (geteuid() != 0 || f->ctx->user.uid == 0)
		return NULL;
	if (rs_safe_read(f->ctx->host, path, RS_RECORD_MAX, &text, &len, &e) < 0) {
		rs_action_add(&f->acts, "uninstall", "note", path, "%s", e->msg)->failed = true;
		rs_error_free(e);
		return NULL;
	}
	return parse_record(f, path, text);
}

/* The record the user keeps, read with the user's credentials. */
static json_t *user_record(struct rs_gen_ctx *f, const struct tree *tr, const char *path)
{
	_cleanup_free_ char *text = NULL;
	struct user_op op = {.t = &tr->t, .kind = OP_READ};
	char msg[512];
	size_t len;

	if (rs_user_tree_locate(&tr->t, path, &op.base, &op.rel) < 0)
		return NULL;
	int r = rs_as_user_data(&f->ctx->user, read_record_fn, &op, RS_RECORD_MAX, &text, &len, msg,
				sizeof(msg), FILE_TIMEOUT_MS);
	if (r < 0)
		rs_action_add(&f->acts, "uninstall", "note", path, "%s", *msg ? msg : strerror(-r))
			->failed = true;
	return r > 0 ? parse_record(f, path, text ? text : "") : NULL;
}

static void remove_root_record(struct rs_gen_ctx *f, const char *path)
{
	int r = rs_safe_unlink(f->ctx->host, path, f->acts.dry_run);
	struct rs_action *a = rs_action_add(&f->acts, "uninstall", "remove", path,
					    "the install record");
	a->changed = r > 0;
	a->failed = r < 0;
	/* users/UID: root's own directory, removed when it holds nothing more */
	_cleanup_free_ char *dir = rs_xstrdup(rs_host_rel(path));
	*strrchr(dir, '/') = '\0';
	char *uid = strrchr(dir, '/');
	*uid++ = '\0';
	int dfd = rs_host_openat(f->ctx->host, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, NULL);
	if (dfd >= 0 && !f->acts.dry_run)
		unlinkat(dfd, uid, AT_REMOVEDIR);
	if (dfd >= 0)
		close(dfd);
}

/* A running launch of the engine is stopped first (the engines that have
 * one: a daemon): by systemd when it runs the unit, else TERM to it as the
 * user, decided on the process (stop.c). */
static void stop_launch(struct rs_gen_ctx *f, const struct rs_install_opts *o,
			const struct tree *tr)
{
	_cleanup_free_ char *unit = rs_xasprintf("rootless-setup-%s.service",
						 rs_engine_name(o->engine));
	_cleanup_free_ char *sd = rs_xasprintf("%s/rootless-setup/%s", tr->run,
					       rs_engine_name(o->engine));
	struct user_op op = {.kind = OP_STOP};
	char msg[512] = "";

	if (!rs_engine_info(o->engine)->daemon)
		return;
	if (rs_inst_user_manager(f->ctx)) {
		char *const stop[] =
			{"/usr/bin/systemctl", "--user", "disable", "--now", unit, NULL};
		rs_inst_systemctl(f, "uninstall", stop);
	}
	op.t = &tr->t;
	op.dry_run = f->acts.dry_run;
	if (rs_user_tree_locate(&tr->t, sd, &op.base, &op.rel) < 0)
		return;
	if (f->acts.dry_run) {
		rs_action_add(&f->acts, "uninstall", "note", sd, "would stop a running launch");
		return;
	}
	int r = rs_as_user(&f->ctx->user, user_op_fn, &op, msg, sizeof(msg), 30000);
	if (r > 0)
		rs_action_add(&f->acts, "uninstall", "stop", sd, "the running launch: stopped")
			->changed = true;
	else if (r < 0)
		rs_action_add(&f->acts, "uninstall", "note", sd,
			      "%s; stop a running launch of it "
			      "first (TERM to its 'rootless-setup launch')",
			      *msg ? msg : strerror(-r))
			->failed = true;
}

/* Podman's pause process (podman, kata: Podman's libpod state) outlives
 * the engine's files; stopped as the user (stop.c decides on the
 * process, not on the pid file the user writes). */
static void stop_pause(struct rs_gen_ctx *f, const struct rs_install_opts *o, const struct tree *tr)
{
	const struct rs_engine_info *ei = rs_engine_info(o->engine);
	if (!ei->run_dir || strcmp(ei->run_dir, "libpod"))
		return;
	_cleanup_free_ char *pp = rs_xasprintf("%s/libpod/tmp/pause.pid", tr->run);
	struct user_op op = {.kind = OP_PAUSE, .t = &tr->t, .dry_run = f->acts.dry_run};
	char msg[512] = "";
	if (rs_user_tree_locate(&tr->t, pp, &op.base, &op.rel) < 0)
		return;
	if (f->acts.dry_run) {
		rs_action_add(&f->acts, "uninstall", "note", pp,
			      "would stop Podman's pause process, if it runs");
		return;
	}
	int r = rs_as_user(&f->ctx->user, user_op_fn, &op, msg, sizeof(msg), 30000);
	if (r > 0)
		rs_action_add(&f->acts, "uninstall", "stop", pp, "%s", msg)->changed = true;
	else if (r < 0)
		rs_action_add(&f->acts, "uninstall", "note", pp, "%s", *msg ? msg : strerror(-r));
}

static void no_record(struct rs_gen_ctx *f, const struct rs_install_opts *o, const char *upath,
		      const char *rpath)
{
	_cleanup_free_ char *rdir = rs_xstrdup(rs_host_rel(rpath));
	struct stat st;

	rs_action_add(&f->acts, "uninstall", "note", upath,
		      "no install of '%s' recorded: no file to "
		      "remove",
		      rs_engine_name(o->engine));
	/* the user cannot read root's record: say where it would be */
	*strrchr(rdir, '/') = '\0';
	int x = geteuid() ? rs_host_stat(f->ctx->host, rdir, &st, true) : -ENOENT;
	if (x == 0 || x == -EACCES)
		rs_action_add(&f->acts, "uninstall", "note", rpath,
			      "root may have installed it for you: "
			      "run uninstall as root");
}

int rs_uninstall_run(const struct rs_install_opts *o, struct rs_action_report **out,
		     struct rs_error **err)
{
	struct rs_report *rep = NULL;
	struct rs_check_opts co = o->check;
	co.no_probe = true;
	int r = rs_check_run(&co, &rep, err);
	if (r < 0)
		return r;
	struct rs_gen_ctx f = {.ctx = &rep->ctx, .acts.dry_run = o->dry_run};
	struct tree tr;
	tree_init(&tr, &rep->ctx);
	_cleanup_free_ char *rpath = rs_record_root_path(&rep->ctx, o->engine);
	_cleanup_free_ char *upath = rs_record_user_path(&rep->ctx, o->engine);
	/* root's record first: the user cannot have written it */
	json_t *m = root_record(&f, rpath);
	bool by_root = m != NULL;
	if (!m)
		m = user_record(&f, &tr, upath);
	if (!m) {
		no_record(&f, o, upath, rpath);
		stop_launch(&f, o, &tr);
		stop_pause(&f, o, &tr);
		remove_copies(&f, o, &tr);
		purge(&f, o, &tr);
	} else {
		stop_launch(&f, o, &tr);
		stop_pause(&f, o, &tr);
		remove_recorded(&f, &tr, json_object_get(m, "files"));
		remove_copies(&f, o, &tr);
		struct user_op op = {.kind = OP_FILE};
		as_user(&f, &tr, &op, upath, "the install record");
		if (by_root)
			remove_root_record(&f, rpath);
		/* the data first: its directories are then empty */
		purge(&f, o, &tr);
		remove_dirs(&f, &tr, json_object_get(m, "dirs"));
		json_decref(m);
	}
	rs_uninstall_rundir(&f, o);
	free(tr.run);
	return rs_inst_finish(&f, rep, out);
}
