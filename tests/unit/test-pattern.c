/* SPDX-License-Identifier: GPL-2.0-or-later */
/* src/lib/pattern.c (the catalogue's matching language) and
 * src/core/errcat.c (the catalogue's schema): what each construct matches
 * and what a pattern or an entry may not be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "checks/registry.h"
#include "core/diagnose.h"
#include "core/errcat.h"
#include "lib/pattern.h"

static bool m(const char *pat, const char *line)
{
	struct rs_pattern *p = NULL;
	const char *why = NULL;
	assert_int_equal(rs_pattern_compile(pat, strlen(pat), &p, &why), 0);
	bool r = rs_pattern_match(p, line, strlen(line), NULL);
	rs_pattern_free(p);
	return r;
}

static const char *bad(const char *pat)
{
	struct rs_pattern *p = NULL;
	const char *why = NULL;
	assert_int_equal(rs_pattern_compile(pat, strlen(pat), &p, &why), -EINVAL);
	assert_null(p);
	assert_non_null(why);
	return why;
}

static void literal_text_matches_anywhere_case_insensitively(void **state)
{
	(void)state;
	assert_true(m("Operation not permitted", "write: operation NOT permitted\n"));
	assert_true(m("uid_map failed", "newuidmap: write to uid_map failed: x"));
	assert_false(m("uid_map failed", "newuidmap: write to gid_map failed"));
	assert_false(m("uid_map failed", ""));
}

static void blanks_match_any_run_of_blanks(void **state)
{
	(void)state;
	assert_true(m("not found   in", "not found\t in"));
	assert_true(m("not found in", "not found     in"));
	assert_false(m("not found in", "not foundin"));
}

static void classes_take_their_run(void **state)
{
	(void)state;
	assert_true(m("newuidmap {n} [", "newuidmap 3117138 [0 1002 1"));
	assert_false(m("newuidmap {n} [", "newuidmap abc [0"));
	assert_true(m("requested {n}:{n} for {p}):", "(requested 0:42 for /etc/shadow): lchown"));
	assert_false(m("requested {n}:{n} for {p}:", "(requested 0:42 for /etc/shadow): lchown"));
	assert_true(m("user {w}:", "find UID/GID for user rene.x-1: No"));
	/* a path stops at a colon, a quote and a blank */
	assert_true(m("open {p}: permission", "open /root/.bash_logout: permission denied"));
	assert_true(m("'{p}' is", "'/dev/net/tun' is"));
}

static void any_backtracks_to_the_first_fit(void **state)
{
	(void)state;
	assert_true(m("tun{*}No such device", "open(\"/dev/net/tun\"): No such device"));
	assert_true(m("a{*}b{*}c", "xxaxxbxxbxxc"));
	assert_false(m("a{*}b{*}c", "xxcxxbxxa"));
	assert_true(m("records {*} from /etc/subuid",
		      "Could not find records for the current user my_user from /etc/subuid"));
}

static void captures_are_numbered_in_order(void **state)
{
	(void)state;
	struct rs_pattern *p = NULL;
	const char *why, *line = "newuidmap 81652 [0 1000 1 1 100000 65536] failed";
	struct rs_pattern_cap caps[RS_PATTERN_MAX_HOLES];
	const char *src = "newuidmap {n} [0 {n} 1";
	assert_int_equal(rs_pattern_compile(src, strlen(src), &p, &why), 0);
	assert_int_equal(rs_pattern_holes(p), 2);
	assert_true(rs_pattern_match(p, line, strlen(line), caps));
	assert_int_equal(caps[0].len, 5);
	assert_memory_equal(line + caps[0].off, "81652", 5);
	assert_memory_equal(line + caps[1].off, "1000", 4);
	rs_pattern_free(p);
}

static void literal_brace_and_anchor(void **state)
{
	(void)state;
	struct rs_pattern *p = NULL;
	const char *why, *src = "&{{logWriter: failed to setup network";
	size_t alen;
	assert_int_equal(rs_pattern_compile(src, strlen(src), &p, &why), 0);
	/* the longest run without blanks (a blank matches any run of them) */
	assert_string_equal(rs_pattern_anchor(p, &alen), "&{logwriter:");
	assert_int_equal(alen, 12);
	assert_true(rs_pattern_match(p, "x &{logWriter: failed to setup network", 38, NULL));
	rs_pattern_free(p);
}

static void malformed_patterns_refused(void **state)
{
	(void)state;
	bad("");
	bad("{n}");
	bad("{x} abc");
	bad("abc {n");
	bad("abc{w}{n}def");
	bad("abc{n}{*}def");
	bad("{*}abc");
	bad("abc{*}");
	bad("ab{*}{*}cd");
	bad(" abc");
	bad("abc ");
	bad("abc\ndef");
	bad("abc\x1b[2Jdef");
	bad("a{n}b{n}c{n}d{n}e{n}f{n}g{n}h{n}i{n}j{n}k");
	char big[RS_PATTERN_MAX_LEN + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bad(big);
}

static int add_doc(const char *text, struct rs_errcat *cat, struct rs_error **err)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	assert_non_null(doc);
	return rs_errcat_add(cat, doc, "test", err);
}

#define ENTRY(extra)                                                                           \
	"{\"schema\": \"rootless-setup/errors/v1\", \"errors\": [{\"id\": \"e-1\", "           \
	"\"patterns\": [\"failed to frobnicate\"], \"engines\": [\"*\"], \"rules\": "          \
	"[\"subid.ranges\"], \"cause\": \"c\", \"sources\": [\"https://example.org/1\"]" extra \
	"}]}"

static void catalogue_schema_enforced(void **state)
{
	(void)state;
	static const char *const bad_docs[] = {
		ENTRY(", \"bogus\": 1"),
		ENTRY(", \"docs\": \"http://insecure.example/\""),
		ENTRY(", \"generic\": \"yes\""),
		"{\"schema\": \"x/v1\", \"errors\": []}",
		"{\"schema\": \"rootless-setup/errors/v1\", \"errors\": [{\"id\": \"Bad_ID\"}]}",
		"{\"schema\": \"rootless-setup/errors/v1\", \"errors\": [{\"id\": \"x\", "
		"\"patterns\": [\"tiny\"], \"engines\": [\"*\"], \"rules\": [], \"cause\": \"c\", "
		"\"fix\": \"f\", \"sources\": [\"https://example.org/\"]}]}",
		"{\"schema\": \"rootless-setup/errors/v1\", \"errors\": [{\"id\": \"x\", "
		"\"patterns\": [\"long enough text\"], \"engines\": [\"*\"], \"rules\": [], "
		"\"cause\": \"no fix and no rule\", \"sources\": [\"https://example.org/\"]}]}",
		"{\"schema\": \"rootless-setup/errors/v1\", \"errors\": [{\"id\": \"x\", "
		"\"patterns\": [\"long enough text\"], \"engines\": [\"nope\"], \"rules\": "
		"[\"no.such-rule\"], \"cause\": \"c\", \"sources\": [\"https://example.org/\"]}]}",
		NULL,
	};
	for (const char *const *d = bad_docs; *d; d++) {
		struct rs_errcat cat = {0};
		struct rs_error *err = NULL;
		assert_int_equal(add_doc(*d, &cat, &err), -EINVAL);
		assert_non_null(err);
		assert_null(strchr(err->msg, '\n'));
		rs_error_free(err);
		rs_errcat_clear(&cat);
	}
	struct rs_errcat cat = {0};
	struct rs_error *err = NULL;
	assert_int_equal(add_doc(ENTRY(""), &cat, &err), 0);
	assert_int_equal(add_doc(ENTRY(""), &cat, &err), -EINVAL); /* the id twice */
	assert_non_null(strstr(err->msg, "used twice"));
	rs_error_free(err);
	rs_errcat_clear(&cat);
}

static void embedded_catalogue_valid_and_rules_known(void **state)
{
	(void)state;
	const struct rs_errcat *cat = NULL;
	struct rs_error *err = NULL;
	assert_int_equal(rs_errcat_get(&cat, &err), 0);
	assert_true(cat->n >= 40);
	for (size_t i = 0; i < cat->n; i++)
		for (size_t k = 0; k < cat->e[i].nrules; k++)
			assert_true(rs_errcat_rule_known(&rs_rules, cat->e[i].rules[k]));
}

static void scan_ranks_specific_first(void **state)
{
	(void)state;
	static const char text[] =
		"x\n"
		"newuidmap: write to uid_map failed: Operation not permitted\n"
		"Error: cannot set up namespace using \"/bin/newuidmap\": should have setuid or "
		"have filecaps setuid: exit status 1\r\n";
	struct rs_diag_scan *s = NULL;
	struct rs_error *err = NULL;
	assert_int_equal(rs_diag_scan(text, strlen(text), 0, &s, &err), 0);
	assert_true(s->n >= 2);
	assert_string_equal(s->m[0].entry->id, "newuidmap-not-setuid");
	assert_int_equal(s->m[0].line, 3);
	assert_string_equal(s->m[1].entry->id, "newuidmap-write-eperm");
	assert_int_equal(s->m[1].line, 2);
	assert_int_equal(s->m[1].hits, 2); /* both lines, each once */
	assert_int_equal(s->lines, 3);
	rs_diag_scan_free(s);
	/* an engine filter leaves out entries of other engines */
	static const char podman[] = "WARN[0000] The cgroupv2 manager is set to systemd but "
				     "there is no systemd user session available";
	assert_int_equal(rs_diag_scan(podman, strlen(podman), 1u << 0, &s, &err), 0);
	assert_int_equal(s->n, 0);
	rs_diag_scan_free(s);
	assert_int_equal(rs_diag_scan("", 0, 0, &s, &err), 0);
	assert_int_equal(s->n, 0);
	assert_int_equal(s->lines, 0);
	rs_diag_scan_free(s);
}

/* The messages of our own launcher (src/launch/launch.c), as its unit's
 * journal shows them: install's diagnosis of a unit that did not come up
 * depends on each being known. */
static void launch_messages_recognised(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"rootless-setup[812]: rootless-setup: cannot create the namespaces: No space left "
		 "on device (likely cause: user.max_user_namespaces is 0 or used up)",
		 "launch-userns-enospc"},
		{"rootless-setup: cannot create the namespaces: Operation not permitted (likely "
		 "cause: unprivileged user namespaces are disabled)",
		 "launch-userns-eperm"},
		{"rootless-setup: cannot create the namespaces: Permission denied (likely cause: "
		 "AppArmor)",
		 "launch-userns-eacces"},
		{"rootless-setup: warning: no_new_privs is set, so the setuid newuidmap cannot map "
		 "subordinate ids; using a single-id map (uid -> 0)",
		 "launch-nnp"},
		{"rootless-setup: warning: 'alice' has no subordinate ids (/etc/subuid and "
		 "/etc/subgid); using a single-id map (uid -> 0)",
		 "launch-no-subids"},
		{"rootless-setup: warning: newuidmap/newgidmap are not installed; using a "
		 "single-id "
		 "map (uid -> 0)",
		 "launch-no-helpers"},
		{"rootless-setup: cannot map ids (AppArmor, an LSM or a seccomp filter may forbid "
		 "newuidmap): '/usr/bin/newuidmap' failed (exit 1): newuidmap: write to uid_map "
		 "failed: Operation not permitted",
		 "launch-map-failed"},
		{"rootless-setup: no XDG_RUNTIME_DIR and no /run/user/1000: pass --state-dir",
		 "launch-no-runtime-dir"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rs_diag_scan *s = NULL;
		struct rs_error *err = NULL;
		assert_int_equal(rs_diag_scan(cases[i][0], strlen(cases[i][0]), 0, &s, &err), 0);
		assert_true(s->n >= 1);
		assert_string_equal(s->m[0].entry->id, cases[i][1]);
		rs_diag_scan_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_text_matches_anywhere_case_insensitively),
		cmocka_unit_test(blanks_match_any_run_of_blanks),
		cmocka_unit_test(classes_take_their_run),
		cmocka_unit_test(any_backtracks_to_the_first_fit),
		cmocka_unit_test(captures_are_numbered_in_order),
		cmocka_unit_test(literal_brace_and_anchor),
		cmocka_unit_test(malformed_patterns_refused),
		cmocka_unit_test(catalogue_schema_enforced),
		cmocka_unit_test(embedded_catalogue_valid_and_rules_known),
		cmocka_unit_test(scan_ranks_specific_first),
		cmocka_unit_test(launch_messages_recognised),
	};
	return cmocka_run_group_tests_name("pattern", tests, NULL, NULL);
}
