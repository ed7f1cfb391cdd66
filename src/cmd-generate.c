/* SPDX-License-Identifier: GPL-2.0-or-later */
/* generate, install, uninstall (SPEC §3, §7). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "lib/xalloc.h"
#include "templates/install.h"

enum {
	OPT_OUTPUT = OPT_VERB_BASE,
	OPT_FORCE,
	OPT_DRY_RUN,
	OPT_NO_START,
	OPT_FIX,
	OPT_PURGE,
	OPT_YES,
	OPT_DEFAULT_RUNTIME,
};

static void gen_help(void)
{
	printf("Usage:\n rootless-setup generate --engine <engine> [--output <dir>] [--force]\n"
	       " rootless-setup install --engine <engine> [--dry-run] [--fix] [--no-start] [--force]\n"
	       " rootless-setup uninstall --engine <engine> [--dry-run] [--purge] [--yes]\n\n"
	       "Write the engine's configuration and systemd user unit for the user;\n"
	       "install also checks, optionally fixes, and starts it; uninstall removes what\n"
	       "install recorded.\n\n"
	       "Options:\n"
	       "     --output <dir>      generate: write the files into <dir> by their names\n"
	       "     --force             replace files that differ; install past failing rules\n"
	       "     --dry-run           print what would be written or run, change nothing\n"
	       "     --fix               install: run fix first (needs root)\n"
	       "     --no-start          install: do not start, print the command\n"
	       "     --default-runtime   kata: make Kata Podman's default runtime\n"
	       "     --purge             uninstall: also remove the engine's data directory\n"
	       "     --yes               uninstall --purge without asking\n\n"
	       " -h, --help              display this help\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

static char *self_path(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	return n > 0 ? rs_xstrndup(buf, (size_t)n) : rs_xstrdup("/usr/bin/rootless-setup");
}

static int run_verb(struct rs_cli *cli, int argc, char **argv, int which)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"force", no_argument, NULL, OPT_FORCE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"no-start", no_argument, NULL, OPT_NO_START},
		{"fix", no_argument, NULL, OPT_FIX},
		{"purge", no_argument, NULL, OPT_PURGE},
		{"yes", no_argument, NULL, OPT_YES},
		{"default-runtime", no_argument, NULL, OPT_DEFAULT_RUNTIME},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_install_opts o = {0};
	bool fix = false, yes = false;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, gen_help))
			continue;
		if (c == OPT_OUTPUT && which == 0)
			o.output = optarg;
		else if (c == OPT_FORCE)
			o.force = true;
		else if (c == OPT_DRY_RUN && which)
			o.dry_run = true;
		else if (c == OPT_NO_START && which == 1)
			o.no_start = true;
		else if (c == OPT_FIX && which == 1)
			fix = true;
		else if (c == OPT_PURGE && which == 2)
			o.purge = true;
		else if (c == OPT_YES && which == 2)
			yes = true;
		else if (c == OPT_DEFAULT_RUNTIME && which < 2)
			o.default_runtime = true;
		else
			rs_cli_usage_error("option not for '%s'", argv[0]);
	}
	if (optind < argc)
		rs_cli_usage_error("%s takes no arguments: '%s'", argv[0], argv[optind]);
	unsigned m = cli->engines;
	if (!cli->engines_given || (m & (m - 1)))
		rs_cli_usage_error("%s needs exactly one --engine", argv[0]);
	o.engine = (enum rs_engine)__builtin_ctz(m);
	if (o.purge && !yes && !o.dry_run)
		rs_cli_usage_error("uninstall --purge removes the engine's data: add --yes");
	_cleanup_free_ char *self = self_path();
	o.self = self;
	o.check = (struct rs_check_opts){
		.root = cli->root, .user = cli->user, .engines = m, .engines_given = true,
		.distro = cli->distro, .sudo_user = getenv("SUDO_USER"),
		.pkexec_uid = getenv("PKEXEC_UID"), .xdg_runtime_dir = getenv("XDG_RUNTIME_DIR"),
		.xdg_data_home = getenv("XDG_DATA_HOME"), .xdg_config_home = getenv("XDG_CONFIG_HOME"),
	};
	if (fix) {
		struct rs_fix_opts fo = {.check = o.check, .dry_run = o.dry_run};
		struct rs_fix_report *fr = NULL;
		struct rs_error *err = NULL;
		if (rs_fix_run(&fo, &fr, &err) == 0 && cli->format == RS_FORMAT_TEXT)
			rs_cli_print_actions(fr, o.dry_run);
		rs_fix_report_free(fr);
		rs_error_free(err);
	}
	struct rs_fix_report *r = NULL;
	struct rs_error *err = NULL;
	int ret = which == 0 ? rs_generate_run(&o, &r, &err)
		  : which == 1 ? rs_install_run(&o, &r, &err) : rs_uninstall_run(&o, &r, &err);
	if (ret < 0) {
		rs_cli_msg("%s", err ? err->msg : strerror(-ret));
		rs_error_free(err);
		return (ret == -ENOENT || ret == -EINVAL) ? RS_EXIT_USAGE : RS_EXIT_HOST;
	}
	return rs_cli_emit_actions(cli, r, o.dry_run);
}

static int cmd_generate(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, 0);
}

static int cmd_install(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, 1);
}

static int cmd_uninstall(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, 2);
}

const struct rs_cmd rs_cmd_generate = {"generate", "write engine configuration files", cmd_generate};
const struct rs_cmd rs_cmd_install = {"install", "check, generate and start an engine", cmd_install};
const struct rs_cmd rs_cmd_uninstall = {"uninstall", "remove what install created", cmd_uninstall};
