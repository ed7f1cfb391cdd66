/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include "checks/internal.h"
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
