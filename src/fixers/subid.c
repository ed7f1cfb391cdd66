/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "host/safewrite.h"
#include "lib/xalloc.h"

struct span {
	uint64_t start, end; /* [start, end) */
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static bool owner_is(const struct rs_user *u, const char *owner)
{
	uint64_t n;
	return strcmp(owner, u->name) == 0 ||
	       (rs_parse_u64(owner, UINT32_MAX, &n) == 0 && n == u->uid);
}

struct subfile {
	const char *rel;
	char *buf;
	size_t len;
	struct rs_subid_file f;
	uint64_t mine;
};

/* shadow's find_free_range(), over both files at once so that a user gets
 * the same start in subuid and subgid: the first hole of count ids in
 * [min, max] that no range of any owner touches, nor any uid in passwd. */
static int find_free(const struct subfile sf[2], const struct span *used_ids, size_t nids,
		     uint64_t min, uint64_t max, uint64_t count, uint64_t *out)
{
	size_t n = nids;
	for (int i = 0; i < 2; i++)
		n += sf[i].f.n;
	struct span *s = rs_xcalloc(n + 1, sizeof(*s));
	size_t k = 0;
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < sf[i].f.n; j++)
			s[k++] = (struct span){sf[i].f.r[j].start,
					       sf[i].f.r[j].start + sf[i].f.r[j].count};
	for (size_t j = 0; j < nids; j++)
		s[k++] = used_ids[j];
	qsort(s, k, sizeof(*s), cmp_span);
	uint64_t cand = min;
	for (size_t j = 0; j < k && cand + count - 1 <= max; j++) {
		if (s[j].end <= cand)
			continue;
		if (s[j].start >= cand + count)
			break;
		cand = s[j].end;
	}
	free(s);
	if (cand + count - 1 > max)
		return -ENOSPC;
	*out = cand;
	return 0;
}

/* Real uids must stay out of subordinate ranges. */
static size_t passwd_ids(const struct rs_host *h, struct span **out)
{
	uint32_t *ids = NULL;
	size_t n = rs_passwd_uids(h, &ids);
	*out = rs_xcalloc(n + 1, sizeof(**out));
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (struct span){ids[i], (uint64_t)ids[i] + 1};
	free(ids);
	return n;
}

/* The directory of rel, opened through the root handle: under --root an
 * "etc -> /etc" link must resolve inside the tree (RESOLVE_IN_ROOT), so the
 * lock files are then made relative to this fd, never to root_fd + path. */
static int lock_dir(const struct rs_host *h, const char *rel, const char **base)
{
	_cleanup_free_ char *dir = rs_xstrdup(rs_host_rel(rel));
	char *slash = strrchr(dir, '/');

	*base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	if (slash)
		*slash = '\0';
	int fd = rs_host_openat(h, slash ? dir : ".", O_RDONLY | O_DIRECTORY, NULL);
	return fd < 0 ? -errno : fd;
}

/* shadow's commonio lock: NAME.lock made by link(2) of a file holding our
 * pid, trusted only when the link count says the link is ours. A lock left
 * by a dead process is not broken without --force: it may be an admin's
 * edit in progress. */
static int lock_take(const struct rs_host *h, const char *rel, bool force, char **why)
{
	const char *base;
	_cleanup_close_ int dfd = lock_dir(h, rel, &base);
	_cleanup_free_ char *lock = rs_xasprintf("%s.lock", base);
	_cleanup_free_ char *tmp = rs_xasprintf("%s.%d", base, (int)getpid());
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());

	if (dfd < 0) {
		*why = rs_xasprintf("cannot lock '/%s': %s", rel, strerror(-dfd));
		return dfd;
	}
	for (int tries = 0; tries < 50; tries++) {
		int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				0600);
		if (fd < 0) {
			int e = errno;
			*why = rs_xasprintf("cannot create '/%s.%d': %s", rel, (int)getpid(),
					    strerror(e));
			return -e;
		}
		bool ok = write(fd, pid, (size_t)n) == n;
		close(fd);
		struct stat st;
		int r = ok ? linkat(dfd, tmp, dfd, lock, 0) : -1;
		ok = r == 0 && fstatat(dfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 2;
		int e = errno;
		unlinkat(dfd, tmp, 0);
		if (ok)
			return 0;
		if (r == 0 || e != EEXIST) {
			*why = rs_xasprintf("cannot lock '/%s': %s", rel, strerror(e));
			return -(e ? e : EIO);
		}
		char held[64] = "";
		uint64_t owner = 0;
		int lfd = openat(dfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (lfd >= 0) {
			ssize_t k = read(lfd, held, sizeof(held) - 1);
			held[k > 0 ? k : 0] = '\0';
			close(lfd);
			rs_parse_u64(rs_strstrip(held), INT32_MAX, &owner);
		}
		bool alive = owner && h->live && kill((pid_t)owner, 0) == 0;
		if (!alive && force) {
			unlinkat(dfd, lock, 0);
			continue;
		}
		if (!alive) {
			*why = rs_xasprintf(
				"'/%s.lock' is held by a process that is gone (pid %s); "
				"rerun with --force to break it",
				rel, *held ? held : "?");
			return -EBUSY;
		}
		usleep(100000); /* a live useradd: wait, a bounded time */
	}
	*why = rs_xasprintf("'/%s.lock' stays locked by a running process", rel);
	return -EBUSY;
}

static void lock_release(const struct rs_host *h, const char *rel)
{
	const char *base;
	_cleanup_close_ int dfd = lock_dir(h, rel, &base);
	if (dfd < 0)
		return;
	_cleanup_free_ char *lock = rs_xasprintf("%s.lock", base);
	unlinkat(dfd, lock, 0);
}

static int load(const struct rs_host *h, const struct rs_user *u, struct subfile *sf, char **why)
{
	struct rs_error *e = NULL;
	int r = rs_safe_read(h, sf->rel, 64u << 20, &sf->buf, &sf->len, &e);
	if (r < 0) {
		*why = rs_xstrdup(e->msg);
		rs_error_free(e);
		return r;
	}
	rs_subid_parse(sf->buf ? sf->buf : "", sf->len, &sf->f);
	/* a line shadow cannot parse would be kept but be invisible to the
	 * allocation: never rewrite such a file */
	if (sf->f.nbad) {
		*why = rs_xasprintf("line %u of '/%s' is malformed; fix it first, nothing was "
				    "changed",
				    sf->f.bad_lines[0], sf->rel);
		return -EINVAL;
	}
	for (size_t i = 0; i < sf->f.n; i++)
		if (owner_is(u, sf->f.r[i].owner))
			sf->mine += sf->f.r[i].count;
	return 0;
}

static int append_range(struct rs_fix_ctx *f, struct subfile *sf, uint64_t start, uint64_t count)
{
	const struct rs_user *u = &f->ctx->user;
	const char *nl = sf->len && sf->buf[sf->len - 1] != '\n' ? "\n" : "";
	_cleanup_free_ char *text = rs_xasprintf("%.*s%s%s:%llu:%llu\n", (int)sf->len,
						 sf->buf ? sf->buf : "", nl, u->name,
						 (unsigned long long)start,
						 (unsigned long long)count);
	_cleanup_free_ char *detail = rs_xasprintf("append %s:%llu:%llu", u->name,
						   (unsigned long long)start,
						   (unsigned long long)count);
	return rs_fix_write(f, "subid.ranges", sf->rel, text, 0644, detail);
}

/* Podman's pause process keeps the user namespace it made with the old
 * ranges until it is restarted (podman-system-migrate(1)); both the usermod
 * path and the append path change the ranges. */
static void migrate_note(struct rs_fix_ctx *f)
{
	rs_fix_action(f, "subid.ranges", "note", NULL,
		      "then run 'podman system migrate' as '%s' "
		      "if Podman already ran",
		      f->ctx->user.name);
}

static void allocate(struct rs_fix_ctx *f, struct subfile sf[2], uint64_t need, bool usermod)
{
	struct rs_ctx *ctx = f->ctx;
	_cleanup_free_ char *b = NULL;
	size_t len = 0;
	struct rs_logindefs d;
	bool have = rs_host_read(ctx->host, "etc/login.defs", 1u << 20, &b, &len, NULL) == 0;

	rs_logindefs_parse(have ? b : NULL, len, &d);
	if (d.invalid) {
		rs_fix_action(f, "subid.ranges", "note", "/etc/login.defs",
			      "invalid SUB_* values; "
			      "using shadow's defaults 100000-600100000");
		rs_logindefs_parse(NULL, 0, &d);
	}
	uint64_t count = d.sub_uid_count > need ? d.sub_uid_count : need, start;
	_cleanup_free_ struct span *ids = NULL;
	size_t nids = passwd_ids(ctx->host, &ids);
	uint64_t min = d.sub_uid_min > d.sub_gid_min ? d.sub_uid_min : d.sub_gid_min;
	uint64_t max = d.sub_uid_max < d.sub_gid_max ? d.sub_uid_max : d.sub_gid_max;
	if (find_free(sf, ids, nids, min, max, count, &start) < 0) {
		rs_fix_action(f, "subid.ranges", "note", NULL,
			      "no free range of %llu ids between "
			      "%llu and %llu",
			      (unsigned long long)count, (unsigned long long)min,
			      (unsigned long long)max)
			->failed = true;
		return;
	}
	if (usermod) {
		/* shadow's own tool on a live host; it takes its own locks */
		char range[64], *argv[8];
		int n = 0;
		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)start,
			 (unsigned long long)(start + count - 1));
		argv[n++] = "/usr/sbin/usermod";
		if (sf[0].mine < need)
			argv[n++] = "--add-subuids", argv[n++] = range;
		if (sf[1].mine < need)
			argv[n++] = "--add-subgids", argv[n++] = range;
		argv[n++] = ctx->user.name;
		argv[n] = NULL;
		if (rs_fix_exec(f, "subid.ranges", argv) == 0)
			migrate_note(f);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (sf[i].mine < need && append_range(f, &sf[i], start, count) < 0)
			return;
	migrate_note(f);
}

static int fix_subid(struct rs_fix_ctx *f, const struct rs_result *res)
{
	struct rs_ctx *ctx = f->ctx;
	struct subfile sf[2] = {{.rel = "etc/subuid"}, {.rel = "etc/subgid"}};
	uint64_t need = (uint64_t)rs_distro_int(&ctx->distro, "subid_min_count", 65536);
	char *why = NULL, *src = NULL;
	int locked = 0;

	if (!ctx->has_user || ctx->user.uid == 0) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "root needs no subordinate ids: name "
			      "the user with --user");
		return 0;
	}
	if ((src = rs_nss_subid_source(ctx->host))) {
		rs_fix_action(f, res->rule->id, "note", "/etc/nsswitch.conf",
			      "subordinate ids come "
			      "from '%s', not /etc/subuid: grant them there",
			      src)
			->failed = true;
		free(src);
		return 0;
	}
	/* never "repair" another user's allocation: its files carry those ids */
	if (res->f.status == RS_STATUS_WARN) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "%s: an administrator must resolve it; "
			      "nothing changed",
			      res->f.message)
			->failed = true;
		return 0;
	}
	struct stat st;
	bool usermod = ctx->host->live && geteuid() == 0 &&
		       rs_host_stat(ctx->host, "usr/sbin/usermod", &st, true) == 0;
	if (!f->o->dry_run && !usermod) {
		for (; locked < 2; locked++)
			if (lock_take(ctx->host, sf[locked].rel, f->o->force, &why) < 0)
				goto out;
	}
	if (load(ctx->host, &ctx->user, &sf[0], &why) < 0 ||
	    load(ctx->host, &ctx->user, &sf[1], &why) < 0)
		goto out;
	if (sf[0].mine >= need && sf[1].mine >= need)
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "'%s' already has %llu ids in both "
			      "files",
			      ctx->user.name, (unsigned long long)need);
	else
		allocate(f, sf, need, usermod);
out:
	while (locked-- > 0)
		lock_release(ctx->host, sf[locked].rel);
	if (why) {
		rs_fix_action(f, res->rule->id, "note", NULL, "%s", why)->failed = true;
		free(why);
	}
	for (int i = 0; i < 2; i++) {
		free(sf[i].buf);
		rs_subid_clear(&sf[i].f);
	}
	return 0;
}

const struct rs_fixer rs_fixer_subid_ranges = {.order = 30, .run = fix_subid};
