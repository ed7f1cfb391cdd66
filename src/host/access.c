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

/* POSIX.1e access check (acl(5) "ACCESS CHECK ALGORITHM"). Return -1 when
 * the file has no extended ACL. */
static int acl_allows(const char *path, const struct stat *st, const struct rs_user *u,
		      unsigned want)
{
	if (getxattr(path, "system.posix_acl_access", NULL, 0) <= 0)
		return -1;
	acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
	if (!acl)
		return -1;
	unsigned mask = 7, other = 0, user_hit = 8, group_any = 0;
	bool group_match = false, owner = u->uid == st->st_uid;
	unsigned owner_bits = 0;
	acl_entry_t e;
	for (int w = ACL_FIRST_ENTRY; acl_get_entry(acl, w, &e) == 1; w = ACL_NEXT_ENTRY) {
		acl_tag_t tag;
		acl_get_tag_type(e, &tag);
		unsigned bits = acl_perm_bits(e);
		if (tag == ACL_USER_OBJ) {
			owner_bits = bits;
		} else if (tag == ACL_USER) {
			uid_t *q = acl_get_qualifier(e);
			if (q && *q == u->uid)
				user_hit = bits;
			acl_free(q);
		} else if (tag == ACL_GROUP_OBJ || tag == ACL_GROUP) {
			gid_t g = st->st_gid;
			gid_t *q = tag == ACL_GROUP ? acl_get_qualifier(e) : NULL;
			if (q)
				g = *q;
			acl_free(q);
			if (rs_user_in_group(u, g)) {
				group_match = true;
				if ((bits & want) == want)
					group_any = bits;
			}
		} else if (tag == ACL_MASK) {
			mask = bits;
		} else if (tag == ACL_OTHER) {
			other = bits;
		}
	}
	acl_free(acl);
	if (owner)
		return (owner_bits & want) == want;
	if (user_hit != 8)
		return (user_hit & mask & want) == want;
	if (group_match)
		return (group_any & mask & want) == want;
	return (other & want) == want;
}

bool rs_access_stat(const struct stat *st, const char *path, const struct rs_user *u, int mode)
{
	unsigned want = want_bits(mode), bits;

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
	if (st->st_uid == u->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (rs_user_in_group(u, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
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
