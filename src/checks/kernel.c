/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

static int kernel_version(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
			  struct rs_error **err _unused_)
{
	_cleanup_free_ char *key = rs_xasprintf("kernel_min.%s",
						e == RS_ENGINE_NONE ? "*" : rs_engine_name(e));
	struct rs_kver min;

	if (!ctx->kver_ok && rs_offline_skip(ctx, out, true, false, "the running kernel's release"))
		return 0;
	if (!ctx->kver_ok) {
		rs_finding_set(out, RS_STATUS_WARN, "cannot parse kernel release '%s'",
			       ctx->kernel_release ? ctx->kernel_release : "(none)");
		rs_finding_hint(out, "look at 'uname -r' (proc/sys/kernel/osrelease under --root)");
		return 0;
	}
	if (!rs_threshold(ctx, key, &min) && !rs_threshold(ctx, "kernel_min.*", &min)) {
		rs_finding_set(out, RS_STATUS_PASS, "kernel %s", ctx->kernel_release);
		return 0;
	}
	const char *mins = rs_threshold_str(ctx, key) ? rs_threshold_str(ctx, key)
						      : rs_threshold_str(ctx, "kernel_min.*");
	if (rs_kver_cmp(&ctx->kver, &min) < 0) {
		rs_finding_set(out, RS_STATUS_FAIL, "kernel %s is older than %s",
			       ctx->kernel_release, mins);
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "kernel.version",
					    "upgrade the kernel; rootless containers "
					    "cannot run on this one"));
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "kernel %s (at least %s)", ctx->kernel_release, mins);
	return 0;
}

const struct rs_rule rs_rule_kernel_version = {
	.id = "kernel.version",
	.summary = "the kernel is new enough for the engine",
	.explain = "Reads the kernel release (uname, or proc/sys/kernel/osrelease under --root) "
		   "and compares it with the engine's minimum from distro data: unprivileged "
		   "user namespaces need 3.8, Kata's rootless VMM needs 4.14.",
	.engines = RS_ENGINES_ALL,
	.per_engine = true,
	.run = kernel_version,
};

/* Ubuntu kernels carry a SAUCE patch allowing overlayfs in a user namespace
 * since 4.13/4.15 (kernel.ubuntu.com 0a414bdc); /proc/version_signature is
 * how apport and libbpf recognise them. */
static bool distro_kernel_allows_overlay(struct rs_ctx *ctx, const char **why)
{
	const char *patch = rs_distro_str(&ctx->distro, "overlay_userns_patch");
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (rs_streq(patch, "ubuntu") && rs_host_exists(ctx->host, "proc/version_signature")) {
		*why = "an Ubuntu kernel, which allows overlayfs in a user namespace";
		return true;
	}
	/* Debian 10's module parameter; unstable before 5.11 (moby#42302) */
	if (rs_host_read(ctx->host, "sys/module/overlay/parameters/permit_mounts_in_userns", 64,
			 &buf, &len, NULL) == 0 &&
	    rs_strstrip(buf)[0] == 'Y') {
		*why = "overlay permit_mounts_in_userns=Y (Debian patch; unstable before 5.11)";
		return true;
	}
	return false;
}

static int overlay_userns(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			  struct rs_error **err _unused_)
{
	struct rs_kver min, selinux_min;
	const char *why = NULL;
	_cleanup_free_ char *fuse = rs_ctx_install_cmd(ctx, "fuse-overlayfs");

	if (!ctx->kver_ok && rs_offline_skip(ctx, out, true, false,
					     "the running kernel's release (overlayfs in a user "
					     "namespace)"))
		return 0;
	if (!ctx->kver_ok || !rs_threshold(ctx, "overlay_userns", &min)) {
		rs_finding_set(out, RS_STATUS_WARN, "cannot tell: kernel release unknown");
		rs_finding_hint(out, "check proc/sys/kernel/osrelease");
		return 0;
	}
	if (rs_kver_cmp(&ctx->kver, &min) >= 0) {
		/* kernels 5.11-5.12 cannot combine rootless overlayfs with SELinux
		 * labels (containerd#7887, containers/storage#864) */
		if (rs_threshold(ctx, "selinux_overlay", &selinux_min) &&
		    rs_kver_cmp(&ctx->kver, &selinux_min) < 0 &&
		    rs_selinux_mode(ctx) == RS_SELINUX_ENFORCING) {
			rs_finding_set(out, RS_STATUS_WARN,
				       "kernel %s allows overlayfs in a user "
				       "namespace, but not with SELinux enforcing before %s",
				       ctx->kernel_release,
				       rs_threshold_str(ctx, "selinux_overlay"));
			rs_finding_hint(out, "fuse-overlayfs will be used%s%s", fuse ? ": " : "",
					fuse ? fuse : "");
			return 0;
		}
		rs_finding_set(out, RS_STATUS_PASS,
			       "kernel %s is at least %s: overlayfs works in a "
			       "user namespace (userxattr)",
			       ctx->kernel_release, rs_threshold_str(ctx, "overlay_userns"));
		return 0;
	}
	if (distro_kernel_allows_overlay(ctx, &why)) {
		rs_finding_set(out, RS_STATUS_PASS, "kernel %s: %s", ctx->kernel_release, why);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_WARN,
		       "kernel %s is older than %s: no overlayfs in a user "
		       "namespace",
		       ctx->kernel_release, rs_threshold_str(ctx, "overlay_userns"));
	rs_finding_hint(out, "%s",
			rs_ctx_hint(ctx, "kernel.overlay-userns",
				    "fuse-overlayfs (kernel 4.18 or later) or native "
				    "snapshots will be used instead"));
	return 0;
}

const struct rs_rule rs_rule_kernel_overlay_userns = {
	.id = "kernel.overlay-userns",
	.summary = "overlayfs can be mounted inside a user namespace",
	.explain = "Upstream Linux allows an overlayfs mount in a user namespace from 5.11 "
		   "(commit 459c7c565ac3, with the userxattr option); Ubuntu kernels allowed it "
		   "earlier, Debian 10 behind 'overlay permit_mounts_in_userns=Y'. With SELinux "
		   "enforcing, labels work only from 5.13. When this fails, the snapshotter falls "
		   "back to fuse-overlayfs or native copies. The live probe (userns.probe) tries a "
		   "real overlay mount and overrides this verdict.",
	.engines = RS_ENGINES_STORAGE,
	.run = overlay_userns,
};

static int fuse_overlayfs(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			  struct rs_error **err _unused_)
{
	const struct rs_result *ov = rs_ctx_result(ctx, "kernel.overlay-userns");
	static const char *const bins[] = {"usr/bin/fuse-overlayfs", "usr/local/bin/fuse-overlayfs",
					   NULL};
	struct rs_kver min;
	struct stat st;
	_cleanup_free_ char *install = rs_ctx_install_cmd(ctx, "fuse-overlayfs");

	if (ov && ov->f.status == RS_STATUS_PASS) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "not needed: overlayfs works in a user namespace");
		return 0;
	}
	if (rs_offline_skip(ctx, out, true, false,
			    rs_first_existing(ctx, bins)
				    ? "whether the running kernel allows FUSE in a user namespace "
				      "(fuse-overlayfs is installed)"
				    : "whether the running kernel allows FUSE in a user namespace "
				      "(fuse-overlayfs is not installed)"))
		return 0;
	if (ctx->kver_ok && rs_threshold(ctx, "fuse_overlayfs", &min) &&
	    rs_kver_cmp(&ctx->kver, &min) < 0) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "kernel %s is older than %s: no FUSE in a user "
			       "namespace; snapshots will be native copies",
			       ctx->kernel_release, rs_threshold_str(ctx, "fuse_overlayfs"));
		rs_finding_hint(out,
				"native copies work but use more disk and time; a kernel of "
				"%s or later allows fuse-overlayfs",
				rs_threshold_str(ctx, "fuse_overlayfs"));
		return 0;
	}
	if (rs_host_stat(ctx->host, "dev/fuse", &st, false) < 0 || !S_ISCHR(st.st_mode)) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/dev/fuse' is missing or not a character "
			       "device: snapshots will be native copies");
		rs_finding_hint(out, "load the fuse module: modprobe fuse");
		return 0;
	}
	if (!rs_first_existing(ctx, bins)) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "fuse-overlayfs is not installed: snapshots will "
			       "be native copies");
		if (install)
			rs_finding_hint(out, "install it: %s", install);
		return 0;
	}
	if (ctx->has_user &&
	    rs_access_user_host(ctx->host, &ctx->user, "dev/fuse", R_OK | W_OK) == 0) {
		_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/dev/fuse' (%s) cannot be opened by '%s': "
			       "snapshots will be native copies",
			       d, ctx->user.name);
		rs_finding_hint(out, "make /dev/fuse mode 0666, as systemd's udev rules do");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "fuse-overlayfs and '/dev/fuse' are usable");
	return 0;
}

const struct rs_rule rs_rule_kernel_fuse_overlayfs = {
	.id = "kernel.fuse-overlayfs",
	.summary = "fuse-overlayfs can stand in for overlayfs",
	.explain =
		"When overlayfs cannot be mounted in a user namespace, fuse-overlayfs can: it "
		"needs kernel 4.18 (unprivileged FUSE mounts in a user namespace), /dev/fuse "
		"usable by the user, and the fuse-overlayfs binary. Skipped when overlayfs works.",
	.engines = RS_ENGINES_STORAGE,
	.reads_user = true, /* /dev/fuse as the user, when there is one */
	.run = fuse_overlayfs,
};
