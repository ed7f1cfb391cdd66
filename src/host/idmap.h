/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include "host/host.h"
#include "host/user.h"

/* The kernel accepts 340 extents per map since 4.15 (5 before). */
#define RS_IDMAP_MAX 340

struct rs_idmap_extent {
	uint64_t inside, outside, count;
};

struct rs_idmap {
	struct rs_idmap_extent e[RS_IDMAP_MAX];
	size_t n;
	uint64_t subordinate; /* ids mapped from subuid/subgid (0: single-id map) */
};

/*
 * The map a launcher writes for the user: own id -> 0, then the user's
 * subordinate ranges (by name or uid) sorted, merged, with the user's own id
 * cut out of any range that holds it (RootlessKit#476), -> 1..N.
 * Return: 0 (with subordinate == 0 when the user has no ranges) or -errno.
 */
int rs_idmap_build(const struct rs_host *h, const struct rs_user *u, bool gid, struct rs_idmap *out,
		   struct rs_error **err);
/* The same from subuid-format text already read (`getsubids` output made
 * into NAME:START:COUNT lines). Return: 0. */
int rs_idmap_build_text(const char *buf, size_t len, const struct rs_user *u, bool gid,
			struct rs_idmap *out);
/*
 * Writes the uid and gid maps of process pid: maps with subordinate ids
 * through newuidmap/newgidmap (run at the same time, by absolute path,
 * after checking each is root-owned and not writable by others), a
 * single-id map of the caller's own id directly (the gid map after "deny"
 * in setgroups, CVE-2014-8989).
 * Return: 0 or -errno with *err carrying the helper's own message.
 */
struct rs_idmap_meanwhile {
	void (*fn)(void *arg); /* its outcome is the caller's, in arg */
	void *arg;
};
/* meanwhile, when given: fn runs once, after the helpers start (or fail
 * to) and before they are waited for; a setuid helper runs for some
 * milliseconds, in which the caller's own set-up costs nothing. */
int rs_idmap_apply_pair(const struct rs_host *h, pid_t pid, const struct rs_idmap *um,
			const struct rs_idmap *gm, const struct rs_idmap_meanwhile *meanwhile,
			struct rs_error **err);
/* A single-id map of id -> 0. */
void rs_idmap_single(struct rs_idmap *m, uint64_t id);

/* /proc/PID/uid_map (gid_map) text: up to RS_IDMAP_MAX lines of "inside
 * outside count". Return: 0, or -EINVAL (nothing kept) for any line the
 * kernel could not have written. A hand-written parser: tests/fuzz. */
int rs_idmap_parse(const char *buf, size_t len, struct rs_idmap *out);
/* Whether ids start..start+count-1, as seen inside the map's namespace,
 * are all mapped. */
bool rs_idmap_covers(const struct rs_idmap *m, uint64_t start, uint64_t count);
/* The number of ids the map maps. */
uint64_t rs_idmap_count(const struct rs_idmap *m);
