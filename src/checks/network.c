/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

static int network_tun(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		       struct rs_error **err _unused_)
{
	struct stat st;

	if (rs_host_stat(ctx->host, "dev/net/tun", &st, true) < 0 || !S_ISCHR(st.st_mode)) {
		rs_finding_set(out, RS_STATUS_WARN, "'/dev/net/tun' is missing: slirp4netns cannot "
			       "run, containers use the host network");
		rs_finding_hint(out, "modprobe tun");
		return 0;
	}
	_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
	if (rs_access_user(ctx->host, &ctx->user, "dev/net/tun", R_OK | W_OK) != 1) {
		rs_finding_set(out, RS_STATUS_WARN, "'/dev/net/tun' (%s) cannot be opened by '%s': "
			       "slirp4netns cannot run, containers use the host network", d,
			       ctx->user.name);
		rs_finding_hint(out, "systemd's udev rules make it 0666; here: chmod 0666 "
				"/dev/net/tun (or a udev rule to keep it)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'/dev/net/tun' (%s) is usable by '%s'", d,
		       ctx->user.name);
	return 0;
}

const struct rs_rule rs_rule_network_tun = {
	.id = "network.tun",
	.summary = "/dev/net/tun is usable by the user (for slirp4netns)",
	.explain = "slirp4netns and pasta give a rootless network namespace its connectivity "
		   "through a tap device from /dev/net/tun; without access the network decision is "
		   "host networking.",
	.engines = RS_ENGINES_STORAGE,
	.needs_user = true,
	.run = network_tun,
};

static int network_slirp(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	static const char *const slirp[] = {"usr/bin/slirp4netns", "usr/local/bin/slirp4netns", NULL};
	static const char *const pasta[] = {"usr/bin/pasta", "usr/local/bin/pasta", NULL};
	const char *p = rs_first_existing(ctx, slirp);
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "slirp4netns");

	if (p) {
		rs_finding_set(out, RS_STATUS_PASS, "'/%s' is installed", p);
		return 0;
	}
	p = rs_first_existing(ctx, pasta);
	rs_finding_set(out, RS_STATUS_WARN, "slirp4netns is not installed%s%s: the network "
		       "decision is host", p ? "; pasta is, at /" : "", p ? p : "");
	if (install)
		rs_finding_hint(out, "install it: %s", install);
	return 0;
}

const struct rs_rule rs_rule_network_slirp4netns = {
	.id = "network.slirp4netns",
	.summary = "slirp4netns is installed",
	.explain = "The launcher's --net=slirp4netns needs slirp4netns (newer than 0.4.0, with "
		   "sandbox and seccomp: CVE-2019-14378, CVE-2020-1983). Without it containers share "
		   "the host network.",
	.engines = RS_ENGINES_STORAGE,
	.run = network_slirp,
};
