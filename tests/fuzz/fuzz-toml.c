/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include "host/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[][2] = {{"hypervisor.qemu", "disable_vhost_net"},
					      {"hypervisor.qemu", "image"},
					      {"hypervisor.qemu", "initrd"},
					      {"", "version"}};
	if (size > (4u << 20))
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		free(rs_toml_get((const char *)data, size, keys[i][0], keys[i][1]));
	/* the package database shares the line splitter */
	free(rs_dpkg_version((const char *)data, size, "podman"));
	return 0;
}
