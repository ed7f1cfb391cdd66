/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `rootless-setup ports`: RootlessKit's rootlessctl for a launch's API
 * socket (ours or RootlessKit's): list, add SPEC, remove ID. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "core/engine.h"
#include "ports/api.h"
#include "ports/portspec.h"
#include "lib/xalloc.h"

enum { OPT_STATE_DIR = OPT_VERB_BASE };

static void ports_help(void)
{
	printf("Usage:\n rootless-setup ports [--state-dir <dir> | --engine <engine>] list\n"
	       " rootless-setup ports [--state-dir <dir> | --engine <engine>] add <spec>...\n"
	       " rootless-setup ports [--state-dir <dir> | --engine <engine>] remove <id>...\n\n"
	       "List, add and remove the ports a running launch (or RootlessKit) forwards,\n"
	       "through its API socket STATE_DIR/api.sock.\n\n"
	       "Options:\n"
	       "     --state-dir <dir>   the launch's state dir\n"
	       "     --engine <engine>   the state dir of that engine's installed unit\n\n"
	       "<spec>: [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT/PROTO, PROTO one of tcp,\n"
	       "udp, tcp4, tcp6, udp4, udp6; IPv6 addresses in brackets.\n\n"
	       "See rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

/* Prints the API's {"message": ...} (or the status) and returns 1. */
static int api_failed(int status, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	if (m)
		rs_cli_msg("%s", m);
	else
		rs_cli_msg("the API answered HTTP %d", status);
	json_decref(j);
	return RS_EXIT_FAIL;
}

/* Where the request goes: the socket of a state dir, and, for root, the
 * uid that must own it ((uid_t)-1: whoever owns the state dir). */
struct target {
	const char *dir;
	const char *sock;
	uid_t expect;
};

static int call(const struct target *t, const char *method, const char *path, const char *body,
		char **resp)
{
	struct rs_error *err = NULL;
	int status;
	/* root reaches a user's socket through the guarded walk, and asks as
	 * the user; a user's own call needs neither (the kernel checks it) */
	int r = geteuid() == 0 ? rs_api_call_guarded(t->dir, t->expect, method, path, body, &status,
						     resp, &err)
			       : rs_api_call(t->sock, method, path, body, &status, resp, &err);
	if (r < 0) {
		rs_cli_msg("%s", err ? err->msg : strerror(-r));
		rs_error_free(err);
		return RS_EXIT_HOST;
	}
	if (status / 100 != 2) {
		r = api_failed(status, *resp);
		free(*resp);
		*resp = NULL;
		return r;
	}
	return 0;
}

static int do_list(const struct target *t)
{
	_cleanup_free_ char *resp = NULL;
	int r = call(t, "GET", "/v1/ports", NULL, &resp);
	if (r)
		return r;
	/* RootlessKit sends null for no ports (a Go nil slice) */
	json_t *a = json_loads(resp, JSON_DECODE_ANY, NULL);
	if (json_is_null(a)) {
		json_decref(a);
		a = json_array();
	}
	if (!json_is_array(a)) {
		json_decref(a);
		rs_cli_msg("the API's port list is not a JSON array");
		return RS_EXIT_HOST;
	}
	printf("%-4s %-6s %-16s %-11s %-16s %s\n", "ID", "PROTO", "PARENTIP", "PARENTPORT",
	       "CHILDIP", "CHILDPORT");
	size_t i;
	json_t *st;
	json_array_foreach (a, i, st) {
		json_t *sp = json_object_get(st, "spec");
		const char *pip = json_string_value(json_object_get(sp, "parentIP"));
		const char *cip = json_string_value(json_object_get(sp, "childIP"));
		const char *proto = json_string_value(json_object_get(sp, "proto"));
		printf("%-4lld %-6s %-16s %-11lld %-16s %lld\n",
		       (long long)json_integer_value(json_object_get(st, "id")),
		       rs_cli_esc(proto ? proto : ""), rs_cli_esc(pip ? pip : ""),
		       (long long)json_integer_value(json_object_get(sp, "parentPort")),
		       rs_cli_esc(cip ? cip : ""),
		       (long long)json_integer_value(json_object_get(sp, "childPort")));
	}
	json_decref(a);
	return 0;
}

static int do_add(const struct target *t, const char *spec)
{
	struct rs_portspec p;
	const char *why;
	if (rs_portspec_parse(spec, &p, &why) < 0)
		rs_cli_usage_error("bad port spec '%s': %s", spec, why);
	json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:i}", "proto", p.proto, "parentIP",
			      p.parent_ip, "parentPort", (int)p.parent_port, "childIP", p.child_ip,
			      "childPort", (int)p.child_port);
	_cleanup_free_ char *body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	_cleanup_free_ char *resp = NULL;
	int r = call(t, "POST", "/v1/ports", body, &resp);
	if (r)
		return r;
	json_t *st = json_loads(resp, 0, NULL);
	printf("%lld\n", (long long)json_integer_value(json_object_get(st, "id")));
	json_decref(st);
	return 0;
}

static int do_remove(const struct target *t, const char *id)
{
	uint64_t v;
	if (rs_parse_u64(id, INT32_MAX, &v) < 0)
		rs_cli_usage_error("bad port id '%s'", id);
	_cleanup_free_ char *path = rs_xasprintf("/v1/ports/%llu", (unsigned long long)v);
	_cleanup_free_ char *resp = NULL;
	int r = call(t, "DELETE", path, NULL, &resp);
	if (!r)
		printf("%llu\n", (unsigned long long)v);
	return r;
}

static int cmd_ports(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1)
		if (!rs_cli_global(cli, c, optarg, ports_help))
			dir = optarg;
	if (optind >= argc)
		rs_cli_usage_error("ports needs list, add SPEC or remove ID");
	if (!dir && !cli->engines_given)
		rs_cli_usage_error("ports needs --state-dir or --engine");
	/* the user root acts for names the state dir (--engine) or is
	 * checked against its owner (--user) */
	uid_t target = !dir || cli->user ? rs_cli_target_uid(cli) : (uid_t)-1;
	_cleanup_free_ char *run = dir ? NULL : rs_cli_runtime_dir(target);
	_cleanup_free_ char *edir = dir ? NULL
					: rs_xasprintf("%s/rootless-setup/%s", run,
						       rs_engine_name(
							       rs_cli_one_engine(cli, "ports")));
	_cleanup_free_ char *sock = rs_xasprintf("%s/api.sock", dir ? dir : edir);
	struct target t = {.dir = dir ? dir : edir, .sock = sock, .expect = target};
	const char *verb = argv[optind++];
	int r = 0;
	if (!strcmp(verb, "list") && optind == argc)
		return do_list(&t);
	if (!strcmp(verb, "add") && optind < argc) {
		for (; optind < argc && !r; optind++)
			r = do_add(&t, argv[optind]);
		return r;
	}
	if (!strcmp(verb, "remove") && optind < argc) {
		for (; optind < argc && !r; optind++)
			r = do_remove(&t, argv[optind]);
		return r;
	}
	rs_cli_usage_error("ports needs list, add SPEC... or remove ID...");
}

const struct rs_cmd rs_cmd_ports = {
	.name = "ports",
	.summary = "list, add or remove a launch's forwarded ports",
	.run = cmd_ports,
};
