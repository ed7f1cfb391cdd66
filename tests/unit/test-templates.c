/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/install/data.c: the embedded templates and their @KEY@ filling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "install/data.h"

/* the templates templates.c fills: each one is embedded */
static const char *const used[] = {
	"containerd-config.toml",
	"isulad-daemon.json",
	"buildkitd.toml",
	"containers.conf",
	"containers-kata.conf",
	"storage.conf",
	"libpod.conf",
	"libpod-kata.conf",
	"user.service",
	NULL,
};

static void test_templates_every_used_one_is_embedded(void **state)
{
	(void)state;
	for (const char *const *n = used; *n; n++)
		if (!rs_template_text(*n))
			fail_msg("template '%s' is not embedded", *n);
	assert_null(rs_template_text("nope"));
}

/* Every key of every template gets a value: the filled text has no @KEY@ left,
 * and a header names no document outside the repository. */
static void test_templates_fill_every_key(void **state)
{
	(void)state;
	for (const struct rs_template_blob *b = rs_template_blobs; b->name; b++) {
		const char *vars[64];
		size_t n = 0;
		for (const char *p = b->text; (p = strchr(p, '@')) && n < 62; p++) {
			size_t k = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			if (k && p[1 + k] == '@') {
				vars[n++] = strndup(p + 1, k);
				vars[n++] = "@VALUE@"; /* never scanned again */
				p += k + 1;
			}
		}
		vars[n] = NULL;
		char *out = rs_template_fill(b->name, vars);
		for (const char *p = out; (p = strchr(p, '@')); p++) {
			size_t k = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			if (k && p[1 + k] == '@' && strncmp(p, "@VALUE@", 7))
				fail_msg("'%s': %.*s left", b->name, (int)k + 2, p);
		}
		assert_null(strstr(out, "seed 0"));
		assert_int_equal(strlen(b->text), b->len);
		free(out);
		for (size_t i = 0; i < n; i += 2)
			free((char *)vars[i]);
	}
}

static void test_templates_values_verbatim_and_joined(void **state)
{
	(void)state;
	const char *const vars[] =
		{"ENGINE",	 "x@ENGINE@y", "TMP_DIR",    "\"/run/user/1/libpod/tmp\"",
		 "KATA_RUNTIME", "[]",	       "CONTAINERS", "netns = \"host\"",
		 "ENGINE_KEYS",	 "",	       NULL};
	char *s = rs_template_fill("containers.conf", vars);
	assert_non_null(strstr(s, "--engine x@ENGINE@y\n"));
	assert_non_null(strstr(s, "tmp_dir = \"/run/user/1/libpod/tmp\"\n"));
	assert_non_null(strstr(s, "[containers]\nnetns = \"host\"\n"));
	free(s);
	const char *const parts[] = {"libpod.conf", "libpod-kata.conf", NULL};
	s = rs_template_join(parts, vars);
	assert_non_null(
		strstr(s, "tmp_dir = \"/run/user/1/libpod/tmp\"\n\n[runtimes]\nkata = []\n"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_every_used_one_is_embedded),
		cmocka_unit_test(test_templates_fill_every_key),
		cmocka_unit_test(test_templates_values_verbatim_and_joined),
	};
	return cmocka_run_group_tests_name("templates", tests, NULL, NULL);
}
