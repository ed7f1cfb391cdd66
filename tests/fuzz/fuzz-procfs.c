/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel formats the rules read: /proc/PID/uid_map (rs_idmap_parse, and
 * rs_idmap_covers on what it accepted), /proc/PID/status fields, and the
 * security.capability xattr (rs_fcaps_parse). The same bytes go to all. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/idmap.h"
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

static void idmap(const char *buf, size_t size)
{
	static struct rs_idmap m;
	if (rs_idmap_parse(buf, size, &m) < 0) {
		if (m.n)
			abort(); /* a refusal keeps nothing */
		return;
	}
	if (m.n > RS_IDMAP_MAX)
		abort();
	for (size_t i = 0; i < m.n; i++) {
		const struct rs_idmap_extent *e = &m.e[i];
		if (!e->count || e->inside + e->count > (uint64_t)UINT32_MAX + 1 ||
		    e->outside + e->count > (uint64_t)UINT32_MAX + 1)
			abort();
		if (!rs_idmap_covers(&m, e->inside, e->count))
			abort();
	}
}

static void fcaps(const char *buf, size_t size)
{
	struct rs_fcaps c;
	if (rs_fcaps_parse(buf, size, &c) < 0)
		return;
	if (!(size == 12 && c.version == 1) && !(size == 20 && c.version == 2) &&
	    !(size == 24 && c.version == 3))
		abort();
	if (c.version == 1 && ((c.permitted | c.inheritable) >> 32))
		abort();
	if (c.version != 3 && c.rootid)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"NoNewPrivs", "Uid", "PPid", "Name"};
	const char *buf = (const char *)data;

	if (size > FUZZ_MAX)
		return 0;
	idmap(buf, size);
	fcaps(buf, size);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = rs_proc_status_get(buf, size, keys[i]);
		if (v && (strchr(v, '\n') || strlen(v) > size))
			abort();
		free(v);
	}
	return 0;
}
