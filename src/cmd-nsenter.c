/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "core/engine.h"
#include "launch/launch.h"
#include "lib/xalloc.h"

enum { OPT_STATE_DIR = OPT_VERB_BASE };

/* the engines given before the verb, for the help's client note */
static unsigned help_engines;

static void nsenter_help(void)
{
	printf("Usage:\n rootless-setup nsenter [--state-dir <dir> | --engine <engine>] -- "
	       "<command>\n\n"
	       "Run a command inside the namespaces of a running launch. A user enters only\n"
	       "its own launches; root enters a user's launch as that user (uid, gid, groups,\n"
	       "no capabilities), with the user's environment and, for a terminal, a pty.\n\n"
	       "Options:\n"
	       "     --state-dir <dir>   the launch's state dir\n"
	       "     --engine <engine>   that engine's launch "
	       "($XDG_RUNTIME_DIR/rootless-setup/ENGINE)\n"
	       "                         and its client environment (CONTAINERD_ADDRESS, ...);\n"
	       "                         for root with --user (or sudo), that user's\n"
	       "                         /run/user/UID\n\n"
	       " -h, --help              display this help\n\n");
	/* the client flags no configuration file can give (the engine table),
	 * for the engine named: `--engine containerd nsenter --help` */
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++) {
		const struct rs_engine_info *ei = rs_engine_info(i);
		if ((help_engines & RS_ENGINE_BIT(i)) && ei->daemon && ei->client_run &&
		    ei->no_cgroup_flags)
			printf("%s where the user has no cgroups (cgroup v1 or hybrid, or v2 not\n"
			       "delegated), as 'install' prints it:\n  rootless-setup nsenter "
			       "--engine %s "
			       "-- %s %s %s\n\n",
			       ei->title, ei->name, ei->client_run, ei->no_cgroup_flags,
			       ei->client_args);
	}
	printf("See rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

/* The client environment of the engine's socket (the engine table), as
 * "NAME=value" in *out (caller frees), or NULL. */
static char *engine_env(enum rs_engine e, const char *run)
{
	_cleanup_free_ char *v = rs_engine_client_value(e, run);
	return v ? rs_xasprintf("%s=%s", rs_engine_info(e)->client_var, v) : NULL;
}

static int cmd_nsenter(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	_cleanup_free_ char *engine_dir = NULL, *run = NULL, *client = NULL;
	struct rs_nsenter_opts o = {.env = environ,
				    .term = getenv("TERM"),
				    .lang = getenv("LANG"),
				    .owner = (uid_t)-1};
	int c;

	help_engines = cli->engines_given ? cli->engines : 0;
	while ((c = getopt_long(argc, argv, "+" RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		help_engines = cli->engines_given ? cli->engines : 0;
		if (rs_cli_global(cli, c, optarg, nsenter_help))
			continue;
		dir = optarg;
	}
	if (optind >= argc)
		rs_cli_usage_error(
			"nsenter needs a command: rootless-setup nsenter [options] -- CMD");
	if (!dir && !cli->engines_given)
		rs_cli_usage_error("nsenter needs --state-dir or --engine");
	/* --user with --state-dir: the dir must be that user's */
	if (dir && cli->user)
		o.owner = rs_cli_target_uid(cli);
	if (!dir) {
		enum rs_engine e = rs_cli_one_engine(cli, "nsenter");
		/* root for a user (--user, sudo, pkexec): the user's runtime
		 * dir, whose launch must then be that user's */
		run = rs_cli_runtime_dir(o.owner = rs_cli_target_uid(cli));
		dir = engine_dir = rs_xasprintf("%s/rootless-setup/%s", run, rs_engine_name(e));
		client = engine_env(e, run);
		/* the snapshotter install chose, when it left one, unless the
		 * caller's environment names one (a user's own nsenter) */
		o.snapshotter = !getenv("CONTAINERD_SNAPSHOTTER") || geteuid() == 0;
		o.run_dir = run;
	}
	const char *const client_env[] = {client, NULL};
	o.dir = dir;
	o.argv = argv + optind;
	o.client_env = client ? client_env : NULL;
	struct rs_error *err = NULL;
	int r = rs_nsenter_run(&o, &err);
	if (err) {
		rs_cli_msg("%s", err->msg);
		rs_error_free(err);
	}
	/* Having joined a pid namespace, we can no longer see ourselves there:
	 * exit handlers that trace this process (LeakSanitizer's tracer, under
	 * make SAN=1) would wait forever. Nothing is left to do but leave. */
	_exit(rs_cli_finish(r));
}

const struct rs_cmd rs_cmd_nsenter = {
	.name = "nsenter",
	.summary = "run a command inside a running launch",
	.run = cmd_nsenter,
};
