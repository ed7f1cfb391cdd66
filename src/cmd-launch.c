/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "core/engine.h"
#include "launch/bypass.h"
#include "ports/api.h"
#include "launch/launch.h"
#include "ports/portspec.h"
#include "lib/xalloc.h"

enum {
	OPT_STATE_DIR = OPT_VERB_BASE,
	OPT_COPY_UP,
	OPT_COPY_UP_MODE,
	OPT_NET,
	OPT_MTU,
	OPT_CIDR,
	OPT_IFNAME,
	OPT_DISABLE_HOST_LOOPBACK,
	OPT_IPV6,
	OPT_SLIRP_BINARY,
	OPT_SLIRP_SANDBOX,
	OPT_SLIRP_SECCOMP,
	OPT_PASTA_BINARY,
	OPT_PORT_DRIVER,
	OPT_NET_BYPASS,
	OPT_PUBLISH = 'p',
	OPT_CGROUPNS = OPT_VERB_BASE + 64,
	OPT_PIDNS,
	OPT_IPCNS,
	OPT_UTSNS,
	OPT_REAPER,
	OPT_DETACH_NETNS,
	OPT_EVACUATE_CGROUP2,
	OPT_SUBID_SOURCE,
	OPT_DEBUG,
	OPT_PROPAGATION,
	OPT_OVERLAY_FILE,
	OPT_RK_COMPAT,
	OPT_SOURCE_IP_TRANSPARENT,
	OPT_PRINT_SEMVER,
};

static void launch_help(void)
{
	printf("Usage:\n rootless-setup launch [options] [--] <command> [args...]\n\n"
	       "Run a command as root in new user and mount namespaces, with the caller's\n"
	       "subordinate ids mapped (RootlessKit's options and spellings, in C).\n"
	       "A value as OPTION=VALUE or OPTION VALUE; a switch bare or as OPTION=true|false.\n\n"
	       "Options:\n"
	       "     --state-dir <dir>        child_pid and lock (default:\n"
	       "                              $XDG_RUNTIME_DIR/rootless-setup/launch-PID)\n"
	       "     --copy-up <dir>          writable tmpfs of links over <dir> (repeatable)\n"
	       "     --copy-up-mode <mode>    tmpfs+symlink (the only mode)\n"
	       "     --overlay-file <src:dst> show file <src> at <dst> inside (repeatable)\n"
	       "     --propagation <mode>     rprivate (default), rslave, rshared, private...\n"
	       "     --net <driver>           host (default), slirp4netns, pasta, libslirp (our\n"
	       "                              embedded network; gvisor-tap-vsock is an alias)\n"
	       "                              or none\n"
	       "     --mtu <n>                MTU (default 65520)\n"
	       "     --cidr <cidr>            network of slirp4netns, pasta and libslirp (default "
	       "10.0.2.0/24)\n"
	       "     --ifname <name>          interface inside (default tap0)\n"
	       "     --disable-host-loopback  no access to the host's 127.0.0.1\n"
	       "     --ipv6                   IPv6 too (slirp4netns, pasta, libslirp)\n"
	       "     --slirp4netns-binary <p> default slirp4netns (from PATH)\n"
	       "     --slirp4netns-sandbox <auto|true|false>  slirp4netns sandbox (default auto)\n"
	       "     --slirp4netns-seccomp <auto|true|false>  slirp4netns seccomp (default auto)\n"
	       "     --pasta-binary <p>       default pasta (from PATH)\n"
	       "     --net-bypass <cidr,...>  connect(2) to these destinations from the host's\n"
	       "                              network namespace (TCP, UDP; repeatable; never\n"
	       "                              loopback or the launch's own networks)\n"
	       "     --detach-netns           the command keeps this network namespace; the new\n"
	       "                              one is $ROOTLESSKIT_STATE_DIR/netns\n"
	       "     --port-driver <driver>   none (default), builtin, slirp4netns, implicit "
	       "(pasta),\n"
	       "                              libslirp\n"
	       " -p, --publish <spec>         publish a port, e.g. 127.0.0.1:8080:80/tcp "
	       "(repeatable)\n"
	       "     --source-ip-transparent[=false]  builtin: TCP services see the client's\n"
	       "                              address (default true)\n"
	       "     --pidns                  new pid namespace (PID 1 forwards signals)\n"
	       "     --reaper <auto|true|false>  PID 1 reaps orphans (default auto: with --pidns)\n"
	       "     --cgroupns               new cgroup namespace\n"
	       "     --evacuate-cgroup2 <name>  move our cgroup's processes into sub-group <name>\n"
	       "                              and enable its controllers (needs --pidns, "
	       "--cgroupns)\n"
	       "     --ipcns                  new IPC namespace\n"
	       "     --utsns                  new UTS namespace\n"
	       "     --subid-source <src>     auto (default), static (/etc/subuid) or dynamic\n"
	       "                              (getsubids)\n"
	       "     --debug                  show the network helper's command and messages\n"
	       "     --rootlesskit-compat     RootlessKit's exit status 255 for a command killed\n"
	       "                              by a signal (on when invoked as `rootlesskit`)\n"
	       "     --print-semver <part>    major, minor or patch of the RootlessKit version\n"
	       "                              emulated (" RS_ROOTLESSKIT_VERSION ")\n\n"
	       " -h, --help                   display this help\n\n"
	       "Exit status: the command's (128+N when signal N killed it, where RootlessKit\n"
	       "says 255; 255 with --rootlesskit-compat); 125 the launch could not be set up\n"
	       "or an option is wrong, 126 the command cannot run, 127 it was not found.\n\n"
	       "See rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

/* Bad launch input ends like a failed setup: 125, one line, nothing started. */
_noreturn_ _printf_(1, 2) static void bad(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs_cli_msg("%s", msg);
	exit(RS_LAUNCH_EXIT_SETUP);
}

/* --print-semver=major|minor|patch: that part of the RootlessKit version
 * whose behaviour launch follows, as RootlessKit prints its own. */
_noreturn_ static void print_semver(const char *part)
{
	static const char *const parts[] = {"major", "minor", "patch"};
	const char *v = RS_ROOTLESSKIT_VERSION;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (strcmp(part, parts[i]) == 0) {
			printf("%.*s\n", (int)strcspn(v, "."), v);
			exit(RS_EXIT_OK);
		}
		v += strcspn(v, ".") + (v[strcspn(v, ".")] == '.');
	}
	bad("expected --print-semver=(major|minor|patch), got '%s'", part);
}

static void launch_warn(const char *msg)
{
	rs_cli_msg("warning: %s", msg);
}

static char *absolute_dir(const char *d)
{
	char *real = realpath(d, NULL);
	if (!real)
		bad("cannot copy up '%s': %s", d, strerror(errno));
	return real;
}

/* A switch: "--pidns" (arg NULL) or "--pidns=true|false". */
static bool flag(const char *name, const char *arg)
{
	if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1"))
		return true;
	if (!strcmp(arg, "false") || !strcmp(arg, "0"))
		return false;
	bad("bad --%s=%s (true or false)", name, arg);
}

static enum rs_launch_tri tri(const char *name, const char *arg)
{
	enum rs_launch_tri t;
	if (!*arg || rs_launch_parse_tri(arg, &t) < 0)
		bad("bad --%s '%s' (auto, true or false)", name, arg);
	return t;
}

static const char *nonempty(const char *name, const char *arg)
{
	if (!*arg)
		bad("--%s wants a value", name);
	return arg;
}

static void parse_net(struct rs_launch_opts *o, const char *arg)
{
	static const char *const others[] = {"vpnkit", "lxc-user-nic"};
	if (!strcmp(arg, "host"))
		o->net = RS_NET_HOST;
	else if (!strcmp(arg, "none"))
		o->net = RS_NET_NONE;
	else if (!strcmp(arg, "slirp4netns"))
		o->net = RS_NET_SLIRP4NETNS;
	else if (!strcmp(arg, "pasta"))
		o->net = RS_NET_PASTA;
	/* RootlessKit v3's embedded network (gVisor's netstack) is ours,
	 * built on libslirp, here: the same role, no external program */
	else if (!strcmp(arg, "libslirp") || !strcmp(arg, "gvisor-tap-vsock"))
		o->net = RS_NET_LIBSLIRP;
	else {
		for (size_t i = 0; i < ARRAY_SIZE(others); i++)
			if (!strcmp(arg, others[i]))
				bad("--net=%s is RootlessKit's, not ours: the drivers here are "
				    "host, slirp4netns, pasta, libslirp and none",
				    arg);
		bad("unknown --net '%s' (host, slirp4netns, pasta, libslirp or none)", arg);
	}
}

static void parse_overlay(struct rs_launch_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || colon[1] != '/')
		bad("--overlay-file wants SRC:DST with an absolute DST: '%s'", arg);
	_cleanup_free_ char *src = rs_xstrndup(arg, (size_t)(colon - arg));
	_cleanup_free_ char *real = realpath(src, NULL);
	struct stat st;
	if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode))
		bad("--overlay-file: '%s' is not a readable file", src);
	rs_strv_take(&o->overlay_files, rs_xasprintf("%s:%s", real, colon + 1));
}

static void parse_net_opt(struct rs_launch_opts *o, int c, const char *arg)
{
	unsigned char net[4];
	unsigned prefix;
	uint64_t n;

	switch (c) {
	case OPT_NET:
		parse_net(o, arg);
		break;
	case OPT_MTU:
		if (rs_parse_u64(arg, 65521, &n) < 0 || n < 68)
			bad("bad --mtu '%s' (68 to 65521)", arg);
		o->mtu = (unsigned)n;
		break;
	case OPT_CIDR:
		/* the child's address is the network's .100 */
		if (rs_launch_parse_cidr(arg, net, &prefix) < 0 || prefix > 25)
			bad("bad --cidr '%s' (a network address such as 10.0.2.0/24, /8 to /25)",
			    arg);
		o->cidr = arg;
		break;
	case OPT_IFNAME:
		if (!*arg || strlen(arg) >= 16 || strchr(arg, '/') || strchr(arg, ' '))
			bad("bad --ifname '%s' (an interface name: 1 to 15 characters, no '/')",
			    arg);
		o->ifname = arg;
		break;
	case OPT_SLIRP_SANDBOX:
		o->slirp4netns_sandbox = tri("slirp4netns-sandbox", arg);
		break;
	case OPT_SLIRP_SECCOMP:
		o->slirp4netns_seccomp = tri("slirp4netns-seccomp", arg);
		break;
	case OPT_SLIRP_BINARY:
		o->slirp4netns_binary = nonempty("slirp4netns-binary", arg);
		break;
	case OPT_PASTA_BINARY:
		o->pasta_binary = nonempty("pasta-binary", arg);
		break;
	case OPT_NET_BYPASS: {
		struct rs_bypass_rules r = {0};
		int bad_spec = rs_bypass_rules_add(&r, arg);
		rs_bypass_rules_free(&r);
		if (bad_spec < 0)
			bad("bad --net-bypass '%s' (networks such as 0.0.0.0/0,::/0 or "
			    "192.0.2.0/24)",
			    arg);
		rs_strv_push(&o->net_bypass, arg);
		break;
	}
	default:
		bad("bad option");
	}
}

static void parse_opt(struct rs_launch_opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_STATE_DIR:
		o->state_dir = nonempty("state-dir", arg);
		o->state_dir_given = true;
		break;
	case OPT_COPY_UP:
		rs_strv_take(&o->copy_up, absolute_dir(arg));
		break;
	case OPT_COPY_UP_MODE:
		if (strcmp(arg, "tmpfs+symlink"))
			bad("unknown --copy-up-mode '%s' (tmpfs+symlink)", arg);
		break;
	case OPT_OVERLAY_FILE:
		parse_overlay(o, arg);
		break;
	case OPT_PORT_DRIVER: {
		enum rs_port_driver d;
		if (rs_port_driver_parse(arg, &d) < 0)
			bad("unknown --port-driver '%s' (none, builtin, slirp4netns, implicit or "
			    "libslirp)",
			    arg);
		/* the canonical name (gvisor-tap-vsock is libslirp) */
		o->port_driver = rs_port_driver_name(d);
		break;
	}
	case OPT_PUBLISH: {
		struct rs_portspec sp;
		const char *why;
		if (rs_portspec_parse(arg, &sp, &why) < 0)
			bad("bad -p '%s': %s", arg, why);
		rs_strv_push(&o->publish, arg);
		break;
	}
	case OPT_PROPAGATION:
		if (rs_launch_parse_propagation(arg, &o->propagation) < 0)
			bad("unknown --propagation '%s' (rprivate, private, rslave, slave, "
			    "rshared, shared)",
			    arg);
		o->propagation_name = arg;
		break;
	case OPT_DISABLE_HOST_LOOPBACK:
		o->disable_host_loopback = flag("disable-host-loopback", arg);
		break;
	case OPT_IPV6:
		o->ipv6 = flag("ipv6", arg);
		break;
	case OPT_DETACH_NETNS:
		o->detach_netns = flag("detach-netns", arg);
		break;
	case OPT_CGROUPNS:
		o->cgroupns = flag("cgroupns", arg);
		break;
	case OPT_PIDNS:
		o->pidns = flag("pidns", arg);
		break;
	case OPT_IPCNS:
		o->ipcns = flag("ipcns", arg);
		break;
	case OPT_UTSNS:
		o->utsns = flag("utsns", arg);
		break;
	case OPT_DEBUG:
		o->debug = flag("debug", arg);
		break;
	case OPT_SOURCE_IP_TRANSPARENT:
		o->source_ip_transparent = flag("source-ip-transparent", arg);
		break;
	case OPT_RK_COMPAT:
		o->rootlesskit_exit = flag("rootlesskit-compat", arg);
		break;
	case OPT_REAPER:
		o->reaper = tri("reaper", arg);
		break;
	case OPT_EVACUATE_CGROUP2:
		if (!*arg || strchr(arg, '/') || !strcmp(arg, ".") || !strcmp(arg, ".."))
			bad("bad --evacuate-cgroup2 '%s' (a sub-group name, no '/')", arg);
		o->evacuate_cgroup2 = arg;
		break;
	case OPT_SUBID_SOURCE:
		if (!strcmp(arg, "auto"))
			o->subid_source = RS_SUBID_AUTO;
		else if (!strcmp(arg, "static"))
			o->subid_source = RS_SUBID_STATIC;
		else if (!strcmp(arg, "dynamic"))
			o->subid_source = RS_SUBID_DYNAMIC;
		else
			bad("unknown --subid-source '%s' (auto, dynamic or static)", arg);
		break;
	default:
		parse_net_opt(o, c, arg);
	}
}

static void port_opts_check(const struct rs_launch_opts *o)
{
	const char *d = o->port_driver ? o->port_driver : "none";
	if (o->publish.n && !strcmp(d, "none"))
		bad("-p needs a --port-driver (builtin, slirp4netns or libslirp)");
	if (o->publish.n && !strcmp(d, "implicit"))
		bad("-p with --port-driver=implicit: pasta forwards the ports itself");
	if (!strcmp(d, "builtin") && o->net == RS_NET_HOST)
		bad("--port-driver=builtin needs the child's own network (--net=slirp4netns, "
		    "--net=pasta, --net=libslirp or --net=none)");
	if (!strcmp(d, "slirp4netns") && o->net != RS_NET_SLIRP4NETNS)
		bad("--port-driver=slirp4netns needs --net=slirp4netns");
	if (!strcmp(d, "libslirp") && o->net != RS_NET_LIBSLIRP)
		bad("--port-driver=libslirp needs --net=libslirp");
	if (!strcmp(d, "implicit") && o->net != RS_NET_PASTA)
		bad("--port-driver=implicit needs --net=pasta (pasta forwards the ports itself)");
}

/* A helper named without '/' is looked up in PATH now, so a missing one is
 * one line before anything starts. Return: the path (allocated). */
static char *find_binary(const char *opt, const char *name)
{
	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			bad("%s '%s' cannot be run: %s", opt, name, strerror(errno));
		return rs_xstrdup(name);
	}
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = rs_xstrdup(path && *path ? path
							     : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = rs_xasprintf("%s/%s", *d ? d : ".", name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
			return TAKE_PTR(p);
	}
	bad("%s is not installed (no '%s' in PATH; %s names another)", name, name, opt);
}

/* What needs more than one option to judge, as RootlessKit judges it. */
static void check_combination(struct rs_launch_opts *o)
{
	bool netdrv = o->net == RS_NET_SLIRP4NETNS || o->net == RS_NET_PASTA ||
		      o->net == RS_NET_LIBSLIRP;
	if (o->net == RS_NET_HOST && (o->mtu || o->cidr || o->disable_host_loopback || o->ifname))
		rs_cli_msg("warning: --mtu, --cidr, --ifname and --disable-host-loopback apply to "
			   "--net=slirp4netns, --net=pasta and --net=libslirp");
	if (o->net == RS_NET_NONE && (o->mtu || o->cidr || o->ifname))
		rs_cli_msg("warning: --mtu, --cidr and --ifname do nothing with --net=none");
	if (o->ipv6 && !netdrv)
		rs_cli_msg("warning: --ipv6 applies to --net=slirp4netns, --net=pasta and "
			   "--net=libslirp");
	if (o->reaper == RS_TRI_TRUE && !o->pidns)
		bad("--reaper=true needs --pidns");
	if (o->evacuate_cgroup2 && (!o->pidns || !o->cgroupns))
		bad("--evacuate-cgroup2 needs --pidns and --cgroupns");
	if (o->copy_up.n && o->propagation_name && strstr(o->propagation_name, "shared"))
		bad("--propagation=%s cannot be combined with --copy-up (its tmpfs would "
		    "propagate to the host)",
		    o->propagation_name);
	if (o->net_bypass.n && (!netdrv || o->detach_netns))
		bad("--net-bypass needs the command in a network of its own (--net=slirp4netns, "
		    "--net=pasta or --net=libslirp, without --detach-netns)");
	if (o->publish.n && (!o->port_driver || !strcmp(o->port_driver, "none")))
		bad("-p/--publish needs a --port-driver");
}

/* The network helper's program as found (*found: the caller's to free),
 * in place of the name given; the other helper's option is dropped. */
static void find_helper(struct rs_launch_opts *o, char **found)
{
	const char *slirp = o->slirp4netns_binary, *pasta = o->pasta_binary;
	o->slirp4netns_binary = o->pasta_binary = NULL;
	if (o->net == RS_NET_SLIRP4NETNS)
		o->slirp4netns_binary = *found = find_binary("--slirp4netns-binary",
							     slirp ? slirp : "slirp4netns");
	if (o->net == RS_NET_PASTA)
		o->pasta_binary = *found = find_binary("--pasta-binary", pasta ? pasta : "pasta");
}

static int cmd_launch(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, OPT_STATE_DIR},
		{"copy-up", required_argument, NULL, OPT_COPY_UP},
		{"copy-up-mode", required_argument, NULL, OPT_COPY_UP_MODE},
		{"overlay-file", required_argument, NULL, OPT_OVERLAY_FILE},
		{"propagation", required_argument, NULL, OPT_PROPAGATION},
		{"net", required_argument, NULL, OPT_NET},
		{"mtu", required_argument, NULL, OPT_MTU},
		{"cidr", required_argument, NULL, OPT_CIDR},
		{"ifname", required_argument, NULL, OPT_IFNAME},
		{"disable-host-loopback", optional_argument, NULL, OPT_DISABLE_HOST_LOOPBACK},
		{"ipv6", optional_argument, NULL, OPT_IPV6},
		{"slirp4netns-binary", required_argument, NULL, OPT_SLIRP_BINARY},
		{"slirp4netns-sandbox", required_argument, NULL, OPT_SLIRP_SANDBOX},
		{"slirp4netns-seccomp", required_argument, NULL, OPT_SLIRP_SECCOMP},
		{"pasta-binary", required_argument, NULL, OPT_PASTA_BINARY},
		{"detach-netns", optional_argument, NULL, OPT_DETACH_NETNS},
		{"port-driver", required_argument, NULL, OPT_PORT_DRIVER},
		{"net-bypass", required_argument, NULL, OPT_NET_BYPASS},
		{"publish", required_argument, NULL, OPT_PUBLISH},
		{"pidns", optional_argument, NULL, OPT_PIDNS},
		{"reaper", required_argument, NULL, OPT_REAPER},
		{"cgroupns", optional_argument, NULL, OPT_CGROUPNS},
		{"evacuate-cgroup2", required_argument, NULL, OPT_EVACUATE_CGROUP2},
		{"ipcns", optional_argument, NULL, OPT_IPCNS},
		{"utsns", optional_argument, NULL, OPT_UTSNS},
		{"subid-source", required_argument, NULL, OPT_SUBID_SOURCE},
		{"debug", optional_argument, NULL, OPT_DEBUG},
		{"rootlesskit-compat", optional_argument, NULL, OPT_RK_COMPAT},
		{"source-ip-transparent", optional_argument, NULL, OPT_SOURCE_IP_TRANSPARENT},
		{"print-semver", required_argument, NULL, OPT_PRINT_SEMVER},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct rs_launch_opts o = {.rootlesskit_exit = cli->as_rootlesskit,
				   .source_ip_transparent = true};
	int c;

	/* "+": the command's own options are not ours; ":" so that a missing
	 * value or an unknown option is our one line and 125 */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:" RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == '?')
			bad("launch: unrecognized option '%s'", argv[optind - 1]);
		if (c == ':')
			bad("launch: option '%s' needs a value", argv[optind - 1]);
		if (c == OPT_PRINT_SEMVER)
			print_semver(optarg);
		if (c == OPT_VERSION && cli->as_rootlesskit) {
			/* RootlessKit's line, then who we are */
			printf("rootlesskit version %s (rootless-setup %s)\n",
			       RS_ROOTLESSKIT_VERSION, RS_VERSION);
			exit(RS_EXIT_OK);
		}
		if (!rs_cli_global(cli, c, optarg, launch_help))
			parse_opt(&o, c, optarg);
	}
	if (optind >= argc)
		bad("launch needs a command: rootless-setup launch [options] -- CMD");
	check_combination(&o);
	_cleanup_free_ char *helper = NULL;
	find_helper(&o, &helper);
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
		rs_cli_msg("warning: running the launcher as root: rootless mode is for non-root "
			   "users");
	struct rs_error *err = NULL;
	int r = rs_launch_run(&o, launch_warn, &err);
	if (err) {
		rs_cli_msg("%s", err->msg);
		rs_error_free(err);
	}
	rs_strv_clear(&o.copy_up);
	rs_strv_clear(&o.overlay_files);
	rs_strv_clear(&o.publish);
	rs_strv_clear(&o.net_bypass);
	return r;
}

const struct rs_cmd rs_cmd_launch = {
	.name = "launch",
	.summary = "run a command in new user and mount namespaces",
	.run = cmd_launch,
};
