/* SPDX-License-Identifier: GPL-2.0-or-later */
/* generate, install, uninstall: rootless-setup(8), COMMANDS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "fixers/fixer.h" /* install --fix runs fix first */
#include "lib/xalloc.h"
#include "install/install.h"

enum {
	OPT_OUTPUT = OPT_VERB_BASE,
	OPT_FORCE,
	OPT_DRY_RUN,
	OPT_NO_START,
	OPT_FIX,
	OPT_PURGE,
	OPT_YES,
	OPT_DEFAULT_RUNTIME,
	OPT_WORKER,
};

static void gen_help(void)
{
	printf("Usage:\n rootless-setup generate --engine <engine> [--output <dir>] [--force]\n"
	       " rootless-setup install --engine <engine> [--dry-run] [--fix] [--no-start] "
	       "[--force]\n"
	       " rootless-setup install --engine buildkit|devkit --worker containerd [...]\n"
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
	       "     --worker <worker>   buildkit, devkit: oci (default) or containerd (the\n"
	       "                         daemon joins the user's containerd launch)\n"
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

/* What each verb takes and runs: the options it accepts (a bit per OPT_*
 * above, from OPT_VERB_BASE) and its core function. */
#define OPTBIT(o) (1u << ((o)-OPT_VERB_BASE))
struct gen_verb {
	const char *name;
	unsigned opts;
	int (*run)(const struct rs_install_opts *o, struct rs_action_report **out,
		   struct rs_error **err);
};

static const struct gen_verb verb_generate = {
	"generate",
	OPTBIT(OPT_OUTPUT) | OPTBIT(OPT_FORCE) | OPTBIT(OPT_DEFAULT_RUNTIME) | OPTBIT(OPT_WORKER),
	rs_generate_run,
};
static const struct gen_verb verb_install = {
	"install",
	OPTBIT(OPT_FORCE) | OPTBIT(OPT_DRY_RUN) | OPTBIT(OPT_NO_START) | OPTBIT(OPT_FIX) |
		OPTBIT(OPT_DEFAULT_RUNTIME) | OPTBIT(OPT_WORKER),
	rs_install_run,
};
static const struct gen_verb verb_uninstall = {
	"uninstall",
	OPTBIT(OPT_FORCE) | OPTBIT(OPT_DRY_RUN) | OPTBIT(OPT_PURGE) | OPTBIT(OPT_YES),
	rs_uninstall_run,
};

static void set_opt(struct rs_install_opts *o, int c, const char *arg, bool *fix, bool *yes)
{
	switch (c) {
	case OPT_OUTPUT:
		o->output = arg;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_NO_START:
		o->no_start = true;
		break;
	case OPT_FIX:
		*fix = true;
		break;
	case OPT_PURGE:
		o->purge = true;
		break;
	case OPT_YES:
		*yes = true;
		break;
	case OPT_DEFAULT_RUNTIME:
		o->default_runtime = true;
		break;
	case OPT_WORKER:
		if (strcmp(arg, "oci") && strcmp(arg, "containerd"))
			rs_cli_usage_error("unknown --worker '%s' (oci, containerd)", arg);
		o->containerd_worker = !strcmp(arg, "containerd");
		break;
	default:
		break;
	}
}

/* install --fix: fix first; what failed is said, and fails the run. */
static bool fix_first(const struct rs_cli *cli, const struct rs_install_opts *o)
{
	struct rs_fix_opts fo = {.check = o->check, .dry_run = o->dry_run};
	struct rs_action_report *fr = NULL;
	struct rs_error *err = NULL;
	bool ok = true;

	if (rs_fix_run(&fo, &fr, &err) < 0) {
		rs_cli_msg("install --fix: %s", err ? err->msg : "fix could not run");
		ok = false;
	} else {
		if (cli->format == RS_FORMAT_TEXT)
			rs_cli_print_actions(fr, o->dry_run);
		if (fr->failed) {
			rs_cli_msg("install --fix: %u fix action%s failed", fr->failed,
				   fr->failed == 1 ? "" : "s");
			ok = false;
		}
	}
	rs_action_report_free(fr);
	rs_error_free(err);
	return ok;
}

static int run_verb(struct rs_cli *cli, int argc, char **argv, const struct gen_verb *v)
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
		{"worker", required_argument, NULL, OPT_WORKER},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_install_opts o = {0};
	bool fix = false, yes = false;
	int c;

	while ((c = getopt_long(argc, argv, RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, gen_help))
			continue;
		if (c < OPT_VERB_BASE || !(v->opts & OPTBIT(c)))
			rs_cli_usage_error("option not for '%s'", v->name);
		set_opt(&o, c, optarg, &fix, &yes);
	}
	if (optind < argc)
		rs_cli_usage_error("%s takes no arguments: '%s'", v->name, argv[optind]);
	unsigned m = cli->engines;
	if (!cli->engines_given || (m & (m - 1)))
		rs_cli_usage_error("%s needs exactly one --engine", v->name);
	o.engine = (enum rs_engine)__builtin_ctz(m);
	if (o.containerd_worker && !(RS_ENGINE_BIT(o.engine) & RS_ENGINES_BUILDKIT))
		rs_cli_usage_error("--worker is for buildkit and devkit");
	if (o.purge && !yes && !o.dry_run)
		rs_cli_usage_error("uninstall --purge removes the engine's data: add --yes");
	_cleanup_free_ char *self = self_path();
	o.self = self;
	rs_cli_check_opts(cli, &o.check);
	o.check.engines = m;
	o.check.engines_given = true;
	bool fixed = !fix || fix_first(cli, &o);
	struct rs_action_report *r = NULL;
	struct rs_error *err = NULL;
	int ret = v->run(&o, &r, &err);
	if (ret < 0)
		return rs_cli_fail(ret, err);
	int code = rs_cli_emit_actions(cli, r, o.dry_run);
	return code ? code : fixed ? RS_EXIT_OK : RS_EXIT_FAIL;
}

static int cmd_generate(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, &verb_generate);
}

static int cmd_install(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, &verb_install);
}

static int cmd_uninstall(struct rs_cli *cli, int argc, char **argv)
{
	return run_verb(cli, argc, argv, &verb_uninstall);
}

const struct rs_cmd rs_cmd_generate = {"generate", "write engine configuration files",
				       cmd_generate};
const struct rs_cmd rs_cmd_install = {"install", "check, generate and start an engine",
				      cmd_install};
const struct rs_cmd rs_cmd_uninstall = {"uninstall", "remove what install created", cmd_uninstall};
