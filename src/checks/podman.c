/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include "checks/internal.h"
#include "host/idmap.h"
#include "lib/sig.h"
#include "lib/spawn.h"

/* Runs "/usr/bin/podman --version" (root-owned, not writable by others:
 * never exec a user-writable binary as root, CVE-2019-5736) with a clean
 * environment and a 5 s limit. Returns "4.3.1" or NULL. */
static char *podman_version(void)
{
	static char *const argv[] = {"podman", "--version", NULL};
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	struct rs_spawn o = {.path = "/usr/bin/podman",
			     .argv = argv,
			     .envp = envp,
			     .flags = RS_SPAWN_STDOUT,
			     .out_max = 255,
			     .timeout_ms = 5000};
	struct rs_spawn_result res;
	_cleanup_error_ struct rs_error *e = NULL;
	struct stat st;
	char *ver = NULL;

	if (stat("/usr/bin/podman", &st) < 0 || st.st_uid != 0 || (st.st_mode & 0022))
		return NULL;
	if (rs_spawn_run(&o, &res, &e) == 0 && res.out) {
		char *v = strstr(res.out, "version ");
		if (v)
			ver = rs_xstrndup(v + 8, strcspn(v + 8, " \n"));
	}
	rs_spawn_result_clear(&res);
	return ver;
}

/* dpkg's database answers in a millisecond where "podman --version" costs
 * 20-40 ms (a Go start-up); it is trusted only when dpkg owns /usr/bin/podman */
static char *podman_version_dpkg(struct rs_ctx *ctx)
{
	static const char *const pkgs[] = {"podman", NULL};
	return rs_ctx_dpkg_version(ctx, pkgs, "usr/bin/podman");
}

static int podman_config(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	_cleanup_free_ char *ver = NULL;
	struct rs_kver kv;
	const char *conf;

	if (rs_host_exists(ctx->host, "usr/bin/podman")) {
		ver = podman_version_dpkg(ctx);
		if (!ver && ctx->host->live)
			ver = podman_version();
	}
	if (ver && rs_kver_parse(ver, &kv) == 0)
		conf = kv.major < 2 ? "libpod.conf" : "containers.conf";
	else
		conf = rs_host_exists(ctx->host, "etc/containers/libpod.conf") &&
				       !rs_host_exists(ctx->host,
						       "usr/share/containers/containers.conf")
			       ? "libpod.conf"
			       : "containers.conf";
	ctx->podman_libpod_conf = strcmp(conf, "libpod.conf") == 0; /* for generate */
	if (!rs_host_exists(ctx->host, "etc/containers/registries.conf")) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "podman %s (%s): '/etc/containers/registries.conf'"
			       " is missing, short image names will not resolve",
			       ver ? ver : "version unknown", conf);
		rs_finding_hint(
			out,
			"install containers-common, or write unqualified-search-"
			"registries = [\"docker.io\"] to ~/.config/containers/registries.conf");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "podman %s uses %s; registries.conf present",
		       ver ? ver : "(version unknown)", conf);
	return 0;
}

const struct rs_rule rs_rule_podman_config = {
	.id = "podman.config",
	.summary = "Podman's registries.conf exists; which config file Podman reads",
	.explain = "Podman before 2.0 reads libpod.conf, later ones containers.conf; generate "
		   "writes the right one. Without /etc/containers/registries.conf, short image "
		   "names ('fedora') do not resolve. The version comes from dpkg's database when "
		   "dpkg owns /usr/bin/podman, else from '/usr/bin/podman --version' (live hosts "
		   "only).",
	.engines = ENG(PODMAN) | ENG(KATA),
	.run = podman_config,
};

/*
 * podman.migrate. Rootless Podman keeps its user namespace alive in a
 * pause process ("podman pause", its pid in $XDG_RUNTIME_DIR/libpod/tmp/
 * pause.pid; libpod/pause.pid before) and joins it on every command: ids
 * added to /etc/subuid later are not in that namespace until it is gone
 * ("potentially insufficient UIDs or GIDs available in user namespace ...
 * run podman system migrate", containers/storage pkg/idtools).
 */
static const char *const pause_files[] = {"libpod/tmp/pause.pid", "libpod/pause.pid", NULL};

/* The union of a map's outside ids as sorted, merged spans. */
static size_t outside_spans(const struct rs_idmap *m, struct rs_idmap_extent *s)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		s[n++] = (struct rs_idmap_extent){.outside = m->e[i].outside,
						  .count = m->e[i].count};
	for (size_t i = 1; i < n; i++) /* insertion sort: at most 340 */
		for (size_t j = i; j > 0 && s[j].outside < s[j - 1].outside; j--) {
			struct rs_idmap_extent t = s[j];
			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	size_t m2 = 0;
	for (size_t i = 0; i < n; i++) {
		if (m2 && s[i].outside <= s[m2 - 1].outside + s[m2 - 1].count) {
			uint64_t end = s[i].outside + s[i].count;
			if (end > s[m2 - 1].outside + s[m2 - 1].count)
				s[m2 - 1].count = end - s[m2 - 1].outside;
		} else {
			s[m2++] = s[i];
		}
	}
	return m2;
}

static bool same_ids(const struct rs_idmap *a, const struct rs_idmap *b)
{
	static struct rs_idmap_extent x[RS_IDMAP_MAX], y[RS_IDMAP_MAX];
	size_t n = outside_spans(a, x), m = outside_spans(b, y);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (x[i].outside != y[i].outside || x[i].count != y[i].count)
			return false;
	return true;
}

/* The pause process's pid from the user's runtime dir (read as the user).
 * Return: 1 found, 0 none, <0 cannot read. */
static int pause_pid(struct rs_ctx *ctx, pid_t *pid, char **file)
{
	_cleanup_free_ char *run = rs_ctx_runtime_dir(ctx);

	for (const char *const *f = pause_files; *f; f++) {
		_cleanup_free_ char *abs = rs_xasprintf("%s/%s", run, *f), *buf = NULL;
		size_t len;
		uint64_t v;
		int r = rs_user_read(ctx, abs, 64, &buf, &len);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r < 0)
			return r;
		buf[strcspn(buf, "\n")] = '\0';
		if (rs_parse_u64(buf, INT32_MAX, &v) < 0 || v < 2)
			continue; /* podman replaces what it cannot read */
		*pid = (pid_t)v;
		*file = TAKE_PTR(abs);
		return 1;
	}
	return 0;
}

/* Whether pid is the user's pause process: the user's real uid, "podman"
 * in its name. */
static bool is_pause(struct rs_ctx *ctx, pid_t pid)
{
	_cleanup_free_ char *st = rs_proc_field(ctx, pid, "status");
	_cleanup_free_ char *comm = rs_proc_field(ctx, pid, "comm");
	_cleanup_free_ char *uid = st ? rs_proc_status_get(st, strlen(st), "Uid") : NULL;
	uint64_t u;

	return uid && comm && strstr(comm, "podman") &&
	       rs_parse_u64n(uid, strcspn(uid, " \t"), UINT32_MAX, &u) == 0 && u == ctx->user.uid;
}

static int read_pid_map(struct rs_ctx *ctx, pid_t pid, bool gid, struct rs_idmap *m)
{
	_cleanup_free_ char *buf = rs_proc_field(ctx, pid, gid ? "gid_map" : "uid_map");
	return buf ? rs_idmap_parse(buf, strlen(buf), m) : -ENOENT;
}

static int podman_migrate(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			  struct rs_error **err)
{
	static struct rs_idmap have, want;
	_cleanup_free_ char *file = NULL;
	pid_t pid = 0;

	if (rs_offline_skip(ctx, out, true, false, "whether a pause process runs"))
		return 0;
	int r = pause_pid(ctx, &pid, &file);
	if (r < 0)
		return rs_error_setx(err, -r, "cannot read the user's pause.pid: %s", strerror(-r));
	if (r == 0 || !is_pause(ctx, pid)) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "no pause process of '%s' runs: Podman's next command maps the "
			       "ids /etc/subuid and /etc/subgid give now",
			       ctx->user.name);
		return 0;
	}
	for (int g = 0; g < 2; g++) {
		if (read_pid_map(ctx, pid, g, &have) < 0)
			return rs_error_setx(err, EIO, "cannot read the %s map of pid %d",
					     g ? "gid" : "uid", (int)pid);
		if ((r = rs_idmap_build(ctx->host, &ctx->user, g, &want, err)) < 0)
			return r;
		if (same_ids(&have, &want))
			continue;
		rs_finding_set(out, RS_STATUS_FAIL,
			       "the pause process of '%s' (pid %d, '%s') maps %llu %s, but the "
			       "user's own and those of /etc/%s now make %llu: Podman keeps using "
			       "the old namespace "
			       "('potentially insufficient UIDs or GIDs available in user "
			       "namespace')",
			       ctx->user.name, (int)pid, file,
			       (unsigned long long)(have.n ? rs_idmap_count(&have) : 0),
			       g ? "gids" : "uids", g ? "subgid" : "subuid",
			       (unsigned long long)rs_idmap_count(&want));
		rs_finding_hint(out, "as the user: podman system migrate (it stops the user's "
				     "running containers and the pause process)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS,
		       "the pause process of '%s' (pid %d) maps the ids /etc/subuid and "
		       "/etc/subgid give",
		       ctx->user.name, (int)pid);
	return 0;
}

extern const struct rs_fixer rs_fixer_podman_migrate;
const struct rs_rule rs_rule_podman_migrate = {
	.fixer = &rs_fixer_podman_migrate,
	.id = "podman.migrate",
	.summary = "Podman's pause process maps the subordinate ids /etc/subuid gives now",
	.explain =
		"Rootless Podman creates its user namespace once and keeps it in a pause "
		"process ('podman pause', pid in $XDG_RUNTIME_DIR/libpod/tmp/pause.pid); every "
		"later command joins it. After /etc/subuid or /etc/subgid change, that namespace "
		"still has the old map until 'podman system migrate' ends it "
		"(https://docs.podman.io/en/latest/markdown/podman-system-migrate.1.html; "
		"troubleshooting: "
		"https://github.com/containers/podman/blob/main/troubleshooting.md). The rule "
		"reads pause.pid as the user, checks the process is the user's, and compares "
		"the ids its /proc/PID/uid_map and gid_map hold with the user's own id and "
		"subordinate ranges now. The fixer runs 'podman system migrate' as the user, "
		"which stops the user's running containers; Podman's next command creates a "
		"namespace with the new ranges. A --root tree without proc/ is skipped.",
	.engines = ENG(PODMAN) | ENG(KATA),
	.needs_user = true,
	.run = podman_migrate,
};
