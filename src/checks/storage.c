/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include "checks/internal.h"
#include "host/libs.h"

/* Filesystems that cannot hold rootless image layers: no xattrs for
 * userxattr/fuse-overlayfs, root squashing breaks subordinate ids
 * (Docker docs: "not on NFS"). */
static const char *const network_fs[] = {"nfs",	       "nfs4",	    "cifs",	 "smb3",
					 "smbfs",      "ceph",	    "glusterfs", "fuse.glusterfs",
					 "fuse.sshfs", "afs",	    "lustre",	 "9p",
					 "ncpfs",      "fuse.s3fs", NULL};

static bool is_network_fs(const char *type)
{
	for (const char *const *t = network_fs; *t; t++)
		if (rs_streq(type, *t))
			return true;
	return false;
}

/* fuseblk hides the real filesystem; probe the device (live hosts only). */
static char *probe_fstype(struct rs_ctx *ctx, const char *src)
{
	if (!ctx->host->live || !src || src[0] != '/')
		return NULL;
	blkid_probe pr = blkid_new_probe_from_filename(src);
	if (!pr)
		return NULL;
	const char *type = NULL;
	char *out = NULL;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
		out = rs_xstrdup(type);
	blkid_free_probe(pr);
	return out;
}

/* Without d_type, overlayfs refuses to work (xfs with ftype=0). Only a real
 * directory listing can tell; under --root nothing is known. */
static bool lacks_dtype(struct rs_ctx *ctx, const char *dir)
{
	if (!ctx->host->live)
		return false;
	int fd = rs_host_openat(ctx->host, dir, O_RDONLY | O_DIRECTORY, NULL);
	if (fd < 0)
		return false;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && de->d_type == DT_UNKNOWN)
			return true;
	return false;
}

static bool has_opt(const char *opts, const char *name)
{
	char *val;
	size_t n;
	return opts && mnt_optstr_get_option(opts, name, &val, &n) == 0;
}

static int storage_fs(struct rs_ctx *ctx, enum rs_engine e, struct rs_finding *out,
		      struct rs_error **err _unused_)
{
	_cleanup_free_ char *data = rs_ctx_data_dir(ctx, e), *canon = NULL, *existing = NULL;
	struct libmnt_table *tb = rs_ctx_mounts(ctx);

	if (!tb && ctx->no_proc) {
		/* a warning, not a skip: an NFS or noexec home would go unseen */
		rs_finding_set(out, RS_STATUS_WARN,
			       "cannot check: no /proc in the tree (not a "
			       "running system): the filesystem of '%s' is unknown",
			       data);
		rs_finding_hint(out, "run check on the running system");
		return 0;
	}
	if (!tb && ctx->mounts_nolib) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "cannot check: %s: the filesystem of '%s' is unknown",
			       rs_libs_error(), data);
		rs_finding_hint(out, "install libmount (the package depends on it)");
		return 0;
	}
	if (!tb) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "cannot read /proc/self/mountinfo: the "
			       "filesystem of '%s' is unknown",
			       data);
		rs_finding_hint(out, "inside a container /proc may be hidden: check on the host");
		return 0;
	}
	if (rs_host_canonical(ctx->host, data, &canon) < 0)
		canon = rs_xstrdup(data);
	struct libmnt_fs *fs = rs_mount_for(tb, canon);
	if (!fs) {
		rs_finding_set(out, RS_STATUS_WARN, "no mount in /proc/self/mountinfo holds '%s'",
			       canon);
		return 0;
	}
	const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
	const char *vfs = mnt_fs_get_vfs_options(fs);
	_cleanup_free_ char *real = rs_streq(type, "fuseblk")
					    ? probe_fstype(ctx, mnt_fs_get_source(fs))
					    : NULL;
	if (real)
		type = real;
	if (is_network_fs(type)) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'%s' is on %s ('%s'): a network filesystem "
			       "cannot hold rootless image layers",
			       data, type, target);
		rs_finding_hint(out,
				"put the data dir on a local filesystem, e.g. a symlink of "
				"'%s' to a directory on local disk",
				data);
		return 0;
	}
	const char *bad = has_opt(vfs, "nosuid")   ? "nosuid"
			  : has_opt(vfs, "nodev")  ? "nodev"
			  : has_opt(vfs, "noexec") ? "noexec"
						   : NULL;
	if (bad) {
		rs_finding_set(out, RS_STATUS_FAIL,
			       "'%s' is on '%s' mounted %s (%s): containers "
			       "need setuid binaries, device whiteouts and exec",
			       data, target, bad, vfs);
		rs_finding_hint(out, "%s",
				rs_ctx_hint(ctx, "storage.fs",
					    "use a data dir on a mount without nosuid, "
					    "nodev and noexec"));
		return 0;
	}
	existing = rs_xstrdup(canon);
	while (strcmp(existing, "/") && !rs_host_exists(ctx->host, existing)) {
		char *sl = strrchr(existing, '/');
		if (!sl || sl == existing)
			existing[1] = '\0';
		else
			*sl = '\0';
	}
	if (lacks_dtype(ctx, existing)) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "'%s' is on %s without d_type support: overlayfs "
			       "refuses it",
			       target, type);
		rs_finding_hint(out, "reformat with d_type (xfs: mkfs.xfs -n ftype=1)");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'%s' is on %s ('%s' %s)", data, type, target,
		       vfs ? vfs : "");
	return 0;
}

const struct rs_rule rs_rule_storage_fs = {
	.id = "storage.fs",
	.summary = "the engine's data directory is on a suitable local filesystem",
	.explain = "Image layers go in the engine's data dir under the user's home. "
		   "NFS and other network filesystems fail (no xattrs, root squash); a mount "
		   "with nosuid, nodev or noexec (Container-Optimized OS /home) breaks setuid "
		   "binaries and whiteouts in containers; a filesystem without d_type (xfs "
		   "ftype=0) breaks overlayfs. The mount is found with libmount; fuseblk devices "
		   "are probed with libblkid.",
	.engines = RS_ENGINES_STORAGE,
	.per_engine = true,
	.needs_user = true,
	.run = storage_fs,
};

static int storage_fuse(struct rs_ctx *ctx, enum rs_engine e _unused_, struct rs_finding *out,
			struct rs_error **err)
{
	const char *snap = rs_ctx_snapshotter(ctx);
	_cleanup_free_ char *how = NULL;

	if (strcmp(snap, "fuse-overlayfs")) {
		rs_finding_set(out, RS_STATUS_SKIP,
			       "fuse-overlayfs is not the snapshotter decision (%s)", snap);
		return 0;
	}
	int r = rs_dev_usable(ctx, "dev/fuse", "fuse", &how);
	if (r == -ECHILD || r == -ETIMEDOUT)
		return rs_error_setx(err, -r, "%s", how);
	if (r < 0) {
		rs_finding_set(out, RS_STATUS_WARN,
			       "%s: fuse-overlayfs cannot mount ('fuse: device not found, try "
			       "'modprobe fuse' first'); snapshots will be native copies",
			       how);
		if (r == -ENODEV)
			rs_finding_hint(out, "the fuse driver is not loaded: modprobe fuse (inside "
					     "a container: on the host, and pass /dev/fuse in)");
		else if (r == -EPERM)
			rs_finding_hint(out, "a device cgroup or security module forbids it (a "
					     "container needs --device /dev/fuse)");
		else
			rs_finding_hint(out, "make /dev/fuse mode 0666, as systemd's udev rules "
					     "do; if it is, a security module refuses it: see its "
					     "audit log");
		return 0;
	}
	rs_finding_set(out, RS_STATUS_PASS, "'/dev/fuse' %s (fuse-overlayfs is the snapshotter)",
		       rs_live_for_user(ctx) ? "opens for the user"
					     : "has its driver (or a module to load)");
	return 0;
}

const struct rs_rule rs_rule_storage_fuse = {
	.id = "storage.fuse",
	.summary = "/dev/fuse really opens where fuse-overlayfs is the snapshotter decision",
	.explain =
		"Where overlayfs cannot be mounted in a user namespace and "
		"kernel.fuse-overlayfs passes, the snapshotter decision is fuse-overlayfs, which "
		"opens /dev/fuse in the user namespace. The node can exist and still fail: "
		"ENODEV when the fuse driver is not loaded and cannot be (a kernel updated "
		"without a reboot, kernel.modules_disabled, a container), EPERM from a device "
		"cgroup (a container without --device /dev/fuse: "
		"https://github.com/containers/podman/blob/main/troubleshooting.md), EACCES "
		"from an ACL or a security module. On a live host the rule opens the node as "
		"the user; under --root it reads sys/class/misc/fuse and lib/modules/RELEASE. "
		"When it warns, the decision becomes native copies. No fixer: loading modules "
		"and passing devices into containers are the host's business.",
	.engines = RS_ENGINES_STORAGE,
	.needs_user = true,
	.run = storage_fuse,
};
