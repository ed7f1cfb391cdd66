/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

/* Kata's lookup order: the admin's copy, then the package defaults. */
static const char *const kata_configs[] = {
	"etc/kata-containers/configuration.toml",
	"usr/share/defaults/kata-containers/configuration.toml",
	"opt/kata/share/defaults/kata-containers/configuration.toml",
	NULL,
};

static int kata_config(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		       struct rs_error **err _unused_)
{
	const char *rel = rs_first_existing(ctx, kata_configs);
	_cleanup_free_ char *vhost = NULL;
	const char *buf;
	size_t len;
	struct rs_error *re = NULL;

	if (!rel) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "no Kata configuration.toml in /etc/kata-"
			       "containers, /usr/share/defaults/kata-containers or /opt/kata");
		rs_finding_hint(out, "install Kata Containers (kata-containers package or "
				     "kata-deploy); its package brings the configuration");
		out->no_fix = true; /* the fixer edits a copy of a configuration: none here */
		return 0;
	}
	if (rs_access_user_host(ctx->host, &ctx->user, rel, R_OK) != 1) {
		rs_finding_set(out, RS_STATUS_FAIL, "'/%s' is not readable by '%s'", rel,
			       ctx->user.name);
		rs_finding_hint(out, "rootless-setup fix --rule kata.config writes a readable "
				     "/etc/kata-containers/configuration.toml");
		return 0;
	}
	if (rs_host_read_cached(ctx->host, rel, 4u << 20, &buf, &len, &re) < 0) {
		rs_finding_set(out, RS_STATUS_WARN, "%s", re->msg);
		rs_error_free(re);
		return 0;
	}
	vhost = rs_toml_get(buf, len, "hypervisor.qemu", "disable_vhost_net");
	if (!rs_streq(vhost, "true")) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/%s': disable_vhost_net is not true; rootless "
			       "Kata cannot open /dev/vhost-net",
			       rel);
		rs_finding_hint(out, "set disable_vhost_net = true under [hypervisor.qemu] "
				     "(kata-containers/runtime#2323)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'/%s' is readable, vhost-net disabled", rel);
	return 0;
}

extern const struct rs_fixer rs_fixer_kata_config;
const struct rs_rule rs_rule_kata_config = {
	.fixer = &rs_fixer_kata_config,
	.id = "kata.config",
	.summary = "a Kata configuration.toml is readable and disables vhost-net",
	.explain = "Kata reads /etc/kata-containers/configuration.toml, else the package default "
		   "under /usr/share/defaults or /opt/kata. Run by a user, the runtime cannot open "
		   "/dev/vhost-net, so [hypervisor.qemu] disable_vhost_net must be true.",
	.engines = ENG(KATA),
	.needs_user = true,
	.run = kata_config,
};

static int kata_image(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		      struct rs_error **err _unused_)
{
	const char *rel = rs_first_existing(ctx, kata_configs);
	_cleanup_free_ char *img = NULL;
	const char *buf;
	size_t len;
	struct stat st;

	if (!rel || rs_host_read_cached(ctx->host, rel, 4u << 20, &buf, &len, NULL) < 0) {
		rs_finding_set(out, RS_STATUS_SKIP, "no readable Kata configuration");
		return 0;
	}
	img = rs_toml_get(buf, len, "hypervisor.qemu", "image");
	if (!img || !*img) {
		free(img);
		img = rs_toml_get(buf, len, "hypervisor.qemu", "initrd");
	}
	if (!img || img[0] != '/') {
		rs_finding_set(out, RS_STATUS_WARN, "'/%s' names no guest image or initrd", rel);
		return 0;
	}
	if (rs_host_stat_host(ctx->host, img, &st, false) < 0) {
		rs_finding_set(out, RS_STATUS_WARN, "guest image '%s' does not exist", img);
		return 0;
	}
	_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
	if (rs_access_user_host(ctx->host, &ctx->user, img, R_OK) != 1) {
		rs_finding_set(out, RS_STATUS_WARN, "guest image '%s' (%s) is not readable by '%s'",
			       img, d, ctx->user.name);
		return 0;
	}
	if (st.st_mode & 0022) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "guest image '%s' (%s) is writable by group or "
			       "others: anyone in that group can change every VM's root",
			       img, d);
		rs_finding_hint(out, "chmod go-w '%s'", img);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "guest image '%s' (%s) is readable", img, d);
	return 0;
}

const struct rs_rule rs_rule_kata_image = {
	.id = "kata.image",
	.summary = "Kata's guest image is readable and not group-writable",
	.explain = "The image (or initrd) named in [hypervisor.qemu] must be readable by the "
		   "user running the VM; the guide warns against making it group-writable, which "
		   "would let the group change every sandbox's root filesystem.",
	.engines = ENG(KATA),
	.needs_user = true,
	.run = kata_image,
};
