/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "core/engine.h"
#include "launch/api.h"
#include "launch/launch.h"
#include "launch/portspec.h"
#include "lib/xalloc.h"

enum {
	OPT_STATE_DIR = OPT_VERB_BASE,
	OPT_COPY_UP,
	OPT_NET,
	OPT_MTU,
	OPT_CIDR,
	OPT_DISABLE_HOST_LOOPBACK,
	OPT_CGROUPNS,
	OPT_PIDNS,
	OPT_IPCNS,
	OPT_UTSNS,
	OPT_PROPAGATION,
	OPT_OVERLAY_FILE,
	OPT_PORT_DRIVER,
	OPT_PUBLISH = 'p',
};

static void launch_help(void)
{
	printf("Usage:\n rootless-setup launch [options] -- <command> [args...]\n\n"
	       "Run a command as root in new user and mount namespaces, with the caller's\n"
	       "subordinate ids mapped (RootlessKit's options, in C).\n\n"
	       "Options:\n"
	       "     --state-dir <dir>        child_pid and lock (default:\n"
	       "                              $XDG_RUNTIME_DIR/rootless-setup/launch-PID)\n"
	       "     --copy-up <dir>          writable tmpfs of links over <dir> (repeatable)\n"
	       "     --overlay-file <src:dst> show file <src> at <dst> inside (repeatable)\n"
	       "     --net <mode>             host (default), slirp4netns or none\n"
	       "     --mtu <n>                MTU for slirp4netns (default 65520)\n"
	       "     --cidr <cidr>            slirp4netns network (default 10.0.2.0/24)\n"
	       "     --disable-host-loopback  slirp4netns: no access to the host's 127.0.0.1\n"
	       "     --cgroupns               new cgroup namespace\n"
	       "     --pidns                  new pid namespace (PID 1 reaps and forwards)\n"
	       "     --ipcns                  new IPC namespace\n"
	       "     --utsns                  new UTS namespace\n"
	       "     --propagation <mode>     rprivate (default), rslave, rshared, private...\n"
	       "     --port-driver <driver>   none (default), builtin, slirp4netns or implicit\n"
	       " -p, --publish <spec>         [PARENTIP:]PARENTPORT:[CHILDIP:]CHILDPORT/PROTO\n"
	       "                              (tcp, udp, tcp4, tcp6, udp4, udp6; repeatable)\n\n"
	       " -h, --help                   display this help\n\n"
	       "Exit status: the command's (128+N when signal N killed it); 125 the launch\n"
	       "could not be set up, 126 the command cannot run, 127 it was not found.\n\n"
	       "See rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

static void launch_warn(const char *msg)
{
	rs_cli_msg("warning: %s", msg);
}

static char *absolute_dir(const char *d)
{
	char *real = realpath(d, NULL);
	if (!real)
		rs_cli_usage_error("cannot copy up '%s': %s", d, strerror(errno));
	return real;
}

static void parse_opt(struct rs_launch_opts *o, int c, const char *arg)
{
	uint64_t n;
	unsigned char net[4];
	unsigned prefix;

	switch (c) {
	case OPT_STATE_DIR:
		o->state_dir = arg;
		o->state_dir_given = true;
		break;
	case OPT_COPY_UP:
		rs_strv_take(&o->copy_up, absolute_dir(arg));
		break;
	case OPT_OVERLAY_FILE: {
		const char *colon = strchr(arg, ':');
		if (!colon || colon == arg || colon[1] != '/')
			rs_cli_usage_error("--overlay-file wants SRC:DST with an absolute DST: '%s'", arg);
		_cleanup_free_ char *src = rs_xstrndup(arg, (size_t)(colon - arg));
		_cleanup_free_ char *real = realpath(src, NULL);
		struct stat st;
		if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
			rs_cli_usage_error("--overlay-file: '%s' is not a readable file", src);
		rs_strv_take(&o->overlay_files, rs_xasprintf("%s:%s", real, colon + 1));
		break;
	}
	case OPT_NET:
		if (!strcmp(arg, "host"))
			o->net = RS_NET_HOST;
		else if (!strcmp(arg, "none"))
			o->net = RS_NET_NONE;
		else if (!strcmp(arg, "slirp4netns"))
			o->net = RS_NET_SLIRP4NETNS;
		else
			rs_cli_usage_error("unknown --net '%s' (host, slirp4netns or none)", arg);
		break;
	case OPT_MTU:
		if (rs_parse_u64(arg, 65521, &n) < 0 || n < 68)
			rs_cli_usage_error("bad --mtu '%s' (68 to 65521)", arg);
		o->mtu = (unsigned)n;
		break;
	case OPT_CIDR:
		if (rs_launch_parse_cidr(arg, net, &prefix) < 0)
			rs_cli_usage_error("bad --cidr '%s' (a network address such as 10.0.2.0/24)", arg);
		o->cidr = arg;
		break;
	case OPT_DISABLE_HOST_LOOPBACK:
		o->disable_host_loopback = true;
		break;
	case OPT_CGROUPNS:
		o->cgroupns = true;
		break;
	case OPT_PIDNS:
		o->pidns = true;
		break;
	case OPT_IPCNS:
		o->ipcns = true;
		break;
	case OPT_UTSNS:
		o->utsns = true;
		break;
	case OPT_PORT_DRIVER: {
		enum rs_port_driver d;
		if (rs_port_driver_parse(arg, &d) < 0)
			rs_cli_usage_error("unknown --port-driver '%s' (none, builtin, slirp4netns or "
					   "implicit)", arg);
		o->port_driver = arg;
		break;
	}
	case OPT_PUBLISH: {
		struct rs_portspec sp;
		const char *why;
		if (rs_portspec_parse(arg, &sp, &why) < 0)
			rs_cli_usage_error("bad -p '%s': %s", arg, why);
		rs_strv_push(&o->publish, arg);
		break;
	}
	case OPT_PROPAGATION:
		if (rs_launch_parse_propagation(arg, &o->propagation) < 0)
			rs_cli_usage_error("unknown --propagation '%s'", arg);
		break;
	default:
		rs_cli_usage_error("bad option");
	}
}

static void port_opts_check(const struct rs_launch_opts *o)
{
	const char *d = o->port_driver ? o->port_driver : "none";
	if (o->publish.n && !strcmp(d, "none"))
		rs_cli_usage_error("-p needs a --port-driver (builtin or slirp4netns)");
	if (o->publish.n && !strcmp(d, "implicit"))
		rs_cli_usage_error("-p with --port-driver=implicit: the network driver forwards "
				   "ports itself");
	if (!strcmp(d, "builtin") && o->net == RS_NET_HOST)
		rs_cli_usage_error("--port-driver=builtin needs the child's own network "
				   "(--net=slirp4netns or --net=none)");
	if (!strcmp(d, "slirp4netns") && o->net != RS_NET_SLIRP4NETNS)
		rs_cli_usage_error("--port-driver=slirp4netns needs --net=slirp4netns");
}

static int cmd_launch(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"copy-up", required_argument, NULL, OPT_COPY_UP},
		{"net", required_argument, NULL, OPT_NET},
		{"mtu", required_argument, NULL, OPT_MTU},
		{"cidr", required_argument, NULL, OPT_CIDR},
		{"disable-host-loopback", no_argument, NULL, OPT_DISABLE_HOST_LOOPBACK},
		{"cgroupns", no_argument, NULL, OPT_CGROUPNS},
		{"pidns", no_argument, NULL, OPT_PIDNS},
		{"ipcns", no_argument, NULL, OPT_IPCNS},
		{"utsns", no_argument, NULL, OPT_UTSNS},
		{"propagation", required_argument, NULL, OPT_PROPAGATION},
		{"overlay-file", required_argument, NULL, OPT_OVERLAY_FILE},
		{"port-driver", required_argument, NULL, OPT_PORT_DRIVER},
		{"publish", required_argument, NULL, OPT_PUBLISH},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_launch_opts o = {0};
	int c;

	/* "+": the command's own options are not ours */
	while ((c = getopt_long(argc, argv, "+p:" RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1)
		if (!rs_cli_global(cli, c, optarg, launch_help))
			parse_opt(&o, c, optarg);
	if (optind >= argc)
		rs_cli_usage_error("launch needs a command: rootless-setup launch [options] -- CMD");
	if (o.net == RS_NET_HOST && (o.mtu || o.cidr || o.disable_host_loopback))
		rs_cli_msg("warning: --mtu, --cidr and --disable-host-loopback apply to --net=slirp4netns");
	port_opts_check(&o);
	o.argv = argv + optind;
	o.xdg_runtime_dir = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *abs_state = NULL;
	if (o.state_dir && o.state_dir[0] != '/') {
		_cleanup_free_ char *cwd = realpath(".", NULL);
		if (cwd)
			o.state_dir = abs_state = rs_xasprintf("%s/%s", cwd, o.state_dir);
	}
	if (getuid() == 0)
		rs_cli_msg("warning: running the launcher as root: rootless mode is for non-root users");
	struct rs_error *err = NULL;
	int r = rs_launch_run(&o, launch_warn, &err);
	if (err) {
		rs_cli_msg("%s", err->msg);
		rs_error_free(err);
	}
	rs_strv_free(&o.copy_up);
	rs_strv_free(&o.overlay_files);
	rs_strv_free(&o.publish);
	return r;
}

const struct rs_cmd rs_cmd_launch = {
	.name = "launch",
	.summary = "run a command in new user and mount namespaces",
	.run = cmd_launch,
};
