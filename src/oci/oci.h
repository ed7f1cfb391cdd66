/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `oci rootless`: a runtime-spec config.json made runnable by the
 * calling user, in the manner of `runc spec --rootless` (runc's ToRootless),
 * with PRoot optionally in front of process.args (as runROOTLESS does).
 */
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "host/idmap.h"
#include "lib/error.h"
#include "lib/strutil.h"

struct rs_oci_opts {
	const struct rs_idmap *uidmap; /* the map to add when the spec has none */
	const struct rs_idmap *gidmap;
	bool host_net;	       /* drop the network namespace (runc's behaviour) */
	bool limits_ok;	       /* cgroup v2 with the user's controllers delegated */
	const char *delegated; /* "cpu memory pids": controllers delegated to the user */
	const char *proot;     /* PRoot binary to put in front of process.args, or NULL */
	struct rs_strv *notes; /* out, optional: what was replaced, one line each */
};

/* Checks the parts of the runtime spec we touch (types, process, root).
 * Return: 0 or -EINVAL with *err naming the field. */
int rs_oci_validate(const json_t *spec, struct rs_error **err);
/* Transforms spec in place. Every field not named here is preserved; a
 * spec that is already rootless (with these maps) comes back unchanged.
 * The user namespace entry and both mappings are always our own: input
 * mappings (hostID 0 size 4294967295) and a user namespace path
 * (/proc/1/ns/user) would hand the container ids the caller does not own. */
int rs_oci_rootless(json_t *spec, const struct rs_oci_opts *o, struct rs_error **err);
/* The ELF interpreter (PT_INTERP) of an executable image, or NULL for a
 * static binary or anything that is not a valid ELF file. Caller frees. */
char *rs_elf_interp(const unsigned char *buf, size_t len);
/* A JSON parse error in fixed words (jansson's own for syntax errors, never
 * the text near the error, which is the file's content). */
const char *rs_oci_json_what(const json_error_t *e);
