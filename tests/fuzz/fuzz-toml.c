/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TOML key scan for the keys the Kata check reads, and the dpkg status
 * reader (same line splitter) and its index. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

#define FUZZ_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[][2] = {{"hypervisor.qemu", "disable_vhost_net"},
					      {"hypervisor.qemu", "image"},
					      {"hypervisor.qemu", "initrd"},
					      {"runtime", "sandbox_cgroup_only"},
					      {"", "version"}};
	if (size > FUZZ_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = rs_toml_get((const char *)data, size, keys[i][0], keys[i][1]);
		if (v && (strchr(v, '\n') || strlen(v) > size))
			abort();
		free(v);
	}
	char *v = rs_dpkg_version((const char *)data, size, "podman");
	if (v && (!*v || strchr(v, '\n')))
		abort();
	free(v);
	/* the index over the same bytes: a stanza found is the package's */
	struct rs_dpkg_index *x = rs_dpkg_index_new((const char *)data, size);
	char *st = rs_dpkg_stanzas(x, "podman");
	if (st && strncmp(st, "Package: podman", 15))
		abort();
	free(st);
	rs_dpkg_index_free(x);
	return 0;
}
