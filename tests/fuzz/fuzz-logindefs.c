/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include "host/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_logindefs d;
	if (size > (1u << 20))
		return 0;
	rs_logindefs_parse((const char *)data, size, &d);
	/* a usable answer, or "invalid" (then shadow's defaults apply) */
	if (!d.invalid && (d.sub_uid_min > d.sub_uid_max || d.sub_uid_max > UINT32_MAX))
		abort();
	return 0;
}
