/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oci rootless on arbitrary JSON: validation, then the transformation,
 * twice (the second must change nothing). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	struct rs_idmap u, g;
	struct rs_oci_opts o = {.uidmap = &u,
				.gidmap = &g,
				.limits_ok = size & 1,
				.host_net = size & 2,
				.delegated = "cpu memory"};
	if (size > (1u << 20))
		return 0;
	rs_idmap_single(&u, 1000);
	rs_idmap_single(&g, 1000);
	json_t *spec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!spec) {
		/* the error's words are fixed ones, never a piece of the
		 * input (a token of /etc/shadow, issue 19) */
		static const char *const words[] = {"unexpected newline",
						    "invalid escape",
						    "string or '}' expected",
						    "':' expected",
						    "'}' expected",
						    "']' expected",
						    "invalid token",
						    "unexpected token",
						    "'[' or '{' expected",
						    "invalid JSON syntax",
						    "a control character in a string",
						    "an invalid \\u escape",
						    "invalid UTF-8",
						    "the input ends inside a value",
						    "more after the end of the document",
						    "nested too deep",
						    "a NUL character",
						    "a duplicate object key",
						    "a number out of range",
						    "out of memory",
						    "invalid JSON"};
		const char *what = rs_oci_json_what(&jerr);
		size_t i = 0;
		while (i < sizeof(words) / sizeof(words[0]) && strcmp(words[i], what))
			i++;
		if (i == sizeof(words) / sizeof(words[0]))
			abort();
		return 0;
	}
	struct rs_error *err = NULL;
	if (rs_oci_rootless(spec, &o, &err) == 0) {
		json_t *once = json_deep_copy(spec);
		if (rs_oci_rootless(spec, &o, &err) != 0 || !json_equal(once, spec))
			abort();
		json_decref(once);
	}
	rs_error_free(err);
	json_decref(spec);
	/* and the ELF reader on the raw bytes */
	free(rs_elf_interp(data, size));
	return 0;
}
