/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The in-memory rewrites of the fixers that edit a line file in place
 * (etc/group and etc/gshadow under --root, Kata's configuration.toml).
 * Each is linear (one pass to find what is needed, one to produce the
 * output) and byte-exact: every byte outside the one changed line is kept,
 * odd whitespace, comments and a missing final newline included. A file
 * that cannot be read completely (a NUL byte, a line over
 * RS_REWRITE_LINE_MAX, a malformed line where the change goes) is refused,
 * never truncated. Pure functions: no I/O, fuzzed (tests/fuzz/fuzz-group.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RS_REWRITE_LINE_MAX (1u << 20)

struct rs_group_edit {
	const char *group; /* the group's name */
	const char *user;  /* the member to add */
	bool gshadow;	   /* name:password:admins:members (no gid) */
	gid_t gid;	   /* gid of a new etc/group line; (gid_t)-1: a free one in 100..999 */
};

struct rs_rewrite {
	char *text; /* the new file (NUL-terminated; no NUL inside) */
	size_t len;
	bool changed;	 /* text differs from the input */
	bool added_line; /* the group had no line: one was appended */
	gid_t gid;	 /* etc/group: the gid of the group (found or allocated) */
	size_t line;	 /* the line changed or added (1-based) */
	char msg[200];	 /* why it was refused */
};

/* The file buf[len] with e->user in e->group's member list (the group's
 * first line; a new line at the end when there is none). A user already
 * listed changes nothing. Return: 0, -EINVAL (refused: out->msg says why,
 * out->text NULL) or -ENOSPC (no free system gid). */
int rs_group_add_member(const char *buf, size_t len, const struct rs_group_edit *e,
			struct rs_rewrite *out);

/* The file buf[len] with `disable_vhost_net = true` in [hypervisor.qemu]:
 * that key's line (also commented out) replaced, else one line added at
 * the end of the section. A file without the section is returned as it is.
 * Return: 0 or -EINVAL (refused, out->msg). */
int rs_kata_vhost_disabled(const char *buf, size_t len, struct rs_rewrite *out);

void rs_rewrite_clear(struct rs_rewrite *r);
