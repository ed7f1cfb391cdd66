/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t v;
	if (size > (1u << 20))
		return 0;
	rs_sysctl_parse_u64((const char *)data, size, &v);
	/* the same bytes as a sysctl.d file */
	char *s = rs_sysctl_conf_get((const char *)data, size, "kernel.unprivileged_userns_clone");
	free(s);
	s = rs_sysctl_conf_get((const char *)data, size, "user.max_user_namespaces");
	free(s);
	return 0;
}
