/* SPDX-License-Identifier: GPL-2.0-or-later */
/* login.defs(5): a usable answer (every bound a 32-bit id, MIN <= MAX), or
 * "invalid" (then the caller applies shadow's defaults). */
#include <stdint.h>
#include <stdlib.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct rs_logindefs *d)
{
	if (d->invalid)
		return;
	if (d->uid_min > d->uid_max || d->sub_uid_min > d->sub_uid_max ||
	    d->sub_gid_min > d->sub_gid_max)
		abort();
	if (d->uid_max > UINT32_MAX || d->sub_uid_max > UINT32_MAX || d->sub_gid_max > UINT32_MAX ||
	    d->sub_uid_count > UINT32_MAX || d->sub_gid_count > UINT32_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_logindefs d;
	if (size > FUZZ_MAX)
		return 0;
	if (rs_logindefs_parse((const char *)data, size, &d) != 0)
		abort();
	check(&d);
	if (size == 0) {
		/* a missing file: shadow's defaults, valid */
		if (rs_logindefs_parse(NULL, 0, &d) != 0 || d.invalid || d.sub_uid_min != 100000 ||
		    d.sub_uid_max != 600100000 || d.sub_uid_count != 65536 || d.uid_min != 1000)
			abort();
	}
	return 0;
}
