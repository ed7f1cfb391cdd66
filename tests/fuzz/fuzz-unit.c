/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd unit files (rs_unit_get): the keys userns.nnp and engine.conflict
 * read. A value holds no newline and is no longer than the input; a key
 * the input never names is never found. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[][2] = {{"Service", "NoNewPrivileges"},
					      {"Service", "SystemCallFilter"},
					      {"Service", "RestrictNamespaces"},
					      {"Service", "ExecStart"},
					      {"Unit", "Description"}};
	const char *buf = (const char *)data;

	if (size > FUZZ_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = rs_unit_get(buf, size, keys[i][0], keys[i][1]);
		if (v && (strchr(v, '\n') || strlen(v) > size))
			abort();
		if (v && !memmem(buf, size, keys[i][1], strlen(keys[i][1])))
			abort();
		free(v);
	}
	return 0;
}
