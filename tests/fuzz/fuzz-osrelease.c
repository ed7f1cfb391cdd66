/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include "host/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_osrelease o;
	if (size > (1u << 20))
		return 0;
	rs_osrelease_parse((const char *)data, size, &o);
	rs_osrelease_clear(&o);
	return 0;
}
