/* SPDX-License-Identifier: GPL-2.0-or-later */
/* subuid(5)/subgid(5): what is accepted is what shadow's subordinate_parse
 * (and so newuidmap) would accept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)
#define ID_SPACE ((uint64_t)UINT32_MAX + 1) /* 2^32 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_subid_file f;
	if (size > FUZZ_MAX)
		return 0;
	if (rs_subid_parse((const char *)data, size, &f) != 0)
		abort();
	unsigned lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	lines += size && data[size - 1] != '\n';
	if (f.n + f.nbad > lines)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const struct rs_subid_range *r = &f.r[i];
		/* each term checked alone first: the sum must not wrap */
		if (r->count < 1 || r->start >= ID_SPACE || r->count > ID_SPACE ||
		    r->start + r->count > ID_SPACE)
			abort();
		if (!r->owner || !r->owner[0] || strchr(r->owner, ':') || strchr(r->owner, '\n'))
			abort();
		if (r->line < 1 || r->line > lines || (i && r->line <= f.r[i - 1].line))
			abort();
	}
	for (size_t i = 0; i < f.nbad; i++)
		if (f.bad_lines[i] < 1 || f.bad_lines[i] > lines ||
		    (i && f.bad_lines[i] <= f.bad_lines[i - 1]))
			abort();
	rs_subid_clear(&f);
	return 0;
}
