/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmount, libblkid, libselinux and libacl, loaded on first use; and
 * libslirp (with glib) and libseccomp, which only the embedded network's
 * helper loads (src/launch/slirp-helper.c).
 *
 * Linked the usual way, every exec of rootless-setup maps libmount and what
 * it pulls in (libblkid, libselinux, libpcre2) and runs libselinux's
 * constructor: about 0.9 ms on a small VM, more than the whole of what
 * `launch -- true` does itself, and paid again by the probe child. Most
 * runs need none of them (launch, nsenter, ports, oci, the probe child),
 * so the functions we use are defined here with their own names and
 * signatures: each opens its library with dlopen(3) on the first call and
 * calls the real function. The binary does not export these names, so
 * the libraries never bind to them.
 *
 * A library that cannot be loaded (the package depends on all four) makes
 * the function fail the way it documents failing, with errno ENOSYS, and
 * rs_libs_error() says which: the rules that needed it report "cannot
 * check" rather than guess.
 */
#include <acl/libacl.h>
#include <blkid/blkid.h>
#include <dlfcn.h>
#include <errno.h>
#include <libmount/libmount.h>
#include <selinux/label.h>
#include <seccomp.h>
#include <selinux/selinux.h>
#include <slirp/libslirp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/acl.h>
#include "host/libs.h"

struct lib {
	const char *soname;
	void *handle;
	bool tried;
};

#define SO_MOUNT   "libmount.so.1"
#define SO_BLKID   "libblkid.so.1"
#define SO_SELINUX "libselinux.so.1"
#define SO_ACL	   "libacl.so.1"
#define SO_SLIRP   "libslirp.so.0"
#define SO_SECCOMP "libseccomp.so.2"

static struct lib lib_mount = {SO_MOUNT}, lib_blkid = {SO_BLKID}, lib_selinux = {SO_SELINUX},
		  lib_acl = {SO_ACL}, lib_slirp = {SO_SLIRP}, lib_seccomp = {SO_SECCOMP};

/* The same list for packaging tools, which cannot see a dlopen: an ELF
 * note in the freedesktop.org "dlopen metadata" format (section
 * .note.dlopen, owner "FDO", type 0x407c0c0a, a NUL-terminated JSON array;
 * https://systemd.io/ELF_DLOPEN_METADATA/). deploy/kubernetes/stage.sh
 * reads it to put them in the image. */
#define DLOPEN_ENTRY(feature, what, prio, so)                                                  \
	"{\"feature\":\"" feature "\",\"description\":\"" what "\",\"priority\":\"" prio "\"," \
	"\"soname\":[\"" so "\"]}"
/* clang-format off */
/* libslirp and libseccomp are "recommended": only `launch --net=libslirp`
 * needs them (the image stage.sh builds, which never launches, leaves
 * them out) */
#define DLOPEN_JSON                                                                     \
	"[" DLOPEN_ENTRY("mount", "mount tables", "required", SO_MOUNT) ","             \
	DLOPEN_ENTRY("blkid", "filesystem probing", "required", SO_BLKID) ","           \
	DLOPEN_ENTRY("selinux", "SELinux mode and labels", "required", SO_SELINUX) ","  \
	DLOPEN_ENTRY("acl", "POSIX ACLs", "required", SO_ACL) ","                       \
	DLOPEN_ENTRY("slirp", "the launcher's embedded network (--net=libslirp)",      \
		     "recommended", SO_SLIRP) ","                                       \
	DLOPEN_ENTRY("seccomp", "seccomp filters (--net=libslirp, --net-bypass)",      \
		     "recommended", SO_SECCOMP) "]"
/* clang-format on */

__attribute__((used, section(".note.dlopen"), aligned(4))) static const struct {
	uint32_t namesz, descsz, type;
	char name[4];
	_Alignas(4) char desc[sizeof(DLOPEN_JSON)];
} dlopen_note = {4, sizeof(DLOPEN_JSON), 0x407c0c0a, "FDO", DLOPEN_JSON};

static char lib_error[512];

const char *rs_libs_error(void)
{
	return lib_error[0] ? lib_error : NULL;
}

static void *lib_sym(struct lib *l, const char *name)
{
	if (!l->tried) {
		l->tried = true;
		l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
		if (!l->handle) {
			const char *why = dlerror();
			snprintf(lib_error, sizeof(lib_error), "cannot load '%s': %s", l->soname,
				 why ? why : "unknown error");
		}
	}
	void *p = l->handle ? dlsym(l->handle, name) : NULL;
	if (!p)
		errno = ENOSYS;
	return p;
}

/* ret name(params) { return real(args); }, or fail when it cannot load */
#define LAZY(lib, ret, fail, name, params, args)                              \
	ret name params                                                       \
	{                                                                     \
		static __typeof__(&name) real;                                \
		if (!real)                                                    \
			real = (__typeof__(&name))lib_sym(&lib_##lib, #name); \
		if (!real)                                                    \
			return fail;                                          \
		return real args;                                             \
	}
#define LAZY_VOID(lib, name, params, args)                                    \
	void name params                                                      \
	{                                                                     \
		static __typeof__(&name) real;                                \
		if (!real)                                                    \
			real = (__typeof__(&name))lib_sym(&lib_##lib, #name); \
		if (real)                                                     \
			real args;                                            \
	}

/* libmount: mountinfo tables */
LAZY(mount, struct libmnt_table *, NULL, mnt_new_table, (void), ())
LAZY(mount, struct libmnt_table *, NULL, mnt_new_table_from_file, (const char *f), (f))
LAZY(mount, int, -ENOSYS, mnt_table_parse_stream,
     (struct libmnt_table * tb, FILE *f, const char *name), (tb, f, name))
LAZY_VOID(mount, mnt_unref_table, (struct libmnt_table * tb), (tb))
LAZY(mount, int, 0, mnt_table_get_nents, (struct libmnt_table * tb), (tb))
LAZY(mount, struct libmnt_fs *, NULL, mnt_table_find_target,
     (struct libmnt_table * tb, const char *path, int dir), (tb, path, dir))
LAZY(mount, int, -ENOSYS, mnt_table_next_fs,
     (struct libmnt_table * tb, struct libmnt_iter *it, struct libmnt_fs **fs), (tb, it, fs))
LAZY(mount, struct libmnt_iter *, NULL, mnt_new_iter, (int dir), (dir))
LAZY_VOID(mount, mnt_free_iter, (struct libmnt_iter * it), (it))
LAZY(mount, const char *, NULL, mnt_fs_get_fstype, (struct libmnt_fs * fs), (fs))
LAZY(mount, const char *, NULL, mnt_fs_get_optional_fields, (struct libmnt_fs * fs), (fs))
LAZY(mount, const char *, NULL, mnt_fs_get_source, (struct libmnt_fs * fs), (fs))
LAZY(mount, const char *, NULL, mnt_fs_get_target, (struct libmnt_fs * fs), (fs))
LAZY(mount, const char *, NULL, mnt_fs_get_vfs_options, (struct libmnt_fs * fs), (fs))
LAZY(mount, int, -ENOSYS, mnt_optstr_get_option,
     (const char *optstr, const char *name, char **value, size_t *valsz),
     (optstr, name, value, valsz))

/* libblkid: the filesystem of the storage directory's device */
LAZY(blkid, blkid_probe, NULL, blkid_new_probe_from_filename, (const char *f), (f))
LAZY_VOID(blkid, blkid_free_probe, (blkid_probe pr), (pr))
LAZY(blkid, int, -1, blkid_probe_enable_superblocks, (blkid_probe pr, int on), (pr, on))
LAZY(blkid, int, -1, blkid_probe_set_superblocks_flags, (blkid_probe pr, int fl), (pr, fl))
LAZY(blkid, int, -1, blkid_do_safeprobe, (blkid_probe pr), (pr))
LAZY(blkid, int, -1, blkid_probe_lookup_value,
     (blkid_probe pr, const char *name, const char **data, size_t *len), (pr, name, data, len))

/* libselinux: the mode, and labels kept across our atomic writes */
LAZY(selinux, int, -1, is_selinux_enabled, (void), ())
LAZY(selinux, int, -1, security_getenforce, (void), ())
LAZY(selinux, int, -1, getfilecon, (const char *path, char **con), (path, con))
LAZY(selinux, int, -1, fsetfilecon, (int fd, const char *con), (fd, con))
LAZY_VOID(selinux, freecon, (char *con), (con))
LAZY(selinux, struct selabel_handle *, NULL, selabel_open,
     (unsigned int backend, const struct selinux_opt *opts, unsigned nopts), (backend, opts, nopts))
LAZY(selinux, int, -1, selabel_lookup,
     (struct selabel_handle * h, char **con, const char *key, int type), (h, con, key, type))
LAZY_VOID(selinux, selabel_close, (struct selabel_handle * h), (h))

/* libacl: may a user open a path (access.c) */
LAZY(acl, acl_t, NULL, acl_get_file, (const char *path, acl_type_t type), (path, type))
LAZY(acl, int, -1, acl_get_entry, (acl_t acl, int id, acl_entry_t *e), (acl, id, e))
LAZY(acl, int, -1, acl_get_tag_type, (acl_entry_t e, acl_tag_t *t), (e, t))
LAZY(acl, void *, NULL, acl_get_qualifier, (acl_entry_t e), (e))
LAZY(acl, int, -1, acl_get_permset, (acl_entry_t e, acl_permset_t *p), (e, p))
LAZY(acl, int, -1, acl_get_perm, (acl_permset_t p, acl_perm_t perm), (p, perm))
LAZY(acl, int, -1, acl_free, (void *obj), (obj))

/* libslirp: the embedded network's helper (src/launch/slirp-helper.c) */
LAZY(slirp, const char *, NULL, slirp_version_string, (void), ())
LAZY(slirp, Slirp *, NULL, slirp_new, (const SlirpConfig *cfg, const SlirpCb *cb, void *opaque),
     (cfg, cb, opaque))
LAZY_VOID(slirp, slirp_pollfds_fill,
	  (Slirp * s, uint32_t *timeout, SlirpAddPollCb add_poll, void *opaque),
	  (s, timeout, add_poll, opaque))
LAZY_VOID(slirp, slirp_pollfds_poll,
	  (Slirp * s, int select_error, SlirpGetREventsCb get_revents, void *opaque),
	  (s, select_error, get_revents, opaque))
LAZY_VOID(slirp, slirp_input, (Slirp * s, const uint8_t *pkt, int len), (s, pkt, len))
LAZY(slirp, int, -1, slirp_add_hostxfwd,
     (Slirp * s, const struct sockaddr *ha, socklen_t hl, const struct sockaddr *ga, socklen_t gl,
      int flags),
     (s, ha, hl, ga, gl, flags))
LAZY(slirp, int, -1, slirp_remove_hostxfwd,
     (Slirp * s, const struct sockaddr *ha, socklen_t hl, int flags), (s, ha, hl, flags))

void rs_libs_glib_log_handler(rs_glib_log_fn fn, void *data)
{
	/* glib comes with libslirp: dlsym on its handle searches what it
	 * loaded too */
	typedef void *(*set_fn)(rs_glib_log_fn, void *);
	set_fn set = (set_fn)lib_sym(&lib_slirp, "g_log_set_default_handler");
	if (set)
		set(fn, data);
}

/* libseccomp: the helper's allow-list (src/launch/slirp-sandbox.c) */
LAZY(seccomp, scmp_filter_ctx, NULL, seccomp_init, (uint32_t def_action), (def_action))
LAZY_VOID(seccomp, seccomp_release, (scmp_filter_ctx ctx), (ctx))
LAZY(seccomp, int, __NR_SCMP_ERROR, seccomp_syscall_resolve_name, (const char *name), (name))
LAZY(seccomp, int, -ENOSYS, seccomp_rule_add_array,
     (scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int n,
      const struct scmp_arg_cmp *args),
     (ctx, action, syscall, n, args))
LAZY(seccomp, int, -ENOSYS, seccomp_attr_set,
     (scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value), (ctx, attr, value))
/* seccomp.h's own signature, const typedef and all */
// NOLINTNEXTLINE(misc-misplaced-const)
LAZY(seccomp, int, -ENOSYS, seccomp_load, (const scmp_filter_ctx ctx), (ctx))
/* launch --net-bypass's listener (src/launch/bypass.c) */
// NOLINTNEXTLINE(misc-misplaced-const)
LAZY(seccomp, int, -ENOSYS, seccomp_notify_fd, (const scmp_filter_ctx ctx), (ctx))
