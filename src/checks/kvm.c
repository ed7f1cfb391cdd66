/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <unistd.h>
#include "checks/internal.h"
#include "host/parse.h"

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

/*
 * kvm.virtualization: what `kata-runtime check` asks of the host before
 * Kata can boot a guest: the CPU's virtualisation (vmx or svm in
 * /proc/cpuinfo, or the kvm_intel / kvm_amd module that needs it) and the
 * vhost devices. A /dev/kvm alone is not that: kvm_pvm (a paravirtual KVM
 * for guests of a hypervisor that exposes no VT-x) answers KVM_CREATE_VM,
 * yet no ordinary guest kernel boots on it. Under --root only what the
 * tree holds is read: an absent /proc or /sys file tells nothing.
 */
struct virt {
	bool known, hw;	  /* whether the host has hardware virtualisation */
	const char *how;  /* "vmx", "svm", "kvm_intel", "kvm_amd" */
	bool hypervisor;  /* the CPU says it is a virtual machine's */
	bool pvm;	  /* kvm_pvm is loaded */
	bool flags_known; /* proc/cpuinfo has a flags line */
};

static bool module_loaded(const struct rs_ctx *ctx, const char *name)
{
	_cleanup_free_ char *rel = rs_xasprintf("sys/module/%s", name);
	return rs_host_exists(ctx->host, rel);
}

static void virt_facts(struct rs_ctx *ctx, struct virt *v)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	unsigned cpu = 0;

	if (rs_host_read(ctx->host, "proc/cpuinfo", RS_HOST_READ_MAX, &buf, &len, NULL) == 0)
		cpu = rs_cpuinfo_virt(buf, len);
	v->flags_known = cpu & RS_CPU_FLAGS;
	v->hypervisor = cpu & RS_CPU_HYPERVISOR;
	v->pvm = module_loaded(ctx, "kvm_pvm");
	v->how = cpu & RS_CPU_VMX ? "vmx" : cpu & RS_CPU_SVM ? "svm" : NULL;
	if (!v->how)
		v->how = module_loaded(ctx, "kvm_intel") ? "kvm_intel"
			 : module_loaded(ctx, "kvm_amd") ? "kvm_amd"
							 : NULL;
	v->hw = v->how != NULL;
	/* no flag and no module: a fact on a running system, or when the
	 * tree's cpuinfo has its flags line; else nothing to conclude from */
	v->known = v->hw || v->flags_known || ctx->host->live;
}

static int no_virtualisation(const struct rs_ctx *ctx, const struct virt *v, struct rs_finding *out)
{
	rs_finding_set(
		out, RS_STATUS_FAIL,
		"no hardware virtualisation for guests: the CPU has neither vmx nor svm%s "
		"and neither kvm_intel nor kvm_amd is loaded%s: Kata cannot run on this host",
		v->hypervisor ? " (it is a virtual machine's, without nested "
				"virtualisation)"
			      : "",
		v->pvm ? "; the kvm here is kvm_pvm, a paravirtual KVM: KVM_CREATE_VM "
			 "succeeds on it, yet no ordinary guest boots"
		       : "");
	out->no_fix = true;
	rs_finding_hint(out, "%s",
			rs_ctx_hint(ctx, "kvm.virtualization",
				    "Kata boots each sandbox as a VM: run it on bare metal with "
				    "VT-x or AMD-V enabled in the firmware, or in a VM with nested "
				    "virtualisation ('kata-runtime check' says the same)"));
	return 0;
}

/* The vhost device rel: a char device the user can open read-write.
 * Return: NULL, or what is wrong (caller frees). */
static char *vhost_problem(struct rs_ctx *ctx, const char *rel)
{
	struct stat st;
	if (rs_host_stat(ctx->host, rel, &st, true) < 0)
		return rs_xasprintf("'/%s' is missing", rel);
	if (!S_ISCHR(st.st_mode))
		return rs_xasprintf("'/%s' is not a character device", rel);
	if (ctx->has_user && rs_access_user(ctx->host, &ctx->user, rel, R_OK | W_OK) <= 0) {
		_cleanup_free_ char *d = rs_access_describe(ctx->host, &st);
		return rs_xasprintf("'/%s' (%s) cannot be opened read-write by '%s'", rel, d,
				    ctx->user.name);
	}
	return NULL;
}

static int kvm_virtualization(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			      struct rs_error **err _unused_)
{
	struct virt v = {0};

	if (rs_offline_skip(ctx, out, true, true, "whether the CPU has hardware virtualisation"))
		return 0;
	virt_facts(ctx, &v);
	if (!v.known) {
		rs_finding_set(
			out, RS_STATUS_SKIP,
			"no proc/cpuinfo flags and no sys/module/kvm_intel or kvm_amd in the "
			"tree: cannot tell whether the CPU has hardware virtualisation");
		return 0;
	}
	if (!v.hw)
		return no_virtualisation(ctx, &v, out);
	/* the agent is reached over vsock; vhost-net is Kata's network path
	 * unless its configuration disables it (kata.config, rootless) */
	_cleanup_free_ char *vsock = vhost_problem(ctx, "dev/vhost-vsock");
	_cleanup_free_ char *net = vhost_problem(ctx, "dev/vhost-net");
	if (vsock) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "%s: Kata's agent in the guest is reached over vsock%s%s", vsock,
			       net ? "; " : "", net ? net : "");
		rs_finding_hint(out,
				"modprobe vhost_vsock, and give the user the device as "
				"/dev/kvm (group kvm, 0660) or 0666 as systemd's udev rules do");
		return 0;
	}
	if (net) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "hardware virtualisation (%s), '/dev/vhost-vsock' usable; %s: "
			       "Kata's network then needs disable_vhost_net = true (kata.config)",
			       v.how, net);
		rs_finding_hint(out, "modprobe vhost_net, or keep disable_vhost_net = true in "
				     "Kata's configuration (what its rootless guide does)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS,
		       "hardware virtualisation (%s); '/dev/vhost-vsock' and '/dev/vhost-net' "
		       "%s%s%s",
		       v.how, ctx->has_user ? "read-write for '" : "present",
		       ctx->has_user ? ctx->user.name : "", ctx->has_user ? "'" : "");
	return 0;
}

const struct rs_rule rs_rule_kvm_virtualization = {
	.id = "kvm.virtualization",
	.summary = "the CPU virtualises guests (vmx or svm) and the vhost devices are usable",
	.explain = "What 'kata-runtime check' asks of the host: a CPU with hardware "
		   "virtualisation (vmx or svm in /proc/cpuinfo, or the kvm_intel or kvm_amd "
		   "module loaded), /dev/vhost-vsock (the guest agent is reached over vsock) and "
		   "/dev/vhost-net, both read-write for the user (present, with no target user). A "
		   "/dev/kvm alone is not that: "
		   "kvm_pvm, a paravirtual KVM for guests of a hypervisor without nested "
		   "virtualisation, answers KVM_CREATE_VM, yet no ordinary guest kernel boots on "
		   "it, so the rule fails such a host, naming it. Under --root only the tree's "
		   "files are read (proc/cpuinfo, sys/module/NAME, dev/vhost-vsock and "
		   "dev/vhost-net); without them it "
		   "cannot tell, and skips.",
	.engines = ENG(KATA),
	.run = kvm_virtualization,
};
