/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The -p grammar: an accepted spec is valid and formats to text that parses
 * back to the same spec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ports/portspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_portspec p, q;
	const char *why = NULL;
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (rs_portspec_parse(s, &p, &why) == 0) {
		char buf[160];
		if (rs_portspec_validate(&p, &why) < 0)
			abort();
		rs_portspec_format(&p, buf, sizeof(buf));
		if (rs_portspec_parse(buf, &q, &why) < 0 || memcmp(&p, &q, sizeof(p)) != 0)
			abort();
	} else if (!why) {
		abort();
	}
	free(s);
	return 0;
}
