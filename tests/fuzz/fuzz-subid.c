/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_subid_file f;
	if (size > (1u << 20))
		return 0;
	rs_subid_parse((const char *)data, size, &f);
	/* what is accepted is what newuidmap would accept */
	for (size_t i = 0; i < f.n; i++) {
		if (f.r[i].count == 0 || f.r[i].start + f.r[i].count > (uint64_t)UINT32_MAX + 1 ||
		    !f.r[i].owner[0] || strchr(f.r[i].owner, ':'))
			abort();
	}
	rs_subid_clear(&f);
	return 0;
}
