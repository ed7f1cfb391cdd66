/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checks/registry.h"
#include "cli.h"
#include "cmd-net-helper.h"
#include "cmd-probe-child.h"
#include "checks/probe.h"
#include "core/check.h"
#include "core/engine.h"
#include "host/host.h"
#include "host/user.h"
#include "launch/netemb.h"
#include "lib/strutil.h"
#include "lib/xalloc.h"

static const struct rs_cmd *const commands[] = {
	&rs_cmd_check,
	&rs_cmd_fix,
	&rs_cmd_generate,
	&rs_cmd_install,
	&rs_cmd_uninstall,
	&rs_cmd_launch,
	&rs_cmd_nsenter,
	&rs_cmd_ports,
	&rs_cmd_oci,
	&rs_cmd_rules,
	&rs_cmd_explain,
	&rs_cmd_diagnose,
	NULL,
};

const char *rs_cli_esc(const char *s)
{
	/* a ring, so one printf may show several escaped fields */
	static char *ring[16];
	static unsigned next;

	if (!s)
		return NULL;
	unsigned i = next++ % ARRAY_SIZE(ring);
	free(ring[i]);
	ring[i] = rs_escape(s);
	return ring[i];
}

/* Messages carry paths, user names and record lines: the whole formatted
 * line is escaped once here, so no caller can forget a field. */
_printf_(1, 0) static void cli_vmsg(const char *fmt, va_list ap)
{
	_cleanup_free_ char *m = rs_xvasprintf(fmt, ap);
	_cleanup_free_ char *e = rs_escape(m);
	fprintf(stderr, "rootless-setup: %s", e);
}

void rs_cli_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vmsg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void rs_cli_check_opts(const struct rs_cli *cli, struct rs_check_opts *o)
{
	o->root = cli->root;
	o->user = cli->user;
	o->engines = cli->engines;
	o->engines_given = cli->engines_given;
	o->distro = cli->distro;
	/* who ran sudo or pkexec names the target user of a root caller */
	o->sudo_user = getenv("SUDO_USER");
	o->pkexec_uid = getenv("PKEXEC_UID");
	/* the caller's own dirs: the core uses them only when the caller is the
	 * target user (never root's for someone else) */
	o->xdg_runtime_dir = getenv("XDG_RUNTIME_DIR");
	o->xdg_data_home = getenv("XDG_DATA_HOME");
	o->xdg_config_home = getenv("XDG_CONFIG_HOME");
	o->path = getenv("PATH");
	o->rules = &rs_rules;
}

int rs_cli_fail(int r, struct rs_error *err)
{
	int code = err && err->input ? RS_EXIT_USAGE : RS_EXIT_HOST;
	rs_cli_msg("%s", err ? err->msg : strerror(-r));
	rs_error_free(err);
	return code;
}

unsigned rs_cli_target_uid(const struct rs_cli *cli)
{
	struct rs_check_opts o = {0};
	rs_cli_check_opts(cli, &o);
	const char *spec = o.user ? o.user : o.sudo_user ? o.sudo_user : o.pkexec_uid;
	struct rs_host *h = NULL;
	struct rs_user u = {0};
	struct rs_error *err = NULL;

	if (geteuid() != 0 || !spec)
		return (uid_t)-1;
	int r = rs_host_open("/", &h, &err);
	if (r == 0)
		r = rs_user_resolve(h, spec, &u, &err);
	rs_host_free(h);
	if (r < 0)
		exit(rs_cli_fail(r, err));
	uid_t uid = u.uid;
	rs_user_clear(&u);
	return uid;
}

char *rs_cli_runtime_dir(unsigned target)
{
	/* root for a user: never root's own XDG_RUNTIME_DIR; the user's
	 * /run/user/UID as the core resolves it (rs_ctx_runtime_dir) */
	if (target != (uid_t)-1)
		return rs_xasprintf("/run/user/%u", target);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	return xdg && *xdg == '/' ? rs_xstrdup(xdg)
				  : rs_xasprintf("/run/user/%u", (unsigned)getuid());
}

unsigned rs_cli_one_engine(const struct rs_cli *cli, const char *verb)
{
	for (unsigned i = 0; i < RS_ENGINE_COUNT; i++)
		if (cli->engines == RS_ENGINE_BIT(i))
			return i;
	rs_cli_usage_error("%s takes exactly one --engine", verb);
}

void rs_cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cli_vmsg(fmt, ap);
	va_end(ap);
	fputs("\nTry 'rootless-setup --help'.\n", stderr);
	exit(RS_EXIT_USAGE);
}

static void main_help(void)
{
	printf("Usage:\n rootless-setup [options] <command> [command options]\n\n"
	       "Prepare a host and a user to run container engines without root.\n\n"
	       "Commands:\n");
	for (const struct rs_cmd *const *c = commands; *c; c++)
		printf(" %-10s %s\n", (*c)->name, (*c)->summary);
	printf("\nGlobal options (before or after the command):\n"
	       "     --root <dir>        inspect the host mounted at <dir> instead of /\n"
	       "     --user <name|uid>   the user to prepare (default: the caller, or SUDO_USER)\n"
	       "     --engine <engine>   isulad, containerd, buildkit, devkit, podman, kata, oci\n"
	       "                         or all; repeatable\n"
	       "     --distro <id>       use this distro profile instead of detecting it\n"
	       "     --format <fmt>      text or json (check: jsonl too)\n"
	       "     --color <when>      auto, always or never\n"
	       " -q, --quiet             less output\n"
	       " -v, --verbose           more output\n\n"
	       " -h, --help              display this help\n"
	       "     --version           display version\n\n"
	       "See rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

int rs_cli_global(struct rs_cli *cli, int c, const char *arg, void (*help)(void))
{
	unsigned mask;

	switch (c) {
	case OPT_ROOT:
		cli->root = arg;
		return 1;
	case OPT_USER:
		cli->user = arg;
		return 1;
	case OPT_DISTRO:
		cli->distro = arg;
		return 1;
	case OPT_ENGINE:
		if (rs_engine_parse(arg, &mask) < 0)
			rs_cli_usage_error("unknown engine '%s'", arg);
		cli->engines |= mask;
		cli->engines_given = true;
		return 1;
	case OPT_FORMAT:
		if (strcmp(arg, "text") == 0)
			cli->format = RS_FORMAT_TEXT;
		else if (strcmp(arg, "json") == 0)
			cli->format = RS_FORMAT_JSON;
		else if (strcmp(arg, "jsonl") == 0)
			cli->format = RS_FORMAT_JSONL;
		else
			rs_cli_usage_error("unknown format '%s'", arg);
		if (cli->format == RS_FORMAT_JSONL && cli->verb && strcmp(cli->verb, "check"))
			rs_cli_usage_error("--format jsonl is for check only");
		return 1;
	case OPT_COLOR:
		if (strcmp(arg, "auto") == 0)
			cli->color = RS_COLOR_AUTO;
		else if (strcmp(arg, "always") == 0)
			cli->color = RS_COLOR_ALWAYS;
		else if (strcmp(arg, "never") == 0)
			cli->color = RS_COLOR_NEVER;
		else
			rs_cli_usage_error("unknown color mode '%s'", arg);
		return 1;
	case 'q':
		cli->verbosity = -1;
		return 1;
	case 'v':
		cli->verbosity = 1;
		return 1;
	case 'h':
		help();
		return 1;
	case OPT_VERSION:
		printf("rootless-setup %s\n", RS_VERSION);
		exit(RS_EXIT_OK);
	case '?':
		/* getopt_long has said what was wrong */
		fputs("Try 'rootless-setup --help'.\n", stderr);
		exit(RS_EXIT_USAGE);
	default:
		return 0;
	}
}

bool rs_cli_use_color(const struct rs_cli *cli, FILE *f)
{
	if (cli->color == RS_COLOR_ALWAYS)
		return true;
	if (cli->color == RS_COLOR_NEVER)
		return false;
	const char *nc = getenv("NO_COLOR");
	return !(nc && *nc) && isatty(fileno(f));
}

int rs_cli_finish(int code)
{
	if (fflush(stdout) != 0 && errno != EPIPE) {
		rs_cli_msg("cannot write output: %s", strerror(errno));
		return code ? code : RS_EXIT_HOST;
	}
	return code;
}

/* A package script may start us with fd 0-2 closed; a later open() must
 * not become "stdout". */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
			if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
				abort();
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {RS_GLOBAL_LONGOPTS, {NULL, 0, NULL, 0}};
	struct rs_cli cli = {0};
	int c;

	/* CVE-2021-4034: an empty argv must not shift the environment in */
	if (argc < 1 || !argv[0])
		return RS_EXIT_USAGE;
	ensure_std_fds();
	/* the userns.probe child, a fresh image of us started by root: before
	 * any option parsing, and before SIGPIPE is ignored (its helpers
	 * inherit dispositions) */
	if (argc >= 2 && strcmp(argv[1], RS_PROBE_CHILD_VERB) == 0)
		return rs_cmd_probe_child(argc - 2, argv + 2);
	/* the embedded network's helper, started by the launcher the same way */
	if (argc == 2 && strcmp(argv[1], RS_NETEMB_VERB) == 0)
		return rs_cmd_net_helper();
	signal(SIGPIPE, SIG_IGN);
	/* a `rootlesskit` symlink to us: RootlessKit's command line, no verb,
	 * so scripts and tests written for it run unchanged */
	const char *base = strrchr(argv[0], '/');
	if (strcmp(base ? base + 1 : argv[0], "rootlesskit") == 0) {
		cli.as_rootlesskit = true;
		return rs_cli_finish(rs_cmd_launch.run(&cli, argc, argv));
	}
	while ((c = getopt_long(argc, argv, "+" RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1)
		if (!rs_cli_global(&cli, c, optarg, main_help))
			rs_cli_usage_error("bad option");
	if (optind >= argc)
		rs_cli_usage_error("no command given");
	for (const struct rs_cmd *const *cmd = commands; *cmd; cmd++) {
		if (strcmp((*cmd)->name, argv[optind]) == 0) {
			int vargc = argc - optind;
			char **vargv = argv + optind;
			cli.verb = (*cmd)->name;
			if (cli.format == RS_FORMAT_JSONL && strcmp(cli.verb, "check"))
				rs_cli_usage_error("--format jsonl is for check only");
			optind = 0; /* a fresh getopt scan for the verb */
			return rs_cli_finish((*cmd)->run(&cli, vargc, vargv));
		}
	}
	rs_cli_usage_error("unknown command '%s'", argv[optind]);
}
