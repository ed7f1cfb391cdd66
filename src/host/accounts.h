/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "host/host.h"
#include "host/parse.h"

/*
 * etc/passwd and etc/group of a host, read once and indexed by name, uid,
 * gid and group member (host/user.c asks it; a fleet run asks it once per
 * user). Built on first use and kept with the handle's cache, so a write
 * through the handle (rs_host_forget) rebuilds it. The first line of a
 * name or id wins, as getpwnam(3) on files does.
 */
struct rs_accounts;

/* The handle's index. Return: 0, or -errno with *err when etc/passwd
 * cannot be read (-ENOENT when it does not exist). A missing or unreadable
 * etc/group leaves every user with its primary group only. */
int rs_accounts_get(const struct rs_host *h, const struct rs_accounts **out, struct rs_error **err);

/* A passwd entry by name or uid, or NULL. */
const struct rs_pwline *rs_accounts_user(const struct rs_accounts *a, const char *name);
const struct rs_pwline *rs_accounts_uid(const struct rs_accounts *a, uint32_t uid);
/* The next line of e's uid in file order (another name of the same uid),
 * or NULL: from rs_accounts_uid, a uid's lines without a pass over the
 * file. */
const struct rs_pwline *rs_accounts_uid_next(const struct rs_accounts *a,
					     const struct rs_pwline *e);
/* A group's gid by name, a gid's name: false when absent. */
bool rs_accounts_group(const struct rs_accounts *a, const char *name, uint32_t *gid);
const struct rs_grline *rs_accounts_gid(const struct rs_accounts *a, uint32_t gid);
/* The gids of the groups listing name as a member, in file order
 * (repeats possible): call with *it = 0 until it returns false. */
bool rs_accounts_member_of(const struct rs_accounts *a, const char *name, size_t *it,
			   uint32_t *gid);
/* The passwd entries in file order. */
size_t rs_accounts_count(const struct rs_accounts *a);
const struct rs_pwline *rs_accounts_at(const struct rs_accounts *a, size_t i);

/* The caps on the files (a campus server's passwd is a few MiB). */
#define RS_ACCOUNTS_MAX (32u << 20)
