/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "host/user.h"
#include "lib/xalloc.h"

#include "host/accounts.h"

static bool name_is_valid(const char *s)
{
	size_t n = strlen(s);
	/* useradd's limit is 32; ':' and newlines cannot be stored in passwd */
	if (n == 0 || n > 32)
		return false;
	return strpbrk(s, ":\n/\\") == NULL;
}

static void user_fill(struct rs_user *u, const struct passwd *pw)
{
	u->name = rs_xstrdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->home = rs_xstrdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
}

static void user_fill_line(struct rs_user *u, const struct rs_pwline *e)
{
	u->name = rs_xstrndup(e->name.p, e->name.n);
	u->uid = e->uid;
	u->gid = e->gid;
	u->home = e->home.n ? rs_xstrndup(e->home.p, e->home.n) : rs_xstrdup("/");
}

static void user_add_group(struct rs_user *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	u->groups = rs_xrealloc(u->groups, (u->ngroups + 1) * sizeof(gid_t));
	u->groups[u->ngroups++] = g;
}

/* The primary group, then every etc/group listing the user, in file order. */
static void user_load_groups(const struct rs_accounts *a, struct rs_user *u)
{
	size_t it = 0;
	uint32_t gid;

	user_add_group(u, u->gid);
	while (a && rs_accounts_member_of(a, u->name, &it, &gid))
		user_add_group(u, gid);
}

/* The value of the next line of nsswitch.conf at or after *pos that
 * starts with key ("passwd:"), its comment cut and blanks stripped; *pos
 * moves past it. Return: a copy (caller frees), or NULL when no line is
 * left or the file cannot be read. */
static char *nss_next(const struct rs_host *h, const char *key, size_t *pos)
{
	const char *buf;
	size_t len, klen = strlen(key);

	if (rs_host_read_cached(h, "etc/nsswitch.conf", 1u << 20, &buf, &len, NULL) < 0)
		return NULL;
	while (*pos < len) {
		const char *nl = memchr(buf + *pos, '\n', len - *pos);
		size_t n = nl ? (size_t)(nl - (buf + *pos)) : len - *pos;
		_cleanup_free_ char *line = rs_xstrndup(buf + *pos, n);
		char *l = rs_strstrip(line);
		*pos += n + 1;
		if (!rs_startswith(l, key))
			continue;
		l[strcspn(l, "#")] = '\0';
		return rs_xstrdup(rs_strstrip(l + klen));
	}
	return NULL;
}

/* The first "passwd:" line of nsswitch.conf names a source other than
 * files: a name missing from etc/passwd may still be a user (LDAP, SSSD,
 * systemd's dynamic users). Without one, asking NSS would only read
 * etc/passwd again, once for every name a fleet run asks about. */
static bool nss_passwd_beyond_files(const struct rs_host *h)
{
	size_t pos = 0;
	_cleanup_free_ char *v = nss_next(h, "passwd:", &pos);
	char *save = NULL;

	if (!v)
		return false;
	for (char *w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (strcmp(w, "files") != 0 && w[0] != '[')
			return true;
	return false;
}

int rs_user_resolve(const struct rs_host *h, const char *spec, struct rs_user *out,
		    struct rs_error **err)
{
	uint64_t n;
	bool by_uid = rs_parse_u64(spec, UINT32_MAX - 1, &n) == 0;
	const struct rs_accounts *a = NULL;
	const struct rs_pwline *e = NULL;
	_cleanup_error_ struct rs_error *re = NULL;

	memset(out, 0, sizeof(*out));
	if (!by_uid && !name_is_valid(spec))
		return rs_error_setx(err, EINVAL, "invalid user name '%s'", spec);
	int r = rs_accounts_get(h, &a, &re);
	if (r == 0)
		e = by_uid ? rs_accounts_uid(a, (uint32_t)n) : rs_accounts_user(a, spec);
	if (e) {
		user_fill_line(out, e);
	} else if (r < 0 && r != -ENOENT) {
		return rs_error_setx(err, -r, "%s", re->msg);
	} else {
		struct passwd *pw = NULL;
		if (h->live && nss_passwd_beyond_files(h))
			pw = by_uid ? getpwuid((uid_t)n) : getpwnam(spec);
		if (!pw)
			return rs_error_setx(err, ENOENT, "no user '%s' in '/etc/passwd'", spec);
		user_fill(out, pw);
	}
	user_load_groups(a, out);
	return 0;
}

void rs_user_clear(struct rs_user *u)
{
	free(u->name);
	free(u->home);
	free(u->groups);
	memset(u, 0, sizeof(*u));
}

bool rs_user_in_group(const struct rs_user *u, gid_t gid)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

int rs_group_gid(const struct rs_host *h, const char *name, gid_t *out)
{
	const struct rs_accounts *a;
	uint32_t g;

	if (rs_accounts_get(h, &a, NULL) < 0 || !rs_accounts_group(a, name, &g))
		return -ENOENT;
	*out = g;
	return 0;
}

char *rs_user_name_of(const struct rs_host *h, uid_t uid)
{
	const struct rs_accounts *a;
	const struct rs_pwline *e;

	if (rs_accounts_get(h, &a, NULL) < 0 || !(e = rs_accounts_uid(a, uid)))
		return NULL;
	return rs_xstrndup(e->name.p, e->name.n);
}

char *rs_group_name_of(const struct rs_host *h, gid_t gid)
{
	const struct rs_accounts *a;
	const struct rs_grline *e;

	if (rs_accounts_get(h, &a, NULL) < 0 || !(e = rs_accounts_gid(a, gid)))
		return NULL;
	return rs_xstrndup(e->name.p, e->name.n);
}

void rs_passwd_names_of(const struct rs_host *h, uid_t uid, struct rs_strv *out)
{
	const struct rs_accounts *a;

	if (rs_accounts_get(h, &a, NULL) < 0)
		return;
	for (const struct rs_pwline *e = rs_accounts_uid(a, (uint32_t)uid); e;
	     e = rs_accounts_uid_next(a, e)) {
		_cleanup_free_ char *name = rs_xstrndup(e->name.p, e->name.n);
		if (!rs_strv_contains(out, name))
			rs_strv_push(out, name);
	}
}

size_t rs_passwd_uids(const struct rs_host *h, uint32_t **out)
{
	const struct rs_accounts *a;

	*out = NULL;
	if (rs_accounts_get(h, &a, NULL) < 0 || !rs_accounts_count(a))
		return 0;
	size_t n = rs_accounts_count(a);
	*out = rs_xmalloc(n * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		(*out)[i] = rs_accounts_at(a, i)->uid;
	return n;
}

char *rs_nss_subid_source(const struct rs_host *h)
{
	size_t pos = 0;

	for (char *v; (v = nss_next(h, "subid:", &pos));) {
		if (*v && strcmp(v, "files") != 0)
			return v;
		free(v);
	}
	return NULL;
}

int rs_user_become(const struct rs_user *u)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {{0}};
	uid_t r, e, s;

	if (geteuid() != 0 || u->uid == 0)
		return 0;
	if (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	if (getresuid(&r, &e, &s) < 0 || r != u->uid || e != u->uid || s != u->uid)
		return -EPERM;
	if (syscall(SYS_capget, &hdr, caps) < 0)
		return -EPERM;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (caps[i].effective || caps[i].permitted)
			return -EPERM;
	return 0;
}

int rs_user_drop(const struct rs_user *u)
{
	int r = rs_user_become(u);
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = -errno;
	return r;
}

const char *const rs_user_steps[] = {"becoming the user", NULL};

int rs_user_spawn_drop(void *u, struct rs_spawn_ctx *ctx)
{
	ctx->step = 0;
	return rs_user_drop(u);
}

int rs_user_spawn_become(void *u, struct rs_spawn_ctx *ctx)
{
	ctx->step = 0;
	return rs_user_become(u);
}

/* "de_DE.UTF-8", "C", "sr_RS@latin": what a locale name holds */
static bool locale_plain(const char *s)
{
	return rs_str_plain(s, 64, "_.@-");
}

void rs_user_env(const struct rs_user *u, const char *run, const char *lang, struct rs_strv *env)
{
	rs_strv_take(env, rs_xasprintf("HOME=%s", u->home && *u->home ? u->home : "/"));
	rs_strv_take(env, rs_xasprintf("USER=%s", u->name));
	rs_strv_take(env, rs_xasprintf("LOGNAME=%s", u->name));
	rs_strv_push(env, "PATH=" RS_USER_PATH);
	rs_strv_take(env, rs_xasprintf("LANG=%s", locale_plain(lang) ? lang : "C.UTF-8"));
	if (run)
		rs_strv_take(env, rs_xasprintf("XDG_RUNTIME_DIR=%s", run));
}
