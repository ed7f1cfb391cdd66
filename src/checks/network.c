/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

/* What each engine's containers get when no user-mode network can run. */
static const struct {
	enum rs_engine e;
	const char *then;
} no_tun[] = {
	{RS_ENGINE_PODMAN, "podman's default network (pasta or slirp4netns) fails: containers "
			   "get --network host only where that is configured"},
	{RS_ENGINE_CONTAINERD, "containerd's launch uses the host network"},
	{RS_ENGINE_BUILDKIT, "builds use the host network"},
	{RS_ENGINE_ISULAD, "iSulad's containers use the host network"},
};

static const char *then_text(enum rs_engine e)
{
	for (size_t i = 0; i < ARRAY_SIZE(no_tun); i++)
		if (no_tun[i].e == e)
			return no_tun[i].then;
	return "containers use the host network";
}

static int network_tun(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		       struct rs_error **err)
{
	struct stat st;

	if (rs_host_stat_host(ctx->host, "dev/net/tun", &st, true) < 0 || !S_ISCHR(st.st_mode)) {
		/* devtmpfs makes the node at boot: a tree on disk has none */
		if (rs_offline_skip(ctx, out, true, false,
				    "whether '/dev/net/tun' exists "
				    "(it appears at boot)"))
			return 0;
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/dev/net/tun' is missing: no user-mode network (pasta, "
			       "slirp4netns, the launcher's libslirp) can run; %s",
			       then_text(e));
		rs_finding_hint(out, "modprobe tun");
		return 0;
	}
	_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
	if (rs_access_user_host(ctx->host, &ctx->user, "dev/net/tun", R_OK | W_OK) != 1) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/dev/net/tun' (%s) cannot be opened by '%s': "
			       "no user-mode network (pasta, slirp4netns, the launcher's libslirp) "
			       "can run; %s",
			       d, ctx->user.name, then_text(e));
		rs_finding_hint(out, "systemd's udev rules make it 0666; here: chmod 0666 "
				     "/dev/net/tun (or a udev rule to keep it)");
		return 0;
	}
	_cleanup_free_ char *how = NULL;
	int r = rs_dev_usable(ctx, "dev/net/tun", "tun", &how);
	if (r == -ECHILD || r == -ETIMEDOUT)
		return rs_error_setx(err, -r, "%s", how);
	if (r < 0) {
		rs_finding_set(out, RS_STATUS_WARN, "%s: neither pasta nor slirp4netns can run; %s",
			       how, then_text(e));
		if (r == -ENODEV)
			rs_finding_hint(out, "the tun driver is not loaded: modprobe tun (inside a "
					     "container: on the host, and pass /dev/net/tun in)");
		else if (r == -EPERM)
			rs_finding_hint(out, "a device cgroup or security module forbids it (a "
					     "container needs --device /dev/net/tun)");
		else
			rs_finding_hint(out, "the mode and ACL allow it, so a security module "
					     "(SELinux, AppArmor) refuses it: see its audit log");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'/dev/net/tun' (%s) is usable by '%s'%s", d,
		       ctx->user.name,
		       ctx->host->live && rs_live_for_user(ctx) ? " (opened as the user)" : "");
	return 0;
}

const struct rs_rule rs_rule_network_tun = {
	.id = "network.tun",
	.summary = "/dev/net/tun is usable by the user (for pasta, slirp4netns and libslirp)",
	.explain = "pasta, slirp4netns and the launcher's embedded network (--net=libslirp) give a "
		   "rootless network namespace its connectivity "
		   "through a tap device from /dev/net/tun; without access the network decision is "
		   "host networking, and the message says what the engine then does (Podman: "
		   "--network host only where configured; containerd: the host network). A --root "
		   "tree without proc/ is skipped: the node appears at boot. A node that exists "
		   "still fails to open with ENODEV when the tun driver is not loaded and cannot "
		   "be: a kernel updated without a reboot (its modules are gone: "
		   "https://github.com/containers/podman/issues/9543), kernel.modules_disabled, a "
		   "container; slirp4netns then fails 'open(\"/dev/net/tun\")', and with EPERM "
		   "where a device cgroup forbids it "
		   "(https://github.com/containers/podman/issues/10001). On a live host the rule "
		   "opens the node as the user, telling EACCES, EPERM and ENODEV apart (the open "
		   "loads the module where it can, as any user's open would); under --root it "
		   "reads sys/class/misc/tun and lib/modules/RELEASE.",
	.engines = RS_ENGINES_STORAGE,
	.per_engine = true,
	.needs_user = true,
	.run = network_tun,
};

static int network_slirp(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	_cleanup_free_ char *slirp = NULL;
	const char *p = rs_ctx_find_program(ctx, "slirp4netns");
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "slirp4netns");

	slirp = p ? rs_xstrdup(p) : NULL;
	p = rs_ctx_find_program(ctx, "pasta");
	if (slirp && p) {
		rs_finding_set(out, RS_STATUS_PASS,
			       "'/%s' and '/%s' are installed (pasta is "
			       "preferred)",
			       slirp, p);
		return 0;
	}
	if (slirp || p) {
		rs_finding_set(out, RS_STATUS_PASS, "'/%s' is installed", slirp ? slirp : p);
		return 0;
	}
	const char *lib = rs_ctx_find_library(ctx, RS_LIBSLIRP_SONAME);
	unsigned podman = RS_ENGINE_BIT(RS_ENGINE_PODMAN) | RS_ENGINE_BIT(RS_ENGINE_KATA);
	if (lib && !(ctx->engines & podman)) {
		rs_finding_set(
			out, RS_STATUS_PASS,
			"neither slirp4netns nor pasta is installed: the launcher's embedded "
			"network ('/%s', --net=libslirp) is the network decision",
			lib);
		return 0;
	}
	if (lib)
		rs_finding_set(
			out, RS_STATUS_WARN,
			"neither slirp4netns nor pasta is installed: Podman's containers get "
			"the host network (the daemons the launcher starts use its embedded "
			"network, '/%s')",
			lib);
	else
		rs_finding_set(out, RS_STATUS_WARN,
			       "neither slirp4netns, pasta nor libslirp is installed: the "
			       "network decision is host");
	if (install)
		rs_finding_hint(out, "install it: %s", install);
	else
		rs_finding_hint(out, "install slirp4netns or passt (pasta)");
	return 0;
}

const struct rs_rule rs_rule_network_slirp4netns = {
	.id = "network.slirp4netns",
	.summary = "pasta or slirp4netns (or, for the launcher, libslirp) is installed",
	.explain =
		"A user-mode network needs pasta (preferred when /dev/net/tun is usable) or "
		"slirp4netns. The launcher's --net=slirp4netns needs slirp4netns (newer than "
		"0.4.0, with "
		"sandbox and seccomp: CVE-2019-14378, CVE-2020-1983). Without either, the daemons "
		"the launcher starts use its embedded network (--net=libslirp: libslirp, which the "
		"package depends on, in a sandboxed helper of its own); Podman, which runs its own "
		"network helper, has none and its containers share the host network.",
	.engines = RS_ENGINES_STORAGE,
	.run = network_slirp,
};
