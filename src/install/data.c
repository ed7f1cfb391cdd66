/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/xalloc.h"
#include "install/data.h"

const char *rs_template_text(const char *name)
{
	for (const struct rs_template_blob *b = rs_template_blobs; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b->text;
	return NULL;
}

static const char *lookup(const char *const *vars, const char *key, size_t klen)
{
	for (const char *const *v = vars; v && v[0]; v += 2)
		if (strlen(v[0]) == klen && memcmp(v[0], key, klen) == 0)
			return v[1];
	return NULL;
}

/* A key is upper-case letters, digits and '_' between two '@'. */
static size_t key_len(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	return n && s[n] == '@' ? n : 0;
}

char *rs_template_fill(const char *name, const char *const *vars)
{
	const char *t = rs_template_text(name);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!t) {
		fprintf(stderr, "rootless-setup: no template '%s' (a bug)\n", name);
		abort();
	}
	f = open_memstream(&out, &len);
	if (!f)
		abort();
	while (*t) {
		size_t k = *t == '@' ? key_len(t + 1) : 0;
		if (!k) {
			fputc(*t++, f);
			continue;
		}
		const char *v = lookup(vars, t + 1, k);
		if (!v) {
			fprintf(stderr,
				"rootless-setup: template '%s' has @%.*s@ and no value for it "
				"(a bug)\n",
				name, (int)k, t + 1);
			abort();
		}
		fputs(v, f);
		t += k + 2;
	}
	if (fclose(f) != 0 || !out)
		abort();
	return out;
}

char *rs_template_join(const char *const *names, const char *const *vars)
{
	char *s = rs_xstrdup("");
	for (const char *const *n = names; *n; n++) {
		_cleanup_free_ char *part = rs_template_fill(*n, vars);
		char *joined = rs_xasprintf("%s%s", s, part);
		free(s);
		s = joined;
	}
	return s;
}
