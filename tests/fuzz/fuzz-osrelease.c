/* SPDX-License-Identifier: GPL-2.0-or-later */
/* os-release(5): any bytes parse (return 0), every value is a line-free string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v, size_t size)
{
	if (v && (strchr(v, '\n') || strlen(v) > size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_osrelease o;
	if (size > FUZZ_MAX)
		return 0;
	if (rs_osrelease_parse((const char *)data, size, &o) != 0)
		abort();
	check_value(o.id, size);
	check_value(o.id_like, size);
	check_value(o.version_id, size);
	check_value(o.name, size);
	check_value(o.pretty_name, size);
	check_value(o.variant_id, size);
	rs_osrelease_clear(&o);
	return 0;
}
