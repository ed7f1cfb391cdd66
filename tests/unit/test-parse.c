/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hand-written parsers of src/host/parse.c, on in-memory buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"
#include "lib/macro.h"

#define S(x) x, sizeof(x) - 1

/* ---- subuid(5) / subgid(5) ---- */

/* Parses one buffer and expects exactly nok valid ranges and nbad bad lines. */
static void subid_expect(const char *buf, size_t len, size_t nok, size_t nbad)
{
	struct rs_subid_file f;
	assert_int_equal(rs_subid_parse(buf, len, &f), 0);
	assert_int_equal(f.n, nok);
	assert_int_equal(f.nbad, nbad);
	rs_subid_clear(&f);
}

static void subid_expect_bad(const char *line)
{
	struct rs_subid_file f;
	assert_int_equal(rs_subid_parse(line, strlen(line), &f), 0);
	if (f.n != 0 || f.nbad != 1)
		fail_msg("'%s': %zu ranges, %zu bad lines; want 0 and 1", line, f.n, f.nbad);
	assert_int_equal(f.bad_lines[0], 1);
	rs_subid_clear(&f);
}

static void test_subid_valid_lines_parsed_with_line_numbers(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("alice:100000:65536\nbob:165536:65536\n"), &f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.nbad, 0);
	assert_string_equal(f.r[0].owner, "alice");
	assert_int_equal(f.r[0].start, 100000);
	assert_int_equal(f.r[0].count, 65536);
	assert_int_equal(f.r[0].line, 1);
	assert_string_equal(f.r[1].owner, "bob");
	assert_int_equal(f.r[1].start, 165536);
	assert_int_equal(f.r[1].line, 2);
	rs_subid_clear(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.r);
}

static void test_subid_last_line_without_newline_parsed(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("alice:100000:65536"), &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.r[0].count, 65536);
	rs_subid_clear(&f);
}

static void test_subid_crlf_line_bad(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("alice:100000:65536\r\nbob:165536:65536\n"), &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].owner, "bob");
	assert_int_equal(f.nbad, 1);
	assert_int_equal(f.bad_lines[0], 1);
	rs_subid_clear(&f);
}

static void test_subid_comment_and_blank_skipped_not_bad(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("# alice:1:2\n\n   \n\t# x\nbob:165536:65536\n"), &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.nbad, 0);
	assert_int_equal(f.r[0].line, 5);
	rs_subid_clear(&f);
	subid_expect(S(""), 0, 0);
	subid_expect(S("\n\n\n"), 0, 0);
}

static void test_subid_5000_char_line_bad(void **state _unused_)
{
	char *buf = malloc(5000 + 32);
	memset(buf, 'a', 5000);
	memcpy(buf + 5000 - 13, ":100000:65536", 13); /* well-formed, just too long */
	buf[5000] = '\n';
	memcpy(buf + 5001, "bob:1:2\n", 8);
	struct rs_subid_file f;
	rs_subid_parse(buf, 5009, &f);
	assert_int_equal(f.nbad, 1);
	assert_int_equal(f.bad_lines[0], 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.r[0].line, 2);
	rs_subid_clear(&f);
	free(buf);
}

/* shadow's subordinate_parse keeps lines shorter than 1024 bytes */
static void test_subid_line_length_limit_1024(void **state _unused_)
{
	char line[1100];
	memset(line, 'u', sizeof(line));
	memcpy(line + 1023 - 9, ":100:1000", 9);
	subid_expect(line, 1023, 1, 0);
	memset(line, 'u', sizeof(line));
	memcpy(line + 1024 - 9, ":100:1000", 9);
	subid_expect(line, 1024, 0, 1);
}

static void test_subid_nul_byte_line_bad(void **state _unused_)
{
	struct rs_subid_file f;
	static const char in[] = "al\0ice:100000:65536\nbob:165536:65536\n";
	rs_subid_parse(in, sizeof(in) - 1, &f);
	assert_int_equal(f.nbad, 1);
	assert_int_equal(f.bad_lines[0], 1);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].owner, "bob");
	rs_subid_clear(&f);
	/* a NUL at the very end of an otherwise valid line */
	static const char tail[] = "alice:100000:65536\0\n";
	subid_expect(tail, sizeof(tail) - 1, 0, 1);
}

static void test_subid_negative_start_bad(void **state _unused_)
{
	subid_expect_bad("alice:-1:65536");
}

static void test_subid_hex_start_bad(void **state _unused_)
{
	subid_expect_bad("alice:0x10000:65536");
	subid_expect_bad("alice:0100000:65536");
}

static void test_subid_plus_sign_bad(void **state _unused_)
{
	subid_expect_bad("alice:+5:65536");
	subid_expect_bad("alice:5:+65536");
}

static void test_subid_trailing_space_bad(void **state _unused_)
{
	subid_expect_bad("alice:100000:65536 ");
	subid_expect_bad("alice:100000:65536\t");
	subid_expect_bad("alice:100000 :65536");
}

static void test_subid_range_past_2_32_bad(void **state _unused_)
{
	subid_expect_bad("alice:4294967295:2");
	subid_expect_bad("alice:4294967296:1");
	subid_expect_bad("alice:1:4294967296");
}

static void test_subid_range_ending_at_2_32_accepted(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("alice:4294967295:1\nbob:0:4294967295\n"), &f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.nbad, 0);
	assert_true(f.r[0].start == 4294967295ULL);
	assert_int_equal(f.r[0].count, 1);
	assert_true(f.r[1].count == 4294967295ULL);
	rs_subid_clear(&f);
}

static void test_subid_zero_count_bad(void **state _unused_)
{
	subid_expect_bad("alice:100000:0");
}

static void test_subid_missing_field_bad(void **state _unused_)
{
	subid_expect_bad("alice:100000");
	subid_expect_bad("alice");
	subid_expect_bad(":100000:65536");
	subid_expect_bad("alice::65536");
	subid_expect_bad("alice:100000:");
	subid_expect_bad("alice:1:2:3");
}

static void test_subid_numeric_owner_kept_as_text(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("1000:200000:65536\n"), &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.r[0].owner, "1000");
	assert_int_equal(f.r[0].start, 200000);
	rs_subid_clear(&f);
}

static void test_subid_bad_lines_numbered_in_order(void **state _unused_)
{
	struct rs_subid_file f;
	rs_subid_parse(S("ok:1:2\nbad\n# c\nalso:bad\nok2:3:4\n"), &f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.nbad, 2);
	assert_int_equal(f.bad_lines[0], 2);
	assert_int_equal(f.bad_lines[1], 4);
	assert_int_equal(f.r[1].line, 5);
	rs_subid_clear(&f);
}

/* ---- os-release(5) ---- */

static void test_osrelease_double_quotes_removed(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("ID=\"debian\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 "
			     "(bookworm)\"\n"),
			   &o);
	assert_string_equal(o.id, "debian");
	assert_string_equal(o.version_id, "12");
	assert_string_equal(o.pretty_name, "Debian GNU/Linux 12 (bookworm)");
	assert_null(o.id_like);
	assert_null(o.variant_id);
	rs_osrelease_clear(&o);
	assert_null(o.id);
}

static void test_osrelease_escapes_in_double_quotes_unescaped(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("NAME=\"a \\\"q\\\" \\$x \\\\ \\`b\\`\"\n"), &o);
	assert_string_equal(o.name, "a \"q\" $x \\ `b`");
	rs_osrelease_clear(&o);
}

static void test_osrelease_single_quotes_literal(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("ID_LIKE='rhel centos fedora'\nNAME='a\\b \"x\"'\n"), &o);
	assert_string_equal(o.id_like, "rhel centos fedora");
	assert_string_equal(o.name, "a\\b \"x\"");
	rs_osrelease_clear(&o);
}

static void test_osrelease_crlf_stripped(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("ID=ubuntu\r\nVERSION_ID=\"22.04\"\r\nID_LIKE=debian\r\n"), &o);
	assert_string_equal(o.id, "ubuntu");
	assert_string_equal(o.version_id, "22.04");
	assert_string_equal(o.id_like, "debian");
	rs_osrelease_clear(&o);
}

static void test_osrelease_comments_and_junk_ignored(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("# ID=fedora\n  #VERSION_ID=39\nBAD LINE\nIDX=nope\nFOO=bar\n"
			     "ID=arch\n"),
			   &o);
	assert_string_equal(o.id, "arch");
	assert_null(o.version_id);
	rs_osrelease_clear(&o);
}

static void test_osrelease_missing_version_id_null(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("ID=arch\nBUILD_ID=rolling\n"), &o);
	assert_string_equal(o.id, "arch");
	assert_null(o.version_id);
	rs_osrelease_clear(&o);
	rs_osrelease_parse(S(""), &o);
	assert_null(o.id);
	assert_null(o.version_id);
	rs_osrelease_clear(&o);
}

static void test_osrelease_openeuler_id_case_preserved(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("NAME=\"openEuler\"\nVERSION=\"22.03 (LTS-SP2)\"\nID=\"openEuler\"\n"
			     "VERSION_ID=\"22.03\"\n"),
			   &o);
	assert_string_equal(o.id, "openEuler");
	assert_string_equal(o.version_id, "22.03");
	rs_osrelease_clear(&o);
}

static void test_osrelease_unquoted_value_ends_at_space_last_wins(void **state _unused_)
{
	struct rs_osrelease o;
	rs_osrelease_parse(S("VERSION_ID=22.03 trailing\nID=a\nID=b\n"), &o);
	assert_string_equal(o.version_id, "22.03");
	assert_string_equal(o.id, "b");
	rs_osrelease_clear(&o);
}

static void test_osrelease_nul_line_ignored_others_kept(void **state _unused_)
{
	struct rs_osrelease o;
	static const char in[] = "ID=ev\0il\nVERSION_ID=12\n";
	rs_osrelease_parse(in, sizeof(in) - 1, &o);
	assert_null(o.id);
	assert_string_equal(o.version_id, "12");
	rs_osrelease_clear(&o);
}

/* ---- login.defs(5) ---- */

static void test_logindefs_null_buffer_shadow_defaults(void **state _unused_)
{
	struct rs_logindefs d;
	memset(&d, 0xff, sizeof(d));
	assert_int_equal(rs_logindefs_parse(NULL, 0, &d), 0);
	assert_int_equal(d.uid_min, 1000);
	assert_int_equal(d.uid_max, 60000);
	assert_int_equal(d.sub_uid_min, 100000);
	assert_int_equal(d.sub_uid_max, 600100000);
	assert_int_equal(d.sub_uid_count, 65536);
	assert_int_equal(d.sub_gid_min, 100000);
	assert_int_equal(d.sub_gid_max, 600100000);
	assert_int_equal(d.sub_gid_count, 65536);
	assert_false(d.invalid);
}

static void test_logindefs_overrides_applied(void **state _unused_)
{
	struct rs_logindefs d;
	rs_logindefs_parse(S("# SUB_UID_MIN 1\nMAIL_DIR /var/mail\nSUB_UID_MIN\t524288\n"
			     "SUB_UID_MAX   1000000000\r\nSUB_GID_COUNT 131072\nUID_MIN 500\n"
			     "  SUB_GID_MIN 200000  \n"),
			   &d);
	assert_int_equal(d.sub_uid_min, 524288);
	assert_int_equal(d.sub_uid_max, 1000000000);
	assert_int_equal(d.sub_uid_count, 65536);
	assert_int_equal(d.sub_gid_count, 131072);
	assert_int_equal(d.sub_gid_min, 200000);
	assert_int_equal(d.uid_min, 500);
	assert_false(d.invalid);
}

static void test_logindefs_hex_value_flagged_invalid(void **state _unused_)
{
	struct rs_logindefs d;
	rs_logindefs_parse(S("SUB_UID_MIN 0x100\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_GID_COUNT 010\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_UID_COUNT\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_UID_COUNT -1\n"), &d);
	assert_true(d.invalid);
}

static void test_logindefs_min_above_max_flagged_invalid(void **state _unused_)
{
	struct rs_logindefs d;
	rs_logindefs_parse(S("SUB_UID_MIN 700000000\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_GID_MIN 100\nSUB_GID_MAX 99\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("UID_MIN 60001\n"), &d);
	assert_true(d.invalid);
	rs_logindefs_parse(S("SUB_UID_MIN 100\nSUB_UID_MAX 100\n"), &d);
	assert_false(d.invalid);
}

static void test_logindefs_sub_uid_count_zero_kept_valid(void **state _unused_)
{
	struct rs_logindefs d;
	rs_logindefs_parse(S("SUB_UID_COUNT 0\n"), &d);
	assert_int_equal(d.sub_uid_count, 0);
	assert_int_equal(d.sub_gid_count, 65536);
	assert_false(d.invalid);
}

/* ---- /proc/sys values ---- */

static void test_sysctl_parse_newline_terminated_value(void **state _unused_)
{
	uint64_t v = 9;
	assert_int_equal(rs_sysctl_parse_u64(S("1\n"), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rs_sysctl_parse_u64(S("0\n"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(rs_sysctl_parse_u64(S("63359"), &v), 0);
	assert_int_equal(v, 63359);
}

static void test_sysctl_parse_surrounding_space_ignored(void **state _unused_)
{
	uint64_t v = 9;
	assert_int_equal(rs_sysctl_parse_u64(S(" 1 "), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rs_sysctl_parse_u64(S("\t42\t\n"), &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(rs_sysctl_parse_u64(S("18446744073709551615\n"), &v), 0);
	assert_true(v == UINT64_MAX);
}

static void test_sysctl_parse_garbage_einval(void **state _unused_)
{
	static const char *const bad[] = {"abc",  "-1",	 "",
					  " ",	  "\n",	 "0x1",
					  "+1",	  "1 2", "4096\t87380\t6291456\n",
					  "1abc", NULL};
	for (const char *const *b = bad; *b; b++) {
		uint64_t v = 9;
		if (rs_sysctl_parse_u64(*b, strlen(*b), &v) != -EINVAL)
			fail_msg("'%s' was not refused with -EINVAL", *b);
		assert_int_equal(v, 9);
	}
	uint64_t v = 9;
	static const char nul[] = "1\0";
	assert_int_equal(rs_sysctl_parse_u64(nul, sizeof(nul) - 1, &v), -EINVAL);
}

static void test_sysctl_parse_overflow_erange(void **state _unused_)
{
	uint64_t v = 9;
	assert_int_equal(rs_sysctl_parse_u64(S("99999999999999999999"), &v), -ERANGE);
	assert_int_equal(rs_sysctl_parse_u64(S("18446744073709551616\n"), &v), -ERANGE);
	assert_int_equal(v, 9);
}

/* ---- TOML key scan ---- */

static const char kata[] =
	"version = 2\n"
	"[hypervisor.qemu]\n"
	"path = \"/usr/bin/qemu-system-x86_64\"\n"
	"image = \"/opt/kata/share/kata-containers/kata.img\" # the guest image\n"
	"# disable_vhost_net = false\n"
	"disable_vhost_net = true\n"
	"kernel_params = \"a=1 # not a comment\"\n"
	"machine = 'q35'\n"
	"esc = \"a\\\"b\"\n"
	"[ hypervisor.clh ]\n"
	"disable_vhost_net = false\n"
	"only_clh = 1\n"
	"[runtime]\n"
	"\"quoted_key\" = 'v'\n"
	"enable_debug=false\r\n";

static void toml_expect(const char *section, const char *key, const char *want)
{
	char *v = rs_toml_get(kata, sizeof(kata) - 1, section, key);
	if (!want) {
		if (v) {
			char m[256];
			snprintf(m, sizeof(m), "[%s] %s: got '%s', want nothing", section, key, v);
			free(v);
			fail_msg("%s", m);
		}
		return;
	}
	if (!v)
		fail_msg("[%s] %s: got nothing, want '%s'", section, key, want);
	assert_string_equal(v, want);
	free(v);
}

static void test_toml_get_section_scoped(void **state _unused_)
{
	toml_expect("hypervisor.qemu", "disable_vhost_net", "true");
	toml_expect("hypervisor.clh", "disable_vhost_net", "false");
	toml_expect("", "version", "2");
	toml_expect("hypervisor.qemu", "version", NULL);
	toml_expect("", "disable_vhost_net", NULL);
}

static void test_toml_get_quoted_values_unquoted(void **state _unused_)
{
	toml_expect("hypervisor.qemu", "path", "/usr/bin/qemu-system-x86_64");
	toml_expect("hypervisor.qemu", "machine", "q35");
	toml_expect("hypervisor.qemu", "esc", "a\"b");
	toml_expect("runtime", "quoted_key", "v");
}

static void test_toml_get_comments_ignored(void **state _unused_)
{
	toml_expect("hypervisor.qemu", "image", "/opt/kata/share/kata-containers/kata.img");
	toml_expect("hypervisor.qemu", "kernel_params", "a=1 # not a comment");
	/* the commented-out "false" line above the real one is not read */
	toml_expect("hypervisor.qemu", "disable_vhost_net", "true");
}

static void test_toml_get_bare_booleans_as_text(void **state _unused_)
{
	toml_expect("runtime", "enable_debug", "false");
	toml_expect("hypervisor.clh", "only_clh", "1");
}

static void test_toml_get_key_in_other_section_not_returned(void **state _unused_)
{
	toml_expect("hypervisor.qemu", "only_clh", NULL);
	toml_expect("hypervisor.clh", "path", NULL);
	toml_expect("hypervisor", "path", NULL);
	toml_expect("nosuch", "version", NULL);
}

static void test_toml_get_array_table_ends_section(void **state _unused_)
{
	static const char in[] = "[a]\nx = 1\n[[b]]\ny = 2\n";
	char *v = rs_toml_get(in, sizeof(in) - 1, "a", "y");
	if (v) {
		free(v);
		fail_msg("key 'y' of [[b]] returned as [a].y");
	}
}

static void test_toml_get_unterminated_quote_null(void **state _unused_)
{
	static const char in[] = "[a]\nk = \"abc\n";
	assert_null(rs_toml_get(in, sizeof(in) - 1, "a", "k"));
}

/* ---- dpkg status, sysctl.d ---- */

static void test_dpkg_version_installed_upstream_without_epoch(void **state _unused_)
{
	static const char in[] =
		"Package: podmanx\nStatus: install ok installed\nVersion: 9\n\n"
		"Package: podman\nStatus: install ok installed\nVersion: 1:4.3.1+ds1-8\n\n";
	char *v = rs_dpkg_version(in, sizeof(in) - 1, "podman");
	assert_non_null(v);
	assert_string_equal(v, "4.3.1");
	free(v);
}

static void test_dpkg_version_removed_package_null(void **state _unused_)
{
	assert_null(rs_dpkg_version(S("Package: podman\nStatus: deinstall ok config-files\n"
				      "Version: 4\n"),
				    "podman"));
	assert_null(rs_dpkg_version(S("Package: other\nStatus: install ok installed\nVersion: 4\n"),
				    "podman"));
}

static void test_dpkg_index_finds_each_package_and_its_arches(void **state _unused_)
{
	static const char in[] = "Package: libc6\nArchitecture: amd64\nVersion: 2.36\n\n"
				 "Package: libc6\nArchitecture: i386\nVersion: 2.36\n\n"
				 "Package: podman\nStatus: install ok installed\n"
				 "Version: 4.3.1+ds1-8\n\n"
				 "Package: podmanx\nVersion: 9";
	struct rs_dpkg_index *x = rs_dpkg_index_new(in, sizeof(in) - 1);
	char *a = rs_dpkg_stanzas(x, "libc6");
	char *b = rs_dpkg_stanzas(x, "podman");
	char *c = rs_dpkg_stanzas(x, "podmanx");

	assert_non_null(a);
	assert_non_null(strstr(a, "i386")); /* both architectures */
	assert_null(strstr(a, "podman"));   /* and nothing after them */
	assert_string_equal(b, "Package: podman\nStatus: install ok installed\n"
			       "Version: 4.3.1+ds1-8\n");
	assert_string_equal(c, "Package: podmanx\nVersion: 9"); /* no newline at the end */
	assert_null(rs_dpkg_stanzas(x, "podma"));
	assert_null(rs_dpkg_stanzas(x, "crun"));
	free(a);
	free(b);
	free(c);
	rs_dpkg_index_free(x);
}

static void test_sysctl_conf_get_last_assignment_wins(void **state _unused_)
{
	char *s = rs_sysctl_conf_get(S("kernel.x = 1\n-kernel/x=0\n; kernel.x = 5\n# kernel.x=6\n"
				       "kernel.x = 2\n"),
				     "kernel.x");
	assert_non_null(s);
	assert_string_equal(s, "2");
	free(s);
	assert_null(rs_sysctl_conf_get(S("kernel.xy = 1\n"), "kernel.x"));
}

/* A locale archive as glibc's localedef lays it out: the header, a name
 * hash table of (hash, name offset, record offset), then the strings. */
static size_t make_archive(char *buf, size_t cap, const char *const *names, uint32_t magic)
{
	uint32_t head[14] = {0};
	size_t hoff = 56, nslots = 4, soff = hoff + nslots * 12, at = soff;
	memset(buf, 0, cap);
	head[0] = magic;
	head[2] = (uint32_t)hoff;
	head[4] = (uint32_t)nslots;
	head[5] = (uint32_t)soff;
	for (size_t i = 0; names[i]; i++) {
		uint32_t e[3] = {0x1234, (uint32_t)at, 0};
		memcpy(buf + hoff + 12 * (2 * i + 1), e, sizeof(e)); /* odd slots: even ones free */
		memcpy(buf + at, names[i], strlen(names[i]) + 1);
		at += strlen(names[i]) + 1;
	}
	head[6] = (uint32_t)(at - soff);
	memcpy(buf, head, sizeof(head));
	return at;
}

static void test_locale_archive_name_found_only_whole(void **state _unused_)
{
	char buf[512];
	size_t need = 0,
	       len = make_archive(buf, sizeof(buf),
				  (const char *const[]){"C.utf8", "en_US.utf8", NULL}, 0xde020109u);
	assert_int_equal(rs_locale_archive_has(buf, len, "en_US.utf8", &need), 1);
	assert_int_equal(need, len);
	assert_int_equal(rs_locale_archive_has(buf, len, "en_US", &need), 0);
	assert_int_equal(rs_locale_archive_has(buf, len, "en_US.UTF-8", &need), 0);
}

static void test_locale_archive_short_buffer_asks_for_more(void **state _unused_)
{
	char buf[512];
	size_t need = 0, len = make_archive(buf, sizeof(buf),
					    (const char *const[]){"en_US.utf8", NULL}, 0xde020109u);
	assert_int_equal(rs_locale_archive_has(buf, 10, "en_US.utf8", &need), -ENODATA);
	assert_int_equal(need, 56);
	assert_int_equal(rs_locale_archive_has(buf, 60, "en_US.utf8", &need), -ENODATA);
	assert_int_equal(need, len);
}

static void test_locale_archive_bad_magic_or_bounds_einval(void **state _unused_)
{
	char buf[512];
	size_t need = 0, len = make_archive(buf, sizeof(buf),
					    (const char *const[]){"en_US.utf8", NULL}, 0x12345678u);
	assert_int_equal(rs_locale_archive_has(buf, len, "en_US.utf8", &need), -EINVAL);
	len = make_archive(buf, sizeof(buf), (const char *const[]){"en_US.utf8", NULL},
			   0xde020109u);
	uint32_t huge = 0xfffffff0u;
	memcpy(buf + 16, &huge, 4); /* a hash table of 4 billion slots */
	assert_int_equal(rs_locale_archive_has(buf, len, "en_US.utf8", &need), -EINVAL);
}

static void test_locale_gen_commented_line_uncommented_in_place(void **state _unused_)
{
	char *t = rs_locale_gen_enable(S("# de_DE.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\nx\n"),
				       "en_US.UTF-8 UTF-8");
	assert_non_null(t);
	assert_string_equal(t, "# de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\nx\n");
	free(t);
}

static void test_locale_gen_enabled_line_no_change(void **state _unused_)
{
	assert_null(rs_locale_gen_enable(S("  en_US.UTF-8   UTF-8 \n"), "en_US.UTF-8 UTF-8"));
	/* another name with the same prefix is no match */
	char *t = rs_locale_gen_enable(S("en_US.UTF-8 UTF-8x\n"), "en_US.UTF-8 UTF-8");
	assert_non_null(t);
	assert_string_equal(t, "en_US.UTF-8 UTF-8x\nen_US.UTF-8 UTF-8\n");
	free(t);
}

static void test_locale_gen_appended_after_missing_newline(void **state _unused_)
{
	char *t = rs_locale_gen_enable(S("de_DE.UTF-8 UTF-8"), "en_US.UTF-8 UTF-8");
	assert_non_null(t);
	assert_string_equal(t, "de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n");
	free(t);
	t = rs_locale_gen_enable("", 0, "en_US.UTF-8 UTF-8");
	assert_string_equal(t, "en_US.UTF-8 UTF-8\n");
	free(t);
}

/* ---- /proc/PID/status, security.capability, systemd units ---- */

static void test_proc_status_get_field_value_trimmed(void **state _unused_)
{
	char *v = rs_proc_status_get(S("Name:\tpodman pause\nUid:\t1000\t1000\t1000\t1000\n"
				       "NoNewPrivsX:\t7\nNoNewPrivs:\t1\nNoNewPrivs:\t0\n"),
				     "NoNewPrivs");
	assert_string_equal(v, "1");
	free(v);
	v = rs_proc_status_get(S("Name:\tpodman pause\n"), "Name");
	assert_string_equal(v, "podman pause");
	free(v);
	assert_null(rs_proc_status_get(S("Uid 1000\n"), "Uid"));
}

static void test_fcaps_v2_setuid_effective(void **state _unused_)
{
	/* setcap cap_setuid=ep: revision 2, the effective flag, bit 7 */
	static const char x[] = "\x01\x00\x00\x02\x80\x00\x00\x00\x00\x00\x00\x00"
				"\x00\x00\x00\x00\x00\x00\x00\x00";
	struct rs_fcaps c;
	assert_int_equal(rs_fcaps_parse(x, 20, &c), 0);
	assert_int_equal(c.version, 2);
	assert_true(c.effective);
	assert_true(c.permitted == (1ull << 7));
	assert_int_equal(c.rootid, 0);
}

static void test_fcaps_v3_rootid_and_high_half(void **state _unused_)
{
	static const char x[] = "\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00"
				"\x01\x00\x00\x00\x00\x00\x00\x00\xe8\x03\x00\x00";
	struct rs_fcaps c;
	assert_int_equal(rs_fcaps_parse(x, 24, &c), 0);
	assert_false(c.effective);
	assert_true(c.permitted == (1ull << 32));
	assert_int_equal(c.rootid, 1000);
}

static void test_fcaps_wrong_sizes_and_flags_refused(void **state _unused_)
{
	static const char v2[] = "\x01\x00\x00\x02\x80\x00\x00\x00\x00\x00\x00\x00"
				 "\x00\x00\x00\x00\x00\x00\x00\x00\x00";
	static const char odd[] = "\x03\x00\x00\x02\x80\x00\x00\x00\x00\x00\x00\x00"
				  "\x00\x00\x00\x00\x00\x00\x00\x00";
	struct rs_fcaps c;
	assert_int_equal(rs_fcaps_parse(v2, 12, &c), -EINVAL); /* revision 2 in 12 bytes */
	assert_int_equal(rs_fcaps_parse(v2, 21, &c), -EINVAL);
	assert_int_equal(rs_fcaps_parse(odd, 20, &c), -EINVAL); /* an unknown flag */
	assert_int_equal(rs_fcaps_parse(v2, 3, &c), -EINVAL);
}

static void test_unit_get_last_assignment_in_section(void **state _unused_)
{
	char *v = rs_unit_get(S("[Unit]\nNoNewPrivileges=yes\n[Service]\nNoNewPrivileges = yes\n"
				"# NoNewPrivileges=no\n;NoNewPrivileges=no\nNoNewPrivileges=no\n"),
			      "Service", "NoNewPrivileges");
	assert_string_equal(v, "no");
	free(v);
	v = rs_unit_get(S("[Unit]\nNoNewPrivileges=yes\n"), "Service", "NoNewPrivileges");
	assert_null(v);
}

static void test_unit_get_continuation_and_reset(void **state _unused_)
{
	char *v = rs_unit_get(S("[Service]\nSystemCallFilter=@system-service \\\n"
				"# a comment inside\n  @mount\n"),
			      "Service", "SystemCallFilter");
	assert_string_equal(v, "@system-service @mount");
	free(v);
	v = rs_unit_get(S("[Service]\nSystemCallFilter=@mount\nSystemCallFilter=\n"), "Service",
			"SystemCallFilter");
	assert_string_equal(v, "");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subid_valid_lines_parsed_with_line_numbers),
		cmocka_unit_test(test_subid_last_line_without_newline_parsed),
		cmocka_unit_test(test_subid_crlf_line_bad),
		cmocka_unit_test(test_subid_comment_and_blank_skipped_not_bad),
		cmocka_unit_test(test_subid_5000_char_line_bad),
		cmocka_unit_test(test_subid_line_length_limit_1024),
		cmocka_unit_test(test_subid_nul_byte_line_bad),
		cmocka_unit_test(test_subid_negative_start_bad),
		cmocka_unit_test(test_subid_hex_start_bad),
		cmocka_unit_test(test_subid_plus_sign_bad),
		cmocka_unit_test(test_subid_trailing_space_bad),
		cmocka_unit_test(test_subid_range_past_2_32_bad),
		cmocka_unit_test(test_subid_range_ending_at_2_32_accepted),
		cmocka_unit_test(test_subid_zero_count_bad),
		cmocka_unit_test(test_subid_missing_field_bad),
		cmocka_unit_test(test_subid_numeric_owner_kept_as_text),
		cmocka_unit_test(test_subid_bad_lines_numbered_in_order),
		cmocka_unit_test(test_osrelease_double_quotes_removed),
		cmocka_unit_test(test_osrelease_escapes_in_double_quotes_unescaped),
		cmocka_unit_test(test_osrelease_single_quotes_literal),
		cmocka_unit_test(test_osrelease_crlf_stripped),
		cmocka_unit_test(test_osrelease_comments_and_junk_ignored),
		cmocka_unit_test(test_osrelease_missing_version_id_null),
		cmocka_unit_test(test_osrelease_openeuler_id_case_preserved),
		cmocka_unit_test(test_osrelease_unquoted_value_ends_at_space_last_wins),
		cmocka_unit_test(test_osrelease_nul_line_ignored_others_kept),
		cmocka_unit_test(test_logindefs_null_buffer_shadow_defaults),
		cmocka_unit_test(test_logindefs_overrides_applied),
		cmocka_unit_test(test_logindefs_hex_value_flagged_invalid),
		cmocka_unit_test(test_logindefs_min_above_max_flagged_invalid),
		cmocka_unit_test(test_logindefs_sub_uid_count_zero_kept_valid),
		cmocka_unit_test(test_sysctl_parse_newline_terminated_value),
		cmocka_unit_test(test_sysctl_parse_surrounding_space_ignored),
		cmocka_unit_test(test_sysctl_parse_garbage_einval),
		cmocka_unit_test(test_sysctl_parse_overflow_erange),
		cmocka_unit_test(test_toml_get_section_scoped),
		cmocka_unit_test(test_toml_get_quoted_values_unquoted),
		cmocka_unit_test(test_toml_get_comments_ignored),
		cmocka_unit_test(test_toml_get_bare_booleans_as_text),
		cmocka_unit_test(test_toml_get_key_in_other_section_not_returned),
		cmocka_unit_test(test_toml_get_array_table_ends_section),
		cmocka_unit_test(test_toml_get_unterminated_quote_null),
		cmocka_unit_test(test_dpkg_version_installed_upstream_without_epoch),
		cmocka_unit_test(test_dpkg_version_removed_package_null),
		cmocka_unit_test(test_dpkg_index_finds_each_package_and_its_arches),
		cmocka_unit_test(test_locale_archive_name_found_only_whole),
		cmocka_unit_test(test_locale_archive_short_buffer_asks_for_more),
		cmocka_unit_test(test_locale_archive_bad_magic_or_bounds_einval),
		cmocka_unit_test(test_locale_gen_commented_line_uncommented_in_place),
		cmocka_unit_test(test_locale_gen_enabled_line_no_change),
		cmocka_unit_test(test_locale_gen_appended_after_missing_newline),
		cmocka_unit_test(test_sysctl_conf_get_last_assignment_wins),
		cmocka_unit_test(test_proc_status_get_field_value_trimmed),
		cmocka_unit_test(test_fcaps_v2_setuid_effective),
		cmocka_unit_test(test_fcaps_v3_rootid_and_high_half),
		cmocka_unit_test(test_fcaps_wrong_sizes_and_flags_refused),
		cmocka_unit_test(test_unit_get_last_assignment_in_section),
		cmocka_unit_test(test_unit_get_continuation_and_reset),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
