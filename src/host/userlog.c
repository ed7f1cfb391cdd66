/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "host/userlog.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

#define ERR_KEEP 200 /* bytes of journalctl's standard error kept for the message */

struct tail {
	char *buf;
	size_t len, cap, max, total, hard;
	bool truncated;
};

static void tail_init(struct tail *t, size_t max, size_t hard)
{
	*t = (struct tail){.max = max, .hard = hard, .cap = 2 * max + 8192};
	t->buf = rs_xmalloc(t->cap);
}

/* One read into t; returns what read(2) returned (0 at the end). */
static ssize_t tail_read(struct tail *t, int fd)
{
	if (t->cap - t->len < 4096) {
		/* keep the newest max bytes, drop the rest */
		memmove(t->buf, t->buf + t->len - t->max, t->max);
		t->len = t->max;
		t->truncated = true;
	}
	ssize_t n = read(fd, t->buf + t->len, t->cap - 1 - t->len);
	if (n > 0) {
		t->len += (size_t)n;
		t->total += (size_t)n;
	}
	return n;
}

static void tail_finish(struct tail *t, char **buf, size_t *len, bool *truncated)
{
	if (t->len > t->max) {
		memmove(t->buf, t->buf + t->len - t->max, t->max);
		t->len = t->max;
		t->truncated = true;
	}
	t->buf[t->len] = '\0';
	*buf = t->buf;
	*len = t->len;
	*truncated = t->truncated || t->total >= t->hard;
}

int rs_read_tail(int fd, size_t max, size_t hard, char **buf, size_t *len, bool *truncated)
{
	struct tail t;

	*buf = NULL;
	tail_init(&t, max, hard);
	while (t.total < t.hard) {
		ssize_t n = tail_read(&t, fd);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(t.buf);
			return -e;
		}
		if (n == 0)
			break;
	}
	tail_finish(&t, buf, len, truncated);
	return 0;
}

/* The tail of the regular file path, with the rights of the calling
 * process; returns 1 for a truncated read, or -errno with *err. */
static int read_regular(const char *path, size_t max, char **data, size_t *len,
			struct rs_error **err)
{
	struct stat st;
	bool trunc = false;
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	*data = NULL;
	if (fd < 0)
		return rs_error_set(err, errno, "cannot open '%s'", path);
	/* a FIFO or a device would block or never end */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rs_error_setx(err, EINVAL, "'%s' is not a regular file", path);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	int r = rs_read_tail(fd, max, (size_t)-1, data, len, &trunc);
	close(fd);
	if (r < 0)
		return rs_error_set(err, -r, "cannot read '%s'", path);
	return trunc;
}

int rs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated,
		 struct rs_error **err)
{
	int r = read_regular(path, max, buf, len, err);
	if (r < 0)
		return r;
	*truncated = r == 1;
	return 0;
}

/* In the child, before exec: become the user (groups, gid, uid, checked,
 * no capability, no_new_privs). Async-signal-safe. */
static int become(void *arg, struct rs_spawn_ctx *ctx)
{
	ctx->step = 0;
	return rs_user_drop(arg);
}

static const char *const become_steps[] = {"become the user", NULL};

/* Never a program a user could have replaced (CVE-2019-5736's lesson). */
static int trusted_program(const char *path, struct rs_error **err)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return rs_error_set(err, errno, "cannot run '%s'", path);
	if (st.st_uid != 0 || (st.st_mode & 022) || !S_ISREG(st.st_mode))
		return rs_error_setx(err, EPERM,
				     "'%s' is not a root-owned file only root can write", path);
	return 0;
}

int rs_user_journal(const struct rs_user *u, const char *journal, const char *unit, const char *run,
		    size_t max, unsigned timeout_ms, char **buf, size_t *len, bool *truncated,
		    struct rs_error **err)
{
	_cleanup_free_ char *xdg = rs_xasprintf("XDG_RUNTIME_DIR=%s", run);
	char *const argv[] =
		{(char *)journal, "--user", "-u",   (char *)unit, "--no-pager", "-q", "-o",
		 "short-iso",	  "-n",	    "5000", NULL};
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", xdg, NULL};
	/* lib/spawn: a new session, stdin on /dev/null, no fd of ours, dies
	 * with us, killed at the deadline; the user's credentials by become() */
	struct rs_spawn o = {
		.path = journal,
		.argv = argv,
		.envp = envp,
		.flags = RS_SPAWN_STDOUT | RS_SPAWN_STDERR,
		.setup = become,
		.arg = (void *)u,
		.steps = become_steps,
		.out_max = 4 * max,
		.err_max = ERR_KEEP,
		.timeout_ms = timeout_ms,
	};
	struct rs_spawn_result res;
	_cleanup_error_ struct rs_error *e = NULL;

	*buf = NULL;
	int r = trusted_program(journal, err);
	if (r < 0)
		return r;
	r = rs_spawn_run(&o, &res, &e);
	if (r == 0 && rs_spawn_exit_code(res.status) != 0) {
		char *nl = res.err ? strchr(res.err, '\n') : NULL;
		if (nl)
			*nl = '\0';
		r = rs_error_setx(&e, EIO, "%s exited %d: %s", journal,
				  rs_spawn_exit_code(res.status),
				  res.err && *res.err ? res.err : "no message");
	}
	if (r < 0) {
		rs_spawn_result_clear(&res);
		return rs_error_setx(err, -r, "cannot read the journal of '%s' as '%s': %s", unit,
				     u->name, e->msg);
	}
	/* the newest lines matter: keep the last max bytes */
	*truncated = res.out_cut || res.out_len > max;
	size_t keep = res.out_len > max ? max : res.out_len;
	*buf = rs_xmalloc(keep + 1);
	memcpy(*buf, res.out + res.out_len - keep, keep);
	(*buf)[keep] = '\0';
	*len = keep;
	rs_spawn_result_clear(&res);
	return 0;
}
