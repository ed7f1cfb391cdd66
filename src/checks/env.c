/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "checks/internal.h"

/* Container runtimes mask these /proc paths with bind mounts of /dev/null
 * or read-only tmpfs (runc's default maskedPaths). */
static const char *const masked[] =
	{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/scsi",
	 "/proc/acpi",	NULL};

static const char *container_sign(struct rs_ctx *ctx)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct libmnt_table *tb;

	if (rs_host_exists(ctx->host, ".dockerenv"))
		return "/.dockerenv exists";
	if (rs_host_exists(ctx->host, "run/.containerenv"))
		return "/run/.containerenv exists (podman)";
	if (rs_host_read(ctx->host, "proc/1/cgroup", 1u << 20, &buf, &len, NULL) == 0 &&
	    (strstr(buf, "/docker") || strstr(buf, "/kubepods") || strstr(buf, "/lxc/") ||
	     strstr(buf, "libpod")))
		return "/proc/1/cgroup names a container cgroup";
	tb = rs_ctx_mounts(ctx);
	for (const char *const *m = masked; tb && *m; m++)
		if (mnt_table_find_target(tb, *m, MNT_ITER_BACKWARD))
			return "/proc paths are masked";
	free(buf);
	buf = NULL;
	if (rs_host_read(ctx->host, "proc/self/uid_map", 4096, &buf, &len, NULL) == 0) {
		unsigned long a, b, c;
		if (sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3 &&
		    !(a == 0 && b == 0 && c == 4294967295UL))
			return "already inside a user namespace (uid_map is not the identity)";
	}
	return NULL;
}

static int env_container(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	const char *sign = container_sign(ctx);

	if (!sign && rs_offline_skip(ctx, out, true, false, "whether it runs in a container"))
		return 0;
	if (sign) {
		rs_finding_set(out, RS_STATUS_WARN, "running inside a container: %s", sign);
		/* BuildKit's process sandbox mounts a new /proc, which a masked
		 * /proc forbids (moby/buildkit docs/rootless.md); other engines'
		 * containers need the same unmasked /proc for theirs */
		if (e != RS_ENGINE_NONE && (RS_ENGINE_BIT(e) & RS_ENGINES_BUILDKIT))
			rs_finding_hint(out,
					"%s then needs --oci-worker-no-process-sandbox or an "
					"unmasked /proc (systempaths=unconfined); fixes to the "
					"host must be made on the host",
					rs_engine_name(e));
		else
			rs_finding_hint(out,
					"the outer container must leave /proc unmasked "
					"(docker: --security-opt systempaths=unconfined; podman: "
					"--security-opt unmask=ALL) and map subordinate ids; fixes "
					"to the host must be made on the host");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "not inside a container");
	return 0;
}

const struct rs_rule rs_rule_env_container = {
	.id = "env.container",
	.summary = "not running inside a container",
	.explain = "Inside a container /proc is partly masked, /proc/sys is read-only, and the "
		   "host's settings cannot be changed from here. Signs: /.dockerenv, "
		   "/run/.containerenv, container cgroups in /proc/1/cgroup, masked /proc paths, a "
		   "non-identity uid_map.",
	.engines = RS_ENGINES_ALL,
	.per_engine = true, /* the hint is the engine's */
	.run = env_container,
};
