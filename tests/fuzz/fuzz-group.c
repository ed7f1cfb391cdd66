/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The line-file rewrites of the fixers (src/fixers/rewrite.h): etc/group,
 * etc/gshadow and Kata's configuration.toml. The first byte picks one. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fixers/rewrite.h"

#define FUZZ_MAX (1u << 20)

/* Accepted: no NUL inside, and the output is the input with one run of
 * bytes inserted (nothing else moved, nothing lost). */
static void check_insert(const char *in, size_t len, const struct rs_rewrite *r)
{
	size_t i = 0, k = r->len - len;
	if (r->len < len || memchr(r->text, '\0', r->len) || r->text[r->len] != '\0')
		abort();
	while (i < len && r->text[i] == in[i])
		i++;
	if (memcmp(r->text + i + k, in + i, len - i) || (k == 0) == r->changed)
		abort();
}

static void group(const char *in, size_t len, bool gshadow)
{
	struct rs_group_edit e = {.group = "kvm",
				  .user = "alice",
				  .gshadow = gshadow,
				  .gid = (gid_t)-1};
	struct rs_rewrite r, again;
	int x = rs_group_add_member(in, len, &e, &r);
	if (x < 0) {
		if ((x != -EINVAL && x != -ENOSPC) || r.text || !r.msg[0])
			abort();
		return;
	}
	check_insert(in, len, &r);
	if (!gshadow && r.added_line && (r.gid < 100 || r.gid > 999))
		abort();
	/* idempotent: alice is a member now */
	if (rs_group_add_member(r.text, r.len, &e, &again) != 0 || again.changed)
		abort();
	rs_rewrite_clear(&again);
	rs_rewrite_clear(&r);
}

static void kata(const char *in, size_t len)
{
	struct rs_rewrite r, again;
	if (rs_kata_vhost_disabled(in, len, &r) < 0) {
		if (r.text || !r.msg[0])
			abort();
		return;
	}
	if (memchr(r.text, '\0', r.len) || (r.len == len && !memcmp(r.text, in, len)) == r.changed)
		abort();
	if (rs_kata_vhost_disabled(r.text, r.len, &again) != 0 || again.changed)
		abort();
	rs_rewrite_clear(&again);
	rs_rewrite_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > FUZZ_MAX)
		return 0;
	const char *in = (const char *)data + 1;
	switch (data[0] % 3) {
	case 0:
		group(in, size - 1, false);
		break;
	case 1:
		group(in, size - 1, true);
		break;
	default:
		kata(in, size - 1);
		break;
	}
	return 0;
}
