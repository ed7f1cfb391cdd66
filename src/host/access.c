/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "host/access.h"
#include "lib/xalloc.h"

static unsigned want_bits(int mode)
{
	return (mode & R_OK ? 4u : 0) | (mode & W_OK ? 2u : 0) | (mode & X_OK ? 1u : 0);
}

static unsigned acl_perm_bits(acl_entry_t e)
{
	acl_permset_t ps;
	if (acl_get_permset(e, &ps) < 0)
		return 0;
	return (acl_get_perm(ps, ACL_READ) > 0 ? 4u : 0) |
	       (acl_get_perm(ps, ACL_WRITE) > 0 ? 2u : 0) |
	       (acl_get_perm(ps, ACL_EXECUTE) > 0 ? 1u : 0);
}

/* A file's access ACL, read once: its entries with their qualifiers. */
struct acl_ent {
	acl_tag_t tag;
	uint32_t q; /* uid or gid for ACL_USER, ACL_GROUP */
	unsigned bits;
};
struct acl_list {
	size_t n;
	struct acl_ent e[];
};

/* The ACL of path, or NULL when it has no extended one. */
static struct acl_list *acl_load(const char *path)
{
	if (getxattr(path, "system.posix_acl_access", NULL, 0) <= 0)
		return NULL;
	acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
	if (!acl)
		return NULL;
	size_t n = 0, cap = 8;
	struct acl_list *l = rs_xmalloc(sizeof(*l) + cap * sizeof(l->e[0]));
	acl_entry_t e;
	for (int w = ACL_FIRST_ENTRY; acl_get_entry(acl, w, &e) == 1; w = ACL_NEXT_ENTRY) {
		if (n == cap)
			l = rs_xrealloc(l, sizeof(*l) + (cap *= 2) * sizeof(l->e[0]));
		struct acl_ent *x = &l->e[n++];
		acl_get_tag_type(e, &x->tag);
		x->bits = acl_perm_bits(e);
		x->q = (uint32_t)-1;
		if (x->tag == ACL_USER || x->tag == ACL_GROUP) {
			uint32_t *q = acl_get_qualifier(e);
			if (q)
				x->q = *q;
			acl_free(q);
		}
	}
	acl_free(acl);
	l->n = n;
	return l;
}

/* POSIX.1e access check (acl(5) "ACCESS CHECK ALGORITHM"). */
static bool acl_eval(const struct acl_list *l, const struct stat *st, const struct rs_user *u,
		     unsigned want)
{
	unsigned mask = 7, other = 0, user_hit = 8, group_any = 0;
	bool group_match = false, owner = u->uid == st->st_uid;
	unsigned owner_bits = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct acl_ent *x = &l->e[i];
		if (x->tag == ACL_USER_OBJ) {
			owner_bits = x->bits;
		} else if (x->tag == ACL_USER) {
			if (x->q == u->uid)
				user_hit = x->bits;
		} else if (x->tag == ACL_GROUP_OBJ || x->tag == ACL_GROUP) {
			gid_t g = x->tag == ACL_GROUP ? (gid_t)x->q : st->st_gid;
			if (rs_user_in_group(u, g)) {
				group_match = true;
				if ((x->bits & want) == want)
					group_any = x->bits;
			}
		} else if (x->tag == ACL_MASK) {
			mask = x->bits;
		} else if (x->tag == ACL_OTHER) {
			other = x->bits;
		}
	}
	if (owner)
		return (owner_bits & want) == want;
	if (user_hit != 8)
		return (user_hit & mask & want) == want;
	if (group_match)
		return (group_any & mask & want) == want;
	return (other & want) == want;
}

/* Return -1 when the file has no extended ACL. */
static int acl_allows(const char *path, const struct stat *st, const struct rs_user *u,
		      unsigned want)
{
	struct acl_list *l = acl_load(path);
	if (!l)
		return -1;
	bool ok = acl_eval(l, st, u, want);
	free(l);
	return ok;
}

/* The mode bits' answer (root aside), the ACL's when l is given. */
static bool bits_allow(const struct stat *st, const struct acl_list *l, const struct rs_user *u,
		       unsigned want)
{
	unsigned bits;

	if (l)
		return acl_eval(l, st, u, want);
	if (st->st_uid == u->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (rs_user_in_group(u, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
}

bool rs_access_stat(const struct stat *st, const char *path, const struct rs_user *u, int mode)
{
	unsigned want = want_bits(mode);

	if (u->uid == 0) {
		/* CAP_DAC_OVERRIDE: execute needs one x bit on non-directories */
		if (!(want & 1) || S_ISDIR(st->st_mode))
			return true;
		return (st->st_mode & 0111) != 0;
	}
	if (path) {
		int a = acl_allows(path, st, u, want);
		if (a >= 0)
			return a;
	}
	return bits_allow(st, NULL, u, want);
}

/* Mode and ACL of rel from one O_PATH fd opened through the root handle:
 * the ACL is read by the fd's /proc/self/fd path, never by root + rel (a
 * path string is resolved from / and may leave a --root tree). */
static int access_one(const struct rs_host *h, const char *rel, const struct rs_user *u, int mode)
{
	_cleanup_close_ int fd = rs_host_openat(h, rel, O_PATH | O_NOFOLLOW, NULL);
	struct stat st;
	char self[64];

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return rs_access_stat(&st, S_ISLNK(st.st_mode) ? NULL : self, u, mode) ? 1 : 0;
}

int rs_access_user(const struct rs_host *h, const struct rs_user *u, const char *rel, int mode)
{
	_cleanup_free_ char *canon = NULL;
	int r = rs_host_canonical(h, rel, &canon);

	if (r < 0)
		return r;
	/* every directory above must be searchable */
	for (char *p = canon + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		r = access_one(h, canon, u, X_OK);
		*p = '/';
		if (r <= 0)
			return r;
	}
	return access_one(h, canon, u, mode);
}

/* What rs_access_user reads of a host path, kept with the handle: each
 * component from the root down (stat and ACL), or the error that ended
 * the walk. */
struct walked {
	int err; /* -errno of component n (the walk stopped there), or 0 */
	size_t n;
	struct comp {
		struct stat st;
		struct acl_list *acl;
	} c[];
};

static void walked_free(void *p)
{
	struct walked *w = p;
	for (size_t i = 0; w && i < w->n; i++)
		free(w->c[i].acl);
	free(w);
}

static struct walked *walk_host(const struct rs_host *h, const char *rel)
{
	_cleanup_free_ char *canon = NULL;
	size_t depth = 1;
	struct walked *w;
	int r = rs_host_canonical(h, rel, &canon);

	if (r < 0) {
		w = rs_xcalloc(1, sizeof(*w));
		w->err = r;
		return w;
	}
	for (const char *p = canon + 1; (p = strchr(p, '/')); p++)
		depth++;
	w = rs_xcalloc(1, sizeof(*w) + depth * sizeof(w->c[0]));
	for (char *p = canon + 1;; p++) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		_cleanup_close_ int fd = rs_host_openat(h, canon, O_PATH | O_NOFOLLOW, NULL);
		struct comp *c = &w->c[w->n];
		char self[64];
		if (fd < 0 || fstat(fd, &c->st) < 0) {
			w->err = -errno;
			return w;
		}
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		c->acl = S_ISLNK(c->st.st_mode) ? NULL : acl_load(self);
		w->n++;
		if (!slash)
			return w;
		*slash = '/';
		p = slash;
	}
}

int rs_access_user_host(const struct rs_host *h, const struct rs_user *u, const char *rel, int mode)
{
	_cleanup_free_ char *key = rs_xasprintf("access:%s", rs_host_rel(rel));
	struct walked *w = rs_host_memo(h, key);

	if (!w) {
		w = walk_host(h, rel);
		rs_host_memo_keep(h, key, w, walked_free);
	}
	for (size_t i = 0; i < w->n; i++) {
		bool last = i + 1 == w->n && !w->err;
		int m = last ? mode : X_OK;
		const struct stat *st = &w->c[i].st;
		/* root: as rs_access_stat (an x bit for execute on a file) */
		bool ok = u->uid == 0 ? (!(want_bits(m) & 1) || S_ISDIR(st->st_mode) ||
					 (st->st_mode & 0111))
				      : bits_allow(st, w->c[i].acl, u, want_bits(m));
		if (!ok)
			return 0;
	}
	return w->err ? w->err : 1;
}

static const char *id_name(const struct rs_host *h, bool group, unsigned id, char *buf, size_t n)
{
	char *name = group ? rs_group_name_of(h, id) : rs_user_name_of(h, id);
	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", id);
	free(name);
	return buf;
}

char *rs_access_describe(const struct rs_host *h, const struct stat *st)
{
	char m[11], ub[64], gb[64];
	mode_t md = st->st_mode;
	m[0] = S_ISDIR(md)    ? 'd'
	       : S_ISCHR(md)  ? 'c'
	       : S_ISBLK(md)  ? 'b'
	       : S_ISLNK(md)  ? 'l'
	       : S_ISFIFO(md) ? 'p'
	       : S_ISSOCK(md) ? 's'
			      : '-';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		m[i + 1] = (md & (1u << (8 - i))) ? rwx[i] : '-';
	if (md & S_ISUID)
		m[3] = (md & S_IXUSR) ? 's' : 'S';
	if (md & S_ISGID)
		m[6] = (md & S_IXGRP) ? 's' : 'S';
	m[10] = '\0';
	return rs_xasprintf("%s %s:%s", m, id_name(h, false, st->st_uid, ub, sizeof(ub)),
			    id_name(h, true, st->st_gid, gb, sizeof(gb)));
}
