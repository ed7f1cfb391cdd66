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

static FILE *host_fopen(const struct rs_host *h, const char *rel)
{
	int fd = rs_host_openat(h, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, NULL);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	FILE *f = fdopen(fd, "re");
	if (!f)
		close(fd);
	return f;
}

/* fgetpwent_r/fgetgrent_r with a buffer that grows on ERANGE (glibc puts the
 * stream back at the start of the line), so one long line hides nothing. */
static int next_pw(FILE *f, struct passwd *pw, char **buf, size_t *cap)
{
	struct passwd *res;
	for (;;) {
		int r = fgetpwent_r(f, pw, *buf, *cap, &res);
		if (r != ERANGE || *cap >= (1u << 24))
			return r;
		*cap *= 2;
		*buf = rs_xrealloc(*buf, *cap);
	}
}

static int next_gr(FILE *f, struct group *gr, char **buf, size_t *cap)
{
	struct group *res;
	for (;;) {
		int r = fgetgrent_r(f, gr, *buf, *cap, &res);
		if (r != ERANGE || *cap >= (1u << 24))
			return r;
		*cap *= 2;
		*buf = rs_xrealloc(*buf, *cap);
	}
}

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

static int passwd_find(const struct rs_host *h, const char *name, bool by_uid, uid_t uid,
		       struct rs_user *out)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/passwd");
	size_t cap = 4096;
	_cleanup_free_ char *buf = rs_xmalloc(cap);
	struct passwd pw;

	if (!f)
		return -errno;
	while (next_pw(f, &pw, &buf, &cap) == 0) {
		if (by_uid ? pw.pw_uid == uid : strcmp(pw.pw_name, name) == 0) {
			user_fill(out, &pw);
			return 0;
		}
	}
	return -ENOENT;
}

static void user_add_group(struct rs_user *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	u->groups = rs_xrealloc(u->groups, (u->ngroups + 1) * sizeof(gid_t));
	u->groups[u->ngroups++] = g;
}

static void user_load_groups(const struct rs_host *h, struct rs_user *u)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/group");
	size_t cap = 16384;
	_cleanup_free_ char *buf = rs_xmalloc(cap);
	struct group gr;

	user_add_group(u, u->gid);
	if (!f)
		return;
	while (next_gr(f, &gr, &buf, &cap) == 0) {
		for (char **m = gr.gr_mem; m && *m; m++)
			if (strcmp(*m, u->name) == 0)
				user_add_group(u, gr.gr_gid);
	}
}

int rs_user_resolve(const struct rs_host *h, const char *spec, struct rs_user *out,
		    struct rs_error **err)
{
	uint64_t n;
	bool by_uid = rs_parse_u64(spec, UINT32_MAX - 1, &n) == 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!by_uid && !name_is_valid(spec))
		return rs_error_setx(err, EINVAL, "invalid user name '%s'", spec);
	r = passwd_find(h, spec, by_uid, (uid_t)n, out);
	if (r == -ENOENT && h->live) {
		struct passwd *pw = by_uid ? getpwuid((uid_t)n) : getpwnam(spec);
		if (pw) {
			user_fill(out, pw);
			r = 0;
		}
	}
	if (r == -ENOENT)
		return rs_error_setx(err, ENOENT, "no user '%s' in '/etc/passwd'", spec);
	if (r < 0)
		return rs_error_set(err, -r, "cannot read '/etc/passwd'");
	user_load_groups(h, out);
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
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/group");
	size_t cap = 16384;
	_cleanup_free_ char *buf = rs_xmalloc(cap);
	struct group gr;

	if (!f)
		return -ENOENT;
	while (next_gr(f, &gr, &buf, &cap) == 0) {
		if (strcmp(gr.gr_name, name) == 0) {
			*out = gr.gr_gid;
			return 0;
		}
	}
	return -ENOENT;
}

char *rs_user_name_of(const struct rs_host *h, uid_t uid)
{
	struct rs_user u = {0};
	if (passwd_find(h, NULL, true, uid, &u) < 0)
		return NULL;
	free(u.home);
	return u.name;
}

char *rs_group_name_of(const struct rs_host *h, gid_t gid)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/group");
	size_t cap = 16384;
	_cleanup_free_ char *buf = rs_xmalloc(cap);
	struct group gr;

	if (!f)
		return NULL;
	while (next_gr(f, &gr, &buf, &cap) == 0)
		if (gr.gr_gid == gid)
			return rs_xstrdup(gr.gr_name);
	return NULL;
}

void rs_passwd_names_of(const struct rs_host *h, uid_t uid, struct rs_strv *out)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/passwd");
	size_t cap = 16384;
	_cleanup_free_ char *buf = rs_xmalloc(cap);
	struct passwd pw;

	if (!f)
		return;
	while (next_pw(f, &pw, &buf, &cap) == 0)
		if (pw.pw_uid == uid && !rs_strv_contains(out, pw.pw_name))
			rs_strv_push(out, pw.pw_name);
}

size_t rs_passwd_uids(const struct rs_host *h, uint32_t **out)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/passwd");
	size_t bcap = 4096;
	_cleanup_free_ char *buf = rs_xmalloc(bcap);
	struct passwd pw;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!f)
		return 0;
	while (next_pw(f, &pw, &buf, &bcap) == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = rs_xrealloc(*out, cap * sizeof(uint32_t));
		}
		(*out)[n++] = pw.pw_uid;
	}
	return n;
}

char *rs_nss_subid_source(const struct rs_host *h)
{
	_cleanup_fclose_ FILE *f = host_fopen(h, "etc/nsswitch.conf");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		char *l = rs_strstrip(line);
		if (!rs_startswith(l, "subid:"))
			continue;
		char *v = rs_strstrip(l + 6);
		v[strcspn(v, "#")] = '\0';
		v = rs_strstrip(v);
		if (*v && strcmp(v, "files") != 0)
			return rs_xstrdup(v);
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
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.@-", *p)))
			return false;
	return true;
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
