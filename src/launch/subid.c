/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --subid-source=dynamic: the ranges shadow's libsubid gives (getsubids(1),
 * which follows the "subid:" source of nsswitch.conf, e.g. sssd or FreeIPA)
 * instead of /etc/subuid and /etc/subgid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "launch/internal.h"
#include "lib/spawn.h"
#include "lib/xalloc.h"

#define GETSUBIDS "/usr/bin/getsubids"

/* One getsubids line, "0: alice 100000 65536", as "alice:100000:65536".
 * Return: true when the line has that shape. */
static bool line_to_subid(const char *l, size_t n, FILE *out)
{
	char name[256], rest[64];
	unsigned long long idx, start, count;
	char line[512];
	int used = 0;

	if (n >= sizeof(line))
		return false;
	memcpy(line, l, n);
	line[n] = '\0';
	if (sscanf(line, "%llu: %255s %llu %llu%n", &idx, name, &start, &count, &used) != 4)
		return false;
	/* what subuid(5) cannot hold: a ':' or a leading '#' in the name, an
	 * empty range, ids past 2^32 */
	if (sscanf(line + used, " %63s", rest) == 1 || strchr(name, ':') || name[0] == '#' ||
	    count == 0 || start > UINT32_MAX || count > UINT32_MAX || start + count > 1ull << 32)
		return false;
	fprintf(out, "%s:%llu:%llu\n", name, start, count);
	return true;
}

int rs_getsubids_parse(const char *buf, size_t len, char **text, size_t *text_len)
{
	FILE *out = open_memstream(text, text_len);
	int r = 0;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		if (n && (memchr(buf + i, '\0', n) || !line_to_subid(buf + i, n, out)))
			r = -EINVAL;
		i += n + 1;
	}
	fclose(out);
	return r;
}

/* Output of `getsubids [-g] NAME`, at most 64 KiB - 1, within 5 s. */
static int run_getsubids(const char *name, bool gid, char **buf, size_t *len)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	char *argv[] = {"getsubids", gid ? "-g" : (char *)name, gid ? (char *)name : NULL, NULL};
	struct rs_spawn o = {.path = GETSUBIDS,
			     .argv = argv,
			     .envp = envp,
			     .flags = RS_SPAWN_STDOUT,
			     .out_max = 65535,
			     .timeout_ms = 5000};
	struct rs_spawn_result res;
	_cleanup_error_ struct rs_error *e = NULL;

	int r = rs_spawn_run(&o, &res, &e);
	/* what it printed in time is parsed: a cut or missing line is an
	 * error there */
	*buf = res.out ? res.out : rs_xstrdup("");
	*len = res.out ? res.out_len : 0;
	res.out = NULL;
	rs_spawn_result_clear(&res);
	return r == -ETIMEDOUT ? 0 : r;
}

int rs_launch_dynamic_map(const struct rs_user *u, bool gid, struct rs_idmap *out,
			  struct rs_error **err)
{
	_cleanup_free_ char *raw = NULL, *text = NULL;
	size_t len = 0, tlen = 0;

	if (access(GETSUBIDS, X_OK) < 0)
		return rs_error_set(err, errno, "--subid-source=dynamic: cannot run '%s'",
				    GETSUBIDS);
	if (run_getsubids(u->name, gid, &raw, &len) < 0)
		return rs_error_setx(err, EIO, "--subid-source=dynamic: cannot run '%s'",
				     GETSUBIDS);
	if (rs_getsubids_parse(raw, len, &text, &tlen) < 0)
		return rs_error_setx(err, EINVAL,
				     "--subid-source=dynamic: cannot read the output of "
				     "'getsubids%s %s'",
				     gid ? " -g" : "", u->name);
	return rs_idmap_build_text(text, tlen, u, gid, out);
}
