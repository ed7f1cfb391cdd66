/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "checks/internal.h"

static const char *selinux_text(enum rs_selinux m)
{
	switch (m) {
	case RS_SELINUX_DISABLED:
		return "disabled";
	case RS_SELINUX_PERMISSIVE:
		return "permissive";
	case RS_SELINUX_ENFORCING:
		return "enforcing";
	case RS_SELINUX_UNKNOWN:
		break;
	}
	return "unknown";
}

static int selinux_state(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			 struct rs_error **err _unused_)
{
	enum rs_selinux m;
	struct rs_kver min;

	/* under --root the mode comes from sys/fs/selinux: absent there is
	 * "disabled" only when a kernel runs behind the tree */
	if (!ctx->host->live &&
	    rs_offline_skip(ctx, out, false, true, "whether SELinux is enabled or enforcing"))
		return 0;
	m = rs_selinux_mode(ctx);

	if (e == RS_ENGINE_KATA && m != RS_SELINUX_DISABLED) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "SELinux is %s: rootless Kata with Podman needs "
			       "it disabled",
			       selinux_text(m));
		rs_finding_hint(out, "set SELINUX=disabled in /etc/selinux/config and reboot");
		return 0;
	}
	/* Fedora's kernels before 5.13 (the guide's case); elsewhere overlay in a
	 * user namespace is already ruled out by the kernel or not SELinux's */
	if (m == RS_SELINUX_ENFORCING && (RS_ENGINE_BIT(e) & RS_ENGINES_STORAGE) && ctx->kver_ok &&
	    rs_distro_bool(&ctx->distro, "selinux_overlay_warn", false) &&
	    rs_threshold(ctx, "selinux_overlay", &min) && rs_kver_cmp(&ctx->kver, &min) < 0) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "SELinux is enforcing on kernel %s: rootless "
			       "overlayfs with SELinux labels needs %s",
			       ctx->kernel_release, rs_threshold_str(ctx, "selinux_overlay"));
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "selinux.state",
					    "fuse-overlayfs will be used; or upgrade the "
					    "kernel"));
		return 0;
	}
	/* Debian's reference policy runs podman's containers as container_t,
	 * which may not write to a pipe of the (unconfined) caller: the lab's
	 * enforcing trixie showed `podman run ... echo` under $(...) print
	 * nothing while the container exited 0 (AVC denied write on fifo_file) */
	if (m == RS_SELINUX_ENFORCING && e == RS_ENGINE_PODMAN &&
	    rs_distro_bool(&ctx->distro, "selinux_container_pipe_warn", false)) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "SELinux is enforcing with this distribution's policy: containers "
			       "run as container_t, which may not write to the caller's pipe, so "
			       "a container's output read through a pipe is lost (it still runs)");
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "selinux.state",
					    "read the output from a terminal or a file; the "
					    "denial is in the audit log (avc: denied { write } "
					    "... fifo_file)"));
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "SELinux is %s", selinux_text(m));
	return 0;
}

const struct rs_rule rs_rule_selinux_state = {
	.id = "selinux.state",
	.summary = "SELinux does not stand in the way",
	.explain = "Live hosts are read through libselinux; under --root, sys/fs/selinux/enforce "
		   "and etc/selinux/config. Rootless Kata with Podman needs SELinux disabled; with "
		   "SELinux enforcing, rootless overlayfs works only from kernel 5.13 (Fedora's "
		   "buildkit note), so older kernels fall back to fuse-overlayfs. Where the "
		   "distribution's "
		   "policy runs containers as container_t without leave to write to the caller's "
		   "pipe (Debian's reference policy, seen enforcing in the lab), Podman gets a "
		   "warning: the container runs, its output through a pipe is lost.",
	.engines = RS_ENGINES_ALL,
	.per_engine = true,
	.run = selinux_state,
};
