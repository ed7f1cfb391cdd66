/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "checks/registry.h"
#include "cli.h"
#include "core/distro.h"
#include "core/rule.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

static char *engines_text(unsigned mask)
{
	if (mask == RS_ENGINES_ALL)
		return rs_xstrdup("all");
	_cleanup_free_ char *s = rs_xstrdup("");
	for (unsigned e = 0; e < RS_ENGINE_COUNT; e++) {
		if (!(mask & RS_ENGINE_BIT(e)))
			continue;
		rs_list_add(&s, ",", rs_engine_name(e));
	}
	return TAKE_PTR(s);
}

static void rules_help(void)
{
	printf("Usage:\n rootless-setup rules [--format text|json]\n\n"
	       "List every rule id with its engines and a one-line description.\n\n"
	       " -h, --help              display this help\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

static void parse_noargs(struct rs_cli *cli, int argc, char **argv, void (*help)(void))
{
	static const struct option longopts[] = {RS_GLOBAL_LONGOPTS, {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1)
		rs_cli_global(cli, c, optarg, help);
}

static int cmd_rules(struct rs_cli *cli, int argc, char **argv)
{
	parse_noargs(cli, argc, argv, rules_help);
	if (optind < argc)
		rs_cli_usage_error("rules takes no arguments: '%s'", argv[optind]);
	_cleanup_json_ json_t *arr = json_array();
	for (size_t i = 0; i < rs_rules.n; i++) {
		const struct rs_rule *r = rs_rules.v[i];
		_cleanup_free_ char *eng = engines_text(r->engines);
		if (cli->format == RS_FORMAT_JSON)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "id", r->id,
							     "summary", r->summary, "engines", eng,
							     "fixer", r->fixer != NULL));
		else
			printf("%-22s %-30s %s\n", r->id, eng, r->summary);
	}
	if (cli->format == RS_FORMAT_JSON) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	return RS_EXIT_OK;
}

const struct rs_cmd rs_cmd_rules = {
	.name = "rules",
	.summary = "list every rule id",
	.run = cmd_rules,
};

static void explain_help(void)
{
	printf("Usage:\n rootless-setup explain <rule-id>\n\n"
	       "Explain a rule: what it checks, why, per-distro hints and its fixer.\n\n"
	       " -h, --help              display this help\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

static void print_distro_hints(const char *id)
{
	bool header = false;
	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id; b++) {
		_cleanup_json_ json_t *doc = json_loadb(b->json, b->len, 0, NULL);
		const char *h = json_string_value(
			json_object_get(json_object_get(doc, "hints"), id));
		if (h) {
			if (!header)
				printf("\nPer-distro hints:\n");
			header = true;
			printf("  %s: %s\n", b->id, h);
		}
	}
}

/* The rule's upstream documentation: generic's, and where a distro names
 * another page, that one too. */
static void print_docs(const char *id)
{
	const char *generic = NULL;
	_cleanup_json_ json_t *gdoc = NULL;

	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id; b++)
		if (strcmp(b->id, "generic") == 0) {
			gdoc = json_loadb(b->json, b->len, 0, NULL);
			generic = json_string_value(
				json_object_get(json_object_get(gdoc, "docs"), id));
		}
	if (generic)
		printf("\nDocs: %s\n", generic);
	for (const struct rs_distro_blob *b = rs_distro_blobs; b->id; b++) {
		_cleanup_json_ json_t *doc = json_loadb(b->json, b->len, 0, NULL);
		const char *u = json_string_value(
			json_object_get(json_object_get(doc, "docs"), id));
		if (u && strcmp(b->id, "generic") && !rs_streq(u, generic))
			printf("%s  %s: %s\n", generic ? "" : "\nDocs:\n", b->id, u);
	}
}

static int cmd_explain(struct rs_cli *cli, int argc, char **argv)
{
	parse_noargs(cli, argc, argv, explain_help);
	if (optind + 1 != argc)
		rs_cli_usage_error("explain takes one rule id");
	const struct rs_rule *r = rs_rule_find(&rs_rules, argv[optind]);
	if (!r)
		rs_cli_usage_error("unknown rule '%s' (see 'rootless-setup rules')", argv[optind]);
	_cleanup_free_ char *eng = engines_text(r->engines);
	printf("%s: %s\n\nEngines: %s\n\n%s\n", r->id, r->summary, eng, r->explain);
	print_distro_hints(r->id);
	print_docs(r->id);
	if (r->fixer)
		printf("\nFixer: rootless-setup fix --rule %s (see what it would do with "
		       "'fix --dry-run --rule %s')\n",
		       r->id, r->id);
	else
		printf("\nFixer: none; the report says what to do by hand\n");
	return RS_EXIT_OK;
}

const struct rs_cmd rs_cmd_explain = {
	.name = "explain",
	.summary = "explain one rule",
	.run = cmd_explain,
};
