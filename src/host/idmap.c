/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host/idmap.h"
#include "host/parse.h"
#include "host/subids.h"
#include "lib/sig.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

struct span {
	uint64_t start, count;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static bool owner_matches(const struct rs_user *u, const char *owner)
{
	uint64_t n;
	return strcmp(owner, u->name) == 0 ||
	       (rs_parse_u64(owner, UINT32_MAX, &n) == 0 && n == u->uid);
}

/* Sorted, merged, own id cut out: the user's ranges of f, those at the
 * positions pos (npos of them) when pos is given. Returns the number of
 * spans. */
static size_t collect(const struct rs_subid_file *f, const uint32_t *pos, size_t npos,
		      const struct rs_user *u, uint64_t own, struct span **out)
{
	size_t total = pos ? npos : f->n;
	struct span *s = rs_xcalloc(total * 2 + 1, sizeof(*s));
	size_t n = 0, m = 0;

	for (size_t k = 0; k < total; k++) {
		const struct rs_subid_range *r = &f->r[pos ? pos[k] : k];
		if (!pos && !owner_matches(u, r->owner))
			continue;
		if (own >= r->start && own < r->start + r->count) {
			if (own > r->start)
				s[n++] = (struct span){r->start, own - r->start};
			if (own + 1 < r->start + r->count)
				s[n++] = (struct span){own + 1, r->start + r->count - own - 1};
		} else {
			s[n++] = (struct span){r->start, r->count};
		}
	}
	if (n)
		qsort(s, n, sizeof(*s), cmp_span);
	for (size_t i = 0; i < n; i++) {
		if (m && s[i].start <= s[m - 1].start + s[m - 1].count) {
			uint64_t end = s[i].start + s[i].count;
			if (end > s[m - 1].start + s[m - 1].count)
				s[m - 1].count = end - s[m - 1].start;
		} else {
			s[m++] = s[i];
		}
	}
	*out = s;
	return m;
}

void rs_idmap_single(struct rs_idmap *m, uint64_t id)
{
	memset(m, 0, sizeof(*m));
	m->e[0] = (struct rs_idmap_extent){0, id, 1};
	m->n = 1;
}

/* The map from the user's spans (sorted, merged). */
static void map_fill(struct rs_idmap *out, const struct span *s, size_t n)
{
	uint64_t next = 1;
	for (size_t i = 0; i < n && out->n < RS_IDMAP_MAX; i++) {
		/* ids inside stay below 2^32 - 1 (the kernel's "no id") */
		uint64_t count = s[i].count;
		/* outside ids stop below (u32)-1 too: the kernel refuses the map */
		if (s[i].start >= UINT32_MAX)
			break;
		if (s[i].start + count > UINT32_MAX)
			count = UINT32_MAX - s[i].start;
		if (next + count > UINT32_MAX)
			break;
		out->e[out->n++] = (struct rs_idmap_extent){next, s[i].start, count};
		out->subordinate += count;
		next += count;
	}
}

int rs_idmap_build_text(const char *buf, size_t len, const struct rs_user *u, bool gid,
			struct rs_idmap *out)
{
	uint64_t own = gid ? u->gid : u->uid;
	_cleanup_free_ struct span *s = NULL;
	struct rs_subid_file f;

	rs_idmap_single(out, own);
	rs_subid_parse(buf, len, &f);
	size_t n = collect(&f, NULL, 0, u, own, &s);
	rs_subid_clear(&f);
	map_fill(out, s, n);
	return 0;
}

int rs_idmap_build(const struct rs_host *h, const struct rs_user *u, bool gid, struct rs_idmap *out,
		   struct rs_error **err)
{
	const char *rel = gid ? "etc/subgid" : "etc/subuid";
	uint64_t own = gid ? u->gid : u->uid;
	const struct rs_subids *si;
	_cleanup_free_ struct span *s = NULL;
	_cleanup_free_ uint32_t *pos = NULL;
	int r = rs_subids_get(h, rel, &si, err);

	rs_idmap_single(out, own);
	if (r == -ENOENT) {
		if (err) {
			rs_error_free(*err);
			*err = NULL;
		}
		return 0;
	}
	if (r < 0)
		return r;
	size_t npos = rs_subids_of(si, u->name, (uint32_t)u->uid, &pos);
	size_t n = collect(&si->f, pos, npos, u, own, &s);
	map_fill(out, s, n);
	return 0;
}

static int write_proc(pid_t pid, const char *file, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return w == (ssize_t)strlen(text) ? 0 : -(w < 0 ? e : EIO);
}

static int apply_single(pid_t pid, bool gid, const struct rs_idmap *m, struct rs_error **err)
{
	char line[64];
	int r;

	if (gid) {
		r = write_proc(pid, "setgroups", "deny");
		if (r < 0 && r != -ENOENT)
			return rs_error_set(err, -r, "cannot write '/proc/%d/setgroups'", (int)pid);
	}
	snprintf(line, sizeof(line), "0 %llu 1\n", (unsigned long long)m->e[0].outside);
	r = write_proc(pid, gid ? "gid_map" : "uid_map", line);
	if (r < 0)
		return rs_error_set(err, -r, "cannot write '/proc/%d/%s'", (int)pid,
				    gid ? "gid_map" : "uid_map");
	return 0;
}

static int helper_trusted(const struct rs_host *h, const char *rel, struct rs_error **err)
{
	struct stat st;
	if (rs_host_stat(h, rel, &st, true) < 0)
		return rs_error_setx(err, ENOENT, "'/%s' is missing", rel);
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0022))
		return rs_error_setx(err, EPERM,
				     "'/%s' is not a root-owned file writable only by "
				     "root: refusing to run it",
				     rel);
	return 0;
}

static char **helper_argv(const char *name, pid_t pid, const struct rs_idmap *m)
{
	char **argv = rs_xcalloc(3 + 3 * m->n + 1, sizeof(char *));
	size_t k = 0;
	argv[k++] = rs_xstrdup(name);
	argv[k++] = rs_xasprintf("%d", (int)pid);
	for (size_t i = 0; i < m->n; i++) {
		argv[k++] = rs_xasprintf("%llu", (unsigned long long)m->e[i].inside);
		argv[k++] = rs_xasprintf("%llu", (unsigned long long)m->e[i].outside);
		argv[k++] = rs_xasprintf("%llu", (unsigned long long)m->e[i].count);
	}
	return argv;
}

static void argv_free(char **argv)
{
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* newuidmap or newgidmap: one setuid start-up of about 1 ms, and a
 * message on stderr when it refuses */
#define HELPER_TIMEOUT_MS 10000

struct helper {
	struct rs_child c; /* c.pid 0: not started */
	const char *rel;
	char *path;
};

/* Starts the helper with stderr on a pipe (lib/spawn). Return: 0 or -errno. */
static int helper_start(const struct rs_host *h, pid_t pid, bool gid, const struct rs_idmap *m,
			struct helper *hp, struct rs_error **err)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

	hp->rel = gid ? "usr/bin/newgidmap" : "usr/bin/newuidmap";
	int r = helper_trusted(h, hp->rel, err);
	if (r < 0)
		return r;
	hp->path = rs_host_path(h, hp->rel);
	char **argv = helper_argv(gid ? "newgidmap" : "newuidmap", pid, m);
	struct rs_spawn o = {.path = hp->path,
			     .argv = argv,
			     .envp = envp,
			     .flags = RS_SPAWN_STDERR,
			     .err_max = 1023,
			     .timeout_ms = HELPER_TIMEOUT_MS};
	r = rs_spawn_start(&o, &hp->c, err);
	argv_free(argv);
	return r;
}

/* Collects the helper's message and status. Return: 0, or -errno with
 * *err set when it failed or did not finish. */
static int helper_finish(struct helper *hp, struct rs_error **err)
{
	struct rs_spawn_result res;
	_cleanup_error_ struct rs_error *e = NULL;

	/* the path named in the deadline's message is the in-host one */
	hp->c.path = hp->rel;
	int r = rs_spawn_wait(&hp->c, &res, &e);
	int st = rs_spawn_exit_code(res.status);
	char *msg = res.err ? res.err : "";
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = (c[1] ? ' ' : '\0');
	if (r < 0)
		r = rs_error_setx(err, -r, "%s", e->msg);
	else if (st != 0)
		r = rs_error_setx(err, EPERM, "'/%s' failed (exit %d): %s", hp->rel, st,
				  *msg ? msg : "no message");
	rs_spawn_result_clear(&res);
	return r;
}

int rs_idmap_apply_pair(const struct rs_host *h, pid_t pid, const struct rs_idmap *um,
			const struct rs_idmap *gm, const struct rs_idmap_meanwhile *meanwhile,
			struct rs_error **err)
{
	struct helper hu = {0}, hg = {0};
	int r = 0;

	/* both helpers at once: each is a setuid start-up of about 1 ms */
	if (um->subordinate && (r = helper_start(h, pid, false, um, &hu, err)) < 0)
		goto out;
	if (gm->subordinate && (r = helper_start(h, pid, true, gm, &hg, err)) < 0)
		goto out;
	if (!um->subordinate && (r = apply_single(pid, false, um, err)) < 0)
		goto out;
	if (!gm->subordinate && (r = apply_single(pid, true, gm, err)) < 0)
		goto out;
out:
	if (meanwhile)
		meanwhile->fn(meanwhile->arg);
	for (struct helper *hp = &hu; hp; hp = hp == &hu ? &hg : NULL) {
		if (hp->c.pid > 0) {
			int x = helper_finish(hp, r == 0 ? err : NULL);
			r = r == 0 ? x : r;
		}
		free(hp->path);
	}
	return r;
}

/* One "inside outside count" line of /proc/PID/uid_map (the kernel pads
 * the columns with spaces). Return: 0 or -EINVAL. */
static int extent_parse(const char *s, size_t n, struct rs_idmap_extent *e)
{
	uint64_t v[3];
	size_t i = 0;

	for (int k = 0; k < 3; k++) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t st = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		if (i == st || rs_parse_u64n(s + st, i - st, UINT32_MAX, &v[k]) < 0)
			return -EINVAL;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	/* the kernel refuses an empty extent and one past 2^32 on either side */
	if (i != n || v[2] == 0 || v[0] + v[2] > (uint64_t)UINT32_MAX + 1 ||
	    v[1] + v[2] > (uint64_t)UINT32_MAX + 1)
		return -EINVAL;
	*e = (struct rs_idmap_extent){.inside = v[0], .outside = v[1], .count = v[2]};
	return 0;
}

int rs_idmap_parse(const char *buf, size_t len, struct rs_idmap *out)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		if (n && (out->n == RS_IDMAP_MAX || memchr(buf + pos, '\0', n) ||
			  extent_parse(buf + pos, n, &out->e[out->n++]) < 0)) {
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		pos += n + 1;
	}
	return 0;
}

bool rs_idmap_covers(const struct rs_idmap *m, uint64_t start, uint64_t count)
{
	/* extents do not overlap (the kernel refuses that), so walk up from
	 * start one extent at a time */
	while (count) {
		const struct rs_idmap_extent *hit = NULL;
		for (size_t i = 0; i < m->n && !hit; i++)
			if (start >= m->e[i].inside && start < m->e[i].inside + m->e[i].count)
				hit = &m->e[i];
		if (!hit)
			return false;
		uint64_t take = hit->inside + hit->count - start;
		if (take >= count)
			return true;
		start += take;
		count -= take;
	}
	return true;
}

uint64_t rs_idmap_count(const struct rs_idmap *m)
{
	uint64_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		n += m->e[i].count;
	return n;
}
