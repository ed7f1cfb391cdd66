/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The userns.probe rule runs its work in a fresh image of this program
 * started by root for the target user (`rootless-setup __probe-child ...`):
 * once it has dropped to the user's credentials it must be dumpable (for
 * newuidmap), so the user can ptrace it and read its memory, environment and
 * fds. A fresh image holds nothing of root's: a minimal environment, fds
 * 0 and 2 on /dev/null and the result pipe on RS_PROBE_RESULT_FD (its
 * stdout) only, started by lib/spawn. It resolves the engine's data dir
 * itself, as the user: root never follows the user's symlinks, and the
 * child's argv (readable by every user) shows the path as root built it.
 * What it writes back is the user's input to root: a small line format
 * parsed strictly by rs_probe_result_parse().
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "host/idmap.h"

#define RS_PROBE_CHILD_VERB	 "__probe-child"
#define RS_PROBE_RESULT_FD	 1     /* its stdout: a pipe root reads */
#define RS_PROBE_RESULT_MAX	 2048  /* bytes; a longer result is malformed */
#define RS_PROBE_DEADLINE_S	 20    /* root's whole wait for the probe child */
#define RS_PROBE_CHILD_BUDGET_MS 15000 /* the child's own waits, below the above */
#define RS_PROBE_SCRATCH_PREFIX	 ".rootless-setup-probe-"

/* The failing step the child reports. */
enum rs_probe_stage {
	RS_PROBE_OK,
	RS_PROBE_FORK,
	RS_PROBE_CREDS,
	RS_PROBE_UNSHARE,
	RS_PROBE_UIDMAP,
	RS_PROBE_GIDMAP,
	RS_PROBE_TIMEOUT,
	RS_PROBE_STAGE_COUNT,
};

struct rs_probe_result {
	enum rs_probe_stage stage;
	int err; /* errno of the failing step */
	int tmpfs_err, overlay_err;
	bool overlay_tried;
	char scratch[1024]; /* base + "/" RS_PROBE_SCRATCH_PREFIX "XXXXXX", or "" */
	char detail[512];   /* printable ASCII only */
};

/* The result as the child writes it; buf holds RS_PROBE_RESULT_MAX bytes.
 * Return: its length. */
size_t rs_probe_result_format(const struct rs_probe_result *r, char *buf);
/* Strict parse of what the child wrote (len bytes, not NUL-terminated):
 * the exact keys in order, bounded decimal numbers, a scratch path of the
 * form base/RS_PROBE_SCRATCH_PREFIX + 6 alphanumerics (base NULL: any
 * absolute path without "", "." or ".." components, as the child resolved
 * it), printable ASCII only. Return: 0 or -EBADMSG. */
int rs_probe_result_parse(const char *buf, size_t len, const char *base,
			  struct rs_probe_result *out);

/* What the fresh image gets in argv, validated. */
struct rs_probe_child_args {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *data;  /* the engine's data dir, unresolved: the scratch dir goes beside it */
	bool map_ok; /* false: root could not build the maps ("-") */
	struct rs_idmap *um, *gm;
};

/* A map as one argv word: "0:OWN:1,IN:OUT:COUNT,..."; caller frees. */
char *rs_probe_map_format(const struct rs_idmap *m);
/* argv after the verb: UID GID GROUPS DATADIR UIDMAP GIDMAP. Return: 0 or
 * -EINVAL (anything out of shape). */
int rs_probe_child_parse(int argc, char *const *argv, struct rs_probe_child_args *out);
void rs_probe_child_args_clear(struct rs_probe_child_args *a);
/* The child's work as the user; writes the result to RS_PROBE_RESULT_FD.
 * Return: 0, or -errno when the fd is not the result pipe. */
int rs_probe_child_run(const struct rs_probe_child_args *a);
