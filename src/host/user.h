/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "host/host.h"
#include "lib/spawn.h"
#include "lib/strutil.h"

/* The user being prepared, resolved through the host's etc/passwd and
 * etc/group (never from HOME, USER or XDG_* of the caller: CVE-2021-4034). */
struct rs_user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	gid_t *groups; /* primary first, then every etc/group membership */
	size_t ngroups;
};

/* spec is a name or a decimal uid. Live hosts fall back to NSS (LDAP, SSSD)
 * when etc/passwd has no entry. Return: 0, -ENOENT (no such user), -EINVAL
 * (a name no passwd file can hold), or -errno. */
int rs_user_resolve(const struct rs_host *h, const char *spec, struct rs_user *out,
		    struct rs_error **err);
void rs_user_clear(struct rs_user *u);
bool rs_user_in_group(const struct rs_user *u, gid_t gid);
/* Root becomes u for good: u's groups, gid and uid (real, effective and
 * saved), checked to have held, and no capability left (capget). Nothing
 * when the caller is not root or u is root. The one way root turns into a
 * user (the probe child excepted: it gets its ids as arguments). Return: 0,
 * -errno of the failing call, or -EPERM when the switch did not hold. */
int rs_user_become(const struct rs_user *u);
/* rs_user_become, then no_new_privs: what runs next (a fixer's removal, an
 * exec'd systemctl, nsenter's command) can never gain a privilege back
 * through a setuid program. Async-signal-safe. Return: as rs_user_become,
 * or -errno of prctl. */
int rs_user_drop(const struct rs_user *u);
/* rs_spawn's setup callbacks (arg: the struct rs_user): rs_user_drop,
 * or rs_user_become where a setuid helper must still work further down
 * (the purge's launcher maps ids through newuidmap). Their step names are
 * rs_user_steps. */
int rs_user_spawn_drop(void *u, struct rs_spawn_ctx *ctx);
int rs_user_spawn_become(void *u, struct rs_spawn_ctx *ctx);
extern const char *const rs_user_steps[];

/* The search path a process root starts as a user gets (a login's, never
 * root's: no sbin, no /root/bin). */
#define RS_USER_PATH "/usr/local/bin:/usr/bin:/bin"
/* The environment of a process root starts as u: an allow-list, nothing of
 * root's. HOME, USER, LOGNAME (passwd), PATH (RS_USER_PATH), LANG (lang
 * when it is a plain locale name, else C.UTF-8) and, when run is given,
 * XDG_RUNTIME_DIR, appended to env as "NAME=value". */
void rs_user_env(const struct rs_user *u, const char *run, const char *lang, struct rs_strv *env);

/* gid of a group by name from etc/group. Return: 0 or -ENOENT. */
int rs_group_gid(const struct rs_host *h, const char *name, gid_t *out);
/* Name of a uid in etc/passwd, or NULL; caller frees. */
char *rs_user_name_of(const struct rs_host *h, uid_t uid);
/* Name of a gid in etc/group, or NULL; caller frees. */
char *rs_group_name_of(const struct rs_host *h, gid_t gid);
/* Every name etc/passwd gives uid (aliases share a uid), added to out. */
void rs_passwd_names_of(const struct rs_host *h, uid_t uid, struct rs_strv *out);
/* Every uid in etc/passwd; caller frees *out. Return: the count. */
size_t rs_passwd_uids(const struct rs_host *h, uint32_t **out);
/* The NSS source of subordinate ids ("sss") when nsswitch.conf names one
 * other than "files", else NULL; caller frees. */
char *rs_nss_subid_source(const struct rs_host *h);
