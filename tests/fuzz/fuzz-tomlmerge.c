/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The merge of our keys into the user's storage.conf and back out: the
 * TOML subset reader (install/toml-doc.c) on any input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "install/toml-merge.h"
#include "../lib/storage-ours.h"

#define FUZZ_MAX (1u << 20)

/* Unmerge of a record's keys from any text: no crash, never longer. */
static void unmerge_any(const char *in, size_t size)
{
	struct rs_toml_keys k = {0};
	struct rs_toml_unmerge u;

	rs_toml_keys_push(&k, "storage", "driver", "\"overlay\"", false, NULL);
	rs_toml_keys_push(&k, "storage.options.overlay", "mount_program",
			  "\"/usr/bin/fuse-overlayfs\"", true, "\n");
	if (rs_toml_unmerge(in, size, &k, &u) == 0 && (u.len > size || strlen(u.text) != u.len))
		abort();
	rs_toml_unmerge_clear(&u);
	rs_toml_keys_clear(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rs_toml_merge m, again;
	struct rs_toml_unmerge u;
	const char *in = (const char *)data;

	if (size > FUZZ_MAX)
		return 0;
	unmerge_any(in, size);
	struct rs_error *e = NULL;
	if (rs_toml_merge(in, size, storage_ours, &m, &e) < 0) {
		/* a refusal says why on one line, and leaves nothing */
		if (m.text || !e || !e->msg[0] || strchr(e->msg, '\n'))
			abort();
		rs_error_free(e);
		return 0;
	}
	/* the input's bytes stay, in order: the merge only inserts */
	if (m.len < size || strlen(m.text) != m.len)
		abort();
	/* a second merge adds nothing */
	if (rs_toml_merge(m.text, m.len, storage_ours, &again, NULL) < 0 || again.added.n ||
	    again.len != m.len || memcmp(again.text, m.text, m.len))
		abort();
	rs_toml_merge_clear(&again);
	/* and what was added comes out again: the input, byte for byte */
	if (rs_toml_unmerge(m.text, m.len, &m.added, &u) < 0 || u.len != size ||
	    memcmp(u.text, in, size) || *u.kept || u.changed != (m.added.n > 0))
		abort();
	rs_toml_unmerge_clear(&u);
	rs_toml_merge_clear(&m);
	return 0;
}
