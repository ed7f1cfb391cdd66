/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/strutil.c: strict number parsing, kernel versions, strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "lib/strutil.h"

/* ---- rs_parse_u64 ---- */

static void test_parse_u64_plain_decimal_parsed(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(rs_parse_u64("65536", UINT32_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(rs_parse_u64("0", UINT32_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rs_parse_u64("1", UINT32_MAX, &v), 0);
	assert_int_equal(v, 1);
}

static void test_parse_u64_leading_zeros_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {"00", "01", "010", "0000065536", NULL};
	for (const char *const *b = bad; *b; b++) {
		uint64_t v = 42;
		assert_int_equal(rs_parse_u64(*b, UINT32_MAX, &v), -EINVAL);
		assert_int_equal(v, 42);
	}
}

static void test_parse_u64_hex_and_octal_prefixes_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {"0x10", "0X10", "0x", "0o7", "1e3", "0b1", NULL};
	for (const char *const *b = bad; *b; b++) {
		uint64_t v = 42;
		assert_int_equal(rs_parse_u64(*b, UINT64_MAX, &v), -EINVAL);
		assert_int_equal(v, 42);
	}
}

static void test_parse_u64_sign_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {"+5", "-1", "-0", "+0", "--1", NULL};
	for (const char *const *b = bad; *b; b++) {
		uint64_t v = 42;
		assert_int_equal(rs_parse_u64(*b, UINT64_MAX, &v), -EINVAL);
		assert_int_equal(v, 42);
	}
}

static void test_parse_u64_spaces_and_garbage_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {"",	 " ",  " 1", "1 ",  "1\n",   "\t1",
					  "1 2", "1a", "a1", "1.0", "1,000", NULL};
	for (const char *const *b = bad; *b; b++) {
		uint64_t v = 42;
		assert_int_equal(rs_parse_u64(*b, UINT64_MAX, &v), -EINVAL);
		assert_int_equal(v, 42);
	}
	uint64_t v = 42;
	assert_int_equal(rs_parse_u64(NULL, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_parse_u64_exactly_max_accepted(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(rs_parse_u64("4294967295", UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(rs_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rs_parse_u64("65521", 65521, &v), 0);
	assert_int_equal(v, 65521);
	assert_int_equal(rs_parse_u64("30", 30, &v), 0);
	assert_int_equal(v, 30);
}

static void test_parse_u64_one_past_max_erange(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_int_equal(rs_parse_u64("4294967296", UINT32_MAX, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("99999999999999999999", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("65522", 65521, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("31", 30, &v), -ERANGE);
	assert_int_equal(rs_parse_u64("300", 30, &v), -ERANGE);
	assert_int_equal(v, 42);
}

/* max below 9: the first digit alone may already exceed it */
static void test_parse_u64_single_digit_above_small_max_erange(void **state)
{
	(void)state;
	uint64_t v = 42;
	assert_int_equal(rs_parse_u64("5", 5, &v), 0);
	assert_int_equal(v, 5);
	v = 42;
	assert_int_equal(rs_parse_u64("7", 5, &v), -ERANGE);
	assert_int_equal(v, 42);
	assert_int_equal(rs_parse_u64("1", 0, &v), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_parse_u64n_stops_at_length(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(rs_parse_u64n("100000:65536", 6, UINT32_MAX, &v), 0);
	assert_int_equal(v, 100000);
	assert_int_equal(rs_parse_u64n("12", 0, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(rs_parse_u64n("1:", 2, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(rs_parse_u64n("1\0002", 3, UINT32_MAX, &v), -EINVAL);
}

/* ---- kernel versions ---- */

static void expect_kver(const char *s, unsigned a, unsigned b, unsigned c)
{
	struct rs_kver k = {99, 99, 99};
	assert_int_equal(rs_kver_parse(s, &k), 0);
	assert_int_equal(k.major, a);
	assert_int_equal(k.minor, b);
	assert_int_equal(k.patch, c);
}

static void test_kver_parse_openeuler_release_numbers_only(void **state)
{
	(void)state;
	expect_kver("5.10.0-60.18.0.50.oe2203.x86_64", 5, 10, 0);
}

static void test_kver_parse_two_components_patch_zero(void **state)
{
	(void)state;
	expect_kver("6.1", 6, 1, 0);
	expect_kver("5.11", 5, 11, 0);
}

static void test_kver_parse_el7_release(void **state)
{
	(void)state;
	expect_kver("3.10.0-1160.el7.x86_64", 3, 10, 0);
}

static void test_kver_parse_plus_suffix_keeps_patch(void **state)
{
	(void)state;
	expect_kver("5.15.133+", 5, 15, 133);
	expect_kver("6.1.0-18-amd64", 6, 1, 0);
	expect_kver("4.18.0-372.9.1.el8.x86_64", 4, 18, 0);
}

static void test_kver_parse_garbage_einval_out_untouched(void **state)
{
	(void)state;
	static const char *const bad[] = {"garbage", "",      "5",     "5.",	    ".5", "5.x",
					  "x5.10",   "v5.10", "-5.10", "1234567.1", NULL};
	for (const char *const *b = bad; *b; b++) {
		struct rs_kver k = {99, 99, 99};
		assert_int_equal(rs_kver_parse(*b, &k), -EINVAL);
		assert_int_equal(k.major, 99);
	}
	struct rs_kver k;
	assert_int_equal(rs_kver_parse(NULL, &k), -EINVAL);
}

static int cmp_str(const char *a, const char *b)
{
	struct rs_kver x, y;
	assert_int_equal(rs_kver_parse(a, &x), 0);
	assert_int_equal(rs_kver_parse(b, &y), 0);
	int c = rs_kver_cmp(&x, &y);
	/* antisymmetric */
	int d = rs_kver_cmp(&y, &x);
	assert_true((c < 0 && d > 0) || (c > 0 && d < 0) || (c == 0 && d == 0));
	return c;
}

static void test_kver_cmp_orders_numerically(void **state)
{
	(void)state;
	assert_true(cmp_str("5.10.0-60.18.0.50.oe2203.x86_64", "5.11") < 0);
	assert_true(cmp_str("3.10.0-1160.el7.x86_64", "3.8") > 0); /* 10 > 8, not "1" < "8" */
	assert_true(cmp_str("5.4.0", "5.10") < 0);
	assert_true(cmp_str("10.0", "9.99") > 0);
	assert_true(cmp_str("5.15.133+", "5.15") > 0);
	assert_true(cmp_str("5.15.133+", "5.16") < 0);
	assert_true(cmp_str("6.1", "6.1.0-18-amd64") == 0);
	assert_true(cmp_str("4.18.0-372.el8", "4.18") == 0);
	assert_true(cmp_str("4.14", "4.18.0") < 0);
}

/* ---- strings ---- */

static void test_strstrip_both_ends_stripped_interior_kept(void **state)
{
	(void)state;
	char s[] = " \t a  b \r\n";
	char *r = rs_strstrip(s);
	assert_ptr_equal(r, s);
	assert_string_equal(s, "a  b");
}

static void test_strstrip_all_space_becomes_empty(void **state)
{
	(void)state;
	char s[] = " \t\r\n\v\f ";
	assert_string_equal(rs_strstrip(s), "");
	char e[] = "";
	assert_string_equal(rs_strstrip(e), "");
	char n[] = "abc";
	assert_string_equal(rs_strstrip(n), "abc");
	char l[] = "   x";
	assert_string_equal(rs_strstrip(l), "x");
}

static void test_streq_null_argument_false(void **state)
{
	(void)state;
	assert_true(rs_streq("a", "a"));
	assert_false(rs_streq("a", "A"));
	assert_false(rs_streq(NULL, "a"));
	assert_false(rs_streq("a", NULL));
	assert_false(rs_streq(NULL, NULL));
	assert_true(rs_strcaseeq("openEuler", "OPENEULER"));
	assert_false(rs_strcaseeq("openEuler", "openeule"));
	assert_false(rs_strcaseeq(NULL, "x"));
	assert_true(rs_startswith("kernel.x", "kernel."));
	assert_false(rs_startswith("kern", "kernel."));
	assert_false(rs_startswith(NULL, "k"));
	assert_true(rs_startswith("x", ""));
}

static void test_strv_push_copies_and_null_terminates(void **state)
{
	(void)state;
	struct rs_strv v = {0};
	char buf[8] = "x";
	rs_strv_push(&v, buf);
	buf[0] = 'y'; /* a copy was stored */
	rs_strv_push(&v, "z");
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0], "x");
	assert_string_equal(v.v[1], "z");
	assert_null(v.v[2]);
	assert_true(rs_strv_contains(&v, "z"));
	assert_false(rs_strv_contains(&v, "y"));
	rs_strv_clear(&v);
	assert_null(v.v);
	assert_int_equal(v.n, 0);
	assert_int_equal(v.cap, 0);
}

static void test_strv_growth_keeps_every_entry(void **state)
{
	(void)state;
	struct rs_strv v = {0};
	char b[16];
	for (int i = 0; i < 100; i++) {
		snprintf(b, sizeof(b), "s%d", i);
		if (i % 2)
			rs_strv_push(&v, b);
		else
			rs_strv_take(&v, strdup(b));
		assert_null(v.v[v.n]);
	}
	assert_int_equal(v.n, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(b, sizeof(b), "s%d", i);
		assert_string_equal(v.v[i], b);
	}
	assert_true(rs_strv_contains(&v, "s99"));
	assert_false(rs_strv_contains(&v, "s100"));
	rs_strv_clear(&v);
	rs_strv_clear(&v); /* twice is harmless */
	assert_int_equal(v.n, 0);
}

static void test_strv_empty_contains_nothing(void **state)
{
	(void)state;
	struct rs_strv v = {0};
	assert_false(rs_strv_contains(&v, ""));
	rs_strv_clear(&v);
}

/* ---- rs_escape / rs_json_str ---- */

static void expect_escape(const char *in, const char *want)
{
	char *got = rs_escape(in);
	assert_string_equal(got, want);
	free(got);
}

static void test_escape_terminal_sequences_become_hex(void **state)
{
	(void)state;
	/* the title-setting OSC and a clear-screen CSI from a record path */
	expect_escape("/home/a/\033]0;pwned\a\033[2J", "/home/a/\\x1b]0;pwned\\x07\\x1b[2J");
	expect_escape("a\tb\nc\rd\x7f", "a\\x09b\\x0ac\\x0dd\\x7f");
}

static void test_escape_backslash_doubled(void **state)
{
	(void)state;
	/* so "\\x1b" in the output can never be mistaken for an escaped ESC */
	expect_escape("a\\x1b", "a\\\\x1b");
}

static void test_escape_valid_utf8_kept(void **state)
{
	(void)state;
	expect_escape("/home/j\xc3\xbcrgen/\xe6\x97\xa5\xf0\x9f\x90\xb3",
		      "/home/j\xc3\xbcrgen/\xe6\x97\xa5\xf0\x9f\x90\xb3");
	expect_escape("", "");
	assert_null(rs_escape(NULL));
	assert_true(rs_is_clean("plain /path"));
	assert_false(rs_is_clean("a\\b"));
}

static void test_escape_invalid_utf8_bytes_become_hex(void **state)
{
	(void)state;
	expect_escape("\xff\xfe", "\\xff\\xfe");
	/* a raw C1 CSI byte (0x9b) is not UTF-8 */
	expect_escape("a\x9b"
		      "2Jb",
		      "a\\x9b2Jb");
	/* overlong "/" and an overlong NUL */
	expect_escape("\xc0\xaf\xe0\x80\xaf", "\\xc0\\xaf\\xe0\\x80\\xaf");
	/* a UTF-16 surrogate and a code point past U+10FFFF */
	expect_escape("\xed\xa0\x80", "\\xed\\xa0\\x80");
	expect_escape("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	/* truncated at the end: every byte, never a read past the NUL */
	expect_escape("ok\xe6\x97", "ok\\xe6\\x97");
	/* a bad lead byte does not swallow the valid text after it */
	expect_escape("\xe6"
		      "abc",
		      "\\xe6"
		      "abc");
}

static void test_escape_c1_and_bidi_code_points_become_hex(void **state)
{
	(void)state;
	/* U+009B (CSI) encoded as valid UTF-8, and U+202E RIGHT-TO-LEFT OVERRIDE */
	expect_escape("\xc2\x9b"
		      "2J",
		      "\\xc2\\x9b"
		      "2J");
	expect_escape("x\xe2\x80\xaey", "x\\xe2\\x80\\xaey");
	/* U+00A0 and later are printable: kept */
	expect_escape("\xc2\xa0", "\xc2\xa0");
}

static void test_json_str_never_null(void **state)
{
	(void)state;
	json_t *j = rs_json_str("bad\xff\x1b");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "bad\\xff\\x1b");
	json_decref(j);
	/* valid UTF-8 with a control stays exact: JSON escapes it itself */
	j = rs_json_str("a\x1b"
			"b");
	assert_string_equal(json_string_value(j), "a\x1b"
						  "b");
	json_decref(j);
	j = rs_json_str(NULL);
	assert_true(json_is_null(j));
	/* an object keeps the entry that json_string() alone would drop */
	json_t *o = json_object();
	json_object_set_new(o, "path", rs_json_str("/x/\xc3("));
	assert_non_null(json_object_get(o, "path"));
	json_decref(o);
}

/* ---- rs_str_plain ---- */

static void test_str_plain_names_accepted(void **state)
{
	(void)state;
	assert_true(rs_str_plain("C", 64, "_.@-"));
	assert_true(rs_str_plain("de_DE.UTF-8", 64, "_.@-"));
	assert_true(rs_str_plain("sr_RS@latin", 64, "_.@-"));
	assert_true(rs_str_plain("xterm-256color", 64, "+-._"));
	assert_true(rs_str_plain("screen.xterm-256color", 64, "+-._"));
	char full[65];
	memset(full, 'a', 64);
	full[64] = '\0';
	assert_true(rs_str_plain(full, 64, ""));
}

/* empty, NULL, past max, and every byte outside the set: a space, a
 * slash, a shell or terminal metacharacter, a control, a UTF-8 byte */
static void test_str_plain_others_refused(void **state)
{
	(void)state;
	assert_false(rs_str_plain(NULL, 64, "_.@-"));
	assert_false(rs_str_plain("", 64, "_.@-"));
	char big[66];
	memset(big, 'a', 65);
	big[65] = '\0';
	assert_false(rs_str_plain(big, 64, "_.@-"));
	const char *const bad[] = {"de DE",	    "../../etc/x", "C;id",	  "$(id)",
				   "a\x1b]0;t\x07", "a\nb",	   "caf\xc3\xa9", "x\x7f"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(rs_str_plain(bad[i], 64, "_.@-"));
	/* the extra set is the caller's: '@' is a locale's, '+' a TERM's */
	assert_false(rs_str_plain("sr_RS@latin", 64, "+-._"));
	assert_false(rs_str_plain("a+b", 64, "_.@-"));
	assert_true(rs_str_plain("a+b", 64, "+-._"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64_plain_decimal_parsed),
		cmocka_unit_test(test_parse_u64_leading_zeros_rejected),
		cmocka_unit_test(test_parse_u64_hex_and_octal_prefixes_rejected),
		cmocka_unit_test(test_parse_u64_sign_rejected),
		cmocka_unit_test(test_parse_u64_spaces_and_garbage_rejected),
		cmocka_unit_test(test_parse_u64_exactly_max_accepted),
		cmocka_unit_test(test_parse_u64_one_past_max_erange),
		cmocka_unit_test(test_parse_u64_single_digit_above_small_max_erange),
		cmocka_unit_test(test_parse_u64n_stops_at_length),
		cmocka_unit_test(test_kver_parse_openeuler_release_numbers_only),
		cmocka_unit_test(test_kver_parse_two_components_patch_zero),
		cmocka_unit_test(test_kver_parse_el7_release),
		cmocka_unit_test(test_kver_parse_plus_suffix_keeps_patch),
		cmocka_unit_test(test_kver_parse_garbage_einval_out_untouched),
		cmocka_unit_test(test_kver_cmp_orders_numerically),
		cmocka_unit_test(test_strstrip_both_ends_stripped_interior_kept),
		cmocka_unit_test(test_strstrip_all_space_becomes_empty),
		cmocka_unit_test(test_streq_null_argument_false),
		cmocka_unit_test(test_strv_push_copies_and_null_terminates),
		cmocka_unit_test(test_strv_growth_keeps_every_entry),
		cmocka_unit_test(test_strv_empty_contains_nothing),
		cmocka_unit_test(test_escape_terminal_sequences_become_hex),
		cmocka_unit_test(test_escape_backslash_doubled),
		cmocka_unit_test(test_escape_valid_utf8_kept),
		cmocka_unit_test(test_escape_invalid_utf8_bytes_become_hex),
		cmocka_unit_test(test_escape_c1_and_bidi_code_points_become_hex),
		cmocka_unit_test(test_json_str_never_null),
		cmocka_unit_test(test_str_plain_names_accepted),
		cmocka_unit_test(test_str_plain_others_refused),
	};
	return cmocka_run_group_tests_name("strutil", tests, NULL, NULL);
}
