/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "core/check.h"
#include "host/safewrite.h"
#include "host/userfs.h"
#include "lib/xalloc.h"
#include "oci/oci.h"

enum { OPT_SUBIDS = OPT_VERB_BASE, OPT_HOST_NET, OPT_PROOT };

#define OCI_MAX_INPUT (16u << 20)
/* as root, the user's file is read by a process of the user's: its bound */
#define OCI_READ_TIMEOUT_MS 10000

static void oci_help(void)
{
	printf("Usage:\n rootless-setup oci rootless [-i <file>] [-o <file>] [--subids] "
	       "[--host-net]\n"
	       "                             [--proot <path>]\n\n"
	       "Convert an OCI runtime config.json into one that runc or crun run as the\n"
	       "calling user (what 'runc spec' does with its rootless flag).\n\n"
	       "Options:\n"
	       " -i, --input <file>      read this file (default: standard input)\n"
	       " -o, --output <file>     write this file, atomically (default: standard output)\n"
	       "     --subids            map the user's subordinate ranges, not just one id\n"
	       "     --host-net          drop the network namespace (runc's choice)\n"
	       "     --proot <path>      put PRoot (fake root) in front of process.args\n\n"
	       " -h, --help              display this help\n\nSee rootless-setup(8).\n");
	exit(RS_EXIT_OK);
}

/* The cgroup facts check has for this host: are limits possible at all,
 * and which controllers the user's manager holds. */
static void cgroup_facts(struct rs_cli *cli, struct rs_oci_opts *o, char **delegated)
{
	static const char *const only[] = {"cgroup.v2", "cgroup.delegation", NULL};
	struct rs_check_opts co = {0};
	rs_cli_check_opts(cli, &co);
	co.engines = RS_ENGINE_BIT(RS_ENGINE_OCI);
	co.engines_given = true;
	co.no_probe = true;
	co.only = only;
	struct rs_report *rep = NULL;
	struct rs_error *err = NULL;

	if (rs_check_run(&co, &rep, &err) < 0) {
		rs_cli_msg("warning: cannot inspect cgroups (%s); dropping resource limits",
			   err ? err->msg : "unknown error");
		rs_error_free(err);
		return;
	}
	o->limits_ok = rep->ctx.cgroup_mode == RS_CGROUP_V2 && rep->ctx.delegated;
	*delegated = rep->ctx.delegated ? rs_xstrdup(rep->ctx.delegated) : NULL;
	o->delegated = *delegated;
	rs_report_free(rep);
}

/* -i FILE as root: the file may be a user's (a bundle), so it is reached
 * without following a symlink the user could have made, must be a regular
 * file (a FIFO would block), and is read with that user's credentials. */
static int read_input(const char *in, char **buf, size_t *n)
{
	struct rs_error *err = NULL;
	int r;

	if (in && geteuid() == 0) {
		r = rs_guarded_read(in, OCI_MAX_INPUT, OCI_READ_TIMEOUT_MS, buf, n, &err);
		if (r < 0)
			rs_cli_msg("%s", err ? err->msg : strerror(-r));
		rs_error_free(err);
		return r;
	}
	FILE *f = in ? fopen(in, "re") : stdin;
	if (!f) {
		rs_cli_msg("cannot open '%s': %s", in, strerror(errno));
		return -errno;
	}
	*buf = rs_xmalloc(OCI_MAX_INPUT + 1);
	*n = fread(*buf, 1, OCI_MAX_INPUT + 1, f);
	if (in)
		fclose(f);
	if (*n > OCI_MAX_INPUT) {
		rs_cli_msg("'%s' is larger than %u MiB", in ? in : "(stdin)", OCI_MAX_INPUT >> 20);
		free(*buf);
		*buf = NULL;
		return -EFBIG;
	}
	return 0;
}

static json_t *read_spec(const char *in)
{
	json_error_t jerr;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0;

	if (read_input(in, &buf, &n) < 0)
		return NULL;
	json_t *spec = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
	/* where and what was expected, never the text there: root reading a
	 * user's file must not print what the file holds */
	if (!spec)
		rs_cli_msg("invalid config.json '%s': line %d, column %d (byte %d): %s",
			   in ? in : "(stdin)", jerr.line, jerr.column, jerr.position,
			   rs_oci_json_what(&jerr));
	return spec;
}

/* Through the safe-write module, with the output's directory as the root:
 * never a half-written config.json, never through a symlink. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *dir = rs_xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	_cleanup_host_ struct rs_host *h = NULL;
	_cleanup_error_ struct rs_error *err = NULL;
	struct rs_write_opts wo = {.mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1};

	if (slash)
		*slash = '\0';
	int r = rs_host_open(slash ? (*dir ? dir : "/") : ".", &h, &err);
	if (r == 0)
		r = rs_safe_write(h, base, data, len, &wo, &err);
	if (r < 0)
		rs_cli_msg("%s", err ? err->msg : strerror(-r));
	return r < 0 ? -1 : 0;
}

static int build_maps(struct rs_cli *cli, bool subids, struct rs_idmap *um, struct rs_idmap *gm)
{
	_cleanup_host_ struct rs_host *h = NULL;
	struct rs_user u;
	_cleanup_error_ struct rs_error *err = NULL;
	char uid[16];

	rs_idmap_single(um, geteuid());
	rs_idmap_single(gm, getegid());
	if (!subids)
		return 0;
	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	if (rs_host_open(cli->root, &h, &err) < 0 ||
	    rs_user_resolve(h, cli->user ? cli->user : uid, &u, &err) < 0) {
		rs_cli_msg("%s", err ? err->msg : "cannot resolve the user");
		return -1;
	}
	int r = rs_idmap_build(h, &u, false, um, &err);
	if (r == 0)
		r = rs_idmap_build(h, &u, true, gm, &err);
	if (r == 0 && (!um->subordinate || !gm->subordinate))
		rs_cli_msg("warning: '%s' has no subordinate ids: single-id map", u.name);
	if (r < 0)
		rs_cli_msg("%s", err->msg);
	rs_user_clear(&u);
	return r < 0 ? -1 : 0;
}

static int emit(const json_t *spec, const char *out)
{
	_cleanup_free_ char *text = json_dumps(spec, JSON_INDENT(2));
	_cleanup_free_ char *line = rs_xasprintf("%s\n", text);
	if (out)
		return write_atomic(out, line, strlen(line)) < 0 ? RS_EXIT_FAIL : RS_EXIT_OK;
	return fputs(line, stdout) < 0 ? RS_EXIT_FAIL : RS_EXIT_OK;
}

/* --proot is looked at with stat(2) only: opening a FIFO for reading
 * would block until a writer came (a hang, seen). */
static bool proot_ok(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		rs_cli_msg("cannot use PRoot '%s': %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		rs_cli_msg("cannot use PRoot '%s': not an executable regular file", path);
		return false;
	}
	return true;
}

static int cmd_oci(struct rs_cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, NULL, 'i'},
		{"output", required_argument, NULL, 'o'},
		{"subids", no_argument, NULL, OPT_SUBIDS},
		{"host-net", no_argument, NULL, OPT_HOST_NET},
		{"proot", required_argument, NULL, OPT_PROOT},
		RS_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	const char *in = NULL, *out = NULL;
	bool subids = false;
	struct rs_oci_opts o = {0};
	struct rs_idmap *um = rs_xcalloc(1, sizeof(*um)), *gm = rs_xcalloc(1, sizeof(*gm));
	_cleanup_free_ char *delegated = NULL;
	_cleanup_strv_ struct rs_strv notes = {0};
	int c, code = RS_EXIT_FAIL;

	if (argc < 2 || strcmp(argv[1], "rootless") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
			oci_help();
		rs_cli_usage_error("oci: the only subcommand is 'rootless'");
	}
	argc--, argv++;
	while ((c = getopt_long(argc, argv, "i:o:" RS_GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		if (rs_cli_global(cli, c, optarg, oci_help))
			continue;
		if (c == 'i')
			in = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == OPT_SUBIDS)
			subids = true;
		else if (c == OPT_HOST_NET)
			o.host_net = true;
		else if (c == OPT_PROOT)
			o.proot = optarg;
	}
	if (optind < argc)
		rs_cli_usage_error("oci rootless takes no arguments: '%s'", argv[optind]);
	if (o.proot && !proot_ok(o.proot))
		goto out_early;
	json_t *spec = read_spec(in);
	if (!spec || build_maps(cli, subids, um, gm) < 0)
		goto out;
	o.uidmap = um;
	o.gidmap = gm;
	o.notes = &notes;
	cgroup_facts(cli, &o, &delegated);
	struct rs_error *err = NULL;
	int r = rs_oci_rootless(spec, &o, &err);
	for (size_t i = 0; i < notes.n; i++)
		rs_cli_msg("note: %s", notes.v[i]);
	if (r < 0) {
		rs_cli_msg("%s", err->msg);
		rs_error_free(err);
		goto out;
	}
	code = emit(spec, out);
out:
	json_decref(spec);
out_early:
	free(um);
	free(gm);
	return code;
}

const struct rs_cmd rs_cmd_oci = {
	.name = "oci",
	.summary = "make an OCI config.json run without root",
	.run = cmd_oci,
};
