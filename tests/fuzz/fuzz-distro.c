/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <jansson.h>
#include "core/distro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	struct rs_error *err = NULL;
	if (size > (1u << 20))
		return 0;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return 0;
	rs_distro_validate(doc, "fuzz", &err);
	rs_error_free(err);
	json_decref(doc);
	return 0;
}
