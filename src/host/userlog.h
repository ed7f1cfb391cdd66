/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Reading what programs logged: a log file with the caller's own rights
 * (root acting for a user reads a user's log through rs_guarded_read_tail,
 * host/userfs.h), and the journal of a user's unit, which journalctl reads
 * with the user's credentials: root never reads either with its own rights
 * where a user could have shaped it, and the reading is bounded in size
 * and time.
 */
#include <stdbool.h>
#include <stddef.h>
#include "host/user.h"
#include "lib/error.h"

/* Reads fd to its end keeping the last max bytes, reading at most hard
 * bytes in all. *buf is NUL-terminated (caller frees); *truncated when the
 * beginning was left out. Return: 0 or -errno (*buf NULL). */
int rs_read_tail(int fd, size_t max, size_t hard, char **buf, size_t *len, bool *truncated);

/* The last max bytes of the regular file path, read with the caller's own
 * rights (its own log, or a --root tree's); a FIFO or device is refused
 * before any read. Return: 0, or -errno with *err ("cannot open '/x': ...",
 * "'/x' is not a regular file"). */
int rs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated,
		 struct rs_error **err);
/* The last max bytes of `journalctl --user -u unit` run as u through
 * lib/spawn: a new session, no terminal, standard input /dev/null, no fd
 * of ours, an environment of PATH, LC_ALL and XDG_RUNTIME_DIR=run only,
 * killed after timeout_ms. journal is the program (root-owned and not
 * writable by others, else refused).
 * Return: 0, or -errno with *err naming journalctl's own complaint. */
int rs_user_journal(const struct rs_user *u, const char *journal, const char *unit, const char *run,
		    size_t max, unsigned timeout_ms, char **buf, size_t *len, bool *truncated,
		    struct rs_error **err);
