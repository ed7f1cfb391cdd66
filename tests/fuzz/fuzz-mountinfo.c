/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mountinfo the tool hands libmount (parsed as util-linux's own OSS-Fuzz
 * target does: fmemopen + mnt_table_parse_stream), then what the storage
 * check does with the table: the mount holding a path, found by walking the
 * path up (rs_mount_for), its type, source and target, and the
 * nosuid/nodev/noexec tests on its VFS options. */
#include <libmount.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checks/internal.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "//a//b/" -> "/a/b"; "/" stays "/" */
static char *normalize(const char *s)
{
	char *out = malloc(strlen(s) + 2), *o = out;
	if (!out)
		abort();
	for (; *s; s++)
		if (*s != '/' || o == out || o[-1] != '/')
			*o++ = *s;
	if (o - out > 1 && o[-1] == '/')
		o--;
	*o = '\0';
	return out;
}

static void lookup(struct libmnt_table *tb, const char *path)
{
	struct libmnt_fs *fs = rs_mount_for(tb, path);
	if (!fs)
		return;
	/* the answer is a mount whose target is path or an ancestor of it
	 * (libmount compares paths ignoring repeated and trailing slashes) */
	const char *target = mnt_fs_get_target(fs);
	if (!target)
		abort();
	char *t = normalize(target), *p = normalize(*path ? path : "/");
	size_t n = strlen(t);
	if (strcmp(t, "/") != 0 && (strncmp(p, t, n) != 0 || (p[n] != '\0' && p[n] != '/')))
		abort();
	free(t);
	free(p);
	(void)mnt_fs_get_fstype(fs);
	(void)mnt_fs_get_source(fs);
	const char *vfs = mnt_fs_get_vfs_options(fs);
	static const char *const opts[] = {"nosuid", "nodev", "noexec"};
	for (size_t i = 0; vfs && i < sizeof(opts) / sizeof(opts[0]); i++) {
		char *v = NULL;
		size_t vn = 0;
		if (mnt_optstr_get_option(vfs, opts[i], &v, &vn) == 0 && v &&
		    (v < vfs || v + vn > vfs + strlen(vfs)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"/home/alice/.local/share/containerd",
					    "/home/alice/.local/share/containers/storage",
					    "/var/lib/isulad",
					    "/",
					    "/sys/fs/cgroup",
					    "/var/lib/x y",
					    "/a\nb",
					    "/proc/kcore",
					    "",
					    "relative/path"};
	if (size > FUZZ_MAX || size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	struct libmnt_table *tb = mnt_new_table();
	if (tb && mnt_table_parse_stream(tb, f, "mountinfo") == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			lookup(tb, paths[i]);
		/* and paths below the input's own first mount points */
		struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
		struct libmnt_fs *fs;
		for (int k = 0; it && k < 8 && mnt_table_next_fs(tb, it, &fs) == 0; k++) {
			const char *t = mnt_fs_get_target(fs);
			if (!t || strlen(t) > 8192)
				continue;
			char *p = malloc(strlen(t) + sizeof("/sub/dir"));
			if (!p)
				break;
			strcpy(p, t);
			lookup(tb, p);
			strcat(p, "/sub/dir");
			lookup(tb, p);
			free(p);
		}
		mnt_free_iter(it);
	}
	mnt_unref_table(tb);
	fclose(f);
	return 0;
}
