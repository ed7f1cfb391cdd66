/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the rules learn of the running system as the user: a device node
 * opened, a file below the user's home or runtime dir read, a unix socket
 * connected to. Root acting for a user does each in a child with the
 * user's credentials (rs_as_user), walking the user's trees by fd and
 * refusing every symlink (docs/security.md), so the answer is the user's
 * and a planted link gains the user nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "checks/internal.h"
#include "host/userfs.h"

#define AS_USER_MS 5000

bool rs_live_for_user(const struct rs_ctx *ctx)
{
	/* another user's view would be the caller's, not the user's */
	return ctx->host->live && ctx->has_user && (geteuid() == 0 || ctx->user_is_caller);
}

struct dev_open {
	const struct rs_host *host;
	const char *rel;
};

static int dev_open_fn(void *arg, char *msg _unused_, size_t msglen _unused_)
{
	const struct dev_open *d = arg;
	int fd = rs_host_openat(d->host, d->rel, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, NULL);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

struct dev_answer {
	int r;
	char why[256];
};

int rs_dev_open_as_user(struct rs_ctx *ctx, const char *rel, struct rs_error **err)
{
	struct dev_open d = {.host = ctx->host, .rel = rel};
	_cleanup_free_ char *key = rs_xasprintf("dev-open:%s", rel);

	if (!rs_live_for_user(ctx))
		return -ENOSYS;
	/* one process acting as the user per device, not one per engine */
	struct dev_answer *a = rs_ctx_user_memo(ctx, key);
	if (!a) {
		a = rs_xcalloc(1, sizeof(*a));
		a->r = rs_as_user(&ctx->user, dev_open_fn, &d, a->why, sizeof(a->why), AS_USER_MS);
		rs_ctx_user_memo_keep(ctx, key, a);
	}
	if (a->r == -ECHILD || a->r == -ETIMEDOUT) /* the child's reason, across the fork */
		return rs_error_setx(err, -a->r, "%s", a->why[0] ? a->why : strerror(-a->r));
	if (a->r < 0)
		return rs_error_setx(err, -a->r, "opening '/%s' as '%s' fails: %s", rel,
				     ctx->user.name, strerror(-a->r));
	return 0;
}

/* abs split into the user's base dir it lies below and the rest. */
static int user_base(const struct rs_ctx *ctx, const char *abs, char **base, const char **rel)
{
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);
	const char *cands[] = {run, ctx->user.home, NULL};

	for (const char *const *c = cands; *c; c++) {
		size_t n = strlen(*c);
		if (n > 1 && !strncmp(abs, *c, n) && abs[n] == '/' && abs[n + 1]) {
			*base = rs_xstrdup(*c);
			*rel = abs + n + 1;
			return 0;
		}
	}
	return -EXDEV;
}

/* Whether rel exists below base, looked at as root with an O_PATH walk
 * that follows no link and reads nothing: an absent file costs no process
 * acting as the user. Return: 0 there (or not decidable as root), -ENOENT. */
static int present(const struct rs_ctx *ctx, const char *base, const char *rel)
{
	_cleanup_close_ int dir = rs_host_openat(ctx->host, rs_host_rel(base),
						 O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
	if (dir == -ENOENT)
		return -ENOENT;
	if (dir < 0)
		return 0;
	int fd = rs_beneath_open(dir, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0)
		close(fd);
	return fd == -ENOENT || fd == -ENOTDIR ? -ENOENT : 0;
}

struct user_file {
	const struct rs_host *host;
	const char *base, *rel;
	size_t max;
};

/* In the child: the base from passwd (or the runtime dir), then beneath
 * it by fd without following any link. */
static int open_beneath(const struct user_file *u, int flags)
{
	_cleanup_close_ int dir = rs_host_openat(u->host, rs_host_rel(u->base),
						 O_PATH | O_DIRECTORY | O_CLOEXEC, NULL);
	if (dir < 0)
		return dir;
	return rs_beneath_open(dir, u->rel, flags, 0);
}

static int read_fn(void *arg, char **data, size_t *len, char *msg _unused_, size_t msglen _unused_)
{
	const struct user_file *u = arg;
	struct stat st;
	_cleanup_close_ int fd = open_beneath(u, O_RDONLY | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > u->max)
		return -EINVAL;
	*data = rs_xmalloc(u->max + 1);
	size_t n = 0;
	ssize_t k;
	while (n < u->max && (k = read(fd, *data + n, u->max - n)) > 0)
		n += (size_t)k;
	*len = n;
	return 0;
}

int rs_user_read(struct rs_ctx *ctx, const char *abs, size_t max, char **buf, size_t *len)
{
	_cleanup_free_ char *base = NULL;
	struct user_file u = {.host = ctx->host, .max = max};
	char msg[256];

	*buf = NULL;
	*len = 0;
	if (user_base(ctx, abs, &base, &u.rel) < 0)
		return -EXDEV;
	if (present(ctx, base, u.rel) < 0)
		return -ENOENT;
	u.base = base;
	int r = rs_as_user_data(&ctx->user, read_fn, &u, max, buf, len, msg, sizeof(msg),
				AS_USER_MS);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

struct peer {
	const struct rs_host *host;
	struct user_file uf; /* base NULL: a path of root's, opened through the host */
	const char *rel;
	struct ucred cred;
};

/* Connects to the socket open as O_PATH at fd, through its /proc/self/fd
 * link: the path walk that found it already refused the links. */
static int connect_fd(int fd, struct ucred *cred)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	socklen_t l = sizeof(*cred);

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d", fd);
	/* a listener that never accepts fills its backlog, and connect(2)
	 * would wait for it forever: bounded, EAGAIN past the time */
	struct timeval tv = {.tv_sec = 2};
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, cred, &l) < 0)
		return -errno;
	return 0;
}

static int peer_fn(void *arg, char **data, size_t *len, char *msg _unused_, size_t msglen _unused_)
{
	struct peer *p = arg;
	_cleanup_close_ int fd = open_beneath(&p->uf, O_PATH | O_NOFOLLOW);

	if (fd < 0)
		return fd;
	int r = connect_fd(fd, &p->cred);
	if (r == 0) {
		*data = rs_xmalloc(sizeof(p->cred));
		memcpy(*data, &p->cred, sizeof(p->cred));
		*len = sizeof(p->cred);
	}
	return r;
}

int rs_unix_peer(struct rs_ctx *ctx, const char *abs, pid_t *pid, uid_t *uid)
{
	_cleanup_free_ char *base = NULL, *data = NULL;
	struct peer p = {.uf = {.host = ctx->host}};
	struct ucred cred = {0};
	size_t len;
	char msg[256];
	int r;

	if (ctx->has_user && user_base(ctx, abs, &base, &p.uf.rel) == 0) {
		if (!rs_live_for_user(ctx) && ctx->host->live)
			return -ENOSYS;
		if (present(ctx, base, p.uf.rel) < 0)
			return -ENOENT;
		p.uf.base = base;
		r = rs_as_user_data(&ctx->user, peer_fn, &p, sizeof(cred), &data, &len, msg,
				    sizeof(msg), AS_USER_MS);
		if (r == 0 && (!data || len != sizeof(cred)))
			r = -ECHILD;
		if (r == 0)
			memcpy(&cred, data, sizeof(cred));
	} else {
		/* root's own paths (/run/containerd): as the caller, through the
		 * host handle, the last component not followed */
		_cleanup_close_ int fd = rs_host_openat(ctx->host, rs_host_rel(abs),
							O_PATH | O_NOFOLLOW, NULL);
		r = fd < 0 ? fd : connect_fd(fd, &cred);
	}
	if (r == 0) {
		*pid = cred.pid;
		*uid = cred.uid;
	}
	return r;
}

/* The unit of a process from its /proc/PID/cgroup: the last ".service"
 * or ".scope" component of any hierarchy's path. */
static char *unit_of(const char *cg)
{
	const char *best = NULL;
	size_t blen = 0;

	for (const char *p = cg; (p = strchr(p, '/')); p++) {
		size_t n = strcspn(p + 1, "/\n");
		if ((n > 8 && !strncmp(p + 1 + n - 8, ".service", 8)) ||
		    (n > 6 && !strncmp(p + 1 + n - 6, ".scope", 6))) {
			best = p + 1;
			blen = n;
		}
	}
	return best ? rs_xstrndup(best, blen) : NULL;
}

char *rs_proc_field(struct rs_ctx *ctx, pid_t pid, const char *file)
{
	_cleanup_free_ char *rel = rs_xasprintf("proc/%d/%s", (int)pid, file);
	char *buf = NULL;
	size_t len;

	if (rs_host_read(ctx->host, rel, 64u << 10, &buf, &len, NULL) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *rs_proc_describe(struct rs_ctx *ctx, pid_t pid)
{
	_cleanup_free_ char *comm = rs_proc_field(ctx, pid, "comm");
	_cleanup_free_ char *cg = rs_proc_field(ctx, pid, "cgroup");
	_cleanup_free_ char *unit = cg ? unit_of(cg) : NULL;

	if (!comm)
		return rs_xasprintf("pid %d", (int)pid);
	return rs_xasprintf("%s (pid %d%s%s)", rs_strstrip(comm), (int)pid, unit ? ", unit " : "",
			    unit ? unit : "");
}

int rs_module_loadable(struct rs_ctx *ctx, const char *name)
{
	_cleanup_free_ char *rel = NULL, *want = rs_xasprintf("/%s.ko", name);
	const char *buf;
	uint64_t off;
	size_t len;

	/* kernel.modules_disabled=1: nothing loads until the next boot */
	if (rs_ctx_sysctl(ctx, "proc/sys/kernel/modules_disabled", &off) == 0 && off)
		return 0;
	if (!ctx->kernel_release)
		return -ENOENT;
	static const char *const lists[] = {"modules.dep", "modules.builtin", NULL};
	for (const char *const *l = lists; *l; l++) {
		free(rel);
		rel = rs_xasprintf("lib/modules/%s/%s", ctx->kernel_release, *l);
		/* read once per handle: asked for every engine and user */
		if (rs_host_read_cached(ctx->host, rel, 16u << 20, &buf, &len, NULL) < 0)
			continue;
		/* "kernel/drivers/net/tun.ko[.xz]:" at a line's start */
		for (const char *p = buf; (p = strstr(p, want)); p++) {
			char c = p[strlen(want)];
			if (c == ':' || c == '.' || c == '\n' || c == '\0')
				return 1;
		}
	}
	return 0;
}

int rs_misc_registered(struct rs_ctx *ctx, const char *name)
{
	_cleanup_free_ char *rel = rs_xasprintf("sys/class/misc/%s", name);
	struct stat st;

	/* host facts, asked for every engine and, in a fleet, every user */
	if (ctx->no_sys || rs_host_stat_host(ctx->host, "sys/class/misc", &st, false) < 0)
		return -ENOENT;
	return rs_host_exists_host(ctx->host, rel);
}

int rs_dev_usable(struct rs_ctx *ctx, const char *rel, const char *misc, char **how)
{
	_cleanup_error_ struct rs_error *e = NULL;
	int r = rs_dev_open_as_user(ctx, rel, &e);

	*how = NULL;
	if (r != -ENOSYS) {
		if (r < 0)
			*how = rs_xstrdup(e->msg);
		return r;
	}
	/* not live: the driver is registered, or a module would load at the
	 * first open (misc devices autoload "char-major-10-MINOR") */
	uint64_t off = 0;
	if (rs_misc_registered(ctx, misc) != 0 || rs_module_loadable(ctx, misc) != 0)
		return 0;
	if (rs_ctx_sysctl(ctx, "proc/sys/kernel/modules_disabled", &off) == 0 && off)
		*how = rs_xasprintf("/sys/class/misc/%s is absent and kernel.modules_disabled is "
				    "1: opening '/%s' fails with ENODEV",
				    misc, rel);
	else
		*how = rs_xasprintf("/sys/class/misc/%s is absent and lib/modules/%s has no %s "
				    "module to load: opening '/%s' fails with ENODEV",
				    misc, ctx->kernel_release, misc, rel);
	return -ENODEV;
}
