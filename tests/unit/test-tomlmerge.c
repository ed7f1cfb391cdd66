/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/install/toml-merge.c: our keys into the user's storage.conf and
 * out again, byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "install/toml-merge.h"
#include "../lib/storage-ours.h"

#define MP "mount_program = \"/usr/bin/fuse-overlayfs\""

/* merge old, expect text and conflicts, then unmerge what was added: old again */
static void round_trip(const char *old, const char *want, const char *conflicts, size_t nadded)
{
	struct rs_toml_merge m;
	struct rs_toml_unmerge u;

	assert_int_equal(rs_toml_merge(old, strlen(old), storage_ours, &m, NULL), 0);
	assert_string_equal(m.text, want);
	assert_int_equal(m.len, strlen(want));
	assert_string_equal(m.conflicts, conflicts);
	assert_int_equal(m.added.n, nadded);
	assert_int_equal(rs_toml_unmerge(m.text, m.len, &m.added, &u), 0);
	assert_string_equal(u.text, old);
	assert_int_equal(u.changed, nadded > 0);
	assert_string_equal(u.kept, "");
	rs_toml_unmerge_clear(&u);
	rs_toml_merge_clear(&m);
}

static void test_merge_comments_kept_table_with_other_keys(void **state)
{
	(void)state;
	round_trip("# mine\n[storage]\n# runroot below\nrunroot = \"/run/x\" # trailing\n\n# end\n",
		   "# mine\n[storage]\n# runroot below\nrunroot = \"/run/x\" # trailing\n"
		   "driver = \"overlay\"\n\n# end\n\n[storage.options.overlay]\n" MP "\n",
		   "", 2);
}

static void test_merge_same_value_adds_nothing(void **state)
{
	(void)state;
	const char *old = "[storage]\ndriver = 'overlay'\n[storage.options.overlay]\n" MP "\n";
	round_trip(old, old, "", 0);
}

static void test_merge_other_value_kept_and_named(void **state)
{
	(void)state;
	round_trip("[storage]\ndriver = \"vfs\"\n",
		   "[storage]\ndriver = \"vfs\"\n\n[storage.options.overlay]\n" MP "\n",
		   "storage.driver", 1);
}

static void test_merge_empty_file_and_absent_tables(void **state)
{
	(void)state;
	round_trip("", "[storage]\ndriver = \"overlay\"\n\n[storage.options.overlay]\n" MP "\n", "",
		   2);
	round_trip("[engine]\nx = 1\n",
		   "[engine]\nx = 1\n\n[storage]\ndriver = \"overlay\"\n\n"
		   "[storage.options.overlay]\n" MP "\n",
		   "", 2);
}

static void test_merge_arrays_and_inline_tables(void **state)
{
	(void)state;
	round_trip("[storage]\nrunroot = \"/r\"\n[storage.options]\n"
		   "additionalimagestores = [\n  \"/a\", # c\n  \"/b\",\n]\n"
		   "overlay = { mountopt = \"nodev\" }\n",
		   "[storage]\nrunroot = \"/r\"\ndriver = \"overlay\"\n[storage.options]\n"
		   "additionalimagestores = [\n  \"/a\", # c\n  \"/b\",\n]\n"
		   "overlay = { mountopt = \"nodev\" }\n",
		   "storage.options.overlay.mount_program", 1);
	round_trip("storage = { driver = \"vfs\", x = [1, 2] }\n",
		   "storage = { driver = \"vfs\", x = [1, 2] }\n",
		   "storage.driver, storage.options.overlay.mount_program", 0);
	round_trip("s = \"\"\"\n[storage]\ndriver = 1\n\"\"\"\nt = '''x'''\n",
		   "s = \"\"\"\n[storage]\ndriver = 1\n\"\"\"\nt = '''x'''\n\n[storage]\n"
		   "driver = \"overlay\"\n\n[storage.options.overlay]\n" MP "\n",
		   "", 2);
}

static void test_merge_dotted_keys(void **state)
{
	(void)state;
	round_trip("storage.runroot = \"/r\"\n[other]\n",
		   "storage.runroot = \"/r\"\nstorage.driver = \"overlay\"\n[other]\n\n"
		   "[storage.options.overlay]\n" MP "\n",
		   "", 2);
	round_trip("[storage]\noptions.overlay.mountopt = \"nodev\"\n",
		   "[storage]\noptions.overlay.mountopt = \"nodev\"\ndriver = \"overlay\"\n"
		   "options.overlay.mount_program = \"/usr/bin/fuse-overlayfs\"\n",
		   "", 2);
}

static void test_merge_crlf(void **state)
{
	(void)state;
	round_trip("[storage]\r\nrunroot = \"/r\"\r\n",
		   "[storage]\r\nrunroot = \"/r\"\r\ndriver = \"overlay\"\r\n\r\n"
		   "[storage.options.overlay]\r\n" MP "\r\n",
		   "", 2);
}

static void test_merge_no_trailing_newline(void **state)
{
	(void)state;
	round_trip("[storage]\nrunroot = \"/r\"",
		   "[storage]\nrunroot = \"/r\"\ndriver = \"overlay\"\n\n"
		   "[storage.options.overlay]\n" MP "\n",
		   "", 2);
	round_trip("# only a comment",
		   "# only a comment\n\n[storage]\ndriver = \"overlay\"\n\n"
		   "[storage.options.overlay]\n" MP "\n",
		   "", 2);
}

static void test_merge_garbage_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"[storage\ndriver = \"vfs\"\n",
		"just words\n",
		"[storage]\nrunroot = \"/r\n",
		"a = [1, 2\n",
		"a = { b = 1\n",
		"a = 1 2 = 3\n",
		"a = 1 x\n",
		"\"a\\u0041\" = 1\n",
		"a = \"\"\"never closed\n",
		"a = 1\rb = 2\n",
		"[[storage]\n",
		"=1\n",
	};
	struct rs_toml_merge m;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_error_ struct rs_error *e = NULL;
		if (rs_toml_merge(bad[i], strlen(bad[i]), storage_ours, &m, &e) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(m.text);
		assert_non_null(e);
		assert_non_null(strstr(e->msg, "line "));
		assert_null(strchr(e->msg, '\n'));
	}
	assert_int_equal(rs_toml_merge("a = 1\n\0b", 9, storage_ours, &m, NULL), -EINVAL);
	assert_int_equal(rs_toml_merge("[storage]\n", 10, storage_ours, &m, NULL), 0);
	assert_string_equal(m.text,
			    "[storage]\ndriver = \"overlay\"\n\n[storage.options.overlay]\n" MP
			    "\n");
	rs_toml_merge_clear(&m);
}

/* a key the user changed after install stays, with its table */
static void test_unmerge_changed_key_kept(void **state)
{
	(void)state;
	struct rs_toml_merge m;
	struct rs_toml_unmerge u;
	const char *old = "[storage]\nrunroot = \"/r\"\n";

	assert_int_equal(rs_toml_merge(old, strlen(old), storage_ours, &m, NULL), 0);
	char *edited = strdup(m.text);
	char *q = strstr(edited, "/usr/bin/fuse-overlayfs");
	memcpy(q, "/usr/bin/fuse-overlayfX", 23);
	assert_int_equal(rs_toml_unmerge(edited, strlen(edited), &m.added, &u), 0);
	assert_true(u.changed);
	assert_string_equal(u.removed, "storage.driver");
	assert_string_equal(u.kept, "storage.options.overlay.mount_program");
	assert_string_equal(u.text, "[storage]\nrunroot = \"/r\"\n\n[storage.options.overlay]\n"
				    "mount_program = \"/usr/bin/fuse-overlayfX\"\n");
	rs_toml_unmerge_clear(&u);
	/* a comment the user put under our header keeps the header */
	free(edited);
	rs_toml_merge_clear(&m);
	const char *with = "[storage]\nrunroot = \"/r\"\ndriver = \"overlay\"\n\n"
			   "[storage.options.overlay]\n# mine\n" MP "\n";
	struct rs_toml_keys k = {0};
	rs_toml_keys_push(&k, "storage", "driver", "\"overlay\"", false, NULL);
	rs_toml_keys_push(&k, "storage.options.overlay", "mount_program",
			  "\"/usr/bin/fuse-overlayfs\"", true, "\n");
	assert_int_equal(rs_toml_unmerge(with, strlen(with), &k, &u), 0);
	assert_string_equal(u.text, "[storage]\nrunroot = \"/r\"\n\n[storage.options.overlay]\n"
				    "# mine\n");
	rs_toml_unmerge_clear(&u);
	/* refused when the file became unreadable */
	assert_int_equal(rs_toml_unmerge("[x\n", 3, &k, &u), -EINVAL);
	assert_null(u.text);
	rs_toml_keys_clear(&k);
}

static void test_bare_path(void **state)
{
	(void)state;
	assert_true(rs_toml_bare_path("storage"));
	assert_true(rs_toml_bare_path("storage.options.overlay"));
	assert_true(rs_toml_bare_path("mount_program"));
	assert_false(rs_toml_bare_path(""));
	assert_false(rs_toml_bare_path(".a"));
	assert_false(rs_toml_bare_path("a."));
	assert_false(rs_toml_bare_path("a..b"));
	assert_false(rs_toml_bare_path("a b"));
	assert_false(rs_toml_bare_path("a]\n[b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_comments_kept_table_with_other_keys),
		cmocka_unit_test(test_merge_same_value_adds_nothing),
		cmocka_unit_test(test_merge_other_value_kept_and_named),
		cmocka_unit_test(test_merge_empty_file_and_absent_tables),
		cmocka_unit_test(test_merge_arrays_and_inline_tables),
		cmocka_unit_test(test_merge_dotted_keys),
		cmocka_unit_test(test_merge_crlf),
		cmocka_unit_test(test_merge_no_trailing_newline),
		cmocka_unit_test(test_merge_garbage_refused),
		cmocka_unit_test(test_unmerge_changed_key_kept),
		cmocka_unit_test(test_bare_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
