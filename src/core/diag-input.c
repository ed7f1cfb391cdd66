/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where diagnose's text comes from when it is not given on the command
 * line: a log file or the engine's unit journal, read as the user. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core/diagnose.h"
#include "host/userfs.h"
#include "host/userlog.h"
#include "lib/xalloc.h"

#define JOURNAL_TIMEOUT_MS 15000
#define LOG_TIMEOUT_MS	   10000
#define JOURNALCTL	   "/usr/bin/journalctl"

char *rs_diag_unit_name(enum rs_engine e)
{
	return rs_xasprintf("rootless-setup-%s.service", rs_engine_name(e));
}

/* The user check would check for (--user, else SUDO_USER or PKEXEC_UID of
 * a root caller, else the caller), from the host's passwd. */
static int target_user(const struct rs_check_opts *o, struct rs_host *h, struct rs_user *u,
		       struct rs_error **err)
{
	char self[24];
	const char *spec = o->user;

	if (!spec && getuid() == 0)
		spec = o->sudo_user && *o->sudo_user	 ? o->sudo_user
		       : o->pkexec_uid && *o->pkexec_uid ? o->pkexec_uid
							 : NULL;
	if (!spec) {
		snprintf(self, sizeof(self), "%u", (unsigned)getuid());
		spec = self;
	}
	int r = rs_user_resolve(h, spec, u, err);
	return r == -ENOENT || r == -EINVAL ? rs_error_input(err, r) : r;
}

/* A --log that is absent, not a file or not the user's to read is what the
 * caller named: a usage error (exit 2), not the host's. */
static int named_file(struct rs_error **err, int r)
{
	if (r == -ENOENT || r == -EINVAL || r == -EACCES || r == -ENOTDIR || r == -ELOOP)
		return rs_error_input(err, r);
	return r;
}

int rs_diag_read_log(const struct rs_check_opts *o, const char *path, char **text, size_t *len,
		     bool *truncated, struct rs_error **err)
{
	int r;

	/* a caller's own file, or one of a tree on this machine: its rights;
	 * as root, a path a user may have shaped: no symlink of theirs, a
	 * regular file only, read as the user whose directory holds it */
	if (o->root || geteuid() != 0)
		r = rs_read_file(path, RS_DIAG_INPUT_MAX, text, len, truncated, err);
	else
		r = rs_guarded_read_tail(path, RS_DIAG_INPUT_MAX, LOG_TIMEOUT_MS, text, len,
					 truncated, err);
	return named_file(err, r);
}

int rs_diag_read_unit(const struct rs_check_opts *o, enum rs_engine e, char **text, size_t *len,
		      bool *truncated, struct rs_error **err)
{
	_cleanup_host_ struct rs_host *h = NULL;
	struct rs_user u = {0};
	_cleanup_free_ char *unit = rs_diag_unit_name(e);
	int r = rs_host_open(NULL, &h, err);

	if (r >= 0)
		r = target_user(o, h, &u, err);
	if (r >= 0) {
		/* the caller's own XDG_RUNTIME_DIR only when it is the user */
		_cleanup_free_ char *run = getuid() == u.uid && o->xdg_runtime_dir &&
							   o->xdg_runtime_dir[0] == '/'
						   ? rs_xstrdup(o->xdg_runtime_dir)
						   : rs_xasprintf("/run/user/%u", (unsigned)u.uid);
		r = rs_user_journal(&u, JOURNALCTL, unit, run, RS_DIAG_INPUT_MAX,
				    JOURNAL_TIMEOUT_MS, text, len, truncated, err);
	}
	rs_user_clear(&u);
	return r;
}
