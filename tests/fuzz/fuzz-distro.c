/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Arbitrary bytes through the loader the distro data uses (jansson with
 * duplicate keys refused) and the schema check: 0, or -EINVAL with a message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include "core/distro.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	struct rs_error *err = NULL;
	if (size > FUZZ_MAX)
		return 0;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return 0;
	int r = rs_distro_validate(doc, "fuzz", &err);
	if (r != 0 && (r != -EINVAL || !err || !err->msg))
		abort();
	if (r == 0 && err)
		abort();
	rs_error_free(err);
	json_decref(doc);
	return 0;
}
