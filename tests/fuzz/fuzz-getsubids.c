/* SPDX-License-Identifier: GPL-2.0-or-later */
/* getsubids(1) output -> subuid(5) text: any bytes give 0 or -EINVAL; an
 * accepted input gives one NAME:START:COUNT line per input line, each of
 * which the subuid parser takes as one range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "launch/internal.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	struct rs_subid_file f;

	if (size > FUZZ_MAX)
		return 0;
	int r = rs_getsubids_parse((const char *)data, size, &text, &len);
	if (r != 0 && r != -22)
		abort();
	if (!text || strlen(text) != len)
		abort();
	if (r == 0) {
		size_t lines = 0;
		for (size_t i = 0; i < len; i++)
			lines += text[i] == '\n';
		rs_subid_parse(text, len, &f);
		if (f.n != lines || f.nbad)
			abort();
		for (size_t i = 0; i < f.n; i++)
			if (f.r[i].count == 0 || !*f.r[i].owner || strchr(f.r[i].owner, ':'))
				abort();
		rs_subid_clear(&f);
	}
	free(text);
	return 0;
}
