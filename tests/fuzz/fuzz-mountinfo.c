/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mountinfo the tool hands libmount, and the lookups it does on the
 * result (mount of a path by walking up, option tests). */
#include <libmount.h>
#include <stdint.h>
#include <stdio.h>
#include "checks/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {"/home/alice/.local/share/containerd", "/", "/sys/fs/cgroup",
					    "/var/lib/x y", "/proc/kcore"};
	if (size > (128u << 10))
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	struct libmnt_table *tb = mnt_new_table();
	if (tb && mnt_table_parse_stream(tb, f, "mountinfo") == 0) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			struct libmnt_fs *fs = rs_mount_for(tb, paths[i]);
			char *v;
			size_t n;
			if (fs && mnt_fs_get_vfs_options(fs))
				mnt_optstr_get_option(mnt_fs_get_vfs_options(fs), "nosuid", &v, &n);
		}
	}
	mnt_unref_table(tb);
	fclose(f);
	return 0;
}
