/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixers/fixer.h"
#include "lib/xalloc.h"

#define UDEV_REL "etc/udev/rules.d/99-rootless-setup-kvm.rules"

static int fix_kvm_group(struct rs_fix_ctx *f, const struct rs_result *res)
{
	rs_fix_group_member(f, res->rule->id, "kvm");
	return 0;
}

/* before kvm.device: it creates the group the device is given to */
const struct rs_fixer rs_fixer_kvm_group = {.order = 60, .run = fix_kvm_group};

/* root:kvm 0660 on the device node itself, through an O_PATH descriptor
 * of what lstat saw: never a symlink, never anything but a char device
 * (qemu-system-common's postinst guard), never 0666. */
static int chown_device(struct rs_fix_ctx *f, const char *rule, gid_t gid)
{
	struct stat st;
	char proc[64];
	int fd = rs_host_openat(f->ctx->host, "dev/kvm", O_PATH | O_NOFOLLOW, NULL);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		rs_fix_action(f, rule, "note", "/dev/kvm",
			      "not a character device: nothing changed "
			      "(load kvm_intel or kvm_amd)")
			->failed = true;
		return -EINVAL;
	}
	bool same = st.st_uid == 0 && st.st_gid == gid && (st.st_mode & 07777) == 0660;
	struct rs_action *a = rs_fix_action(f, rule, "chmod", "/dev/kvm",
					    "root:kvm 0660 (was "
					    "%u:%u %04o)",
					    (unsigned)st.st_uid, (unsigned)st.st_gid,
					    (unsigned)(st.st_mode & 07777));
	a->changed = !same;
	if (same || f->o->dry_run) {
		close(fd);
		return 0;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchownat(fd, "", 0, gid, AT_EMPTY_PATH) < 0 || chmod(proc, 0660) < 0) {
		a->failed = true;
		free(a->detail);
		a->detail = rs_xasprintf("cannot change /dev/kvm: %s", strerror(errno));
	}
	close(fd);
	return 0;
}

static int fix_kvm_device(struct rs_fix_ctx *f, const struct rs_result *res)
{
	gid_t gid;

	/* kvm.group's fixer runs first and creates the group */
	if (rs_group_gid(f->ctx->host, "kvm", &gid) < 0) {
		rs_fix_action(f, res->rule->id, "note", NULL,
			      "no group 'kvm' yet (kvm.group's fixer "
			      "creates it)")
			->failed = !f->o->dry_run;
		if (!f->o->dry_run)
			return 0;
		gid = (gid_t)-1;
	}
	/* the udev rule keeps it across reboots; a chmod on devtmpfs alone does
	 * not survive (Kata's rootless VMM guide) */
	if (rs_fix_write(f, res->rule->id, UDEV_REL,
			 "# rootless-setup fix --rule kvm.device\n"
			 "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"\n",
			 0644, "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"") < 0)
		return 0;
	chown_device(f, res->rule->id, gid);
	return 0;
}

const struct rs_fixer rs_fixer_kvm_device = {.order = 70, .run = fix_kvm_device};
