/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"

static int kvm_device(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		      struct rs_error **err _unused_)
{
	struct stat st, lst;

	if (rs_host_stat_host(ctx->host, "dev/kvm", &lst, true) < 0) {
		if (rs_offline_skip(ctx, out, true, false,
				    "whether the kvm module is loaded "
				    "(/dev/kvm appears when it is)"))
			return 0;
		rs_finding_set(
			out, RS_STATUS_FAIL,
			"'/dev/kvm' is missing: no hardware "
			"virtualisation (kvm module not loaded, or nested virtualisation off)");
		out->no_fix = true; /* nothing to chmod until the module is loaded */
		rs_finding_hint(out, "load kvm_intel or kvm_amd and enable VT-x/AMD-V");
		return 0;
	}
	/* never trust (or later chmod) a symlink: qemu-system-common's postinst rule */
	if (S_ISLNK(lst.st_mode) || !S_ISCHR(lst.st_mode)) {
		rs_finding_set(out, RS_STATUS_FAIL, "'/dev/kvm' is not a character device");
		/* the fixer only changes a real device node: by hand */
		out->no_fix = true;
		rs_finding_hint(
			out,
			"something replaced the device node: by hand, remove it and "
			"reload the kvm module (modprobe -r kvm_intel kvm; modprobe kvm_intel), "
			"then run check again");
		return 0;
	}
	st = lst;
	_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
	int a = rs_access_user_host(ctx->host, &ctx->user, "dev/kvm", R_OK | W_OK);
	if (a <= 0) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'/dev/kvm' (%s) cannot be opened read-write by "
			       "'%s'",
			       d, ctx->user.name);
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "kvm.device",
					    "make it root:kvm 0660 with a udev rule "
					    "(KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\") "
					    "and add the user to group kvm"));
		return 0;
	}
	bool via_owner = st.st_uid == ctx->user.uid;
	bool via_group = rs_user_in_group(&ctx->user, st.st_gid) && (st.st_mode & 0060) == 0060;
	if ((st.st_mode & 0006) == 0006 && !via_owner && !via_group) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'/dev/kvm' (%s) is usable only because it is "
			       "world-writable",
			       d);
		rs_finding_hint(out, "prefer root:kvm 0660 with the user in group kvm (Kata's "
				     "rootless guide)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'/dev/kvm' (%s) is read-write for '%s'", d,
		       ctx->user.name);
	return 0;
}

extern const struct rs_fixer rs_fixer_kvm_device;
const struct rs_rule rs_rule_kvm_device = {
	.fixer = &rs_fixer_kvm_device,
	.id = "kvm.device",
	.summary = "/dev/kvm is a character device the user can open read-write",
	.explain = "Kata runs each sandbox in a VM through /dev/kvm. Kata's rootless contract: a "
		   "char device, readable and writable through the group (root:kvm 0660, made "
		   "persistent by a udev rule) rather than world-writable 0666. Access is computed "
		   "from owner, group, mode and ACLs (uaccess) for the target user.",
	.engines = ENG(KATA),
	.needs_user = true,
	.run = kvm_device,
};

static int kvm_group(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
		     struct rs_error **err _unused_)
{
	gid_t gid;

	if (rs_group_gid(ctx->host, "kvm", &gid) < 0) {
		rs_finding_set(out, RS_STATUS_FAIL, "there is no group 'kvm' in /etc/group");
		rs_finding_hint(out, "groupadd --system kvm, then usermod -aG kvm %s",
				ctx->user.name);
		return 0;
	}
	if (!rs_user_in_group(&ctx->user, gid)) {
		rs_finding_set(out, RS_STATUS_FAIL, "'%s' is not in group 'kvm'", ctx->user.name);
		rs_finding_hint(out, "usermod -aG kvm %s, then log in again", ctx->user.name);
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'%s' is in group 'kvm' (gid %u)", ctx->user.name,
		       (unsigned)gid);
	return 0;
}

extern const struct rs_fixer rs_fixer_kvm_group;
const struct rs_rule rs_rule_kvm_group = {
	.fixer = &rs_fixer_kvm_group,
	.id = "kvm.group",
	.summary = "the user is in group kvm",
	.explain = "The guide's set-up gives /dev/kvm to group kvm; the user must be a member "
		   "(membership takes effect at the next login).",
	.engines = ENG(KATA),
	.needs_user = true,
	.run = kvm_group,
};
