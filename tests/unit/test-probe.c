/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/checks/probe-result.c and probe-child.c: what the probe child (the
 * user) writes back is parsed strictly; what root hands it in argv is
 * checked again there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checks/probe.h"

#define BASE	"/home/alice/.local/share"
#define SCRATCH BASE "/.rootless-setup-probe-Ab12Cd"

static const char good[] = "rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\n"
			   "scratch " SCRATCH "\ndetail \nend\n";

static int parse(const char *s, struct rs_probe_result *r)
{
	return rs_probe_result_parse(s, strlen(s), BASE, r);
}

static void test_good(void **state)
{
	struct rs_probe_result r;
	(void)state;
	assert_int_equal(parse(good, &r), 0);
	assert_int_equal(r.stage, RS_PROBE_OK);
	assert_true(r.overlay_tried);
	assert_string_equal(r.scratch, SCRATCH);
	assert_string_equal(r.detail, "");

	const char *fail = "rs-probe 1\nstage 4\nerr 1\ntmpfs 0\noverlay 0\ntried 0\nscratch \n"
			   "detail '/usr/bin/newuidmap' failed (exit 1): no\nend\n";
	assert_int_equal(parse(fail, &r), 0);
	assert_int_equal(r.stage, RS_PROBE_UIDMAP);
	assert_int_equal(r.err, 1);
	assert_false(r.overlay_tried);
	assert_string_equal(r.detail, "'/usr/bin/newuidmap' failed (exit 1): no");
}

/* Whatever the child formats, the parent accepts; control bytes in its own
 * texts are replaced first. */
static void test_roundtrip(void **state)
{
	struct rs_probe_result in = {.stage = RS_PROBE_GIDMAP,
				     .err = 22,
				     .tmpfs_err = 0,
				     .overlay_err = 95,
				     .overlay_tried = true};
	struct rs_probe_result out;
	char buf[RS_PROBE_RESULT_MAX];
	(void)state;
	snprintf(in.scratch, sizeof(in.scratch), "%s", SCRATCH);
	snprintf(in.detail, sizeof(in.detail), "line one\nline\ttwo\x1b[31m\xc3\xa9");
	size_t n = rs_probe_result_format(&in, buf);
	assert_int_equal(rs_probe_result_parse(buf, n, BASE, &out), 0);
	assert_int_equal(out.stage, RS_PROBE_GIDMAP);
	assert_int_equal(out.err, 22);
	assert_int_equal(out.overlay_err, 95);
	assert_string_equal(out.scratch, SCRATCH);
	assert_string_equal(out.detail, "line one?line?two?[31m??");
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"rs-probe 2\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail \nend\n",
		/* out of range, signed, leading zero, hex, too big */
		"rs-probe 1\nstage 7\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail \nend\n",
		"rs-probe 1\nstage -1\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		"rs-probe 1\nstage 0\nerr 01\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		"rs-probe 1\nstage 0\nerr 0x1\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		"rs-probe 1\nstage 0\nerr 4096\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 99999999999999999999\noverlay 0\ntried 0\n"
		"scratch \ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 2\nscratch \ndetail \nend\n",
		/* keys out of order, unknown, missing, repeated */
		"rs-probe 1\nerr 0\nstage 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\nuids 5\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail \n",
		"rs-probe 1\nstage 0\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch "
		"\ndetail \nend\n",
		/* trailing data, no final newline, CRLF */
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\nx",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail \nend",
		"rs-probe 1\r\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\nend\n",
		/* control bytes and non-ASCII in the text */
		"rs-probe 1\nstage 4\nerr 1\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"a\x1b[2Jb\nend\n",
		"rs-probe 1\nstage 4\nerr 1\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"\xc3\xa9\nend\n",
		"rs-probe 1\nstage 4\nerr 1\ntmpfs 0\noverlay 0\ntried 0\nscratch \ndetail "
		"a\rb\nend\n",
		/* a scratch path elsewhere, of another shape, or without tried */
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\nscratch "
		"/etc/.rootless-setup"
		"-probe-Ab12Cd\ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\nscratch " BASE
		"/.rootless-setup-probe-../../\ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\nscratch " SCRATCH
		"x\ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\nscratch \ndetail \nend\n",
		"rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 0\nscratch " SCRATCH
		"\ndetail \nend\n",
	};
	struct rs_probe_result r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &r) != -EBADMSG)
			fail_msg("accepted bad result %zu: %s", i, bad[i]);
}

/* Root no longer knows where the child resolved the data dir: any
 * absolute plain directory, the scratch name of the right shape. */
static void test_any_base(void **state)
{
	static const char *const ok_scratch[] = {
		"/srv/x/.rootless-setup-probe-Ab12Cd",
		"/.rootless-setup-probe-Ab12Cd",
	};
	static const char *const bad_scratch[] = {
		"srv/.rootless-setup-probe-Ab12Cd",	"/srv/../.rootless-setup-probe-Ab12Cd",
		"/srv/./.rootless-setup-probe-Ab12Cd",	"//.rootless-setup-probe-Ab12Cd",
		"/srv//x/.rootless-setup-probe-Ab12Cd", "/srv/.rootless-setup-probe-Ab12C/",
		"/srv/.rootless-setup-probe-Ab12Cd/x",	".rootless-setup-probe-Ab12Cd",
	};
	struct rs_probe_result r;
	char buf[512];
	(void)state;
	for (size_t i = 0; i < sizeof(ok_scratch) / sizeof(ok_scratch[0]); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\n"
				 "scratch %s\ndetail \nend\n",
				 ok_scratch[i]);
		assert_int_equal(rs_probe_result_parse(buf, (size_t)n, NULL, &r), 0);
		assert_string_equal(r.scratch, ok_scratch[i]);
	}
	for (size_t i = 0; i < sizeof(bad_scratch) / sizeof(bad_scratch[0]); i++) {
		int n = snprintf(buf, sizeof(buf),
				 "rs-probe 1\nstage 0\nerr 0\ntmpfs 0\noverlay 0\ntried 1\n"
				 "scratch %s\ndetail \nend\n",
				 bad_scratch[i]);
		if (rs_probe_result_parse(buf, (size_t)n, NULL, &r) != -EBADMSG)
			fail_msg("accepted scratch %s", bad_scratch[i]);
	}
}

static void test_nul_and_size(void **state)
{
	struct rs_probe_result r;
	char *big = malloc(RS_PROBE_RESULT_MAX + 2);
	(void)state;
	/* a NUL inside: "detail a\0b" */
	char nul[sizeof(good) + 4];
	memcpy(nul, good, sizeof(good));
	char *d = strstr(nul, "detail ") + 7;
	memmove(d + 3, d, strlen(d) + 1);
	memcpy(d, "a\0b", 3);
	assert_int_equal(rs_probe_result_parse(nul, sizeof(good) + 2, BASE, &r), -EBADMSG);
	/* longer than the bound, even if well-formed up to it */
	int n = snprintf(big, RS_PROBE_RESULT_MAX + 2,
			 "rs-probe 1\nstage 4\nerr 1\ntmpfs 0\n"
			 "overlay 0\ntried 0\nscratch \ndetail ");
	memset(big + n, 'a', RS_PROBE_RESULT_MAX + 1 - (size_t)n);
	assert_int_equal(rs_probe_result_parse(big, RS_PROBE_RESULT_MAX + 1, BASE, &r), -EBADMSG);
	/* a detail longer than the field */
	n = snprintf(big, RS_PROBE_RESULT_MAX + 2,
		     "rs-probe 1\nstage 4\nerr 1\ntmpfs 0\n"
		     "overlay 0\ntried 0\nscratch \ndetail %0600d\nend\n",
		     0);
	assert_int_equal(rs_probe_result_parse(big, (size_t)n, BASE, &r), -EBADMSG);
	free(big);
}

static int child_parse(const char *u, const char *g, const char *gr, const char *base,
		       const char *um, const char *gm, struct rs_probe_child_args *a)
{
	char *argv[] = {(char *)u,  (char *)g,	(char *)gr, (char *)base,
			(char *)um, (char *)gm, NULL};
	return rs_probe_child_parse(6, argv, a);
}

static void test_child_args(void **state)
{
	struct rs_probe_child_args a;
	struct rs_idmap m;
	(void)state;
	assert_int_equal(child_parse("1000", "1000", "1000,27,100", BASE, "0:1000:1,1:100000:65536",
				     "0:1000:1,1:100000:65536", &a),
			 0);
	assert_int_equal(a.uid, 1000);
	assert_int_equal(a.ngroups, 3);
	assert_int_equal(a.groups[2], 100);
	assert_true(a.map_ok);
	assert_int_equal(a.um->n, 2);
	assert_int_equal(a.um->subordinate, 65536);
	/* what root formats, the child reads back */
	rs_idmap_single(&m, 1000);
	m.e[1] = (struct rs_idmap_extent){1, 200000, 10};
	m.e[2] = (struct rs_idmap_extent){11, 300000, 5};
	m.n = 3;
	char *w = rs_probe_map_format(&m);
	assert_string_equal(w, "0:1000:1,1:200000:10,11:300000:5");
	rs_probe_child_args_clear(&a);
	assert_int_equal(child_parse("1000", "1000", "1000", "/", w, "-", &a), -EINVAL);
	assert_int_equal(child_parse("1000", "1000", "1000", "/", w, "0:1000:1", &a), 0);
	assert_int_equal(a.um->subordinate, 15);
	assert_int_equal(a.gm->subordinate, 0);
	rs_probe_child_args_clear(&a);
	free(w);
	assert_int_equal(child_parse("1000", "1000", "1000", "/x", "-", "-", &a), 0);
	assert_false(a.map_ok);
	rs_probe_child_args_clear(&a);
}

static void test_child_args_bad(void **state)
{
	static const char *const bad[][6] = {
		{"-1", "1000", "1000", "/x", "-", "-"},
		{"1000", "+1000", "1000", "/x", "-", "-"},
		{"4294967295", "1000", "1000", "/x", "-", "-"},
		{"1000", "1000", "", "/x", "-", "-"},
		{"1000", "1000", "1000,", "/x", "-", "-"},
		{"1000", "1000", "1000,,5", "/x", "-", "-"},
		{"1000", "1000", "1000", "x", "-", "-"},
		{"1000", "1000", "1000", "/x/../etc", "-", "-"},
		{"1000", "1000", "1000", "/x/..", "-", "-"},
		{"1000", "1000", "1000", "/x\n/y", "-", "-"},
		/* the first extent must be the user's own id */
		{"1000", "1000", "1000", "/x", "0:0:1", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000:2", "0:1000:1"},
		/* inside ids contiguous from 1, counts > 0, no overflow */
		{"1000", "1000", "1000", "/x", "0:1000:1,2:100000:5", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000:1,1:100000:0", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000:1,1:4294967290:10", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000:1,", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000:1;1:2:3", "0:1000:1"},
		{"1000", "1000", "1000", "/x", "0:1000", "0:1000:1"},
	};
	struct rs_probe_child_args a;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (child_parse(bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], bad[i][5],
				&a) != -EINVAL)
			fail_msg("accepted bad child argv %zu", i);
	char *argv[] = {"1000", "1000", "1000", "/x", "-", NULL};
	assert_int_equal(rs_probe_child_parse(5, argv, &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	       cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),      cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_any_base),       cmocka_unit_test(test_child_args),
		cmocka_unit_test(test_child_args_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
